"""Pictures on posts: what each network takes, and making every picture fit it (issue 21).

Three things, used by the compose form (checks and previews) and by the engine
(``syndication.publishing`` uploads what ``fit`` makes):

* ``limits_for(account)``: how many pictures a post to that account may carry, how big
  each may be (bytes and pixels), in which formats, and whether alt text is required
  and how long it may be. Mastodon-API servers say their own limits in their instance
  document (``configuration.media_attachments``), detected at connect and kept in the
  account's ``ServerProfile``; unknown servers get conservative values. docs/
  syndication.md ("Pictures") says where every value comes from.
* ``fit(image, account)``: the picture as the network gets it, made by Wagtail
  renditions (focal point respected where a picture is cropped): at most 2000 px on its
  longest side, JPEG, quality stepped down (then size) until it is under the byte limit.
  Nothing is refused at publish time that ``check`` did not refuse at compose time.
* ``check(account, pictures)``: the compose-time messages, each naming the network and
  the limit: too many pictures, a picture deleted from the library, a format that
  cannot be converted, a picture too thin to show, alt text missing or too long.
  ``notes(account, pictures)`` says what will be changed without refusing (an animated
  GIF sends its first frame, a very wide picture is cropped around its focal point).

Why JPEG for everything: every network takes it, its size falls predictably with
quality, it has no alpha to go wrong (transparent areas become white) and it is what
Bluesky's and Mastodon's own apps send for photos. A screenshot's text is a little
softer than in PNG; at quality 85 and 2000 px that is hard to see.
"""

from __future__ import annotations

import io
import logging
import math
from dataclasses import dataclass

from django.core.files.base import ContentFile

logger = logging.getLogger(__name__)

MB = 1024 * 1024
#: The longest side a picture is sent at. Bluesky's app sends 2000 × 2000 at most, X and
#: Mastodon show pictures in timelines far smaller; more pixels only cost bytes.
LONGEST_SIDE = 2000
#: Tried in order until the picture is under the network's byte limit: (longest side,
#: JPEG quality). The first is the rendition the compose preview shows too.
STEPS = ((2000, 85), (2000, 75), (1600, 75), (1280, 70), (1024, 65), (800, 60))
#: A picture wider (or taller) than this ratio is cropped to it around its focal point:
#: every network shows such a sliver at a few pixels high.
MAX_RATIO = 20
#: A picture whose shorter side is under this many pixels has nothing to show.
MIN_SIDE = 50
#: Formats Storyloom converts from (what Willow reads with Pillow; AVIF/HEIC through
#: pillow-heif). SVG is not raster: it cannot be made into a picture a network takes.
CONVERTIBLE = frozenset({"jpeg", "png", "gif", "webp", "bmp", "tiff", "avif", "heic", "ico"})
JPEG = "image/jpeg"
DEFAULT_FORMATS = ("image/jpeg", "image/png", "image/gif", "image/webp")


@dataclass(frozen=True)
class Limits:
    """What one network (or Mastodon-API server) takes on one post."""

    network: str
    #: The network's name as people read it, for messages ("Bluesky", "Mastodon on x.y").
    label: str
    #: Attachments per post (a link card's thumbnail is not counted).
    count: int
    #: Bytes per picture.
    max_bytes: int
    #: Pixels per picture (width × height), None when the network states none.
    max_pixels: int | None
    #: MIME types the network accepts; what Storyloom sends (JPEG) must be among them.
    formats: tuple[str, ...]
    #: Storyloom refuses a post without alt text on every picture.
    alt_required: bool
    #: Characters of alt text the network keeps.
    alt_max: int
    #: Where these values come from (shown nowhere; for people reading the code).
    source: str = ""

    @property
    def longest_side(self) -> int:
        """The longest side to render at: 2000 px, less when the pixel limit is lower."""
        if not self.max_pixels:
            return LONGEST_SIDE
        return min(LONGEST_SIDE, math.isqrt(self.max_pixels))


