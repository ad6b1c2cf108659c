""" "Join the conversation" under a story: links to where it was posted."""

import re

from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

import pytest

from stories.page_cache import purge_all
from syndication import publishing, states
from syndication.models import SyndicationPost
from tests.factories import BlueskyAccountFactory, ChannelAccountFactory
from tests.stories.test_page_cache import PageCacheClient

pytestmark = pytest.mark.django_db


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


def post_for(story, account, state=states.SCHEDULED, **fields):
    return SyndicationPost.objects.create(
        story=story,
        account=account,
        text="{story_url}",
        scheduled_at=timezone.now(),
        state=state,
        **fields,
    )


def publish(post, url, minutes_ago=0):
    """Mark the post published as the engine does (state, address, time) and refresh
    the story's page, as the engine does after a publish."""
    published_at = timezone.now() - timezone.timedelta(minutes=minutes_ago)
    assert post.move(states.PUBLISHING)
    assert post.move(states.PUBLISHED, remote_url=url, published_at=published_at)
    publishing.refresh_story_page(post.story_id)


def conversation(html):
    match = re.search(
        r'<section aria-labelledby="conversation-heading".*?</section>', html, re.DOTALL
    )
    return match.group(0) if match else ""


def test_nothing_is_shown_before_a_post_is_published(client, make_story, mastodon):
    story = make_story()
    post_for(story, mastodon)  # scheduled, not out yet
    html = client.get(story.url).content.decode()
    assert "Join the conversation" not in html
    assert "u-syndication" not in html


def test_a_published_post_appears_even_on_a_cached_page(client, make_story, mastodon):
    story = make_story()
    post = post_for(story, mastodon)
    assert "Join the conversation" not in client.get(story.url).content.decode()  # now cached

    publish(post, "https://social.example/@storyloom/113000000000000001")
    block = conversation(client.get(story.url).content.decode())
    assert "Join the conversation" in block
    link = re.search(r"<a [^>]*>[^<]*</a>", block).group(0)
    assert 'href="https://social.example/@storyloom/113000000000000001"' in link
    assert 'class="u-syndication"' in link
    assert 'rel="syndication noopener"' in link
    assert "Discuss on Mastodon — @storyloom@social.example" in link


def test_links_are_newest_first_and_only_this_storys(client, make_story, mastodon, bluesky):
    story, other = make_story(), make_story()
    publish(post_for(story, mastodon), "https://social.example/@storyloom/1", minutes_ago=60)
    publish(post_for(story, bluesky), "https://bsky.app/profile/storyloom/post/2")
    publish(post_for(other, mastodon), "https://social.example/@storyloom/3")
    post_for(story, mastodon, state=states.CANCELLED, remote_url="https://social.example/x")

    block = conversation(client.get(story.url).content.decode())
    hrefs = re.findall(r'href="([^"]+)"', block)
    assert hrefs == [
        "https://bsky.app/profile/storyloom/post/2",
        "https://social.example/@storyloom/1",
    ]
    assert "Discuss on Bluesky — @storyloom.bsky.social" in block


def test_the_block_sits_between_the_story_and_what_to_read_next(client, make_story, mastodon):
    story = make_story()
    publish(post_for(story, mastodon), "https://social.example/@storyloom/1")
    html = client.get(story.url).content.decode()
    assert html.index('class="story__body') < html.index("conversation-heading")
    assert html.index("conversation-heading") < html.index('class="story__next')


def test_a_post_made_after_the_page_was_read_still_shows(client, make_story, mastodon):
    story = make_story()
    assert "Join the conversation" not in client.get(story.url).content.decode()
    post = post_for(story, mastodon)  # the story was not syndicated when the page was read
    publish(post, "https://social.example/@storyloom/7")
    assert "https://social.example/@storyloom/7" in client.get(story.url).content.decode()


def test_a_story_never_syndicated_costs_no_query(client, make_story, mastodon):
    syndicated, plain = make_story(), make_story()
    publish(post_for(syndicated, mastodon), "https://social.example/@storyloom/1")

    def post_queries(story):
        client.get(story.url)
        purge_all()
        with CaptureQueriesContext(connection) as captured:
            assert client.get(story.url).status_code == 200
        return sum("syndication_syndicationpost" in q["sql"] for q in captured)

    assert post_queries(plain) == 0
    assert post_queries(syndicated) == 1


