"""Pictures made to fit each network, and the compose-time checks (syndication/pictures.py).

Real images through Wagtail renditions and Willow: a noisy 30 MB photograph, a CMYK
picture, an animated GIF, a 10,000 × 10 banner, a very wide panorama, Exif with a GPS
position.
"""

import io
import os
from types import SimpleNamespace

from django.core.files.images import ImageFile

import pytest
from PIL import Image as PILImage

from syndication import pictures
from syndication.channels import fediverse
from tests.factories import ChannelAccountFactory, ImageFactory

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def fresh_renditions():
    """Wagtail caches renditions by image id, and a rolled-back test's ids come again
    (SQLite): each test starts with none."""
    from django.core.cache import caches

    caches["renditions"].clear()


def image_file(width, height, *, fmt="JPEG", mode="RGB", noise=False, quality=95, **save):
    if noise:
        picture = PILImage.frombytes("RGB", (width, height), os.urandom(width * height * 3))
    else:
        picture = PILImage.new("RGB", (width, height), (30, 120, 140))
    if mode != "RGB":
        picture = picture.convert(mode)
    output = io.BytesIO()
    extra = {"quality": quality} if fmt == "JPEG" else {}
    picture.save(output, fmt, **extra, **save)
    return output.getvalue()


def wagtail_image(data: bytes, name="picture.jpg", **fields):
    return ImageFactory(file=ImageFile(io.BytesIO(data), name=name), **fields)


def bluesky():
    return SimpleNamespace(network="bluesky")


def mastodon(profile=None):
    return ChannelAccountFactory(server_profile=(profile.as_dict() if profile else {}))


def test_a_30_mb_photograph_fits_bluesky_under_a_million_bytes():
    data = image_file(5000, 4000, noise=True, quality=97)
    assert len(data) > 20 * 1024 * 1024
    image = wagtail_image(data)
    fitted = pictures.fit(image, bluesky())
    assert fitted.mime == "image/jpeg"
    assert fitted.size <= 1_000_000
    assert max(fitted.width, fitted.height) <= 2000
    assert fitted.width / fitted.height == pytest.approx(5000 / 4000, rel=0.01)
    assert "jpegquality" in fitted.spec
    opened = PILImage.open(io.BytesIO(fitted.data))
    assert (opened.format, opened.size) == ("JPEG", (fitted.width, fitted.height))


def test_the_first_try_is_the_stored_rendition_the_preview_shows():
    image = wagtail_image(image_file(3000, 2000))
    fitted = pictures.fit(image, SimpleNamespace(network="x"))
    assert fitted.spec == "max-2000x2000|format-jpeg|jpegquality-85"
    assert image.renditions.filter(filter_spec=fitted.spec).exists()
    assert (fitted.width, fitted.height) == (2000, 1333)


@pytest.mark.parametrize("fmt", ["JPEG", "TIFF"])
def test_cmyk_becomes_rgb_jpeg(fmt):
    # A CMYK TIFF (print artwork) cannot be uploaded through Wagtail's form, which takes
    # AVIF, GIF, JPEG, PNG and WebP, but can reach the library by import: it is fitted too.
    image = wagtail_image(image_file(800, 600, fmt=fmt, mode="CMYK"))
    fitted = pictures.fit(image, bluesky())
    sent = PILImage.open(io.BytesIO(fitted.data))
    assert (sent.format, sent.mode) == ("JPEG", "RGB")


def test_exif_with_a_gps_position_is_not_sent():
    exif = PILImage.Exif()
    exif[0x010F] = "Camera maker"
    exif[0x8825] = {1: "N", 2: (51.0, 30.0, 0.0)}
    image = wagtail_image(image_file(1200, 900, exif=exif.tobytes()))
    fitted = pictures.fit(image, bluesky())
    assert not PILImage.open(io.BytesIO(fitted.data)).getexif()
    assert b"Exif" not in fitted.data[:4096]


def test_an_animated_gif_sends_its_first_frame_and_says_so():
    frames = [PILImage.new("RGB", (400, 300), colour) for colour in ("red", "blue", "green")]
    output = io.BytesIO()
    frames[0].save(output, "GIF", save_all=True, append_images=frames[1:], duration=100)
    image = wagtail_image(output.getvalue(), name="moving.gif")
    fitted = pictures.fit(image, bluesky())
    opened = PILImage.open(io.BytesIO(fitted.data))
    assert opened.format == "JPEG"
    red, green, blue = opened.getpixel((200, 150))
    assert red > 200 and green < 60 and blue < 60
    assert "first frame" in fitted.note
    picture = SimpleNamespace(image=image, alt_text="A red square", role="attachment")
    assert pictures.check(bluesky(), [picture]) == []
    assert any("first frame" in note for note in pictures.notes(bluesky(), [picture]))


def test_a_10000_by_10_banner_is_refused_at_compose_time_and_by_fit():
    image = wagtail_image(image_file(10_000, 10, fmt="PNG"), name="banner.png")
    picture = SimpleNamespace(image=image, alt_text="A banner", role="attachment")
    [message] = pictures.check(bluesky(), [picture])
    assert "Bluesky" in message and "10,000 × 10" in message and "50 pixels" in message
    with pytest.raises(pictures.PictureRefused, match="10,000 × 10"):
        pictures.fit(image, bluesky())


