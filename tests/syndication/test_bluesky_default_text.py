"""The default Bluesky text fits Bluesky's 300 graphemes for every demo story."""

from wagtail.models import Site

import pytest

from stories.demo import content
from stories.models import AudienceInterest
from syndication import posts
from syndication.channels.bluesky import BlueskyAdapter
from syndication.channels.text import grapheme_count
from tests.factories import StoryPageFactory

#: A site address as long as a real one is likely to be, so the short link is realistic.
HOSTNAME = "www.storyloom-stories.example"


@pytest.mark.django_db
def test_the_default_text_fits_for_every_demo_story(story_index):
    Site.objects.filter(is_default_site=True).update(hostname=HOSTNAME, port=443)
    interests = {
        interest["slug"]: AudienceInterest.objects.create(
            name=interest["name"], slug=interest["slug"]
        )
        for interest in content.INTERESTS
    }
    adapter = BlueskyAdapter(account=None)
    too_long, widest = [], 0
    for story in content.STORIES:
        page = StoryPageFactory(
            parent=story_index,
            title=story["title"],
            slug=story["slug"],
            intro=story["intro"],
            interests=[interests[slug] for slug in story["interests"]],
        )
        # A real post id is six digits or fewer for years; its utm_content is in the link.
        text, link = posts.render(posts.default_text(page), page, "bluesky", 999999)
        assert link in text and link.startswith(f"https://{HOSTNAME}/")
        validation = adapter.validate(text)
        widest = max(widest, validation.length)
        if not validation.ok:
            too_long.append((story["slug"], validation.length, validation.errors))
        # The full address alone would not have fitted for most of them: the link is
        # counted as shown, short.
        assert validation.length < grapheme_count(text)
    assert not too_long, too_long
    assert len(content.STORIES) >= 46 and widest > 200
