"""Hero pictures for demo stories, drawn with Pillow (nothing is downloaded)."""

import hashlib
import io
import math
import random

from PIL import Image, ImageDraw, ImageFilter, ImageFont

PALETTES = {
    "financial-wellbeing": ((11, 92, 82), (233, 214, 160)),
    "home": ((138, 75, 0), (246, 226, 200)),
    "pets": ((106, 63, 143), (240, 216, 232)),
    "travel": ((20, 84, 140), (200, 230, 246)),
    "family": ((160, 52, 60), (250, 222, 210)),
    "food": ((90, 110, 20), (244, 236, 190)),
}
DEFAULT_PALETTE = ((60, 70, 80), (230, 230, 225))
SIZE = (1600, 900)


def hero_png(seed: str, interest_slug: str) -> bytes:
    """A calm abstract picture: a gradient sky, rolling hills and a sun, seeded by ``seed``."""
    rng = random.Random(hashlib.sha256(seed.encode()).digest())
    deep, light = PALETTES.get(interest_slug, DEFAULT_PALETTE)
    width, height = SIZE
    image = Image.new("RGB", SIZE, light)
    draw = ImageDraw.Draw(image)
    for y in range(height):
        t = y / height
        colour = tuple(int(light[i] * (1 - t * 0.35) + deep[i] * t * 0.35) for i in range(3))
        draw.line([(0, y), (width, y)], fill=colour)
    sun_x, sun_y = rng.randint(200, width - 200), rng.randint(120, 360)
    radius = rng.randint(70, 140)
    draw.ellipse(
        [sun_x - radius, sun_y - radius, sun_x + radius, sun_y + radius],
        fill=(255, 244, 214),
    )
    for layer in range(4):
        base = int(height * (0.45 + layer * 0.13))
        shade = tuple(
            int(deep[i] * (0.45 + layer * 0.18) + light[i] * (0.55 - layer * 0.18))
            for i in range(3)
        )
        amplitude = rng.randint(30, 90)
        phase = rng.random() * 6.28
        points = [(0, height)]
        for x in range(0, width + 40, 40):
            wave = amplitude * _wave(x / width * 3.0 + phase)
            points.append((x, base + int(wave)))
        points.append((width, height))
        draw.polygon(points, fill=shade)
    image = image.filter(ImageFilter.SMOOTH_MORE)
    buffer = io.BytesIO()
    image.save(buffer, format="PNG", compress_level=1)
    return buffer.getvalue()


def _wave(x: float) -> float:
    # a soft, asymmetric hill profile
    return math.sin(x * 2.1) * 0.6 + math.sin(x * 0.7 + 1.3) * 0.4


#: The pet insurer's story (seed 003): one picture per animal, and one with all three.
ANIMALS = ("cat", "dog", "budgie")
ANIMAL_SIZE = (1200, 900)
_ANIMAL_COLOURS = {
    "cat": ((250, 236, 214), (232, 146, 62)),
    "dog": ((222, 236, 222), (146, 96, 56)),
    "budgie": ((220, 236, 250), (96, 186, 72)),
}


def animal_png(kind: str) -> tuple[bytes, tuple[int, int, int, int]]:
    """A simple drawing of a cat, a dog, a budgie or all three ("all"), labelled.

    Returns the PNG and the animal's box (left, top, width, height) for the focal point,
    so a network's crop keeps the animal. Drawn at load time: nothing binary is committed.
    """
    if kind == "all":
        image = Image.new("RGB", (1200, 600), (246, 240, 226))
        for position, animal in enumerate(ANIMALS):
            small = _animal(animal).resize((400, 300))
            image.paste(small, (position * 400, 150))
        box = (0, 150, 1200, 300)
    else:
        image = _animal(kind)
        box = (240, 150, 720, 660)
    buffer = io.BytesIO()
    image.save(buffer, format="PNG", compress_level=1)
    return buffer.getvalue(), box


def _animal(kind: str) -> Image.Image:
    background, colour = _ANIMAL_COLOURS[kind]
    image = Image.new("RGB", ANIMAL_SIZE, background)
    draw = ImageDraw.Draw(image)
    draw.rectangle([0, 760, 1200, 900], fill=tuple(int(c * 0.85) for c in background))
    {"cat": _cat, "dog": _dog, "budgie": _budgie}[kind](draw, colour)
    font = ImageFont.load_default(size=96)
    draw.text((600, 830), kind, fill=(40, 40, 40), font=font, anchor="mm")
    return image


def _cat(draw, colour):
    dark = (60, 40, 30)
    draw.ellipse([430, 420, 770, 760], fill=colour)  # body
    draw.line([(760, 700), (900, 640), (930, 520)], fill=colour, width=40, joint="curve")
    draw.polygon([(470, 260), (500, 120), (580, 230)], fill=colour)  # ears
    draw.polygon([(730, 260), (700, 120), (620, 230)], fill=colour)
    draw.ellipse([460, 170, 740, 450], fill=colour)  # head
    for x in (545, 655):
        draw.ellipse([x - 22, 270, x + 22, 320], fill=(70, 150, 60))
        draw.ellipse([x - 6, 278, x + 6, 312], fill=dark)
    draw.polygon([(585, 345), (615, 345), (600, 365)], fill=(220, 110, 120))
    for dy in (-12, 12):
        draw.line([(470, 360 + dy), (570, 360)], fill=dark, width=4)
        draw.line([(730, 360 + dy), (630, 360)], fill=dark, width=4)


def _dog(draw, colour):
    dark = (50, 35, 25)
    draw.ellipse([400, 430, 800, 760], fill=colour)  # body
    draw.line([(790, 560), (900, 470)], fill=colour, width=36)  # tail
    draw.ellipse([460, 160, 740, 460], fill=colour)  # head
    draw.ellipse([400, 190, 500, 420], fill=dark)  # floppy ears
    draw.ellipse([700, 190, 800, 420], fill=dark)
    draw.ellipse([530, 320, 670, 440], fill=(236, 214, 180))  # snout
    draw.ellipse([578, 330, 622, 362], fill=dark)  # nose
    for x in (545, 655):
        draw.ellipse([x - 16, 255, x + 16, 287], fill=dark)
    draw.arc([560, 360, 640, 420], 20, 160, fill=dark, width=5)


def _budgie(draw, colour):
    dark = (30, 30, 30)
    draw.line([(330, 640), (870, 640)], fill=(120, 84, 50), width=24)  # perch
    draw.polygon([(560, 600), (640, 600), (620, 760), (580, 760)], fill=(40, 90, 160))  # tail
    draw.ellipse([470, 330, 730, 640], fill=colour)  # body
    draw.ellipse([500, 180, 700, 390], fill=(250, 232, 80))  # head
    draw.ellipse([520, 400, 690, 590], fill=tuple(int(c * 0.75) for c in colour))  # wing
    draw.polygon([(590, 300), (630, 300), (610, 350)], fill=(236, 170, 60))  # beak
    draw.ellipse([560, 250, 584, 274], fill=dark)
    draw.ellipse([636, 250, 660, 274], fill=dark)
    for x in (570, 630):
        draw.line([(x, 630), (x, 650)], fill=(200, 120, 120), width=8)
