"""Loss test: a real Redis stream, a real Celery worker flushing it, killed mid-batch.

3,000 events go in through the collector (the WSGI dispatcher, as under gunicorn).
A worker process runs ``flush_events`` in batches of 100; it is SIGKILLed while a
batch is in flight (read from the stream, not yet acknowledged) at least twice and
started again. The rollups must then hold exactly the 3,000 accepted events.
"""

import os
import random
import signal
import time
import uuid

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


def test_a_flusher_killed_mid_batch_loses_nothing_and_counts_nothing_twice(
    redis_server, settings, make_story, tmp_path
):
    tag = f"engagement-{uuid.uuid4().hex[:8]}"
    stream, queue = f"storyloom:{tag}:events", f"{tag}-default"
    settings.ENGAGEMENT_REDIS_URL = redis_server
    settings.ENGAGEMENT_STREAM = stream
    settings.ALLOWED_HOSTS = ["localhost"]
    buffer.forget_caches()
    redis = buffer.redis_client(redis_server)
    sender = Celery("engagement-test-sender", broker=redis_server)
    story_ids = [make_story().pk for _ in range(4)]

    def django_app(environ, start_response):
        raise AssertionError("the collector handed an event on to Django")

    app = with_collector(django_app)
    statuses = [send_through_collector(app, body) for body in event_bodies(story_ids, EVENTS)]
    accepted = statuses.count("202 Accepted")
    assert accepted == EVENTS, set(statuses)
    assert redis.xlen(stream) == EVENTS

    env = {
        "CELERY_BROKER_URL": redis_server,
        "CELERY_RESULT_BACKEND": redis_server,
        "CELERY_DEFAULT_QUEUE": queue,
        "DATABASE_URL": database_url_for_child(),
        "ENGAGEMENT_REDIS_URL": redis_server,
        "ENGAGEMENT_STREAM": stream,
        "ENGAGEMENT_BATCH_SIZE": str(BATCH),
    }

    def pending() -> int:
        return redis.xpending(stream, flush.GROUP)["pending"]

    def flushing(until) -> bool:
        """Keep asking for a flush, as beat would every second; True once ``until()``."""
        sender.send_task("syndication.engagement.tasks.flush_events", queue=queue)
        ends = time.monotonic() + 1
        while time.monotonic() < ends:
            if until():
                return True
            time.sleep(0.002)
        return False

    rng = random.Random(11)  # noqa: S311 (when to kill, not a secret)
    kills, mid_batch = 0, 0
    try:
        while mid_batch < 2:
            assert kills < 8, f"only {mid_batch} of {kills} kills landed mid-batch"
            log = tmp_path / f"worker-{kills}.log"
            with celery_process(*worker_args(queue), env=env, log=log) as worker:
                left = redis.xlen(stream)
                assert left > 2 * BATCH, "the stream ran dry before two kills landed mid-batch"
                # Wait until this worker has acknowledged a batch and is into the next.
                wait_for(
                    lambda left=left: flushing(lambda: redis.xlen(stream) < left and pending()),
                    90,
                    "the worker to flush a batch",
                    log,
                )
                time.sleep(rng.uniform(0, 0.01))
                os.killpg(worker.pid, signal.SIGKILL)
                worker.wait()
            kills += 1
            if pending():
                mid_batch += 1
            # The dead flusher's lock would expire after flush.LOCK_SECONDS; don't wait.
            redis.delete(f"{stream}:flush-lock")

        log = tmp_path / "worker-last.log"
        with celery_process(*worker_args(queue), env=env, log=log):
            wait_for(
                lambda: flushing(lambda: redis.xlen(stream) == 0 and pending() == 0),
                120,
                "the stream to be flushed",
                log,
            )
    finally:
        redis.delete(stream, f"{stream}:flush-lock", queue)

    assert mid_batch >= 2
    counted = EngagementRollup.objects.aggregate(total=Sum("count"))["total"]
    assert counted == accepted
    assert FlushedBatch.objects.aggregate(total=Sum("events"))["total"] == accepted
    per_story = dict(
        EngagementRollup.objects.values_list("story_id").annotate(n=Sum("count")).order_by()
    )
    assert per_story == dict.fromkeys(story_ids, EVENTS // len(story_ids))
