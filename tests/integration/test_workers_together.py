"""Two workers and one beat, all the product's work at once, nothing done twice.

Two Celery worker processes consume every queue the product routes to (default,
publishing, ingestion, newsletters), so they compete for the same messages; one beat
process drives them, on Redis and PostgreSQL. At the same time:

* 120 posts due now go to three accounts on the Mastodon test server (real HTTP);
* engagement events arrive through the collector, in waves, into the Redis stream
  that beat's ``flush_events`` drains through its consumer group: at least 3,000, and
  more (up to 9,000) until each worker has flushed some;
* an edition goes to 800 subscribers through a real SMTP server (aiosmtpd).

Then every post is on the server exactly once and ``published``, the rollups hold
exactly the accepted events, every subscriber holds exactly one email, and the
workers' own logs show each task ran on one worker only, both workers did real work,
and the three kinds of work were under way at the same moment.

Beat's clock is fast (every second) but the windows after which work counts as
abandoned (a post's or a chunk's "stuck" time) are production's: nothing here dies,
so any second run of a piece of work would be duplicate work, and is counted as such.
"""

import ast
import datetime
import itertools
import json
import math
import re
import uuid
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from django.db import connection
from django.db.models import Sum
from django.utils import timezone

import pytest

from syndication import states
from syndication.engagement import buffer, flush
from syndication.engagement.models import EngagementRollup, FlushedBatch
from syndication.engagement.wsgi import with_collector
from syndication.models import SyndicationPost
from syndication.newsletter.models import Delivery, Edition
from syndication.testing.mastodon_server import MastodonTestServer
from tests.conftest import require_service
from tests.integration.conftest import celery_process, database_url_for_child, wait_for
from tests.integration.workloads import (
    assert_exactly_once,
    build_audience,
    event_bodies,
    leftover_queues_removed,
    mastodon_accounts,
    schedule_posts,
    send_through_collector,
    sent_count,
)
from tests.newsletter.smtp_recorder import SMTPRecorder

pytestmark = [
    pytest.mark.integration,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]

ACCOUNTS = 3  # x 40 stories (build_audience): 120 posts
SUBSCRIBERS = 800
CHUNK = 100
EVENTS = 3_000  # at least; more if one worker has not flushed any yet
MAX_EVENTS = 3 * EVENTS
WAVE = 100  # events sent per poll while the workers are busy
FLUSH_BATCH = 250
WORKERS = ("alpha", "beta")
PUBLISH = "syndication.tasks.publish_post"
SEND_CHUNK = "syndication.newsletter.tasks.send_chunk"
FLUSH = "syndication.engagement.tasks.flush_events"

# Celery's own worker log lines (celery.worker.strategy, celery.app.trace), e.g.
# [2026-11-24 03:10:03,409: INFO/MainProcess] Task syndication.tasks.publish_post[50…75] received
TASK_LINE = re.compile(
    r"^\[(?P<at>\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3}): \w+/[^\]]+\] "
    r"Task (?P<name>[\w.]+)\[(?P<id>[\w-]+)\] "
    r"(?:(?P<received>received)|succeeded in [\d.e-]+s: (?P<result>.*))$"
)
# A task that raised or asked for a retry, anything logged as an error.
PROBLEM = re.compile(r"^\[[^\]]+: (?:ERROR|CRITICAL)/.*$|Task [\w.]+\[[\w-]+\] retry:.*$", re.M)


