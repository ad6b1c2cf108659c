"""Exactly once to Facebook Pages, for real: beat and a worker process on Redis, HTTP to
the Graph test server.

Graph has no idempotency key, so every lost answer is settled by reading the Page's
posts back and finding the post's ``utm_content=<id>`` marker in its message; a resend
happens only after a read-back that began once the first request could no longer be in
flight. The server counts how many times each marker was published.
"""

import uuid

import pytest

from syndication import states
from syndication.models import PostAttempt, SyndicationPost
from syndication.testing.facebook import FacebookTestServer, FaultPlan
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


def facebook_env(server, redis_url: str, tag: str) -> dict[str, str]:
    return {
        **engine_env(redis_url, tag),
        "FACEBOOK_GRAPH_URL": server.url,
        "FACEBOOK_DIALOG_URL": server.url,
        "FACEBOOK_APP_ID": server.app_id,
        "FACEBOOK_APP_SECRET": server.app_secret,
        "FACEBOOK_API_VERSION": "v25.0",
        # A create that timed out (2 s) cannot still be on its way 3 s later: this
        # server makes nothing after answering, so a read-back that misses after that
        # allows a resend.
        "SYNDICATION_INFLIGHT_MARGIN_SECONDS": "3",
    }


def page_accounts(server, pages: int) -> list:
    while len(server.page_ids) < pages:
        server.add_page(f"Brand page {len(server.page_ids)}")
    return [
        ChannelAccountFactory(
            network="facebook",
            instance_url="",
            remote_id=page_id,
            handle=f"Page {page_id}",
            max_characters=None,
            tokens={"access_token": server.page_token(page_id)},
        )
        for page_id in server.page_ids[:pages]
    ]


def make_posts(server, make_story, *, pages: int, per_page: int) -> list[SyndicationPost]:
    return schedule_posts(page_accounts(server, pages), [make_story() for _ in range(per_page)])


def test_thirty_posts_go_to_their_pages_exactly_once(redis_server, make_story, tmp_path):
    with FacebookTestServer() as server:
        posts = make_posts(server, make_story, pages=2, per_page=15)
        env = facebook_env(server, redis_server, f"fb-once-{uuid.uuid4().hex[:6]}")
        with worker_and_beat(env, tmp_path) as worker_log:
            wait_for(lambda: published(30), 120, "30 posts published", worker_log)
        assert_exactly_once(server, posts)
        assert len(server.posts) == 30
        for post in SyndicationPost.objects.select_related("account"):
            [on_page] = server.posts_with(f"utm_content={post.pk}")
            assert on_page["page_id"] == post.account.remote_id
            assert post.remote_id == on_page["id"]
            assert post.remote_url.startswith("https://www.facebook.com/")
            assert "utm_source=facebook" in on_page["link"]
        assert set(server.versions_seen) == {"v25.0"}


def test_a_worker_killed_while_facebook_holds_the_answer_publishes_once(
    redis_server, make_story, tmp_path
):
    """SIGKILL the worker twice while the server holds the answer to a post it has just
    made (sent, not heard): each is found again by reading the Page back, never sent twice."""
    with FacebookTestServer() as server:
        posts = make_posts(server, make_story, pages=2, per_page=10)
        env = facebook_env(server, redis_server, f"fb-kill-{uuid.uuid4().hex[:6]}")
        kill_workers_holding_creates(
            server,
            env,
            tmp_path,
            kills=2,
            finish=lambda log: wait_for(lambda: published(20), 120, "every post published", log),
        )
        assert_exactly_once(server, posts)
        assert len(server.posts) == 20
        swept = swept_after_sending()
        assert len(swept) == 2
        for post in SyndicationPost.objects.filter(pk__in=swept):
            # Settled by finding it on the Page, not by sending it again.
            assert post.attempts.last().outcome == PostAttempt.Outcome.CONFIRMED
            [on_page] = server.posts_with(f"utm_content={post.pk}")
            assert post.remote_id == on_page["id"]


def test_thirty_percent_graph_faults_end_settled_with_reasons_and_no_duplicates(
    redis_server, make_story, tmp_path
):
    with FacebookTestServer(slow_seconds=3.0) as server:
        server.faults = FaultPlan(
            rate=0.3,
            kinds=(
                "throttle_4",
                "throttle_17",
                "throttle_32",
                "throttle_613",
                "500",
                "503",
                "timeout_before_create",
                "drop_before_create",
                "500_after_create",
                "timeout_after_create",
                "drop_after_create",
            ),
            seed=17,
        )
        posts = make_posts(server, make_story, pages=3, per_page=10)
        env = facebook_env(server, redis_server, f"fb-faults-{uuid.uuid4().hex[:6]}")
        with worker_and_beat(env, tmp_path) as worker_log:
            wait_for(
                lambda: settled(30) and nothing_left_to_do(),
                240,
                "every post settled, none left to retry or confirm",
                worker_log,
            )
        assert sum(server.fault_counts.values()) >= 8, server.fault_counts
        after = sum(server.fault_counts[kind] for kind in ("500_after_create", "drop_after_create"))
        assert after + server.fault_counts["timeout_after_create"] >= 1, server.fault_counts
        assert_exactly_once(server, posts)
        for post in SyndicationPost.objects.exclude(state=states.PUBLISHED):
            assert post.state in (states.FAILED, states.UNCONFIRMED), post.state
            assert post.last_error, f"post {post.pk} ended {post.state} without a reason"
            assert not server.posts_with(f"utm_content={post.pk}") or (
                post.state == states.UNCONFIRMED
            )
        # Lost answers were settled by reading the Page back.
        assert PostAttempt.objects.filter(outcome=PostAttempt.Outcome.CONFIRMED).exists()
        assert SyndicationPost.objects.filter(state=states.PUBLISHED).count() >= 27
