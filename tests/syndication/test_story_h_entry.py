"""A story page read by a microformats2 parser: one h-entry, its syndication links and
its approved replies (``p-comment h-cite``) inside.

IndieWeb tools (Bridgy's backfeed, readers, webmention receivers) find where a story
was posted from the ``u-syndication`` links of its ``h-entry``; docs/conversation.md,
"Story pages and microformats". The page is parsed with mf2py as those tools parse it.
"""

from datetime import datetime

from wagtail.models import Site

import mf2py
import pytest

from syndication import states
from syndication.conversation.models import StoryConversation
from tests.conversation.test_publicity import said
from tests.factories import AudienceInterestFactory, BlueskyAccountFactory, ChannelAccountFactory
from tests.stories.test_page_cache import PageCacheClient
from tests.syndication.test_conversation import post_for, publish

pytestmark = pytest.mark.django_db

MASTODON_URL = "https://social.example/@storyloom/113000000000000001"
BLUESKY_URL = "https://bsky.app/profile/storyloom.bsky.social/post/3kstoryloom"


@pytest.fixture
def client():
    """Story pages served as gunicorn serves them: through the page cache."""
    return PageCacheClient(HTTP_HOST="localhost")


@pytest.fixture
def mastodon(db):
    return ChannelAccountFactory(remote_id="1")


@pytest.fixture
def bluesky(db):
    return BlueskyAccountFactory(remote_id="did:plc:storyloom")


def the_h_entry(response):
    """The page's one top-level microformat, which must be an h-entry."""
    assert response.status_code == 200
    parsed = mf2py.parse(
        doc=response.content.decode(), url=response.wsgi_request.build_absolute_uri()
    )
    assert [item["type"] for item in parsed["items"]] == [["h-entry"]]
    return parsed["items"][0]


@pytest.fixture
def story(make_story):
    return make_story(
        title="The drip in the hallway",
        intro="How one household found its way through a small problem.",
        interests=[AudienceInterestFactory(name="Home"), AudienceInterestFactory(name="Repairs")],
    )


def test_a_story_page_is_one_h_entry_with_its_story(client, story):
    site = Site.objects.get(is_default_site=True)
    site.site_name = "The Kitchen Table"
    site.save()
    entry = the_h_entry(client.get(story.url))["properties"]

    assert entry["name"] == ["The drip in the hallway"]
    assert entry["summary"] == ["How one household found its way through a small problem."]
    assert entry["url"] == [story.get_full_url()]
    assert sorted(entry["category"]) == ["Home", "Repairs"]
    # ISO 8601 with its offset (mf2py keeps whole seconds): when the story first went out.
    (published,) = entry["published"]
    assert datetime.fromisoformat(published) == story.first_published_at.replace(microsecond=0)
    # The author is the site, by its name and home page: no person is invented.
    (author,) = entry["author"]
    assert author["type"] == ["h-card"]
    assert author["properties"] == {
        "name": ["The Kitchen Table"],
        "url": [site.root_page.get_full_url()],
    }
    # The body, and only the body: not the conversation or what to read next.
    (content,) = entry["content"]
    assert "It began on a wet Tuesday, with a drip in the hallway." in content["value"]
    assert "<blockquote>" in content["html"]
    assert "What happened" in content["value"]
    assert "How one household" not in content["value"]


def test_the_syndication_links_are_the_published_posts_inside_the_entry(
    client, story, mastodon, bluesky
):
    publish(post_for(story, mastodon), MASTODON_URL, minutes_ago=30)
    publish(post_for(story, bluesky), BLUESKY_URL)
    # Posts that never went out, some with an address stored all the same.
    post_for(story, mastodon, state=states.FAILED, remote_url="https://social.example/@s/2")
    post_for(story, bluesky, state=states.CANCELLED, remote_url="https://bsky.app/post/3")
    post_for(story, mastodon, state=states.SCHEDULED)

    first = client.get(story.url)
    assert first["X-Cache"] == "miss"
    entry = the_h_entry(first)["properties"]
    assert entry["syndication"] == [BLUESKY_URL, MASTODON_URL]  # newest first, as shown

    # The page cache serves the same entry.
    cached = client.get(story.url)
    assert cached["X-Cache"] == "hit"
    assert the_h_entry(cached)["properties"]["syndication"] == [BLUESKY_URL, MASTODON_URL]


