"""The pictures a story offers its posts, and which one a post starts with (issue 21).

A story offers its hero image, the pictures in its body (image blocks, the default of
an audience-variants block) and its audience-variant pictures, each once, in the order
a reader meets them. A post starts with the picture for its audience interest when the
story has one, else with the hero. How big each picture may be for a network, and how
many, is ``syndication.pictures``; this module only says which pictures there are.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from .models import PostPicture

Source = PostPicture.Source

#: How each network shows a picture in the timeline, as a Wagtail filter: the compose
#: form's preview is this rendition, cropped around the image's focal point. Mastodon,
#: Bluesky and X show a single picture at 16:9; LinkedIn's feed at 1.91:1.
PREVIEW_SPECS = {
    "mastodon": "fill-640x360",
    "bluesky": "fill-640x360",
    "x": "fill-640x360",
    "linkedin": "fill-600x314",
}
PREVIEW_RATIOS = {"fill-640x360": "16:9", "fill-600x314": "1.91:1"}


def preview_spec(network: str) -> str:
    return PREVIEW_SPECS.get(network, "fill-640x360")


@dataclass
class Candidate:
    """One picture the story offers: where it comes from and what it says."""

    image: object
    source: str
    #: What the compose form calls it ("The story's hero image", "For readers who
    #: follow Cat owners").
    label: str
    #: The alt text a post starts with: the story's own words for the picture where it
    #: has them, else the image's description, else its title.
    alt_text: str
    #: Interests whose audience-variant picture this is (pks).
    interests: list[int] = field(default_factory=list)

    @property
    def key(self) -> str:
        """What the form sends for it: the source and the image's id."""
        return f"{self.source}:{self.image.pk}"


def image_alt(image, block_alt: str | None = None) -> str:
    """The alt text a post starts with for ``image`` (Wagtail 7 images have a
    ``description``); ``block_alt`` is the alt text an editor wrote where the story
    shows it, which says best what the picture is there for."""
    for text in (block_alt, getattr(image, "description", ""), getattr(image, "title", "")):
        if text and text.strip():
            return text.strip()
    return ""


def candidates(story) -> list[Candidate]:
    """The story's pictures, each image once: the hero, then the body's in order."""
    found: dict[int, Candidate] = {}
    hero = story.hero_image
    if hero is not None:
        found[hero.pk] = Candidate(hero, Source.HERO, "The story's hero image", image_alt(hero))
    for child in story.body:
        if child.block_type == "image":
            _add(found, child.value.get("image"), Source.BODY, "A picture in the story")
        elif child.block_type == "audience":
            value = child.value
            _add(found, value["default"].get("image"), Source.BODY, "The story's default version")
            for variant in value["variants"]:
                interest = variant["interest"]
                if interest is None:  # its interest was deleted
                    continue
                label = f"For readers who follow {interest.name}"
                candidate = _add(found, variant["content"].get("image"), Source.AUDIENCE, label)
                if candidate is not None:
                    candidate.interests.append(interest.pk)
    return list(found.values())


def _add(found: dict, image, source: str, label: str) -> Candidate | None:
    if image is None:  # an empty slot, or a picture deleted from the library
        return None
    if image.pk in found:
        candidate = found[image.pk]
        if source == Source.AUDIENCE and candidate.source != Source.HERO:
            # The same picture as an audience variant: it counts as the audience's.
            candidate.source, candidate.label = source, label
        return candidate
    decorative = getattr(image, "decorative", False)
    block_alt = None if decorative else getattr(image, "contextual_alt_text", None)
    found[image.pk] = Candidate(image, source, label, image_alt(image, block_alt))
    return found[image.pk]


def default_for(offered: list[Candidate], interest_id: int | None) -> Candidate | None:
    """The picture a post starts with: its audience's picture, else the hero."""
    if interest_id is not None:
        for candidate in offered:
            if interest_id in candidate.interests:
                return candidate
    for candidate in offered:
        if candidate.source == Source.HERO:
            return candidate
    return None


@dataclass
class Chosen:
    """One picture chosen for one post, before it is saved as a ``PostPicture``; what
    ``syndication.pictures.check`` reads (``image``, ``alt_text``, ``role``)."""

    image: object
    source: str
    alt_text: str
    role: str = PostPicture.Role.ATTACHMENT
