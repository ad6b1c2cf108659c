"""Audience-variant blocks: one spot in a story with a version per interest.

The reading page holds every version (it is cached and the same for everyone) with the
default showing; the editor previews each interest's version through a preview mode.
What a reader's browser then shows is tests/browser/test_for_you.py.
"""

from django.core.exceptions import ValidationError

import pytest
from bs4 import BeautifulSoup

from stories.blocks import AudienceVariantsBlock, StoryStreamBlock, block_texts
from stories.page_cache import is_cacheable
from tests.factories import AudienceInterestFactory, ImageFactory
from tests.stories.test_page_cache import PageCacheClient

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _snippets_registered():
    """AudienceInterest becomes a snippet when the admin's URLs load its viewsets
    (stories/wagtail_hooks.py), as on any site that has served a request."""
    from django.urls import reverse

    reverse("wagtailadmin_home")


@pytest.fixture
def client(client):
    client.defaults["HTTP_HOST"] = "localhost"
    return client


@pytest.fixture
def interests():
    return {
        name: AudienceInterestFactory(name=name) for name in ("Pets", "Family", "Home", "Travel")
    }


def audience(pets, family, *, picture=None):
    return (
        "audience",
        {
            "default": {
                "image": None,
                "caption": "",
                "text": "<p>A budgie on the curtain rail.</p>",
            },
            "variants": [
                {
                    "interest": pets,
                    "content": {
                        "image": picture,
                        "caption": "A cat asleep in the laundry basket.",
                        "text": "<p>Cats hide in the warmest place in the house.</p>",
                    },
                },
                {
                    "interest": family,
                    "content": {
                        "image": None,
                        "caption": "",
                        "text": "<p>The dog who ate the school shoes.</p>",
                    },
                },
            ],
        },
    )


@pytest.fixture
def story(make_story, interests):
    return make_story(
        title="The great escape",
        interests=[interests["Pets"], interests["Family"]],
        body=[
            ("paragraph", "<p>It began with an open cage door.</p>"),
            audience(interests["Pets"], interests["Family"], picture=ImageFactory()),
        ],
    )


def versions(html) -> dict:
    """{"" for the default or the interest's slug: whether it shows} of the page's block."""
    block = BeautifulSoup(html, "html.parser").select_one("[data-audience]")
    assert block is not None
    found = {}
    for part in block.find_all("div", recursive=False):
        key = "" if part.has_attr("data-audience-default") else part["data-interest"]
        found[key] = not part.has_attr("hidden")
    return found


def block_value(block, data):
    return block.to_python(block.get_prep_value(block.to_python(data)))


def test_the_same_interest_twice_is_a_clear_error_on_the_second_variant(interests):
    block = AudienceVariantsBlock()
    pets = interests["Pets"]
    value = block.to_python(
        {
            "default": {"image": None, "caption": "", "text": "<p>A budgie.</p>"},
            "variants": [
                {"interest": pets.pk, "content": {"caption": "", "text": "<p>A cat</p>"}},
                {"interest": interests["Home"].pk, "content": {"caption": "", "text": "<p>x</p>"}},
                {"interest": pets.pk, "content": {"caption": "", "text": "<p>Another cat</p>"}},
            ],
        }
    )
    with pytest.raises(ValidationError) as raised:
        block.clean(value)
    variants = raised.value.block_errors["variants"]
    assert list(variants.block_errors) == [2]  # the repeat, not the first one
    message = variants.block_errors[2].block_errors["interest"].messages[0]
    assert "“Pets” already has a variant" in message

    # Different interests are fine, and so is a text-only default.
    value = block.to_python(
        {
            "default": {"image": None, "caption": "", "text": "<p>A budgie.</p>"},
            "variants": [
                {"interest": pets.pk, "content": {"caption": "", "text": "<p>A cat</p>"}},
                {"interest": interests["Home"].pk, "content": {"caption": "", "text": "<p>x</p>"}},
            ],
        }
    )
    assert [v["interest"] for v in block.clean(value)["variants"]] == [pets, interests["Home"]]


def test_a_version_with_neither_picture_nor_text_is_refused(interests):
    block = AudienceVariantsBlock()
    value = block.to_python(
        {"default": {"image": None, "caption": "Just a caption", "text": "<p></p>"}, "variants": []}
    )
    with pytest.raises(ValidationError) as raised:
        block.clean(value)
    error = raised.value.block_errors["default"]
    assert error.non_block_errors.as_data()[0].messages == ["Add a picture, some text, or both."]


