"""Publishing benchmark: N scheduled posts through Redis, beat and a worker, exactly once.

Builds a throw-away site in a temporary directory (SQLite there unless
BENCH_DATABASE_URL names another database), starts the Mastodon test server on
127.0.0.1 with a handful of accounts, schedules N posts due now, then starts a real
Celery beat and worker on Redis (REDIS_URL, default redis://127.0.0.1:6379/0, on
queues of its own) and waits until every post is published. It reports posts per
second and checks the server for duplicates and the database for losses, and the CPU
the worker and beat processes spent per post (read from /proc for their sessions: from
the first post published to the last, so start-up is left out; also in total).

    .venv/bin/python bench/syndication.py [--posts N] [--accounts A] [--concurrency C (2)]

Progress goes to stderr. Stdout carries a table, then, as its last line, one JSON
object: {"posts", "posts_per_s", "duplicates", "lost", "cpu_ms_per_post", ...}.
"""

import argparse
import datetime
import json
import os
import re
import secrets
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import common
from common import ROOT, BenchError, log, redis_url

sys.path.insert(0, str(ROOT))
CELERY = str(Path(sys.executable).with_name("celery"))
STRIPPED_ENV = common.STRIPPED_ENV


def site_env(tmp: Path, broker: str, tag: str, concurrency: int) -> dict[str, str]:
    env = common.inherited_env(STRIPPED_ENV)
    env.update(
        STORYLOOM_VAR_DIR=str(tmp / "var"),
        DJANGO_SETTINGS_MODULE="cms.settings.dev",
        DEBUG="false",
        SECRET_KEY=secrets.token_urlsafe(40),
        DATABASE_URL=os.environ.get("BENCH_DATABASE_URL", "").strip()
        or f"sqlite:///{tmp / 'bench.sqlite3'}",
        CELERY_BROKER_URL=broker,
        CELERY_RESULT_BACKEND=broker,
        CELERY_DEFAULT_QUEUE=f"{tag}-default",
        SYNDICATION_QUEUE=f"{tag}-publishing",
        # Beat's engagement and conversation tasks go to a queue of their own that no
        # worker here consumes (dropped at the end), as in production, where the
        # ingestion queue has its own process type (docs/deploy.md, "Queues"): reading
        # back every fresh post's conversation is not publishing's CPU.
        ENGAGEMENT_QUEUE=f"{tag}-ingestion",
        NEWSLETTER_QUEUE=f"{tag}-default",
        SYNDICATION_DISPATCH_EVERY_SECONDS="1",
        SYNDICATION_SWEEP_EVERY_SECONDS="5",
        PUBLISH_SCHEDULED_EVERY_SECONDS="3600",
        LOG_LEVEL="WARNING",
        PYTHONUNBUFFERED="1",
    )
    return env


def build_site(posts: int, accounts: int, stories: int, server):
    """Migrate the empty database, add stories, accounts and ``posts`` posts due now."""
    import django

    django.setup()
    from django.db import connection
    from django.utils import timezone

    from syndication import states
    from syndication.models import SyndicationPost

    started = time.monotonic()
    made = common.add_stories(stories)
    linked = [account for account, _ in common.mastodon_accounts(server, accounts)]
    now = timezone.now()
    SyndicationPost.objects.bulk_create(
        (
            SyndicationPost(
                story=made[number % stories],
                account=linked[number % accounts],
                text="Ten minutes, one washer, no more drip.\n\n{story_url}",
                scheduled_at=now,
                due_at=now,
                state=states.SCHEDULED,
            )
            for number in range(posts)
        ),
        batch_size=1000,
    )
    connection.close()
    log(
        f"built the site: {stories} stories, {accounts} accounts, {posts} posts due now "
        f"({time.monotonic() - started:.1f}s)"
    )


def start(args, env, log_path: Path) -> subprocess.Popen:
    with log_path.open("wb") as out:
        return subprocess.Popen(
            [CELERY, "-A", "cms", *args],
            cwd=ROOT,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )


def stop(process: subprocess.Popen) -> None:
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def session_cpu(*sessions: int) -> float:
    """CPU seconds (user + system) of every live process in these sessions: a Celery
    process started with ``start_new_session`` and its pool children."""
    total = 0
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
        except OSError:
            continue
        fields = stat.rsplit(")", 1)[1].split()
        # After the command: state, ppid, pgrp, session, …, utime (14th), stime (15th).
        if int(fields[3]) in sessions:
            total += int(fields[11]) + int(fields[12])
    return total / CLOCK_TICKS


def published_count() -> int:
    from django.db import connection

    from syndication import states
    from syndication.models import SyndicationPost

    count = SyndicationPost.objects.filter(state=states.PUBLISHED).count()
    connection.close()
    return count


def keep_alive_server():
    """The Mastodon test server answering HTTP/1.1 and keeping connections open, as a
    Mastodon behind nginx does, so a worker that keeps its connections (docs/syndication.md,
    "Throughput") is measured as it runs in production; headers and body leave without
    waiting for the client's delayed ACK (no Nagle), as nginx sends them."""
    from syndication.testing.mastodon_server import MastodonTestServer

    class KeepAliveHandler(MastodonTestServer.handler):
        protocol_version = "HTTP/1.1"
        disable_nagle_algorithm = True

    class KeepAliveServer(MastodonTestServer):
        handler = KeepAliveHandler

    return KeepAliveServer()


