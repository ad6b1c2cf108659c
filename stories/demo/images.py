"""Hero pictures for demo stories, drawn with Pillow (nothing is downloaded)."""

import hashlib
import io
import math
import random

from PIL import Image, ImageDraw, ImageFilter

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
    image.save(buffer, format="PNG", optimize=True)
    return buffer.getvalue()


def _wave(x: float) -> float:
    # a soft, asymmetric hill profile
    return math.sin(x * 2.1) * 0.6 + math.sin(x * 0.7 + 1.3) * 0.4
