"""Seed 003's pet insurer in the demo: interests for cat, dog and budgie owners, and a
story whose audience-variants block has a drawn picture with alt text for each.

What a post to an account whose audience is cat owners carries is
tests/syndication/test_compose_pictures.py.
"""

import pytest
from bs4 import BeautifulSoup

from stories.demo import insurer
from stories.models import AudienceInterest, StoryPage

pytestmark = pytest.mark.django_db


@pytest.fixture
def client(client):
    client.defaults["HTTP_HOST"] = "localhost"
    return client


@pytest.fixture
def thunder(story_index):
    pets = AudienceInterest.objects.create(name="Pets", slug="pets")
    return insurer.ensure_story(story_index, pets)


def audience_block(story):
    [block] = [child.value for child in story.body if child.block_type == "audience"]
    return block


def test_each_owner_has_an_interest_and_a_picture_with_alt_text(thunder):
    story = StoryPage.objects.get(pk=thunder.pk)
    assert story.live
    block = audience_block(story)
    slugs = [variant["interest"].slug for variant in block["variants"]]
    assert slugs == ["cat-owners", "dog-owners", "budgie-owners"]
    assert {i.slug for i in story.interests.all()} == {"pets", *slugs}
    for variant, animal in zip(block["variants"], ("cat", "dog", "budgie"), strict=True):
        image = variant["content"]["image"]
        assert animal in image.title
        assert image.contextual_alt_text.startswith("A drawing of a ")
        assert image.contextual_alt_text.endswith(f"labelled {animal}.")
        # The picture's own description says the same, for wherever it goes without
        # the block (a post's alt text starts from it).
        assert image.description == image.contextual_alt_text
        assert image.has_focal_point()
        assert image.width == 1200 and image.height == 900
        assert image.file.size < 50_000
    default = block["default"]["image"]
    assert default.pk == story.hero_image_id
    assert "cat, a brown dog" in default.contextual_alt_text


def test_loading_again_changes_nothing(thunder, story_index):
    from wagtail.images import get_image_model

    counts = (StoryPage.objects.count(), AudienceInterest.objects.count())
    images = get_image_model().objects.count()
    again = insurer.ensure_story(story_index, AudienceInterest.objects.get(slug="pets"))
    assert again.pk == thunder.pk
    assert (StoryPage.objects.count(), AudienceInterest.objects.count()) == counts
    assert get_image_model().objects.count() == images == 4


def test_the_page_holds_each_animal_with_its_alt_text_and_sizes(client, thunder):
    html = client.get(thunder.url).content.decode()
    page = BeautifulSoup(html, "html.parser")
    block = page.select_one("[data-audience]")
    parts = {
        ("" if part.has_attr("data-audience-default") else part["data-interest"]): part
        for part in block.find_all("div", recursive=False)
    }
    assert list(parts) == ["", "cat-owners", "dog-owners", "budgie-owners"]
    assert not parts[""].has_attr("hidden")
    for slug, animal in (("cat-owners", "cat"), ("dog-owners", "dog"), ("budgie-owners", "budgie")):
        assert parts[slug].has_attr("hidden")  # for-you.js shows the reader's own
        img = parts[slug].select_one("figure img")
        assert img["alt"].endswith(f"labelled {animal}.")
        # A responsive rendition: the browser picks a width, never the 1200 px original.
        widths = [entry.split()[-1] for entry in img["srcset"].split(",")]
        assert widths == ["480w", "960w", "1200w"] or widths == ["480w", "960w", "1440w"]
        assert img["sizes"] and img["loading"] == "lazy"
        assert "/media/images/" in img["src"] and "original" not in img["src"]
