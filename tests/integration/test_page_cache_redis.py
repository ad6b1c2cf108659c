"""Every change a reader must see, against a real Redis cache and real commits.

Each test stores the pages involved, makes one change the way editors and the
publishing engine make it, and checks that the pages showing it change within a
second while a page that does not show it is still served from the cache
(``X-Cache: hit``). Requests go through the WSGI layer gunicorn serves.
"""

import time
import uuid

from django.core.cache import caches
from django.utils import timezone

import pytest
import redis

from stories.models import StoryIndexPage, StoryLink
from syndication import publishing, states
from syndication.models import SyndicationPost
from syndication.testing.mastodon_server import MastodonTestServer
from tests.factories import AudienceInterestFactory, ChannelAccountFactory, link
from tests.stories.test_page_cache import PageCacheClient

pytestmark = [
    pytest.mark.integration,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]

WITHIN_SECONDS = 1.0


@pytest.fixture(autouse=True)
def redis_cache(settings, redis_server):
    """The default cache on a real Redis, under a key prefix of this test's own."""
    prefix = f"storyloom-test-{uuid.uuid4().hex[:10]}"
    settings.CACHES = {
        **settings.CACHES,
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": redis_server,
            "KEY_PREFIX": prefix,
        },
    }
    assert type(caches["default"]).__name__ == "RedisCache"
    yield
    client = redis.Redis.from_url(redis_server)
    keys = list(client.scan_iter(f"{prefix}:*"))
    if keys:
        client.delete(*keys)


@pytest.fixture
def reader():
    return PageCacheClient(HTTP_HOST="localhost")


def html(response) -> str:
    return response.content.decode()


def stored(reader, *urls):
    """Visit ``urls`` until each is served from the cache."""
    for url in urls:
        reader.get(url)
        assert reader.get(url)["X-Cache"] == "hit", url


def changes_in_time(reader, url, changed, started) -> None:
    """``url`` shows the change (``changed(response)``) within a second of ``started``."""
    while True:
        response = reader.get(url)
        if changed(response):
            assert response.get("X-Cache") != "hit", "a stale copy was replaced, not kept"
            elapsed = time.monotonic() - started
            assert elapsed < WITHIN_SECONDS, f"{url} changed after {elapsed:.2f}s"
            return
        assert time.monotonic() - started < WITHIN_SECONDS, f"{url} did not change in 1 s"
        time.sleep(0.05)


def still_cached(reader, url) -> None:
    assert reader.get(url)["X-Cache"] == "hit", f"{url} was purged but shows nothing changed"


@pytest.fixture
def unrelated(make_story):
    """A story in an interest of its own, linking to nothing the tests change."""
    return make_story(title="Packing for a rainy week", interests=[AudienceInterestFactory()])


def test_publish(reader, make_story, unrelated):
    story, other = make_story(), make_story(title="The first draft")
    link(story, other, "continues")
    stored(reader, story.url, other.url, "/", unrelated.url)

    started = time.monotonic()
    other.title = "The title it deserved"
    other.save_revision().publish()

    for url in (story.url, other.url, "/"):
        changes_in_time(reader, url, lambda r: "The title it deserved" in html(r), started)
    still_cached(reader, unrelated.url)


def test_publish_a_story_into_the_feeds(reader, make_story, unrelated):
    pets = AudienceInterestFactory(name="Pets")
    make_story(title="An older pet story", interests=[pets])
    story = make_story(title="The hamster in the slipper", interests=[pets], live=False)
    other_feed = f"/feeds/interest/{unrelated.interests.get().slug}/rss/"
    feeds = ["/feeds/stories/rss/", "/feeds/stories/atom/", "/feeds/interest/pets/rss/"]
    stored(reader, *feeds, other_feed)

    started = time.monotonic()
    story.save_revision().publish()

    for url in feeds:
        changes_in_time(reader, url, lambda r: "The hamster in the slipper" in html(r), started)
    still_cached(reader, other_feed)


def test_unpublish(reader, make_story, unrelated):
    story, other = make_story(), make_story(title="Gone by lunchtime")
    link(story, other, "related")
    stored(reader, story.url, other.url, "/stories/", unrelated.url)

    started = time.monotonic()
    other.unpublish()

    changes_in_time(reader, story.url, lambda r: "Gone by lunchtime" not in html(r), started)
    changes_in_time(reader, "/stories/", lambda r: "Gone by lunchtime" not in html(r), started)
    changes_in_time(reader, other.url, lambda r: r.status_code == 404, started)
    still_cached(reader, unrelated.url)


