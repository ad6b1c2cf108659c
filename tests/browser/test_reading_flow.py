"""A reader in a real Chromium: home → a story → "Continue the story"."""

import pytest

from tests.factories import AudienceInterestFactory, ImageFactory, link

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]


def test_reader_follows_a_story_and_its_continuation(live_server, browser_page, make_story):
    pets = AudienceInterestFactory(name="Pets")
    second = make_story(
        title="Biscuit's second week",
        intro="The postman and the dog reach an understanding.",
        interests=[pets],
    )
    first = make_story(
        title="Biscuit comes home",
        intro="A rescue dog's first night in a small flat.",
        interests=[pets],
        hero_image=ImageFactory(),
    )
    link(first, second, "continues")

    page = browser_page
    page.goto(live_server.url + "/")
    page.get_by_role("link", name="Biscuit comes home").first.click()
    page.wait_for_url(f"**{first.url}")
    assert page.get_by_role("heading", level=1).inner_text() == "Biscuit comes home"

    og = {
        prop: page.locator(f'meta[property="og:{prop}"]').get_attribute("content")
        for prop in ("title", "description", "url", "type", "image")
    }
    assert og["title"] == "Biscuit comes home"
    assert og["description"] == "A rescue dog's first night in a small flat."
    assert og["type"] == "article"
    assert og["url"].endswith(first.url)
    assert "1200x630" in og["image"].replace(".", "x")
    image = page.request.get(og["image"])
    assert image.ok and image.headers["content-type"].startswith("image/")

    continuation = page.get_by_role("region", name="Continue the story")
    continuation.get_by_role("link", name="Biscuit's second week").click()
    page.wait_for_url(f"**{second.url}")
    assert page.get_by_role("heading", level=1).inner_text() == "Biscuit's second week"
    assert page.locator('meta[property="og:title"]').get_attribute("content") == (
        "Biscuit's second week"
    )
