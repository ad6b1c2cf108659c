"""The end of every demo story: one list of other stories, and no story twice on the page.

The cached page ends with its own "More on…" block (``data-more-stories``); a reader's
"For you" picks (syndication/newsletter/views/for_you.py) take its place and leave out
every story the rest of the page shows, which for-you.js sends as ``shown``. The browser
side (the block hidden, the picks in its place) is tests/browser/test_for_you.py.
"""

from django.core.management import call_command
from django.urls import reverse

import pytest
from bs4 import BeautifulSoup

from stories.models import StoryPage
from syndication.newsletter import profiles

pytestmark = pytest.mark.django_db

#: Headings at the end of a story that are not a list of more stories.
NOT_MORE = {"Continue the story", "Background"}


@pytest.fixture
def demo(tree):
    call_command("load_demo", "--stories-only", verbosity=0)
    stories = list(StoryPage.objects.live().order_by("pk"))
    assert len(stories) >= 40
    return stories


def linked_ids(element) -> list[int]:
    """Every story a part of the page shows, in order, once per time it is shown."""
    found = []
    for tag in element.select("[data-follow-to], [data-story-id]"):
        found.append(int(tag.get("data-follow-to") or tag["data-story-id"]))
    return found


def where(html) -> dict:
    """{story id: the headings of the parts of the page that show it}."""
    places = {}
    for tag in html.select("article.story [data-follow-to], article.story [data-story-id]"):
        part = tag.find_parent(["section", "aside"])
        heading = part.find("h2") if part else None
        label = heading.get_text(strip=True) if heading else "the text"
        story_id = int(tag.get("data-follow-to") or tag["data-story-id"])
        places.setdefault(story_id, []).append(label)
    return places


def test_every_demo_story_ends_with_one_block_and_shows_no_story_twice_for_you_or_not(client, demo):
    with_more = with_continue = 0
    for story in demo:
        response = client.get(story.url)
        assert response.status_code == 200, story.url
        html = BeautifulSoup(response.content, "html.parser")
        footer = html.select_one(".story__next")
        blocks = [h2.get_text(strip=True) for h2 in footer.select("h2")]
        more = [b for b in blocks if b not in NOT_MORE]
        assert len(more) <= 1, (story.title, blocks)
        assert all(b.startswith("More on ") for b in more), (story.title, blocks)
        # The reader's "For you" goes in empty, after the page's own block.
        box = footer.select_one("[data-for-you]")
        assert box is not None and not box.get_text(strip=True), story.title
        assert box["data-story"] == str(story.pk)
        shown = linked_ids(html.select_one("article.story"))
        assert story.pk not in shown, story.title
        assert len(shown) == len(set(shown)), (story.title, where(html))
        with_more += bool(more)
        with_continue += "Continue the story" in blocks
    assert with_more == len(demo)  # every demo story has stories sharing its interests
    assert with_continue >= 10

    # "For you" (one demo load for both: it takes a while).
    for story in demo[:: max(1, len(demo) // 12)]:
        html = BeautifulSoup(client.get(story.url).content, "html.parser")
        block = html.select_one("[data-more-stories]")
        block.decompose()  # hidden by for-you.js when there are picks
        shown = linked_ids(html.select_one("article.story"))
        # A stranger: no stories from the fragment, the page's own block stays.
        client.cookies.pop(profiles.COOKIE_NAME, None)
        fragment = client.get(
            reverse("newsletter:for_you"),
            {"story": story.pk, "shown": ",".join(map(str, shown))},
        )
        content = BeautifulSoup(fragment.content, "html.parser").select_one(
            "[data-for-you-content]"
        )
        assert not content.has_attr("data-picked") and not linked_ids(content)
        # A reader who follows the story's interests: picks, none of them on the page.
        interests = tuple(story.interests.values_list("pk", flat=True))
        client.cookies[profiles.COOKIE_NAME] = profiles.cookie_value(
            profiles.Profile(profiles.Profile.COOKIE, followed=interests)
        )
        fragment = client.get(
            reverse("newsletter:for_you"),
            {"story": story.pk, "shown": ",".join(map(str, shown))},
        )
        content = BeautifulSoup(fragment.content, "html.parser").select_one(
            "[data-for-you-content]"
        )
        picked = linked_ids(content)
        assert content.has_attr("data-picked") and picked, story.title
        assert not set(picked) & {story.pk, *shown}, (story.title, picked, shown)
        assert len(picked) == len(set(picked))
