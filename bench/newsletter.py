"""Newsletter benchmark: one edition to N subscribers, selected, rendered and delivered over
SMTP exactly once, end to end.

Builds a throw-away site in a temporary directory (SQLite there, in WAL mode, unless
BENCH_DATABASE_URL names another — empty, throw-away — database) with 200 stories in
eight interests, some in series, a month of engagement and N subscribers (a fifth with
reads). Starts an SMTP sink on 127.0.0.1 in a separate process: a minimal asyncio server
(PIPELINING, like Postfix) that counts messages per recipient. Then it sends one edition
through the real sending code, in this process, chunk after chunk, as one Celery worker
process would (``sending.send_chunk``, the committed SMTP backend: each message's final
dot only after its own database commit). ``--workers W`` forks W such processes,
each taking every W-th chunk, as W worker processes would.

    .venv/bin/python bench/newsletter.py [--subscribers N (10000)] [--stories S (200)]
        [--k K (12)] [--connections C (16)] [--workers W (2)] [--keep]

Progress goes to stderr. Stdout carries a table, then, as its last line, one JSON
object: {"emails", "emails_per_s", "duplicates", "missing", ...}.
"""

import argparse
import asyncio
import collections
import contextlib
import datetime
import json
import os
import random
import secrets
import shutil
import signal
import smtplib
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from resource import RUSAGE_CHILDREN, RUSAGE_SELF, getrusage

sys.path.insert(0, str(Path(__file__).resolve().parent))
import common
from common import HOST, ROOT, BenchError, log

sys.path.insert(0, str(ROOT))
# Inherited variables that would point the throw-away site at something else.
STRIPPED_ENV = (
    *common.STRIPPED_ENV,
    "DEBUG",
    "ENGAGEMENT_REDIS_URL",
    "EMAIL_HOST",
    "EMAIL_PORT",
    "EMAIL_HOST_USER",
    "EMAIL_HOST_PASSWORD",
    "EMAIL_USE_TLS",
    "NEWSLETTER_EMAIL_BACKEND",
)
INTERESTS = ["Home", "Garden", "Money", "Health", "Family", "Food", "Travel", "Work"]


# --- The SMTP sink (its own process) -----------------------------------------------------------
class Sink(asyncio.Protocol):
    """Just enough SMTP to accept mail fast and count it; ``XSTATS`` answers the counts."""

    accepted: collections.Counter = collections.Counter()
    counts = {"messages": 0, "bytes": 0, "dropped": 0}

    def connection_made(self, transport):
        self.transport = transport
        self.buffer = b""
        self.scanned = 0
        self.in_data = False
        self.recipients = []
        transport.write(b"220 sink ESMTP\r\n")

    def connection_lost(self, exc):
        if self.in_data:  # ended without its final dot: discarded, as a real server does
            Sink.counts["dropped"] += 1

    def data_received(self, data):
        self.buffer += data
        while True:
            if self.in_data:
                if self.buffer.startswith(b".\r\n"):
                    end, rest = 0, 3
                else:
                    found = self.buffer.find(b"\r\n.\r\n", max(0, self.scanned - 4))
                    if found < 0:
                        self.scanned = len(self.buffer)
                        return
                    end, rest = found + 2, found + 5
                Sink.counts["messages"] += 1
                Sink.counts["bytes"] += end
                Sink.accepted.update(self.recipients)
                self.buffer, self.scanned = self.buffer[rest:], 0
                self.in_data, self.recipients = False, []
                self.transport.write(b"250 2.0.0 Ok: queued\r\n")
                continue
            end = self.buffer.find(b"\r\n")
            if end < 0:
                return
            line, self.buffer = self.buffer[:end], self.buffer[end + 2 :]
            self.transport.write(self.command(line))

    def command(self, line: bytes) -> bytes:
        verb = line[:4].upper()
        if verb == b"EHLO":
            return b"250-sink\r\n250-PIPELINING\r\n250-8BITMIME\r\n250 SIZE 52428800\r\n"
        if verb in (b"HELO", b"NOOP"):
            return b"250 Ok\r\n"
        if verb in (b"MAIL", b"RSET"):
            self.recipients = []
            return b"250 2.1.0 Ok\r\n"
        if verb == b"RCPT":
            self.recipients.append(line.split(b":", 1)[1].strip().strip(b"<>").decode().lower())
            return b"250 2.1.5 Ok\r\n"
        if verb == b"DATA":
            if not self.recipients:
                return b"503 5.5.1 No recipients\r\n"
            self.in_data, self.scanned = True, 0
            return b"354 End data with <CR><LF>.<CR><LF>\r\n"
        if verb == b"QUIT":
            self.transport.write(b"221 Bye\r\n")
            self.transport.close()
            return b""
        if verb == b"XSTA":
            usage = getrusage(RUSAGE_SELF)
            stats = {
                **Sink.counts,
                "cpu_s": usage.ru_utime + usage.ru_stime,
                "recipients": len(Sink.accepted),
                "duplicates": sum(n - 1 for n in Sink.accepted.values() if n > 1),
            }
            return f"250 {json.dumps(stats)}\r\n".encode()
        return b"502 5.5.2 Not implemented\r\n"


