"""Liveness (issue 18): a post waiting in a long queue is not taken for one whose worker
died, so it is published once however long the queue is; a post held by a dead worker,
and the messages that worker had prefetched, are still recovered.

The engine runs in-process on a controllable clock (``timezone.now`` and the Mastodon
test server's clock are the same ``Clock``); the queue is a FIFO list with one worker
taking messages from it, and beat's dispatcher and sweeper run between messages on the
same clock. tests/integration/test_syndication_worker.py runs the same rules in real
Celery processes on Redis.
"""

import datetime
from collections import deque

from django.utils import timezone

import pytest

from syndication import publishing, states, uploads
from syndication.channels.mastodon import MastodonAdapter
from syndication.models import PostAttempt, SyndicationPost
from tests.integration.workloads import assert_exactly_once, mastodon_accounts, schedule_posts

pytestmark = pytest.mark.django_db


class Clock:
    """The engine's and the test server's wall clock; moves only when told to."""

    def __init__(self):
        self.at = timezone.now()

    def now(self):
        return self.at

    def timestamp(self) -> float:
        return self.at.timestamp()

    def advance(self, seconds: float) -> None:
        self.at += datetime.timedelta(seconds=seconds)


@pytest.fixture
def clock(monkeypatch, mastodon_server):
    clock = Clock()
    monkeypatch.setattr(timezone, "now", clock.now)
    mastodon_server.clock = clock.timestamp
    return clock


@pytest.fixture(autouse=True)
def engine(settings):
    # The default windows divided by 30: a 10 s stuck window, 60 s before a task that
    # has not started is sent again.
    settings.SYNDICATION_TASK_TIME_LIMIT = 8
    settings.SYNDICATION_STUCK_AFTER = 10
    settings.SYNDICATION_UNSTARTED_AFTER = 60
    settings.SYNDICATION_HTTP_TIMEOUT = 2
    settings.SYNDICATION_RECONCILE_AFTER = 1
    settings.SYNDICATION_RETRY_BASE = 1
    settings.SYNDICATION_RETRY_CAP = 2
    settings.SYNDICATION_MAX_FAILURES = 8


@pytest.fixture
def posts(mastodon_server, make_story):
    def make(count: int, *, accounts: int = 1, stories: int = 1):
        linked = mastodon_accounts(mastodon_server, accounts)
        made = [make_story() for _ in range(stories)]
        per = schedule_posts(linked, made)
        # schedule_posts makes one post per story per account; repeat to reach count.
        while len(per) < count:
            per += schedule_posts(linked, made)
        extra = per[count:]
        SyndicationPost.objects.filter(pk__in=[p.pk for p in extra]).delete()
        return per[:count]

    return make


def claim_all(now=None) -> deque:
    queue = deque()
    publishing.dispatch_due_posts(lambda post_id, claim: queue.append((post_id, claim)), now)
    return queue


def reload(post) -> SyndicationPost:
    return SyndicationPost.objects.get(pk=post.pk)


def test_a_post_waiting_in_the_queue_past_the_stuck_window_keeps_its_claim(
    clock, posts, mastodon_server
):
    [post] = posts(1)
    [(post_id, claim)] = claim_all()
    clock.advance(45)  # four stuck windows behind a queue, not started
    assert publishing.sweep_stuck_posts(enqueue=lambda *message: None) == 0
    assert reload(post).state == states.PUBLISHING
    assert reload(post).started_at is None
    # Its message, when the worker reaches it, still holds the post.
    assert publishing.publish_post(post_id, claim) == "published"
    assert len(mastodon_server.statuses) == 1


def test_a_post_started_by_a_worker_that_died_is_swept_once_the_window_passes(clock, posts):
    unsent, sent = posts(2, stories=2)
    queue = claim_all()
    for post_id, claim in queue:
        assert publishing.start(post_id, claim)
    SyndicationPost.objects.filter(pk=sent.pk).update(request_sent_at=clock.now(), send_count=1)
    clock.advance(9)  # within the window a task may still be running
    assert publishing.sweep_stuck_posts() == 0
    clock.advance(2)
    assert publishing.sweep_stuck_posts() == 2
    assert reload(unsent).state == states.SCHEDULED
    assert reload(sent).state == states.UNCONFIRMED
    # The dead worker's messages, redelivered, cannot touch them any more.
    assert [publishing.publish_post(*message) for message in queue] == ["stale", "stale"]


def test_a_redelivered_copy_of_a_started_task_does_nothing(clock, posts, mastodon_server):
    posts(1)
    [(post_id, claim)] = claim_all()
    assert publishing.start(post_id, claim)
    assert publishing.publish_post(post_id, claim) == "stale"
    assert mastodon_server.create_calls == 0


