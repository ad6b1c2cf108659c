"""Threads in the real engine: beat and a worker process on Redis, HTTP to the Threads
test server. Every post carries its own ``utm_content=<id>`` marker, so the server can
tell how many times each post was published; the container each post was published
from says whether a retry made a second one."""

import uuid
from collections import Counter

import pytest

from syndication import states
from syndication.models import Network, PostAttempt, SyndicationPost
from syndication.testing.threads import FaultPlan, ThreadsTestServer
from tests.factories import ChannelAccountFactory
from tests.integration.conftest import wait_for
from tests.integration.workloads import (
    assert_exactly_once,
    engine_env,
    kill_workers_holding_creates,
    nothing_left_to_do,
    published,
    schedule_posts,
    settled,
    swept_after_sending,
    worker_and_beat,
)

pytestmark = [
    pytest.mark.integration,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]


def threads_env(redis_url: str, server: ThreadsTestServer, tag: str) -> dict[str, str]:
    return {
        **engine_env(redis_url, tag),
        "THREADS_GRAPH_URL": server.url,
        # Threads honours no idempotency key: a miss allows a resend only once the first
        # request cannot be in flight (2 s timeout + 3 s).
        "SYNDICATION_INFLIGHT_MARGIN_SECONDS": "3",
    }


def threads_posts(server, make_story, *, accounts: int, per_account: int):
    linked = []
    for number in range(accounts):
        user_id, token = server.create_user(f"brand{number}")
        linked.append(
            ChannelAccountFactory(
                network=Network.THREADS,
                instance_url="",
                remote_id=user_id,
                handle=f"@brand{number}",
                max_characters=500,
                tokens={"access_token": token},
            )
        )
    return schedule_posts(linked, [make_story() for _ in range(per_account)])


def one_container_each(server, posts) -> None:
    """Each published post came from one container, and no container went out twice."""
    used = Counter(post["container_id"] for post in server.posts)
    assert all(count == 1 for count in used.values()), used
    for post in SyndicationPost.objects.filter(pk__in=[p.pk for p in posts]):
        if post.state == states.PUBLISHED:
            [seen] = server.posts_with(f"utm_content={post.pk}")
            assert post.remote_id == seen["id"]
            assert post.remote_url == seen["permalink"]


def test_thirty_posts_go_out_to_threads_exactly_once(redis_server, make_story, tmp_path):
    with ThreadsTestServer(usernames=()) as server:
        posts = threads_posts(server, make_story, accounts=3, per_account=10)
        env = threads_env(redis_server, server, f"th-once-{uuid.uuid4().hex[:6]}")
        with worker_and_beat(env, tmp_path) as worker_log:
            wait_for(lambda: published(30), 120, "30 posts published", worker_log)
        assert_exactly_once(server, posts)
        one_container_each(server, posts)
        assert len(server.posts) == 30
        assert server.hits["threads_publish"] == 30
        assert Counter(post["username"] for post in server.posts) == {
            "brand0": 10,
            "brand1": 10,
            "brand2": 10,
        }


def test_a_worker_killed_while_threads_holds_a_publish_answer(redis_server, make_story, tmp_path):
    """SIGKILL the worker twice while the server holds the answer to a post it has just
    published (sent, not heard): each held post is settled onto that post, once."""
    with ThreadsTestServer(usernames=()) as server:
        posts = threads_posts(server, make_story, accounts=2, per_account=15)
        env = threads_env(redis_server, server, f"th-kill-{uuid.uuid4().hex[:6]}")
        kill_workers_holding_creates(
            server,
            env,
            tmp_path,
            kills=2,
            finish=lambda log: wait_for(lambda: published(30), 180, "every post published", log),
            hold_timeout=120,
        )
        assert_exactly_once(server, posts)
        one_container_each(server, posts)
        assert len(server.posts) == 30
        assert SyndicationPost.objects.exclude(state=states.PUBLISHED).count() == 0
        swept = swept_after_sending()
        assert len(swept) == 2, swept
        for post in SyndicationPost.objects.filter(pk__in=swept):
            # Found by reading back (or through its kept container), never sent again.
            assert post.attempts.last().outcome in (
                PostAttempt.Outcome.CONFIRMED,
                PostAttempt.Outcome.PUBLISHED,
            )
        assert server.hits["threads_publish"] == 30


def test_thirty_percent_threads_faults_end_settled_with_no_duplicates(
    redis_server, make_story, tmp_path
):
    with ThreadsTestServer(usernames=(), slow_seconds=3.0) as server:
        server.faults = FaultPlan(rate=0.3, seed=17, routes=("create_container", "threads_publish"))
        posts = threads_posts(server, make_story, accounts=3, per_account=10)
        env = threads_env(redis_server, server, f"th-faults-{uuid.uuid4().hex[:6]}")
        with worker_and_beat(env, tmp_path) as worker_log:
            wait_for(lambda: settled(30), 240, "every post settled", worker_log)
            wait_for(nothing_left_to_do, 180, "no post left to retry or confirm", worker_log)
        assert sum(server.fault_counts.values()) >= 10, server.fault_counts
        assert_exactly_once(server, posts)
        one_container_each(server, posts)
        for post in SyndicationPost.objects.exclude(state=states.PUBLISHED):
            assert post.state in (states.FAILED, states.UNCONFIRMED)
            assert post.last_error, f"post {post.pk} ended {post.state} without a reason"
            # Never lost: a post on Threads is never left marked failed.
            assert not server.posts_with(f"utm_content={post.pk}") or (
                post.state == states.UNCONFIRMED
            )
        assert SyndicationPost.objects.filter(state=states.PUBLISHED).count() >= 27
