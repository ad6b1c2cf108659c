"""The work the worker tests hand to real Celery processes, and how they check it was
done once: posts scheduled to Mastodon accounts on the test server, a newsletter
audience, engagement events sent through the collector."""

import datetime
import io
import json
import os
import random
import signal
from contextlib import contextmanager

from django.utils import timezone

from stories.models import AudienceInterest
from syndication import states
from syndication.models import PostAttempt, SyndicationPost
from syndication.newsletter.models import Delivery, Subscriber
from tests.factories import AudienceInterestFactory, ChannelAccountFactory
from tests.integration.conftest import celery_process, database_url_for_child, wait_for

# --- The engine in child processes ----------------------------------------------------------

SETTLED = (states.PUBLISHED, states.FAILED, states.UNCONFIRMED, states.MISSED)
#: States a due post is still worked on in: to send, to retry or to confirm.
UNSETTLED = (states.UNCONFIRMED, states.SCHEDULED, states.PUBLISHING)


def engine_env(redis_url: str, tag: str) -> dict[str, str]:
    """Child-process settings: a fast engine clock and queues of this test's own."""
    return {
        "CELERY_BROKER_URL": redis_url,
        "CELERY_RESULT_BACKEND": redis_url,
        "DATABASE_URL": database_url_for_child(),
        "CELERY_DEFAULT_QUEUE": f"{tag}-default",
        "SYNDICATION_QUEUE": f"{tag}-publishing",
        # Beat's engagement tasks go to the worker's default queue, not a shared "ingestion".
        "ENGAGEMENT_QUEUE": f"{tag}-default",
        "SYNDICATION_DISPATCH_EVERY_SECONDS": "1",
        "SYNDICATION_SWEEP_EVERY_SECONDS": "1",
        "SYNDICATION_TASK_TIME_LIMIT_SECONDS": "8",
        "SYNDICATION_STUCK_AFTER_SECONDS": "10",
        # A message a killed worker had prefetched comes back this soon, not in 10 min.
        "SYNDICATION_UNSTARTED_AFTER_SECONDS": "20",
        "SYNDICATION_HTTP_TIMEOUT_SECONDS": "2",
        "SYNDICATION_RETRY_BASE_SECONDS": "1",
        "SYNDICATION_RETRY_CAP_SECONDS": "3",
        "SYNDICATION_RECONCILE_AFTER_SECONDS": "1",
        "SYNDICATION_MAX_FAILURES": "12",
        "PUBLISH_SCHEDULED_EVERY_SECONDS": "3600",
    }


def worker_args(env):
    queues = f"{env['CELERY_DEFAULT_QUEUE']},{env['SYNDICATION_QUEUE']}"
    return [
        "worker",
        "-P",
        "solo",
        "-Q",
        queues,
        "--without-gossip",
        "--without-mingle",
        "-l",
        "INFO",
    ]


@contextmanager
def worker_and_beat(env, tmp_path):
    """A worker and beat running for the block; yields the worker's log."""
    worker_log, beat_log = tmp_path / "worker.log", tmp_path / "beat.log"
    with (
        celery_process(*worker_args(env), env=env, log=worker_log),
        celery_process("beat", "-s", str(tmp_path / "beat"), env=env, log=beat_log),
    ):
        yield worker_log


def kill_workers_holding_creates(server, env, tmp_path, *, kills: int, finish, hold_timeout=60):
    """Beat, and a worker SIGKILLed ``kills`` times while the server holds the answer to a
    post it has just made (sent, not heard); then a last worker runs while
    ``finish(worker_log)`` waits for the work to end."""
    beat_log = tmp_path / "beat.log"
    with celery_process("beat", "-s", str(tmp_path / "beat"), env=env, log=beat_log):
        for round_number in range(kills + 1):
            worker_log = tmp_path / f"worker-{round_number}.log"
            with celery_process(*worker_args(env), env=env, log=worker_log) as worker:
                if round_number == kills:
                    finish(worker_log)
                    return
                held = server.hold_next_create()
                wait_for(held.is_set, hold_timeout, "a post to reach the server", worker_log)
                os.killpg(worker.pid, signal.SIGKILL)
                worker.wait()
                server.release_holds()


def settled(count: int) -> bool:
    return SyndicationPost.objects.filter(state__in=SETTLED).count() >= count


def nothing_left_to_do() -> bool:
    """No due post is left to send, retry or confirm."""
    return not SyndicationPost.objects.filter(state__in=UNSETTLED, due_at__isnull=False).exists()


def swept_after_sending() -> set[int]:
    """Posts the sweeper took back from a worker that died after sending them."""
    return set(
        PostAttempt.objects.filter(
            message__startswith="The worker stopped after sending"
        ).values_list("post_id", flat=True)
    )


# --- Scheduled posts ----------------------------------------------------------------------


def mastodon_accounts(server, count: int) -> list:
    """``count`` accounts on the Mastodon test server, each connected as a ChannelAccount."""
    linked = []
    for number in range(count):
        remote_id, token = server.create_account(f"brand{number}")
        account = ChannelAccountFactory(
            instance_url=server.url,
            remote_id=remote_id,
            handle=f"@brand{number}",
            tokens={"access_token": token},
        )
        linked.append(account)
    return linked


def schedule_posts(accounts, stories) -> list[SyndicationPost]:
    """One post per story per account, all due now."""
    now = timezone.now()
    posts = [
        SyndicationPost(
            story=story,
            account=account,
            text=f"{story.title}\n\n{{story_url}}",
            scheduled_at=now,
            due_at=now,
            state=states.SCHEDULED,
        )
        for account in accounts
        for story in stories
    ]
    return SyndicationPost.objects.bulk_create(posts)


