"""Loss test: a real Redis stream, a real Celery worker flushing it, killed mid-batch.

3,000 events go in through the collector (the WSGI dispatcher, as under gunicorn).
A worker process runs ``flush_events`` in batches of 100; it is SIGKILLed inside a
batch's transaction, and again between a batch's commit and its acknowledgement, and
started again. The rollups must then hold exactly the 3,000 accepted events. Where
each kill lands is chosen by the test (``flush_hooks``), not raced for.
"""

import os
import signal
import uuid
from typing import NamedTuple

from django.db.models import Sum

import pytest
from celery import Celery

from syndication.engagement import buffer, flush
from syndication.engagement.models import EngagementRollup, FlushedBatch
from syndication.engagement.wsgi import with_collector
from tests.integration.conftest import celery_process, database_url_for_child, wait_for
from tests.integration.workloads import event_bodies, send_through_collector

pytestmark = [
    pytest.mark.integration,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]

EVENTS = 3_000
BATCH = 100


def worker_args(queue: str) -> list[str]:
    return [
        "worker",
        "-P",
        "solo",
        "-Q",
        queue,
        # The engagement tasks, whether or not settings already import them.
        "-I",
        "syndication.engagement.tasks",
        "--without-gossip",
        "--without-mingle",
        "--without-heartbeat",
        "-l",
        "INFO",
    ]


class Flushing(NamedTuple):
    """A stream and queue of the test's own, the collector before it, a worker's environment."""

    stream: str
    queue: str
    redis: object
    collector: object
    env: dict


def flushing_setup(prefix: str, redis_server: str, settings, batch: int) -> Flushing:
    tag = f"{prefix}-{uuid.uuid4().hex[:8]}"
    stream, queue = f"storyloom:{tag}:events", f"{tag}-default"
    settings.ENGAGEMENT_REDIS_URL = redis_server
    settings.ENGAGEMENT_STREAM = stream
    settings.ALLOWED_HOSTS = ["localhost"]
    buffer.forget_caches()

    def django_app(environ, start_response):
        raise AssertionError("the collector handed an event on to Django")

    env = {
        "CELERY_BROKER_URL": redis_server,
        "CELERY_RESULT_BACKEND": redis_server,
        "CELERY_DEFAULT_QUEUE": queue,
        "DATABASE_URL": database_url_for_child(),
        "ENGAGEMENT_REDIS_URL": redis_server,
        "ENGAGEMENT_STREAM": stream,
        "ENGAGEMENT_BATCH_SIZE": str(batch),
    }
    return Flushing(
        stream, queue, buffer.redis_client(redis_server), with_collector(django_app), env
    )