def run_sink(port: int) -> None:
    async def serve():
        server = await asyncio.get_running_loop().create_server(Sink, HOST, port)
        print(f"ready {server.sockets[0].getsockname()[1]}", flush=True)
        await server.serve_forever()

    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    asyncio.run(serve())


def start_sink() -> tuple[subprocess.Popen, int]:
    process = subprocess.Popen(
        [sys.executable, __file__, "--sink"],
        stdout=subprocess.PIPE,
        stdin=subprocess.DEVNULL,
        text=True,
        start_new_session=True,
    )
    line = process.stdout.readline().strip()
    if not line.startswith("ready "):
        process.kill()
        raise BenchError(f"the SMTP sink did not start ({line!r})")
    return process, int(line.split()[1])


def sink_stats(port: int) -> dict:
    with smtplib.SMTP(HOST, port, timeout=10) as client:
        code, message = client.docmd("XSTATS")
    if code != 250:
        raise BenchError(f"the sink answered {code} {message!r}")
    return json.loads(message)


# --- The site ---------------------------------------------------------------------------
def site_env(tmp: Path, port: int, connections: int) -> dict[str, str]:
    env = common.inherited_env(STRIPPED_ENV)
    env.update(
        STORYLOOM_VAR_DIR=str(tmp / "var"),
        DJANGO_SETTINGS_MODULE="cms.settings.dev",
        DEBUG="false",
        SECRET_KEY=secrets.token_urlsafe(40),
        DATABASE_URL=os.environ.get("BENCH_DATABASE_URL", "").strip()
        or f"sqlite:///{tmp / 'bench.sqlite3'}",
        NEWSLETTER_EMAIL_BACKEND="syndication.newsletter.smtp.CommittedSMTPBackend",
        EMAIL_HOST=HOST,
        EMAIL_PORT=str(port),
        NEWSLETTER_SMTP_CONNECTIONS=str(connections),
        NEWSLETTER_CHUNK_SIZE="1000",
        LOG_LEVEL="WARNING",
    )
    return env