def test_another_storys_posts_and_posts_not_out_are_no_syndication_links(
    client, make_story, story, mastodon
):
    publish(post_for(make_story(), mastodon), MASTODON_URL)
    post_for(story, mastodon, state=states.FAILED, remote_url="https://social.example/@s/2")
    post_for(story, mastodon, state=states.SCHEDULED)
    entry = the_h_entry(client.get(story.url))["properties"]
    assert "syndication" not in entry
    assert entry["name"] == ["The drip in the hallway"]


def test_a_story_never_posted_is_an_h_entry_without_syndication(client, story):
    entry = the_h_entry(client.get(story.url))["properties"]
    assert "syndication" not in entry
    assert entry["url"] == [story.get_full_url()]


def test_approved_replies_are_the_entrys_comments(client, story, mastodon, bluesky):
    """Each reply shown under "What people said" is a ``p-comment h-cite`` of the story's
    entry: its own author, words, address and date, and what it answers."""
    post = post_for(story, mastodon)
    publish(post, MASTODON_URL, minutes_ago=30)
    publish(post_for(story, bluesky), BLUESKY_URL)
    first = said(
        post,
        approved=True,
        minutes_ago=20,
        author_name="Ada Lovelace",
        author_url="https://elsewhere.example/@ada",
        html='<p>Thank you, <a href="https://elsewhere.example/tags/plumbing">#plumbing</a></p>',
        url="https://elsewhere.example/@ada/1",
    )
    said(
        post,
        approved=True,
        minutes_ago=10,
        parent_remote_id=first.remote_id,
        author_name="Grace Hopper",
        author_url="",
        html="<p>Agreed!</p>",
        url="https://elsewhere.example/@grace/2",
    )
    said(post, approved=False, author_name="Not approved")
    StoryConversation.objects.create(story=story, show_on_page=True)

    entry = the_h_entry(client.get(story.url))["properties"]

    assert entry["syndication"] == [BLUESKY_URL, MASTODON_URL]
    assert entry["name"] == ["The drip in the hallway"]  # the replies' names stay theirs
    assert "Ada" not in entry["content"][0]["value"]  # and so do their words
    ada, grace = entry["comment"]
    assert ada["type"] == grace["type"] == ["h-cite"]
    ada, grace = ada["properties"], grace["properties"]

    (author,) = ada["author"]
    assert author["type"] == ["h-card"]
    assert author["properties"]["name"] == ["Ada Lovelace"]
    assert author["properties"]["url"] == ["https://elsewhere.example/@ada"]
    assert ada["content"][0]["value"] == "Thank you, #plumbing"
    assert 'href="https://elsewhere.example/tags/plumbing"' in ada["content"][0]["html"]
    assert ada["url"] == ["https://elsewhere.example/@ada/1"]
    assert datetime.fromisoformat(ada["published"][0]) == first.created_at.replace(microsecond=0)
    assert ada["in-reply-to"] == [MASTODON_URL]  # one of the entry's syndication links

    assert grace["author"][0]["properties"] == {"name": ["Grace Hopper"]}
    assert grace["content"][0]["value"] == "Agreed!"
    assert grace["in-reply-to"] == ["https://elsewhere.example/@ada/1"]  # the reply it answers
    assert "url" in grace and "url" not in grace["author"][0]["properties"]

    # The page cache serves the same comments.
    cached = client.get(story.url)
    assert cached["X-Cache"] == "hit"
    assert len(the_h_entry(cached)["properties"]["comment"]) == 2


def test_a_story_that_did_not_opt_in_has_no_comments(client, story, mastodon):
    post = post_for(story, mastodon)
    publish(post, MASTODON_URL)
    said(post, approved=True)
    entry = the_h_entry(client.get(story.url))["properties"]
    assert entry["syndication"] == [MASTODON_URL]
    assert "comment" not in entry