def test_the_links_cost_one_query_however_many_posts(client, make_story, mastodon, bluesky):
    def queries_for(story):
        client.get(story.url)
        purge_all()
        with CaptureQueriesContext(connection) as captured:
            assert client.get(story.url).status_code == 200
        return len(captured), sum("syndication_syndicationpost" in q["sql"] for q in captured)

    one, many = make_story(), make_story()
    publish(post_for(one, mastodon), "https://social.example/@storyloom/1")
    for n, account in enumerate([mastodon, bluesky, mastodon, bluesky]):
        publish(post_for(many, account), f"https://social.example/@storyloom/{n + 10}")
    one_total, one_post_queries = queries_for(one)
    many_total, many_post_queries = queries_for(many)
    assert one_post_queries == many_post_queries == 1
    assert many_total <= one_total


# --- A post leaving the block ---------------------------------------------------------------


def committed(django_capture_on_commit_callbacks):
    """Run what waits for the commit (the purges), as a real commit would."""
    return django_capture_on_commit_callbacks(execute=True)


def hit(response) -> bool:
    return response.get("X-Cache") == "hit"


def test_deleting_a_published_post_takes_its_link_off_the_cached_page_on_commit(
    client, make_story, mastodon, django_capture_on_commit_callbacks
):
    story, other = make_story(), make_story()
    post = post_for(story, mastodon)
    publish(post, "https://social.example/@storyloom/41")
    publish(post_for(other, mastodon), "https://social.example/@storyloom/42")
    assert "@storyloom/41" in client.get(story.url).content.decode()
    client.get(other.url)
    assert hit(client.get(story.url)) and hit(client.get(other.url))

    with django_capture_on_commit_callbacks(execute=False) as waiting:
        post.delete()
        # Not committed yet: readers keep the page they had (the delete may roll back).
        assert hit(client.get(story.url))
    assert waiting, "the purge waits for the commit"
    for callback in waiting:
        callback()

    response = client.get(story.url)
    assert response["X-Cache"] == "miss"
    assert "@storyloom/41" not in response.content.decode()
    assert "Join the conversation" not in response.content.decode()
    assert hit(client.get(other.url))  # only the post's own story


def test_deleting_one_of_several_posts_keeps_the_others(
    client, make_story, mastodon, bluesky, django_capture_on_commit_callbacks
):
    story = make_story()
    going = post_for(story, mastodon)
    publish(going, "https://social.example/@storyloom/51")
    publish(post_for(story, bluesky), "https://bsky.app/profile/storyloom/post/52")
    client.get(story.url)
    with committed(django_capture_on_commit_callbacks):
        SyndicationPost.objects.filter(pk=going.pk).delete()  # a queryset delete too
    block = conversation(client.get(story.url).content.decode())
    assert "@storyloom/51" not in block and "post/52" in block


def test_a_post_saved_out_of_published_is_taken_off_the_page(
    client, make_story, mastodon, django_capture_on_commit_callbacks
):
    story = make_story()
    post = post_for(story, mastodon)
    publish(post, "https://social.example/@storyloom/61")
    assert "@storyloom/61" in client.get(story.url).content.decode()
    post.refresh_from_db()
    with committed(django_capture_on_commit_callbacks):
        post.state = states.CANCELLED  # by hand: the state machine never leaves published
        post.save()
    assert "@storyloom/61" not in client.get(story.url).content.decode()


def test_deleting_or_saving_a_post_that_was_not_shown_purges_nothing(
    client, make_story, mastodon, django_capture_on_commit_callbacks
):
    story = make_story()
    scheduled = post_for(story, mastodon)
    client.get(story.url)
    with committed(django_capture_on_commit_callbacks) as callbacks:
        scheduled.text = "Another way to say it. {story_url}"
        scheduled.save()
        scheduled.delete()
    assert callbacks == []
    assert hit(client.get(story.url))


@pytest.mark.parametrize(
    "stored",
    [
        "javascript:alert(document.cookie)",
        "JavaScript:alert(1)",
        " javascript:alert(1)",
        "java\tscript:alert(1)",
        "data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==",
        "//evil.example/x",
        "https://",
    ],
)
def test_an_address_that_is_not_http_already_stored_is_never_a_link(
    client, make_story, mastodon, bluesky, stored
):
    """Posts stored before addresses were checked on the way in."""
    story = make_story()
    publish(post_for(story, mastodon), stored, minutes_ago=5)
    publish(post_for(story, bluesky), "https://bsky.app/profile/storyloom/post/1")
    block = conversation(client.get(story.url).content.decode())
    assert re.findall(r'href="([^"]*)"', block) == ["https://bsky.app/profile/storyloom/post/1"]
    assert "script" not in block.lower() and "evil" not in block