def together_env(redis_url: str, tag: str, smtp_port: int, stream: str) -> dict[str, str]:
    """Child-process settings: queues and a stream of this test's own, beat every second,
    production's windows for abandoned work."""
    return {
        "CELERY_BROKER_URL": redis_url,
        "CELERY_RESULT_BACKEND": redis_url,
        "DATABASE_URL": database_url_for_child(),
        "CELERY_DEFAULT_QUEUE": f"{tag}-celery",
        "SYNDICATION_QUEUE": f"{tag}-publishing",
        "ENGAGEMENT_QUEUE": f"{tag}-ingestion",
        "NEWSLETTER_QUEUE": f"{tag}-newsletters",
        "SYNDICATION_DISPATCH_EVERY_SECONDS": "1",
        "SYNDICATION_SWEEP_EVERY_SECONDS": "1",
        "ENGAGEMENT_REDIS_URL": redis_url,
        "ENGAGEMENT_STREAM": stream,
        "ENGAGEMENT_FLUSH_EVERY_SECONDS": "1",
        "ENGAGEMENT_BATCH_SIZE": str(FLUSH_BATCH),
        "NEWSLETTER_EMAIL_BACKEND": "syndication.newsletter.smtp.CommittedSMTPBackend",
        "EMAIL_HOST": "127.0.0.1",
        "EMAIL_PORT": str(smtp_port),
        "NEWSLETTER_CHUNK_SIZE": str(CHUNK),
        "NEWSLETTER_DISPATCH_EVERY_SECONDS": "1",
        "NEWSLETTER_SWEEP_EVERY_SECONDS": "1",
        "PUBLISH_SCHEDULED_EVERY_SECONDS": "5",
    }


def worker_args(name: str, env: dict[str, str]) -> list[str]:
    queues = ",".join(
        env[setting]
        for setting in (
            "CELERY_DEFAULT_QUEUE",
            "SYNDICATION_QUEUE",
            "ENGAGEMENT_QUEUE",
            "NEWSLETTER_QUEUE",
        )
    )
    return [
        "worker",
        "-P",
        "solo",
        "-n",
        f"{name}@%h",
        "-Q",
        queues,
        "--without-gossip",
        "--without-mingle",
        "-l",
        "INFO",
    ]


def complete_lines(log: Path) -> list[str]:
    """The lines the process has finished writing (the last may be half written)."""
    text = log.read_text() if log.exists() else ""
    return text[: text.rfind("\n") + 1].splitlines()


def is_ready(name: str, log: Path) -> bool:
    """The worker named ``name`` is consuming (Celery logs "<name>@<host> ready.")."""
    ready = re.compile(rf"\b{re.escape(name)}@\S+ ready\.$")
    return any(ready.search(line) for line in complete_lines(log))


@dataclass
class TaskRun:
    worker: str
    name: str
    task_id: str
    received: datetime.datetime | None = None
    finished: datetime.datetime | None = None
    result: str | None = None

    def value(self):
        """The task's return value, as the worker logged it."""
        return ast.literal_eval(self.result)

    def counted(self) -> bool:
        """A flush that added events to the rollups."""
        return bool(self.finished and self.value()["events"])


def task_runs(worker: str, log: Path) -> list[TaskRun]:
    """Every task this worker received, with when it finished and what it returned."""
    runs: dict[str, TaskRun] = {}
    for line in complete_lines(log):
        found = TASK_LINE.match(line)
        if not found:
            continue
        at = datetime.datetime.strptime(found["at"], "%Y-%m-%d %H:%M:%S,%f")
        run = runs.setdefault(found["id"], TaskRun(worker, found["name"], found["id"]))
        if found["received"]:
            run.received = at
        else:
            run.finished, run.result = at, found["result"]
    return list(runs.values())


def span(runs: list[TaskRun]) -> tuple[datetime.datetime, datetime.datetime]:
    return min(r.received for r in runs), max(r.finished for r in runs)


