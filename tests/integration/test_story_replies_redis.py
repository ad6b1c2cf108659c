""" "What people said" on a cached story page, against a real Redis cache and real commits.

A social manager approves a reply, hides it, turns the block off: an anonymous reader
who had the page from the cache (``X-Cache: hit``) gets the change within a second, and
a story the change is not about is still served from the cache. Requests go through
the WSGI layer gunicorn serves (docs/conversation.md, "What people said").
"""

import time

from django.contrib.auth.models import Group

import pytest

from syndication.conversation import publicity
from tests.conversation.test_publicity import people_said, said
from tests.factories import ChannelAccountFactory
from tests.integration import test_page_cache_redis as cached
from tests.integration.test_page_cache_redis import changes_in_time, html, still_cached, stored
from tests.syndication.test_conversation import post_for, publish

pytestmark = [
    pytest.mark.integration,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]


# The Redis cache (autouse), an anonymous reader and an unrelated story, shared with the
# page cache's own Redis tests.
redis_cache, reader, unrelated = cached.redis_cache, cached.reader, cached.unrelated


@pytest.fixture
def manager(django_user_model):
    user = django_user_model.objects.create_user("sam", "sam@example.com", "pw")
    user.groups.add(Group.objects.get(name="Social managers"))
    return user


def test_approve_hide_and_opt_out_reach_the_cached_page(reader, make_story, unrelated, manager):
    story = make_story(title="A fridge that hums")
    post = post_for(story, ChannelAccountFactory(remote_id="1"))
    publish(post, "https://social.example/@brand/113000000000000001")
    reply = said(post, author_name="Hedy Lamarr", html="<p>Mine hums in B flat.</p>")
    publicity.show_on_page(story, True, manager)
    stored(reader, story.url, unrelated.url)
    assert "Hedy Lamarr" not in html(reader.get(story.url))

    started = time.monotonic()
    publicity.approve(reply, manager)
    changes_in_time(
        reader, story.url, lambda r: "Mine hums in B flat." in people_said(html(r)), started
    )
    still_cached(reader, unrelated.url)
    stored(reader, story.url)

    started = time.monotonic()
    publicity.hide(reply, manager)
    changes_in_time(reader, story.url, lambda r: "Hedy Lamarr" not in html(r), started)
    assert "What people said" not in html(reader.get(story.url))
    still_cached(reader, unrelated.url)

    publicity.approve(reply, manager)
    stored(reader, story.url)
    assert "Hedy Lamarr" in html(reader.get(story.url))
    started = time.monotonic()
    publicity.show_on_page(story, False, manager)
    changes_in_time(reader, story.url, lambda r: "What people said" not in html(r), started)
    still_cached(reader, unrelated.url)