#: Mastodon when its server did not say (or the account predates detection): 8 MB and
#: 4096 × 4096 are below every family's documented limits (Mastodon 16 MB / 33 MP,
#: GoToSocial 40 MiB / 16.7 MP, Akkoma 16 MB, Takahē 10 MB).
MASTODON_DEFAULT_BYTES = 8 * MB
MASTODON_DEFAULT_PIXELS = 4096 * 4096  # 16,777,216
MASTODON_DEFAULT_ALT = 1500

BLUESKY = Limits(
    network="bluesky",
    label="Bluesky",
    count=4,
    max_bytes=1_000_000,
    max_pixels=None,
    formats=("image/jpeg", "image/png", "image/webp", "image/gif"),
    alt_required=True,
    alt_max=2000,
    source="lexicon app.bsky.embed.images: 4 images, image blob maxSize 1000000, accept "
    "image/*; alt is a required field (Storyloom requires it non-empty); Bluesky's app "
    "limits alt text to 2000 characters (social-app MAX_ALT_TEXT)",
)

THREADS = Limits(
    network="threads",
    label="Threads",
    count=1,
    max_bytes=8 * MB,
    max_pixels=None,
    formats=("image/jpeg", "image/png"),
    alt_required=False,
    alt_max=1000,
    source="Threads API media specifications: JPEG or PNG, 8 MB at most, 1440 px wide at "
    "most (larger is scaled); alt_text on an IMAGE container, up to 1000 characters; "
    "one picture per post (a carousel is another post type, not used)",
)

X = Limits(
    network="x",
    label="X",
    count=4,
    max_bytes=5 * MB,
    max_pixels=None,
    formats=("image/jpeg", "image/png", "image/gif", "image/webp"),
    alt_required=False,
    alt_max=1000,
    source="docs.x.com media best practices: images up to 5 MB (GIF 15 MB), 4 per post; "
    "media metadata: alt text up to 1000 characters",
)
LINKEDIN = Limits(
    network="linkedin",
    label="LinkedIn",
    count=1,
    max_bytes=5 * MB,
    max_pixels=36_152_320,
    formats=("image/jpeg", "image/png", "image/gif"),
    alt_required=False,
    alt_max=4086,
    source="learn.microsoft.com Images API: JPG, GIF, PNG, under 36,152,320 pixels; Posts "
    "API single image content.media (one image; multiImage is another post type), "
    "altText up to 4086 characters; no byte limit is documented, 5 MB is ours",
)

FACEBOOK = Limits(
    network="facebook",
    label="Facebook",
    count=4,
    max_bytes=4 * MB,
    max_pixels=None,
    formats=("image/jpeg", "image/png", "image/gif", "image/webp"),
    alt_required=False,
    alt_max=1000,
    source="Graph API page/photos reference: photos under 4 MB, JPEG, PNG, GIF, WebP among "
    "others, alt text in alt_text_custom (no length documented, 1000 is ours); a feed post "
    "takes several unpublished photos in attached_media, Storyloom sends up to 4",
)


def limits_for(account) -> Limits:
    """The limits of ``account``'s network; for Mastodon, its server's own."""
    network = getattr(account, "network", "")
    if network == "bluesky":
        return BLUESKY
    if network == "threads":
        return THREADS
    if network == "x":
        return X
    if network == "linkedin":
        return LINKEDIN
    if network == "facebook":
        return FACEBOOK
    if network == "mastodon":
        return mastodon_limits(account)
    raise ValueError(f"No picture limits for network {network!r}.")