def make_posts(server, make_story, *, accounts: int, per_account: int) -> list[SyndicationPost]:
    linked = mastodon_accounts(server, accounts)
    return schedule_posts(linked, [make_story() for _ in range(per_account)])


def published(count: int) -> bool:
    return SyndicationPost.objects.filter(state=states.PUBLISHED).count() >= count


def engine_state(redis_url: str | None = None, queue: str | None = None) -> str:
    """What the posts and the queue look like now: said when a wait times out, so a
    failure in CI tells whether posts wait in the queue, hold a claim with no message,
    or were taken by a worker that died."""
    from collections import Counter

    now = timezone.now()
    lines = []
    by_state = Counter(SyndicationPost.objects.values_list("state", flat=True))
    lines.append(f"posts by state: {dict(by_state)}")
    for post in SyndicationPost.objects.exclude(state=states.PUBLISHED).order_by("pk")[:12]:
        due = f"{(post.due_at - now).total_seconds():+.1f}s" if post.due_at else "-"
        started = f"{(post.started_at - now).total_seconds():+.1f}s" if post.started_at else "-"
        claimed = f"{(post.claimed_at - now).total_seconds():+.1f}s" if post.claimed_at else "-"
        lines.append(
            f"  post {post.pk} {post.state} claimed {claimed} started {started} due {due} "
            f"sent {post.request_sent_at is not None}"
        )
    if redis_url and queue:
        import redis

        client = redis.Redis.from_url(redis_url)
        waiting = client.llen(queue)
        unacked = sum(1 for body in client.hvals("unacked") if queue.encode() in body)
        bindings = client.smembers(f"_kombu.binding.{queue}")
        lines.append(f"queue {queue}: {waiting} waiting, {unacked} unacked, bindings {bindings}")
    return "\n".join(lines)


def assert_exactly_once(server, posts):
    for post in SyndicationPost.objects.filter(pk__in=[p.pk for p in posts]):
        seen = server.count_with(f"utm_content={post.pk}")
        assert seen <= 1, f"post {post.pk} appears {seen} times on the server"
        if post.state == states.PUBLISHED:
            assert seen == 1, f"post {post.pk} is marked published but is not on the server"
            assert post.remote_id and post.remote_url
    assert server.duplicates() == {}


# --- A newsletter audience ------------------------------------------------------------------


def build_audience(make_story, subscribers: int):
    """40 stories over four interests, ``subscribers`` active subscribers (one interest
    each) and one who left. Returns the stories and the active subscribers."""
    interests = [AudienceInterestFactory(name=n) for n in ("Home", "Garden", "Money", "Health")]
    now = timezone.now()
    stories = [
        make_story(
            title=f"Story number {n}",
            interests=[interests[n % 4], interests[(n + 1) % 4]]
            if n % 3 == 0
            else [interests[n % 4]],
            first_published_at=now - datetime.timedelta(hours=n * 7),
        )
        for n in range(40)
    ]
    Subscriber.objects.bulk_create(
        Subscriber(email=f"reader{n:04d}@example.com", status=Subscriber.Status.ACTIVE)
        for n in range(subscribers)
    )
    active = list(Subscriber.objects.order_by("pk"))
    Through = Subscriber.interests.through
    Through.objects.bulk_create(
        Through(subscriber_id=s.pk, audienceinterest_id=interests[n % 4].pk)
        for n, s in enumerate(active)
    )
    Subscriber.objects.create(email="left@example.com", status=Subscriber.Status.UNSUBSCRIBED)
    assert AudienceInterest.objects.count() == 4
    return stories, active


def sent_count() -> int:
    return Delivery.objects.filter(state=Delivery.State.SENT).count()


@contextmanager
def leftover_queues_removed(redis_url: str, tag: str):
    """Beat keeps sending after the last worker stops: drop this test's queues after."""
    import redis

    try:
        yield
    finally:
        client = redis.Redis.from_url(redis_url)
        for key in client.scan_iter(f"{tag}*"):
            client.delete(key)


# --- Engagement events --------------------------------------------------------------------

READER = "Mozilla/5.0 (X11; Linux x86_64; rv:127.0) Gecko/20100101 Firefox/127.0"
LANDINGS = [
    {},
    {"r": "https://www.google.com/"},
    {"r": "https://news.example.org/today"},
    {"u": {"source": "mastodon", "medium": "social", "content": "12"}},
    {"u": {"medium": "newsletter"}},
]


def event_bodies(story_ids: list[int], count: int):
    """``count`` beacon bodies, a fixed mix of kinds and landings, round-robin over stories."""
    rng = random.Random(5)  # noqa: S311 (a mix of events, not a secret)
    for number in range(count):
        story = story_ids[number % len(story_ids)]
        landing = rng.choice(LANDINGS)
        kind = rng.choice(["view", "view", "engaged_read", "read_through", "feeling"])
        extra = {"engaged_read": {"ms": 40_000}, "feeling": {"f": "smiled"}}.get(kind, {})
        yield json.dumps({"t": kind, "s": story, **landing, **extra}).encode()


def send_through_collector(app, body: bytes) -> str:
    """POST one beacon body to ``app`` (``with_collector``) as a WSGI server would."""
    answer = {}
    environ = {
        "REQUEST_METHOD": "POST",
        "PATH_INFO": "/e/",
        "HTTP_HOST": "localhost",
        "CONTENT_TYPE": "text/plain;charset=UTF-8",
        "CONTENT_LENGTH": str(len(body)),
        "HTTP_USER_AGENT": READER,
        "REMOTE_ADDR": "192.0.2.10",
        "wsgi.input": io.BytesIO(body),
    }
    b"".join(app(environ, lambda status, headers: answer.update(status=status)))
    return answer["status"]