def test_two_workers_and_beat_publish_ingest_and_send_together_with_no_duplicate_work(
    redis_server, settings, make_story, tmp_path
):
    require_service(
        connection.vendor == "postgresql",
        f"PostgreSQL as the test database (DATABASE_URL; this run uses {connection.vendor})",
    )
    tag = f"together-{uuid.uuid4().hex[:6]}"
    stream = f"{tag}:events"
    settings.ENGAGEMENT_REDIS_URL = redis_server
    settings.ENGAGEMENT_STREAM = stream
    settings.ALLOWED_HOSTS = ["localhost"]
    buffer.forget_caches()
    redis = buffer.redis_client(redis_server)
    logs = {name: tmp_path / f"worker-{name}.log" for name in WORKERS}

    def runs() -> list[TaskRun]:
        return [run for name, log in logs.items() for run in task_runs(name, log)]

    def flushed_by() -> set[str]:
        """The workers that counted events into the rollups."""
        return {run.worker for run in runs() if run.name == FLUSH and run.counted()}

    def pending_events() -> int:
        """Read by a flusher, not yet acknowledged (no group yet: nothing read)."""
        groups = redis.xinfo_groups(stream) if redis.exists(stream) else []
        return sum(group["pending"] for group in groups if group["name"] == flush.GROUP)

    def counted_events() -> int:
        return EngagementRollup.objects.aggregate(total=Sum("count"))["total"] or 0

    def django_app(environ, start_response):
        raise AssertionError("the collector handed an event on to Django")

    collector = with_collector(django_app)
    answers: list[str] = []
    accepted_per_story: Counter = Counter()

    with (
        MastodonTestServer() as mastodon,
        SMTPRecorder() as smtp,
        # Drops the queues and the event stream (both named after the tag) at the end.
        leftover_queues_removed(redis_server, tag),
    ):
        env = together_env(redis_server, tag, smtp.port, stream)
        with (
            celery_process(*worker_args(WORKERS[0], env), env=env, log=logs[WORKERS[0]]),
            celery_process(*worker_args(WORKERS[1], env), env=env, log=logs[WORKERS[1]]),
            celery_process(
                "beat", "-s", str(tmp_path / "beat"), env=env, log=tmp_path / "beat.log"
            ),
        ):
            # The stories and readers are written while the processes start; the work
            # falls due only once both workers listen, so they compete from the start.
            stories, subscribers = build_audience(make_story, SUBSCRIBERS)
            accounts = mastodon_accounts(mastodon, ACCOUNTS)
            for name, log in logs.items():
                wait_for(lambda n=name, log=log: is_ready(n, log), 60, f"{name} ready", log)
            posts = schedule_posts(accounts, stories)
            edition = Edition.objects.create(
                title="Your stories this week",
                intro="This week's stories.",
                window_days=30,
                k=3,
                status=Edition.Status.SCHEDULED,
                send_at=timezone.now(),
            )
            bodies = event_bodies([story.pk for story in stories], MAX_EVENTS)

            def still_feeding() -> bool:
                """At least EVENTS, and on until both workers have flushed some."""
                if len(answers) >= MAX_EVENTS:
                    return False
                return len(answers) < EVENTS or flushed_by() != set(WORKERS)

            def missing() -> list[str]:
                """What is not done yet; empty once everything is."""
                published = SyndicationPost.objects.filter(state=states.PUBLISHED).count()
                edition_status = Edition.objects.get(pk=edition.pk).status
                feeding = still_feeding()
                left = {
                    f"posts published {published}/{len(posts)}": published == len(posts),
                    f"edition {edition_status}, deliveries sent {sent_count()}/{SUBSCRIBERS}, "
                    f"emails received {len(smtp.messages)}/{SUBSCRIBERS}": (
                        edition_status == Edition.Status.SENT and len(smtp.messages) >= SUBSCRIBERS
                    ),
                    f"events sent {len(answers)} (feeding: {feeding}, flushed by "
                    f"{sorted(flushed_by())}), in the stream {redis.xlen(stream)}, pending "
                    f"{pending_events()}, counted {counted_events()}": (
                        not feeding
                        and redis.xlen(stream) == 0
                        and pending_events() == 0
                        and counted_events() >= sum(accepted_per_story.values())
                    ),
                }
                return [what for what, ok in left.items() if not ok]

            def feeding_until_done() -> bool:
                """A wave of events per poll: they arrive while posts and emails go out."""
                if still_feeding():
                    for body in itertools.islice(bodies, WAVE):
                        answers.append(send_through_collector(collector, body))
                        if answers[-1] == "202 Accepted":
                            accepted_per_story[json.loads(body)["s"]] += 1
                    return False
                return not missing()

            wait_for(
                feeding_until_done,
                75,
                lambda: "posts, events and emails; still missing: " + "; ".join(missing()),
                logs[WORKERS[0]],
            )
        # The workers have stopped (warm shutdown): nothing more can arrive anywhere.
        received = smtp.by_recipient()
        # --- Scheduled posts: each on the server exactly once, each sent once, all published.
        assert_exactly_once(mastodon, posts)
        assert len(mastodon.statuses) == len(posts)

    assert dict(Counter(p.state for p in SyndicationPost.objects.all())) == {
        states.PUBLISHED: len(posts)
    }
    assert dict(Counter(SyndicationPost.objects.values_list("send_count", flat=True))) == {
        1: len(posts)
    }, "a post was sent to the network more than once"

    # --- Ingestion: the rollups hold exactly the accepted events, each batch counted once.
    accepted = answers.count("202 Accepted")
    assert accepted == len(answers) >= EVENTS, Counter(answers)
    assert counted_events() == accepted
    assert FlushedBatch.objects.aggregate(total=Sum("events"))["total"] == accepted
    per_story = dict(
        EngagementRollup.objects.values_list("story_id").annotate(n=Sum("count")).order_by()
    )
    assert per_story == dict(accepted_per_story)

    # --- Newsletter: every subscriber exactly one email, each delivery sent once.
    edition.refresh_from_db()
    assert edition.status == Edition.Status.SENT
    assert edition.total == SUBSCRIBERS
    assert sorted(received) == sorted(s.email for s in subscribers)
    doubles = {to: len(found) for to, found in received.items() if len(found) != 1}
    assert doubles == {}
    deliveries = Delivery.objects.filter(edition=edition).select_related("subscriber")
    assert dict(Counter(d.state for d in deliveries)) == {Delivery.State.SENT: SUBSCRIBERS}
    assert {d.subscriber.email: d.message_id for d in deliveries} == {
        to: message["Message-ID"] for to, [message] in received.items()
    }

    # --- The workers: each task ran once on one worker, and both did each kind of work.
    for name, log in logs.items():
        problems = PROBLEM.findall(log.read_text())
        assert problems == [], f"{name}: {problems}"
    ran = runs()
    once = Counter(run.task_id for run in ran)
    assert {task_id: n for task_id, n in once.items() if n > 1} == {}
    # Only a flush may be received and never run: it expires when the next one is due.
    unfinished = [run for run in ran if run.finished is None and run.name != FLUSH]
    assert unfinished == [], "tasks received but never finished"
    by_kind = {
        kind: [run for run in ran if run.name == kind and run.finished]
        for kind in (PUBLISH, SEND_CHUNK, FLUSH)
    }
    share = {kind: dict(Counter(run.worker for run in done)) for kind, done in by_kind.items()}

    # One publish_post per post, one send_chunk per chunk: nothing was done twice.
    assert Counter(run.value() for run in by_kind[PUBLISH]) == {"published": len(posts)}
    chunks = [run.value() for run in by_kind[SEND_CHUNK]]
    assert len(chunks) == math.ceil(SUBSCRIBERS / CHUNK), chunks
    assert all(chunk == {"claimed": CHUNK, "sent": CHUNK} for chunk in chunks), chunks
    flushes = [run.value() for run in by_kind[FLUSH]]
    assert sum(f["events"] for f in flushes) == accepted, flushes
    assert sum(f["duplicate"] for f in flushes) == 0, flushes

    # Both workers took a share of each kind of work.
    assert set(share[PUBLISH]) == set(WORKERS), share
    assert set(share[SEND_CHUNK]) == set(WORKERS), share
    assert flushed_by() == set(WORKERS), share

    # And the three kinds were under way together: some moment lies inside all three.
    working = [
        span(by_kind[PUBLISH]),
        span(by_kind[SEND_CHUNK]),
        span([run for run in by_kind[FLUSH] if run.counted()]),
    ]
    assert max(start for start, _ in working) < min(end for _, end in working), working