def build_site(options) -> int:
    """Migrate the empty database; add stories, engagement, subscribers and an edition."""
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection
    from django.utils import timezone

    from stories.models import AudienceInterest, StoryIndexPage, StoryPage, StorySeries
    from syndication.engagement.models import EngagementRollup
    from syndication.newsletter.models import Edition, Subscriber, SubscriberRead

    started = time.monotonic()
    if connection.vendor == "sqlite":
        with connection.cursor() as cursor:
            cursor.execute("PRAGMA journal_mode=WAL")  # kept in the file: every connection
    call_command("migrate", verbosity=0)
    rng = random.Random(6)
    now = timezone.now()
    index = StoryIndexPage.objects.first()
    interests = [AudienceInterest.objects.create(name=n, slug=n.lower()) for n in INTERESTS]
    series = [StorySeries.objects.create(name=f"Series {n + 1}") for n in range(10)]
    stories = []
    for number in range(options.stories):
        in_series = number < 30
        story = StoryPage(
            title=f"Fixing things at home, story {number + 1}",
            slug=f"story-{number + 1}",
            intro="A washer costs pennies and the job takes ten minutes with the water off.",
            purpose="solve",
            first_published_at=now - datetime.timedelta(hours=rng.uniform(1, 29 * 24)),
            series=series[number % 10] if in_series else None,
            series_part=number // 10 + 1 if in_series else None,
        )
        index.add_child(instance=story)
        story.interests.set(rng.sample(interests, rng.choice((1, 1, 2))))
        stories.append(story)
    today = timezone.localdate()
    rollups = []
    for story in stories:
        views = rng.randint(0, 400)
        for event, count in (
            ("view", views),
            ("engaged_read", int(views * rng.uniform(0.1, 0.6))),
            ("read_through", int(views * rng.uniform(0.05, 0.3))),
        ):
            rollups.append(EngagementRollup(day=today, story=story, event=event, count=count))
        target = rng.choice(stories)
        rollups.append(
            EngagementRollup(
                day=today,
                story=story,
                event="link_follow",
                detail=f"related:{target.pk}",
                count=rng.randint(0, 20),
            )
        )
    EngagementRollup.objects.bulk_create(rollups, ignore_conflicts=True)
    Subscriber.objects.bulk_create(
        (
            Subscriber(email=f"reader{n:06d}@example.com", status=Subscriber.Status.ACTIVE)
            for n in range(options.subscribers)
        ),
        batch_size=2000,
    )
    ids = list(Subscriber.objects.values_list("pk", flat=True))
    Through = Subscriber.interests.through
    Through.objects.bulk_create(
        (
            Through(subscriber_id=pk, audienceinterest_id=interest.pk)
            for pk in ids
            for interest in rng.sample(interests, rng.randint(1, 3))
        ),
        batch_size=5000,
    )
    SubscriberRead.objects.bulk_create(
        (
            SubscriberRead(
                subscriber_id=pk,
                story=story,
                engaged=True,
                read_through=rng.random() < 0.5,
            )
            for pk in rng.sample(ids, len(ids) // 5)
            for story in rng.sample(stories, 3)
        ),
        batch_size=5000,
        ignore_conflicts=True,
    )
    edition = Edition.objects.create(
        title="This week: small fixes, big relief",
        intro="A few stories chosen for you, from what you follow and read.",
        window_days=30,
        k=options.k,
        status=Edition.Status.SCHEDULED,
        send_at=now,
    )
    connection.close()
    log(
        f"built the site: {options.stories} stories, {options.subscribers} subscribers "
        f"({time.monotonic() - started:.1f}s)"
    )
    return edition.pk


# --- Timing where the time goes ---------------------------------------------------------
class Clock:
    """Adds up the time spent in a few functions of the sending code (a wrapper each)."""

    def __init__(self):
        self.spent = collections.Counter()

    def wrap(self, owner, name: str, bucket: str):
        original = getattr(owner, name)

        def timed(*args, **kwargs):
            started = time.perf_counter()
            try:
                return original(*args, **kwargs)
            finally:
                self.spent[bucket] += time.perf_counter() - started

        setattr(owner, name, timed)

    def install(self):
        from syndication.newsletter import composing, rendering, sending, smtp

        self.wrap(sending, "select_for", "selection")
        self.wrap(sending, "load_readers", "selection")
        self.wrap(composing.Composer, "email", "render")
        self.wrap(rendering.MessageFrame, "as_bytes", "render")
        self.wrap(sending, "commit_delivery", "commit")
        self.wrap(sending, "insert_picks", "storing picks")
        self.wrap(sending, "claim", "claims")
        self.wrap(sending, "load_pool", "loading candidates")
        self.wrap(smtp.CommittedSMTPBackend, "send_committed_group", "smtp+commit")


def send(edition_id: int, workers: int) -> tuple[float, float, float]:
    """Start, plan and send the edition: (seconds planning, seconds in all, CPU seconds)."""
    from django.db import connection

    from syndication.newsletter import lifecycle, sending

    started = time.perf_counter()
    before = {who: getrusage(who) for who in (RUSAGE_SELF, RUSAGE_CHILDREN)}
    assert lifecycle.start_due_editions() == [edition_id]
    ranges = lifecycle.plan_edition(edition_id)
    planned = time.perf_counter()
    if workers == 1:
        for first, last in ranges:
            sending.send_chunk(edition_id, first, last)
    else:
        connection.close()
        children = []
        for number in range(workers):
            pid = os.fork()
            if pid == 0:  # a worker process: every W-th chunk
                code = 0
                try:
                    for first, last in ranges[number::workers]:
                        sending.send_chunk(edition_id, first, last)
                except BaseException:
                    import traceback

                    traceback.print_exc()
                    code = 1
                finally:
                    os._exit(code)
            children.append(pid)
        for pid in children:
            _, status = os.waitpid(pid, 0)
            if status:
                raise BenchError("a sending process failed (see above)")
    elapsed = time.perf_counter() - started
    cpu = 0.0
    for who, then in before.items():  # the forked senders are waited for: children
        now = getrusage(who)
        cpu += now.ru_utime + now.ru_stime - then.ru_utime - then.ru_stime
    return planned - started, elapsed, cpu


def run(options) -> dict:
    tmp = Path(tempfile.mkdtemp(prefix="storyloom-bench-newsletter-"))
    sink = None
    try:
        sink, port = start_sink()
        log(f"SMTP sink on {HOST}:{port}")
        os.environ.update(site_env(tmp, port, options.connections))
        edition_id = build_site(options)

        from django.db import connection

        from syndication.newsletter.models import Delivery, DeliveryPick, Edition

        clock = Clock() if options.workers == 1 else None
        if clock:
            clock.install()
        log(f"sending to {options.subscribers} subscribers ({options.workers} process(es))")
        planning, elapsed, cpu = send(edition_id, options.workers)
        time.sleep(0.2)
        stats = sink_stats(port)
        edition = Edition.objects.get(pk=edition_id)
        sent = Delivery.objects.filter(edition=edition, state=Delivery.State.SENT).count()
        picks = DeliveryPick.objects.filter(delivery__edition=edition).count()
        database = connection.vendor
        emails = stats["messages"]
        figures = {
            "emails": emails,
            "emails_per_s": round(emails / elapsed, 1) if elapsed else 0.0,
            "duplicates": stats["duplicates"],
            "missing": options.subscribers - stats["recipients"],
            "seconds": round(elapsed, 2),
            "cpu_ms_per_email": round(1000 * cpu / emails, 3) if emails else 0.0,
            "planning_s": round(planning, 2),
            "marked_sent": sent,
            "picks": picks,
            "edition_status": edition.status,
            "database": f"{database} (WAL)" if database == "sqlite" else database,
            "workers": options.workers,
            "connections": options.connections,
            "mb_sent": round(stats["bytes"] / 1e6, 1),
            "sink_cpu_s": round(stats["cpu_s"], 2),
        }
        if clock:
            split = dict(clock.spent)
            split["smtp"] = split.pop("smtp+commit", 0.0) - split.get("commit", 0.0)
            accounted = sum(split.values()) + planning
            split["planning"] = planning
            split["other"] = max(0.0, elapsed - accounted)
            figures["split_s"] = {name: round(value, 2) for name, value in split.items()}
        connection.close()
        return figures
    finally:
        if sink is not None and sink.poll() is None:
            os.killpg(sink.pid, signal.SIGTERM)
            with contextlib.suppress(subprocess.TimeoutExpired):
                sink.wait(timeout=5)
            if sink.poll() is None:
                os.killpg(sink.pid, signal.SIGKILL)
        if options.keep:
            log(f"kept {tmp}")
        else:
            shutil.rmtree(tmp, ignore_errors=True)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--subscribers", type=int, default=10_000)
    parser.add_argument("--stories", type=int, default=200)
    parser.add_argument("--k", type=int, default=12, help="stories per email")
    parser.add_argument("--connections", type=int, default=16, help="SMTP connections (group)")
    parser.add_argument("--workers", type=int, default=2, help="sending processes (the cores)")
    parser.add_argument("--keep", action="store_true", help="keep the temporary directory")
    parser.add_argument("--sink", action="store_true", help=argparse.SUPPRESS)
    options = parser.parse_args()
    if options.sink:
        run_sink(0)
        return 0
    try:
        figures = run(options)
    except BenchError as exc:
        log(f"error: {exc}")
        return 1
    rows = [
        ("emails accepted by the SMTP sink", figures["emails"]),
        ("seconds (start, plan, select, render, send)", figures["seconds"]),
        ("emails per second", figures["emails_per_s"]),
        ("CPU ms per email in the sending process(es)", figures["cpu_ms_per_email"]),
        ("duplicates (second copies at the sink)", figures["duplicates"]),
        ("missing (subscribers without an email)", figures["missing"]),
        ("deliveries marked sent", figures["marked_sent"]),
        ("picks stored", figures["picks"]),
        ("edition", figures["edition_status"]),
        ("database", figures["database"]),
        ("sending processes × SMTP connections", f"{figures['workers']} × {options.connections}"),
        ("MB sent", figures["mb_sent"]),
        ("CPU seconds of the SMTP sink", figures["sink_cpu_s"]),
    ]
    for name, seconds in figures.get("split_s", {}).items():
        rows.append((f"  time in {name}, s", seconds))
    common.print_measures(rows)
    print(
        json.dumps(
            {
                "emails": figures["emails"],
                "emails_per_s": figures["emails_per_s"],
                "duplicates": figures["duplicates"],
                "missing": figures["missing"],
                "database": figures["database"],
                "workers": figures["workers"],
            }
        )
    )
    ok = figures["duplicates"] == 0 and figures["missing"] == 0
    return 0 if ok else 2


if __name__ == "__main__":
    sys.exit(main())