def test_a_flusher_killed_mid_batch_loses_nothing_and_counts_nothing_twice(
    redis_server, settings, make_story, tmp_path
):
    stream, queue, redis, app, env = flushing_setup("engagement", redis_server, settings, BATCH)
    sender = Celery("engagement-test-sender", broker=redis_server)
    story_ids = [make_story().pk for _ in range(4)]
    statuses = [send_through_collector(app, body) for body in event_bodies(story_ids, EVENTS)]
    accepted = statuses.count("202 Accepted")
    assert accepted == EVENTS, set(statuses)
    assert redis.xlen(stream) == EVENTS

    def pending() -> int:
        return redis.xpending(stream, flush.GROUP)["pending"]

    def counted() -> int:
        return EngagementRollup.objects.aggregate(total=Sum("count"))["total"] or 0

    def killed_at(hold: str, name: str) -> None:
        """Run a flushing worker until it holds at ``hold``, then SIGKILL it there."""
        hooks = tmp_path / name
        hooks.mkdir()
        log = tmp_path / f"{name}.log"
        hooked = {**env, "FLUSH_HOOK_DIR": str(hooks), "FLUSH_HOOK_HOLD": hold}
        args = [*worker_args(queue), "-I", "tests.integration.flush_hooks"]
        with celery_process(*args, env=hooked, log=log) as worker:
            sender.send_task("syndication.engagement.tasks.flush_events", queue=queue)
            wait_for(lambda: (hooks / "held").exists(), 90, f"the flusher to hold at {hold}", log)
            os.killpg(worker.pid, signal.SIGKILL)
            worker.wait()
        # The dead flusher's lock would expire after flush.LOCK_SECONDS; don't wait.
        redis.delete(f"{stream}:flush-lock")

    try:
        # 1. Killed inside the third batch's transaction: two batches counted, the third
        #    read and written but never committed, so it is still pending and not counted.
        killed_at("write:3", "killed-writing")
        assert pending() == BATCH
        assert counted() == 2 * BATCH
        assert FlushedBatch.objects.count() == 2

        # 2. The next worker counts that pending batch first, then commits one more and is
        #    killed before acknowledging it: pending again, and recorded as counted.
        killed_at("ack:2", "killed-acknowledging")
        assert pending() == BATCH
        assert counted() == 4 * BATCH
        assert FlushedBatch.objects.count() == 4

        # 3. A worker left alone finds the committed batch, only acknowledges it, and counts
        #    the rest.
        log = tmp_path / "worker-last.log"
        with celery_process(*worker_args(queue), env=env, log=log):
            sender.send_task("syndication.engagement.tasks.flush_events", queue=queue)
            wait_for(
                lambda: redis.xlen(stream) == 0 and pending() == 0,
                120,
                "the stream to be flushed",
                log,
            )
    finally:
        redis.delete(stream, queue, *redis.keys(f"{stream}:*"))

    assert counted() == accepted
    assert FlushedBatch.objects.aggregate(total=Sum("events"))["total"] == accepted
    per_story = dict(
        EngagementRollup.objects.values_list("story_id").annotate(n=Sum("count")).order_by()
    )
    assert per_story == dict.fromkeys(story_ids, EVENTS // len(story_ids))


POISONED_EVENTS = 10_000
POISON = 10


def test_ten_poison_entries_among_ten_thousand_events_stop_nothing(
    redis_server, settings, make_story, tmp_path
):
    """10,000 events through the collector and 10 entries no collector would write, mixed
    in; a real worker flushes: every good event is counted once, the 10 are quarantined
    (with their errors, in the admin's report) and the stream is left empty."""
    from cms.models import QuarantinedMessage

    stream, queue, redis, app, env = flushing_setup("poison", redis_server, settings, 500)
    story_ids = [make_story().pk for _ in range(5)]
    day = buffer.privacy.today().isoformat()
    good = {"day": day, "t": "view", "s": story_ids[0], "src": "direct", "d": "", "p": 0}
    poison = [
        {**good, "src": "a\x00b.example"},
        {**good, "src": b"caf\xe9"},
        {**good, "src": b"\xed\xa0\x80"},
        {**good, "src": "x" * 65},
        {**good, "s": "99999999999999999999"},
        {**good, "t": "purchase"},
        {**good, "day": "someday"},
        {**good, "sh": "-1"},
        {**good, "d": "y" * 65},
        {"t": "view"},
    ]
    assert len(poison) == POISON

    every = POISONED_EVENTS // POISON
    accepted = 0
    for number, body in enumerate(event_bodies(story_ids, POISONED_EVENTS)):
        if number % every == every // 2:
            redis.xadd(stream, poison[number // every])
        accepted += send_through_collector(app, body) == "202 Accepted"
    assert accepted == POISONED_EVENTS
    assert redis.xlen(stream) == POISONED_EVENTS + POISON
    sender = Celery("poison-test-sender", broker=redis_server)
    log = tmp_path / "worker.log"
    try:
        with celery_process(*worker_args(queue), env=env, log=log):
            sender.send_task("syndication.engagement.tasks.flush_events", queue=queue)
            wait_for(
                lambda: (
                    redis.xlen(stream) == 0 and redis.xpending(stream, flush.GROUP)["pending"] == 0
                ),
                120,
                "the flusher to empty the stream past the poison",
                log,
            )
    finally:
        redis.delete(stream, queue, *redis.keys(f"{stream}:*"))

    assert EngagementRollup.objects.aggregate(total=Sum("count"))["total"] == POISONED_EVENTS
    kept = QuarantinedMessage.objects.filter(consumer=flush.QUARANTINE)
    assert kept.count() == POISON
    assert all(row.error for row in kept)