def mastodon_limits(account) -> Limits:
    """From the account's ``ServerProfile`` (its instance document's
    ``configuration.media_attachments``), conservative where the server said nothing."""
    profile = account.server if hasattr(account, "server") else None
    size = getattr(profile, "media_size_limit", 0) or MASTODON_DEFAULT_BYTES
    pixels = getattr(profile, "media_matrix_limit", 0) or MASTODON_DEFAULT_PIXELS
    formats = tuple(getattr(profile, "media_mime_types", ()) or DEFAULT_FORMATS)
    if "application/octet-stream" in formats:  # Pleroma: "anything", meaning images too
        formats = DEFAULT_FORMATS
    alt_max = getattr(profile, "media_description_limit", 0) or MASTODON_DEFAULT_ALT
    count = getattr(profile, "max_media_attachments", 0) or 4
    host = getattr(account, "instance_host", "") or ""
    return Limits(
        network="mastodon",
        label=f"Mastodon on {host}" if host else "Mastodon",
        count=min(count, 4),
        max_bytes=size,
        max_pixels=pixels,
        formats=formats,
        alt_required=True,
        alt_max=alt_max,
        source="the server's /api/v2/instance configuration.media_attachments "
        "(image_size_limit, image_matrix_limit, supported_mime_types, description_limit) "
        "and configuration.statuses.max_media_attachments; 4 at most (Mastodon's own)",
    )


# --- Fitting one picture ------------------------------------------------------------------
class PictureRefused(Exception):
    """The picture cannot be made to fit; ``message`` says why, for people."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


@dataclass(frozen=True)
class Fitted:
    """One picture as a network gets it."""

    data: bytes
    mime: str
    width: int
    height: int
    #: The Wagtail filter spec that made it (recorded with the upload).
    spec: str
    #: What was changed that people should know ("" when nothing).
    note: str = ""

    @property
    def size(self) -> int:
        return len(self.data)

    def describe(self) -> dict:
        """What was sent, for ``PostPicture.remote_ref``."""
        return {
            "bytes": self.size,
            "mime": self.mime,
            "width": self.width,
            "height": self.height,
            "spec": self.spec,
        }


def source_format(image) -> str:
    """The image file's format as Willow names it ("jpeg", "png", "svg"…), "" if unreadable."""
    name = (getattr(image.file, "name", "") or "").lower()
    if name.endswith(".svg"):
        return "svg"
    try:
        with image.get_willow_image() as willow:
            return willow.format_name
    except Exception:  # a missing or broken file: the same answer for people
        logger.warning("Image %s could not be read", getattr(image, "pk", None), exc_info=True)
        return ""


def is_animated(image) -> bool:
    """True for an animated GIF or WebP (Pillow reads frame counts lazily)."""
    from PIL import Image as PILImage

    try:
        with image.open_file() as file, PILImage.open(file) as opened:
            return bool(getattr(opened, "is_animated", False))
    except Exception:
        return False


def shape_problem(width: int, height: int, label: str) -> str:
    """Why a picture of this shape cannot be shown ("" when it can)."""
    if min(width, height) < MIN_SIDE:
        return (
            f"{label} cannot show a picture {width:,} × {height:,} pixels: a side under "
            f"{MIN_SIDE} pixels leaves nothing to see. Crop it in the image library or "
            "choose another."
        )
    return ""


def crop_spec(width: int, height: int) -> str:
    """A ``fill-`` crop to ``MAX_RATIO`` around the focal point, "" when not too wide or tall."""
    if width > height * MAX_RATIO:
        target = (min(width, height * MAX_RATIO), height)
    elif height > width * MAX_RATIO:
        target = (width, min(height, width * MAX_RATIO))
    else:
        return ""
    scale = min(1.0, LONGEST_SIDE / max(target))
    return f"fill-{max(1, round(target[0] * scale))}x{max(1, round(target[1] * scale))}"