def run(options) -> dict:
    broker = redis_url()
    tag = f"bench-{uuid.uuid4().hex[:8]}"
    tmp = Path(tempfile.mkdtemp(prefix="storyloom-bench-syndication-"))
    processes = []
    try:
        env = site_env(tmp, broker, tag, options.concurrency)
        os.environ.update(env)
        with keep_alive_server() as server:
            build_site(options.posts, options.accounts, options.stories, server)
            pool = (
                ["-P", "solo"]
                if options.concurrency == 1
                else ["-P", "prefork", "-c", str(options.concurrency)]
            )
            worker = [
                "worker",
                *pool,
                "-Q",
                f"{tag}-default,{tag}-publishing",
                "--without-gossip",
                "--without-mingle",
                "-l",
                "WARNING",
            ]
            log(f"starting beat and a worker ({' '.join(pool)}) on {broker}")
            started = time.monotonic()
            processes.append(start(worker, env, tmp / "worker.log"))
            processes.append(
                start(["beat", "-s", str(tmp / "beat"), "-l", "WARNING"], env, tmp / "beat.log")
            )
            deadline = started + options.timeout
            sessions = tuple(process.pid for process in processes)
            own_cpu = time.process_time()
            done = 0
            samples = []
            first_cpu = None
            while time.monotonic() < deadline:
                done = published_count()
                cpu = session_cpu(*sessions)
                if done and first_cpu is None:
                    first_cpu = (cpu, done)
                samples.append((time.monotonic() - started, done, len(server.statuses)))
                if done >= options.posts:
                    break
                if any(process.poll() is not None for process in processes):
                    raise BenchError("a Celery process exited early; see " + str(tmp))
                time.sleep(0.5)
            elapsed = time.monotonic() - started
            own_cpu = time.process_time() - own_cpu
            statuses = server.statuses
            moments = [
                datetime.datetime.fromisoformat(s["created_at"].replace("Z", "+00:00")).timestamp()
                for s in statuses
            ]
            first, last = (min(moments), max(moments)) if moments else (0.0, 0.0)
            duplicates = sum(count - 1 for count in server.duplicates().values())
            on_server = {m for s in statuses for m in re.findall(r"utm_content=\d+", s["text"])}
            from syndication.models import SyndicationPost

            published_ids = set(
                SyndicationPost.objects.filter(state="published").values_list("pk", flat=True)
            )
            missing_on_server = sum(
                1 for pk in published_ids if f"utm_content={pk}" not in on_server
            )
            lost = options.posts - len(published_ids) + missing_on_server
            rates = [
                (b[1] - a[1]) / (b[0] - a[0])
                for a, b in zip(samples, samples[1:], strict=False)
                if b[0] > a[0] and b[1] > a[1]
            ]
        steady = (len(statuses) - 1) / (last - first) if len(statuses) > 1 and last > first else 0
        steady_cpu = (
            (cpu - first_cpu[0]) / (done - first_cpu[1])
            if first_cpu and done > first_cpu[1]
            else 0.0
        )
        return {
            "posts": options.posts,
            "posts_per_s": round(steady, 1),
            "duplicates": duplicates,
            "lost": lost,
            "wall_s": round(elapsed, 2),
            "posts_per_s_wall": round(len(published_ids) / elapsed, 1) if elapsed else 0,
            "median_sample_rate": round(statistics.median(rates), 1) if rates else 0,
            "cpu_ms_per_post": round(steady_cpu * 1000, 2),
            "cpu_ms_per_post_total": round(cpu * 1000 / max(done, 1), 2),
            "test_server_cpu_ms_per_post": round(own_cpu * 1000 / max(done, 1), 2),
            "load_average": round(os.getloadavg()[0], 2),
            "accounts": options.accounts,
            "concurrency": options.concurrency,
            "database": "postgresql" if "postgres" in env["DATABASE_URL"] else "sqlite",
        }
    finally:
        for process in processes:
            stop(process)
        try:
            import redis

            client = redis.Redis.from_url(broker)
            for key in client.scan_iter(f"{tag}*"):
                client.delete(key)
        except Exception as exc:  # cleanup must not hide the result
            log(f"could not clean up Redis keys: {exc}")
        if options.keep:
            log(f"kept {tmp}")
        else:
            shutil.rmtree(tmp, ignore_errors=True)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--posts", type=int, default=5000)
    parser.add_argument("--accounts", type=int, default=10)
    parser.add_argument("--stories", type=int, default=50)
    parser.add_argument("--concurrency", type=int, default=2, help="worker processes")
    parser.add_argument("--timeout", type=float, default=900)
    parser.add_argument("--keep", action="store_true", help="keep the temporary directory")
    options = parser.parse_args()
    common.interrupt_on_sigterm()
    try:
        figures = run(options)
    except BenchError as exc:
        log(f"error: {exc}")
        return 1
    except KeyboardInterrupt:
        log("interrupted")
        return 130
    rows = [
        ("posts scheduled", figures["posts"]),
        ("published per second (first to last post)", figures["posts_per_s"]),
        ("published per second (wall, incl. start-up)", figures["posts_per_s_wall"]),
        ("wall time, s", figures["wall_s"]),
        ("duplicates on the server", figures["duplicates"]),
        ("lost (not published exactly once)", figures["lost"]),
        ("CPU per post, worker and beat, ms (first to last post)", figures["cpu_ms_per_post"]),
        ("CPU per post, worker and beat, ms (incl. start-up)", figures["cpu_ms_per_post_total"]),
        (
            "CPU per post, bench and Mastodon test server, ms",
            figures["test_server_cpu_ms_per_post"],
        ),
        ("load average (1 min) at the end", figures["load_average"]),
        ("database", figures["database"]),
        ("worker processes", figures["concurrency"]),
    ]
    common.print_measures(rows)
    print(json.dumps(figures))
    return 0 if figures["duplicates"] == 0 and figures["lost"] == 0 else 2


if __name__ == "__main__":
    sys.exit(main())
