"""Audience variants with pictures (issue 21, point 2), and pages stored before any
variant had one.

``AudienceContentBlock`` has had an optional ``image`` (Wagtail's ``ImageBlock``: the
image, its alt text, "decorative") since migration 0005, so giving the demo's variants
pictures needed no block change and no migration (``makemigrations --check`` finds
none). What a migration would have to prove is still proved here: a page whose stored
variants are text only, in the JSON shape saved then (no ``image`` key at all), loads,
renders, takes a picture and renders that.
"""

import json

from django.db import connection

import pytest
from bs4 import BeautifulSoup

from stories.models import StoryPage
from tests.factories import AudienceInterestFactory, ImageFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def client(client):
    client.defaults["HTTP_HOST"] = "localhost"
    return client


@pytest.fixture
def pets():
    return AudienceInterestFactory(name="Pets", slug="pets")


def store_raw(page, body: list) -> None:
    """Write the body's JSON as an older release stored it, past every block's code."""
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {StoryPage._meta.db_table} SET body = %s WHERE page_ptr_id = %s",  # noqa: S608
            [json.dumps(body), page.pk],
        )


def text_only(pets) -> list:
    return [
        {"type": "paragraph", "value": "<p>It began with an open cage door.</p>", "id": "p1"},
        {
            "type": "audience",
            "id": "a1",
            "value": {
                "default": {"caption": "", "text": "<p>Kiwi the budgie.</p>"},
                "variants": [
                    {
                        "type": "item",
                        "id": "v1",
                        "value": {
                            "interest": pets.pk,
                            "content": {
                                "caption": "",
                                "text": "<p>A cat in the airing cupboard.</p>",
                            },
                        },
                    }
                ],
            },
        },
    ]


def variants(html):
    block = BeautifulSoup(html, "html.parser").select_one("[data-audience]")
    return {
        ("" if part.has_attr("data-audience-default") else part["data-interest"]): part
        for part in block.find_all("div", recursive=False)
    }


def test_a_page_stored_with_text_only_variants_loads_and_renders(client, make_story, pets):
    story = make_story(title="The great escape", interests=[pets])
    store_raw(story, text_only(pets))
    page = StoryPage.objects.get(pk=story.pk)
    [block] = [child.value for child in page.body if child.block_type == "audience"]
    assert block["default"]["image"] is None
    assert block["variants"][0]["content"]["image"] is None
    assert block["variants"][0]["interest"] == pets

    page.save_revision().publish()  # the editor saves it again: still fine
    html = client.get(page.url).content.decode()
    parts = variants(html)
    assert "Kiwi the budgie." in parts[""].get_text()
    assert "A cat in the airing cupboard." in parts["pets"].get_text()
    assert parts["pets"].select_one("img") is None


def test_a_stored_text_only_variant_takes_a_picture_with_alt_text(client, make_story, pets):
    story = make_story(title="The great escape", interests=[pets])
    store_raw(story, text_only(pets))
    cat = ImageFactory(title="Cat", description="")
    page = StoryPage.objects.get(pk=story.pk)
    raw = page.body.raw_data
    variant = raw[1]["value"]["variants"][0]["value"]
    variant["content"]["image"] = {
        "image": cat.pk,
        "alt_text": "A ginger cat asleep in the airing cupboard.",
        "decorative": False,
    }
    page.body = raw
    page.save_revision().publish()

    html = client.get(page.url).content.decode()
    img = variants(html)["pets"].select_one("figure img")
    assert img["alt"] == "A ginger cat asleep in the airing cupboard."
    assert img["srcset"] and img["sizes"]
    assert "Kiwi the budgie." in variants(html)[""].get_text()


def test_a_variant_whose_picture_was_deleted_still_renders_its_text(client, make_story, pets):
    cat = ImageFactory(title="Cat")
    story = make_story(title="The great escape", interests=[pets])
    body = text_only(pets)
    body[1]["value"]["variants"][0]["value"]["content"]["image"] = {
        "image": cat.pk,
        "alt_text": "A cat.",
        "decorative": False,
    }
    store_raw(story, body)
    cat.delete()
    page = StoryPage.objects.get(pk=story.pk)
    page.save_revision().publish()
    part = variants(client.get(page.url).content.decode())["pets"]
    assert "A cat in the airing cupboard." in part.get_text()
    assert part.select_one("img") is None