def test_a_task_never_started_is_sent_again_under_its_claim_and_runs_once(
    clock, posts, mastodon_server
):
    [post] = posts(1)
    [first] = claim_all()
    sent_again = []
    clock.advance(59)
    publishing.sweep_stuck_posts(enqueue=lambda *message: sent_again.append(message))
    assert sent_again == []
    clock.advance(2)
    publishing.sweep_stuck_posts(enqueue=lambda *message: sent_again.append(message))
    assert sent_again == [first]  # the same claim: the first message stays good
    # Not once per sweep: next when it has waited as long again.
    assert reload(post).due_at == clock.now() + datetime.timedelta(seconds=61)
    publishing.sweep_stuck_posts(enqueue=lambda *message: sent_again.append(message))
    assert len(sent_again) == 1
    assert publishing.publish_post(*sent_again[0]) == "published"
    assert publishing.publish_post(*first) == "stale"
    assert mastodon_server.create_calls == 1
    assert reload(post).state == states.PUBLISHED


class Killed(BaseException):
    """The worker process died here: nothing after this point runs, nothing is recorded."""


POSTS = int(__import__("os").environ.get("LIVENESS_POSTS", 2000))
PUBLISH_TAKES = 1.5  # seconds on the clock per create: more than the stuck window ÷ 10
BEAT_EVERY = 5  # dispatch and sweep, on the clock
PREFETCHED = 4  # messages a killed worker takes with it, never given back


def test_a_backlog_of_two_thousand_slow_posts_on_one_worker_each_published_once(
    clock, posts, mastodon_server, settings, monkeypatch
):
    """2,000 posts due at once, each create taking 1.5 s on the clock against a 10 s stuck
    window, one worker: the last post waits ~3,000 s, 300 windows. Twice the worker is
    killed — once right after a create left (the status exists, the answer is lost),
    once after starting and before sending — and the four messages it had prefetched
    are lost with it for good (worse than Redis, which gives them back after its
    visibility timeout). Every post must be published, once, and no create may be sent
    twice."""
    assert PUBLISH_TAKES > settings.SYNDICATION_STUCK_AFTER / 10
    made = posts(POSTS, accounts=4, stories=10)
    mastodon_server.latency = {"create_status": 0.001}  # slow for real too, a little
    create = mastodon_server._create_status

    def slow_create(request, **arguments):
        clock.advance(PUBLISH_TAKES)
        return create(request, **arguments)

    mastodon_server._create_status = slow_create

    armed = set()
    adapter_publish, prepare = MastodonAdapter.publish, uploads.prepare

    def publish_then_die(self, request):
        remote = adapter_publish(self, request)
        if "after sending" in armed:
            armed.discard("after sending")
            raise Killed
        return remote

    def die_before_sending(*args, **kwargs):
        if "before sending" in armed:
            armed.discard("before sending")
            raise Killed
        return prepare(*args, **kwargs)

    monkeypatch.setattr(MastodonAdapter, "publish", publish_then_die)
    monkeypatch.setattr(uploads, "prepare", die_before_sending)

    queue: deque = deque()

    def enqueue(post_id, claim):
        queue.append((post_id, claim))

    kills = {POSTS * 3 // 20: "after sending", POSTS * 11 // 20: "before sending"}
    delivered = outcomes_stale = 0
    lost: list = []
    started = clock.now()
    next_beat = clock.now()
    while True:
        if clock.now() >= next_beat:
            publishing.dispatch_due_posts(enqueue)
            publishing.sweep_stuck_posts(enqueue=enqueue)
            next_beat = clock.now() + datetime.timedelta(seconds=BEAT_EVERY)
        if not queue:
            if SyndicationPost.objects.filter(state=states.PUBLISHED).count() == POSTS:
                break
            clock.advance(1)
            continue
        assert delivered < POSTS * 8, (
            f"starving: {delivered} messages delivered, "
            f"{SyndicationPost.objects.exclude(state=states.PUBLISHED).count()} posts unpublished"
        )
        message = queue.popleft()
        delivered += 1
        if delivered in kills:
            armed.add(kills[delivered])
        try:
            outcomes_stale += publishing.publish_post(*message) == "stale"
        except Killed:
            lost += [queue.popleft() for _ in range(min(PREFETCHED, len(queue)))]
    elapsed = (clock.now() - started).total_seconds()

    assert not armed, "both kills happened"
    assert len(lost) == 2 * PREFETCHED
    assert_exactly_once(mastodon_server, made)
    assert SyndicationPost.objects.filter(state=states.PUBLISHED).count() == POSTS
    assert len(mastodon_server.statuses) == POSTS
    # Sent once each: the post whose answer was lost was found by reading back.
    assert mastodon_server.create_calls == POSTS
    assert PostAttempt.objects.filter(message__startswith="The worker stopped after").count() == 1
    assert PostAttempt.objects.filter(message__startswith="The worker stopped before").count() == 1
    confirmed = PostAttempt.objects.filter(outcome=PostAttempt.Outcome.CONFIRMED)
    assert confirmed.count() == 1
    # The backlog was real: posts waited hundreds of stuck windows before starting...
    longest = max(
        (post.started_at - post.claimed_at).total_seconds()
        for post in SyndicationPost.objects.all()
    )
    assert longest > 200 * settings.SYNDICATION_STUCK_AFTER, longest
    # ...and the worker never idled long: little more than the creates themselves.
    assert elapsed < POSTS * PUBLISH_TAKES + 4 * settings.SYNDICATION_UNSTARTED_AFTER, elapsed
    # Messages sent again for posts not yet started are a few per post, each a no-op.
    assert delivered - outcomes_stale <= POSTS + 4