def test_the_block_is_offered_to_editors_with_a_preview(interests):
    block = StoryStreamBlock().child_blocks["audience"]
    assert isinstance(block, AudienceVariantsBlock)
    assert block.meta.icon == "group" and block.meta.description
    html = block.render(block.get_preview_value())
    assert "budgie" in html and "data-audience-default" in html


def test_the_reading_page_has_the_default_showing_and_every_variant_hidden(client, story):
    html = client.get(story.url).content.decode()
    assert versions(html) == {"": True, "pets": False, "family": False}
    page = BeautifulSoup(html, "html.parser")
    pets = page.select_one('[data-interest="pets"]')
    assert "Cats hide in the warmest place" in pets.get_text()
    assert pets.select_one("figure img") is not None
    assert "A cat asleep in the laundry basket." in pets.select_one("figcaption").get_text()
    # The page asks for "For you" without carrying anything personal itself.
    placeholder = page.select_one("[data-for-you]")
    assert placeholder["data-story"] == str(story.pk)
    assert placeholder.has_attr("hidden") and not placeholder.get_text(strip=True)
    assert any(s["src"].endswith("/for-you.js") for s in page.find_all("script", src=True))


def test_the_story_counts_the_default_version_once(story):
    texts = block_texts(story.body)
    assert "<p>A budgie on the curtain rail.</p>" in texts
    assert not any("Cats hide" in text for text in texts)


def test_preview_modes_list_the_default_and_every_interest(story, interests):
    modes = story.preview_modes
    assert modes[0] == ("", "Default")
    assert sorted(modes[1:]) == sorted(
        (f"interest:{i.slug}", f"Readers who follow {i.name}") for i in interests.values()
    )
    assert story.default_preview_mode == ""


@pytest.mark.parametrize(
    ("mode", "shown"),
    [("", ""), ("interest:pets", "pets"), ("interest:family", "family"), ("interest:home", "")],
)
def test_a_preview_mode_shows_its_interests_variant(story, mode, shown):
    response = story.make_preview_request(preview_mode=mode)
    html = response.content.decode()
    assert response.status_code == 200
    assert versions(html) == {key: key == shown for key in ("", "pets", "family")}
    # An editor's preview never asks for "For you" (it would show the editor's own).
    assert "data-for-you" not in html


def test_a_preview_is_never_served_from_the_page_cache(story):
    reader = PageCacheClient(HTTP_HOST="localhost")
    assert versions(reader.get(story.url).content.decode())["pets"] is False
    assert reader.get(story.url)["X-Cache"] == "hit"  # the shared copy is stored
    response = story.make_preview_request(preview_mode="interest:pets")
    assert versions(response.content.decode())["pets"] is True
    assert "private" in response["Cache-Control"]
    assert response._request.is_preview and not is_cacheable(response._request)
    # ...and the preview did not leak into the shared copy either.
    shared = reader.get(story.url)
    assert shared["X-Cache"] == "hit" and versions(shared.content.decode())["pets"] is False


def test_a_cached_story_page_is_the_same_for_every_reader(client, story):
    from syndication.newsletter import clicks, profiles

    pets = profiles.Profile(profiles.Profile.COOKIE, followed=(story.interests.first().pk,))
    readers = [
        ({}, ""),
        ({profiles.COOKIE_NAME: profiles.cookie_value(pets)}, ""),
        ({profiles.COOKIE_NAME: "tampered"}, f"?utm_medium=email&nl={clicks.make_token(1, 0)}"),
    ]

    def read(through, cookies, query):
        through.cookies.clear()
        for name, value in cookies.items():
            through.cookies[name] = value
        response = through.get(story.url + query)
        assert response.status_code == 200
        assert "Set-Cookie" not in response
        return response

    # Through the page cache as gunicorn serves it: one stored copy answers everyone,
    # the reader with the "For you" cookie included.
    cached = PageCacheClient(HTTP_HOST="localhost")
    answers = [read(cached, cookies, query) for cookies, query in readers]
    assert [a["X-Cache"] for a in answers] == ["miss", "hit", "hit"]
    assert answers[0].content == answers[1].content == answers[2].content
    # Rendered afresh by Django for each reader: nothing in the page depends on who asks.
    fresh = [read(client, cookies, query).content for cookies, query in readers]
    assert fresh[0] == fresh[1] == fresh[2] == answers[0].content
    assert versions(fresh[0].decode()) == {"": True, "pets": False, "family": False}