def fit(image, account, *, limits: Limits | None = None) -> Fitted:
    """``image`` (a Wagtail image) made to fit ``account``'s network.

    The first try is a stored Wagtail rendition (``max-2000x2000|format-jpeg|
    jpegquality-85``, the one the compose preview shows; a very wide picture is cropped
    around its focal point first), so the original, however large, is decoded once and
    the rendition is reused by every later try and every retry. Smaller tries are made
    from that rendition, in memory, until the bytes are under the limit.
    """
    from wagtail.images.models import Filter

    limits = limits or limits_for(account)
    if image is None:
        raise PictureRefused(DELETED)
    kind = source_format(image)
    if kind not in CONVERTIBLE:
        raise PictureRefused(format_problem(limits, image, kind))
    problem = shape_problem(image.width, image.height, limits.label)
    if problem:
        raise PictureRefused(problem)
    if JPEG not in limits.formats:
        raise PictureRefused(
            f"{limits.label} takes none of the formats Storyloom sends pictures in (JPEG)."
        )
    side = limits.longest_side
    crop = crop_spec(image.width, image.height)
    notes = []
    if crop:
        notes.append(
            f"Cropped to {MAX_RATIO}:1 around its focal point: {limits.label} would "
            "show the whole picture as a sliver."
        )
    if is_animated(image):
        notes.append(f"An animated picture: {limits.label} gets its first frame.")
    first = f"{crop}|" if crop else ""
    first += f"max-{side}x{side}|format-jpeg|jpegquality-{STEPS[0][1]}"
    rendition = image.get_rendition(first)
    with rendition.file.open("rb") as file:
        data = file.read()
    data, width, height = clean_jpeg(data, STEPS[0][1])
    spec = first
    if len(data) > limits.max_bytes:
        source = ContentFile(data, name="rendition.jpg")
        for step_side, quality in STEPS[1:]:
            step_side = min(step_side, side)
            spec = f"max-{step_side}x{step_side}|format-jpeg|jpegquality-{quality}"
            output = io.BytesIO()
            source.seek(0)
            Filter(spec=spec).run(image, output, source=source)
            data, width, height = clean_jpeg(output.getvalue(), quality)
            if len(data) <= limits.max_bytes:
                break
        else:
            raise PictureRefused(
                f"{limits.label} takes pictures up to {_size(limits.max_bytes)}; this one is "
                f"still {_size(len(data))} at {width} × {height} pixels. Choose a simpler one."
            )
    if limits.max_pixels and width * height > limits.max_pixels:  # pragma: no cover
        raise PictureRefused(f"{limits.label} takes pictures up to {limits.max_pixels:,} pixels.")
    return Fitted(data, JPEG, width, height, spec, " ".join(notes))


def clean_jpeg(data: bytes, quality: int) -> tuple[bytes, int, int]:
    """The JPEG without its Exif and XMP (a photo's GPS position, camera, owner: nothing a
    network should be sent), in RGB (a CMYK source stays CMYK in Willow's JPEG, which
    browsers show wrongly), and its size in pixels."""
    from PIL import Image as PILImage

    with PILImage.open(io.BytesIO(data)) as opened:
        width, height, mode = opened.width, opened.height, opened.mode
        if mode not in ("RGB", "L"):
            output = io.BytesIO()
            opened.convert("RGB").save(output, "JPEG", quality=quality, optimize=True)
            return output.getvalue(), width, height
    return strip_metadata(data), width, height


def strip_metadata(data: bytes) -> bytes:
    """A JPEG without APP1 segments (Exif, XMP) and comments, losslessly: the segments
    before the image data are copied except those."""
    if data[:2] != b"\xff\xd8":
        return data
    out, position = bytearray(b"\xff\xd8"), 2
    while position + 4 <= len(data) and data[position] == 0xFF:
        marker = data[position + 1]
        if marker == 0xDA:  # start of scan: the rest is image data
            break
        length = int.from_bytes(data[position + 2 : position + 4], "big")
        segment = data[position : position + 2 + length]
        if marker not in (0xE1, 0xFE):
            out += segment
        position += 2 + length
    return bytes(out + data[position:])