def test_move(reader, make_story, home, unrelated):
    archive = home.add_child(instance=StoryIndexPage(title="Archive", slug="archive"))
    story = make_story(title="Moving day")
    old_url = story.url
    stored(reader, old_url, "/stories/", "/archive/", unrelated.url)

    started = time.monotonic()
    story.move(archive, pos="last-child")
    story.refresh_from_db()

    changes_in_time(reader, old_url, lambda r: r.status_code == 301, started)
    changes_in_time(reader, "/stories/", lambda r: "Moving day" not in html(r), started)
    changes_in_time(reader, "/archive/", lambda r: "Moving day" in html(r), started)
    assert reader.get(story.url).status_code == 200
    still_cached(reader, unrelated.url)


def test_delete(reader, make_story, unrelated):
    story, other = make_story(), make_story(title="Written in error")
    link(story, other, "background")
    stored(reader, story.url, other.url, "/", unrelated.url)

    started = time.monotonic()
    other.delete()

    changes_in_time(reader, story.url, lambda r: "Written in error" not in html(r), started)
    changes_in_time(reader, "/", lambda r: "Written in error" not in html(r), started)
    changes_in_time(reader, other.url, lambda r: r.status_code == 404, started)
    still_cached(reader, unrelated.url)


def test_change_links(reader, make_story, unrelated):
    story, old, new = (
        make_story(title=title, interests=[AudienceInterestFactory(name=title)])
        for title in ("Where it starts", "The old way on", "The new way on")
    )
    link(story, old, "continues")
    stored(reader, story.url, old.url, new.url, unrelated.url)

    started = time.monotonic()
    story.story_links.set([StoryLink(target=new, kind="continues")])
    story.save_revision().publish()

    changes_in_time(
        reader,
        story.url,
        lambda r: "The new way on" in html(r) and "The old way on" not in html(r),
        started,
    )
    still_cached(reader, old.url)  # neither target shows the story that links to it
    still_cached(reader, new.url)
    still_cached(reader, unrelated.url)


def test_change_interests(reader, make_story, unrelated):
    pets, money = AudienceInterestFactory(name="Pets"), AudienceInterestFactory(name="Money")
    story = make_story(title="The cat who paid rent", interests=[pets])
    stored(reader, story.url, "/stories/interest/pets/", "/stories/interest/money/", unrelated.url)

    started = time.monotonic()
    story.interests.set([money])
    story.save_revision().publish()

    in_pets = "/stories/interest/pets/"
    changes_in_time(reader, in_pets, lambda r: "The cat who paid rent" not in html(r), started)
    in_money = "/stories/interest/money/"
    changes_in_time(reader, in_money, lambda r: "The cat who paid rent" in html(r), started)
    changes_in_time(
        reader, story.url, lambda r: 'href="/stories/interest/money/"' in html(r), started
    )
    still_cached(reader, unrelated.url)


def test_new_conversation_link(reader, make_story, unrelated, settings):
    settings.SYNDICATION_HTTP_TIMEOUT = 5
    story = make_story(title="A fridge that hums")
    stored(reader, story.url, unrelated.url)
    with MastodonTestServer() as server:
        remote_id, token = server.create_account("brand")
        account = ChannelAccountFactory(
            instance_url=server.url,
            remote_id=remote_id,
            handle="@brand",
            tokens={"access_token": token},
        )
        now = timezone.now()
        post = SyndicationPost.objects.create(
            story=story,
            account=account,
            text="A story worth a read.\n\n{story_url}",
            scheduled_at=now,
            due_at=now,
            state=states.SCHEDULED,
        )
        started = time.monotonic()
        # One beat tick with the worker in-process: the engine's own path to "published".
        claimed = []
        publishing.dispatch_due_posts(lambda post_id, claim: claimed.append((post_id, claim)))
        assert [publishing.publish_post(*job) for job in claimed] == ["published"]

    post.refresh_from_db()
    assert post.state == states.PUBLISHED and post.remote_url
    changes_in_time(reader, story.url, lambda r: post.remote_url in html(r), started)
    assert "Join the conversation" in html(reader.get(story.url))
    still_cached(reader, unrelated.url)