def test_a_very_wide_picture_is_cropped_around_its_focal_point():
    picture = PILImage.new("RGB", (6000, 200), "white")
    picture.paste(PILImage.new("RGB", (200, 200), "black"), (5700, 0))
    output = io.BytesIO()
    picture.save(output, "PNG")
    image = wagtail_image(output.getvalue(), name="wide.png")
    image.focal_point_x, image.focal_point_y = 5800, 100
    image.focal_point_width = image.focal_point_height = 100
    image.save()
    fitted = pictures.fit(image, bluesky())
    assert fitted.width == 20 * fitted.height
    assert fitted.spec.startswith("fill-")
    shown = PILImage.open(io.BytesIO(fitted.data)).convert("L")
    # The black square near the right edge is in the crop: the focal point was kept.
    assert shown.getextrema()[0] < 40
    assert "focal point" in fitted.note


def test_check_names_the_network_and_the_limit():
    image = wagtail_image(image_file(800, 600))
    five = [SimpleNamespace(image=image, alt_text="A cat", role="attachment") for _ in range(5)]
    assert pictures.check(bluesky(), five) == [
        "Bluesky takes at most 4 pictures per post; this one has 5."
    ]
    two = [SimpleNamespace(image=image, alt_text="A cat", role="attachment")] * 2
    assert pictures.check(SimpleNamespace(network="linkedin"), two) == [
        "LinkedIn takes at most 1 picture per post; this one has 2."
    ]
    nameless = SimpleNamespace(image=image, alt_text="  ", role="attachment")
    [message] = pictures.check(bluesky(), [nameless])
    assert message.startswith("Picture 1 has no alt text: Bluesky posts need")
    assert pictures.check(SimpleNamespace(network="x"), [nameless]) == []
    long_alt = SimpleNamespace(image=image, alt_text="a" * 1001, role="attachment")
    assert pictures.check(SimpleNamespace(network="x"), [long_alt]) == [
        "Picture 1's alt text is 1,001 characters; X keeps 1,000."
    ]
    deleted = SimpleNamespace(image=None, alt_text="gone", role="attachment")
    [message] = pictures.check(bluesky(), [deleted])
    assert "deleted" in message
    # A card thumbnail is not an attachment: not counted, no alt text needed.
    card = SimpleNamespace(image=image, alt_text="", role="card")
    assert pictures.check(bluesky(), [card]) == []


def test_svg_cannot_be_converted():
    svg = b'<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"></svg>'
    image = wagtail_image(svg, name="logo.svg", width=400, height=400)
    picture = SimpleNamespace(image=image, alt_text="Logo", role="attachment")
    [message] = pictures.check(bluesky(), [picture])
    assert "SVG" in message and "cannot convert" in message and "Bluesky" in message


def test_mastodon_limits_come_from_the_servers_instance_document():
    instance = {
        "version": "4.3.0",
        "configuration": {
            "statuses": {"max_characters": 500, "max_media_attachments": 4},
            "media_attachments": {
                "supported_mime_types": ["image/jpeg", "image/png", "image/webp"],
                "image_size_limit": 16_777_216,
                "image_matrix_limit": 33_177_600,
                "description_limit": 1500,
            },
        },
    }
    profile = fediverse.profile_for("mastodon", "4.3.0", instance)
    limits = pictures.limits_for(mastodon(profile))
    assert (limits.count, limits.max_bytes, limits.max_pixels) == (4, 16_777_216, 33_177_600)
    assert limits.formats == ("image/jpeg", "image/png", "image/webp")
    assert (limits.alt_required, limits.alt_max) == (True, 1500)
    assert limits.label.startswith("Mastodon on social.example")


def test_mastodon_without_a_media_configuration_gets_conservative_limits():
    limits = pictures.limits_for(mastodon())
    assert limits.max_bytes == 8 * 1024 * 1024
    assert limits.max_pixels == 16_777_216
    assert limits.formats == ("image/jpeg", "image/png", "image/gif", "image/webp")
    akkoma = fediverse.profile_for(
        "akkoma",
        "3.16.0",
        {"version": "2.7.2", "upload_limit": 16_000_000, "description_limit": 5000},
    )
    limits = pictures.limits_for(mastodon(akkoma))
    assert (limits.max_bytes, limits.alt_max) == (16_000_000, 5000)


def test_a_small_mastodon_limit_is_met_by_stepping_down():
    profile = fediverse.profile_for("gotosocial", "0.20.0", {}).learned(
        "test", media_size_limit=200_000
    )
    image = wagtail_image(image_file(3000, 2000, noise=True))
    fitted = pictures.fit(image, mastodon(profile))
    assert fitted.size <= 200_000
    assert fitted.spec != "max-2000x2000|format-jpeg|jpegquality-85"


def test_focus_is_mastodons_minus_one_to_one_with_y_up():
    image = SimpleNamespace(width=1000, height=500, get_focal_point=lambda: None)
    assert pictures.focus(image) == ""
    from wagtail.images.rect import Rect

    image.get_focal_point = lambda: Rect.from_point(750, 125, 10, 10)
    assert pictures.focus(image) == "0.50,0.50"