def focus(image) -> str:
    """Mastodon's ``focus`` ("x,y", each -1..1, y upwards) from the image's focal point;
    "" when it has none (the centre is the server's default)."""
    point = image.get_focal_point() if image is not None else None
    if point is None or not image.width or not image.height:
        return ""
    x = point.centroid.x / image.width * 2 - 1
    y = 1 - point.centroid.y / image.height * 2
    return f"{max(-1.0, min(1.0, x)):.2f},{max(-1.0, min(1.0, y)):.2f}"


# --- Compose-time checks --------------------------------------------------------------------
DELETED = "a picture was deleted after scheduling; choose another or remove it"


def check(account, pictures) -> list[str]:
    """What stops these pictures going to ``account``, in words naming the network and
    the limit; empty when they may be scheduled. ``pictures`` are PostPicture rows (saved
    or not) or anything with ``image``, ``alt_text`` and ``role``.

    Cheap: reads each image's header, renders nothing. Byte size is never a reason:
    ``fit`` steps size and quality down until a picture fits.
    """
    limits = limits_for(account)
    attachments = [p for p in pictures if getattr(p, "role", "attachment") != "card"]
    errors = []
    if attachments and not may_upload(account):
        errors.append(
            f"{account} was connected before Storyloom sent pictures and did not give it "
            "permission to upload them (write:media): reconnect the account first."
        )
    if len(attachments) > limits.count:
        errors.append(
            f"{limits.label} takes at most {limits.count} picture"
            f"{'s' * (limits.count != 1)} per post; this one has {len(attachments)}."
        )
    for number, picture in enumerate(attachments, start=1):
        image = picture.image
        which = f"Picture {number}"
        if image is None:
            errors.append(
                f"{which} was deleted from the image library; choose another or remove it."
            )
            continue
        kind = source_format(image)
        if kind not in CONVERTIBLE:
            errors.append(f"{which}: {format_problem(limits, image, kind)}")
            continue
        problem = shape_problem(image.width, image.height, limits.label)
        if problem:
            errors.append(f"{which}: {problem}")
        alt = (picture.alt_text or "").strip()
        if limits.alt_required and not alt:
            errors.append(
                f"{which} has no alt text: {limits.label} posts need a description of every "
                "picture for people who cannot see it."
            )
        if len(alt) > limits.alt_max:
            errors.append(
                f"{which}'s alt text is {len(alt):,} characters; {limits.label} keeps "
                f"{limits.alt_max:,}."
            )
    return errors


def may_upload(account) -> bool:
    """False for a Mastodon account whose granted scopes are known and allow no uploads
    (connected before pictures: ``write:statuses`` without ``write:media`` or ``write``)."""
    if getattr(account, "network", "") != "mastodon":
        return True
    granted = set((getattr(account, "scopes", "") or "").split())
    return not granted or bool(granted & {"write", "write:media"})


def notes(account, pictures) -> list[str]:
    """What will be changed on the way without refusing anything (for the compose form)."""
    limits = limits_for(account)
    found = []
    attachments = [p for p in pictures if getattr(p, "role", "attachment") != "card"]
    for number, picture in enumerate(attachments, start=1):
        image = picture.image
        if image is None:
            continue
        if crop_spec(image.width, image.height):
            found.append(
                f"Picture {number} is more than {MAX_RATIO} times as wide as tall (or tall "
                f"as wide): {limits.label} gets it cropped around its focal point."
            )
        if is_animated(image):
            found.append(f"Picture {number} is animated: {limits.label} gets its first frame.")
    return found


def format_problem(limits: Limits, image, kind: str) -> str:
    title = getattr(image, "title", "") or "This picture"
    if kind == "svg":
        what = "a drawing (SVG)"
    elif kind:
        what = f"a {kind.upper()} file"
    else:
        what = "a file Storyloom cannot read"
    return (
        f"“{title}” is {what}; {limits.label} takes JPEG, PNG, GIF or WebP pictures and "
        "Storyloom cannot convert it. Choose another picture."
    )


def _size(number: int) -> str:
    if number >= MB:
        return f"{number / MB:.1f} MB"
    return f"{number / 1000:.0f} KB"
