"""Backfeed benchmark: one conversation collection pass over N posts on 2 real workers.

Builds a throw-away site: a database of its own (a fresh PostgreSQL database made on the
server BENCH_DATABASE_URL names, dropped afterwards; else SQLite in a temporary
directory, with one worker process, as two fail on SQLite's lock), the Mastodon test
server on 127.0.0.1, N published posts there with R replies each (issue 20: 1,000 x 50).
Then it claims every post the way beat does (``collect.dispatch``, queuing
``collect_conversation`` tasks on Redis, REDIS_URL, on queues of its own), lets a real
Celery worker with 2 processes collect them, and times the pass until every post has
been collected. It counts the items stored, duplicates (rows sharing network + remote
id, and replies stored beyond those made) and the queries one post's collection costs
(``CaptureQueriesContext`` around ``collect.collect_post`` for a few extra posts with
the same number of replies).

    .venv/bin/python bench/backfeed.py [--posts N (1000)] [--replies R (50)]
        [--concurrency C (2)] [--sample S (5)]

Progress goes to stderr. Stdout carries a table, then, as its last line, one JSON
object: {"posts", "items", "seconds", "duplicates", "queries_per_post"}.
"""

import argparse
import contextlib
import datetime
import json
import os
import secrets
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

sys.path.insert(0, str(Path(__file__).resolve().parent))
import common
from common import ROOT, BenchError, log, redis_url

sys.path.insert(0, str(ROOT))
CELERY = str(Path(sys.executable).with_name("celery"))
ACCOUNTS = 10


# --- A database of its own ---------------------------------------------------------------
def make_database(tmp: Path, tag: str) -> tuple[str, object]:
    """The site's DATABASE_URL and a function dropping what was made."""
    server = os.environ.get("BENCH_DATABASE_URL", "").strip()
    if not server.startswith(("postgres://", "postgresql://")):
        return f"sqlite:///{tmp / 'bench.sqlite3'}", lambda: None
    import psycopg

    name = f"storyloom_bench_{tag.replace('-', '_')}"
    parts = urlsplit(server)
    admin = urlunsplit(parts._replace(scheme="postgresql"))
    with psycopg.connect(admin, autocommit=True) as connection:
        connection.execute(f'CREATE DATABASE "{name}"')
    log(f"created PostgreSQL database {name}")

    def drop():
        with psycopg.connect(admin, autocommit=True) as connection:
            connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        log(f"dropped PostgreSQL database {name}")

    return urlunsplit(parts._replace(path=f"/{name}")), drop


def site_env(tmp: Path, database_url: str, broker: str, tag: str) -> dict[str, str]:
    env = common.inherited_env(common.STRIPPED_ENV)
    env.update(
        STORYLOOM_VAR_DIR=str(tmp / "var"),
        DJANGO_SETTINGS_MODULE="cms.settings.dev",
        DEBUG="false",
        SECRET_KEY=secrets.token_urlsafe(40),
        DATABASE_URL=database_url,
        CELERY_BROKER_URL=broker,
        CELERY_RESULT_BACKEND=broker,
        CELERY_DEFAULT_QUEUE=f"{tag}-default",
        SYNDICATION_QUEUE=f"{tag}-publishing",
        ENGAGEMENT_QUEUE=f"{tag}-default",
        NEWSLETTER_QUEUE=f"{tag}-default",
        LOG_LEVEL="WARNING",
        PYTHONUNBUFFERED="1",
    )
    return env


# --- The site and the conversation on the server ---------------------------------------
def publish(server, accounts, count: int, replies: int, first: int) -> list:
    """``count`` posts published on the server with ``replies`` replies each (unsaved)."""
    from django.utils import timezone

    import requests

    from syndication import states
    from syndication.models import SyndicationPost

    story = common_story()
    published_at = timezone.now() - datetime.timedelta(minutes=10)
    made = []
    with requests.Session() as session:
        for number in range(first, first + count):
            account, token = accounts[number % len(accounts)]
            response = session.post(
                f"{server.url}/api/v1/statuses",
                data={"status": f"Ten minutes, one washer, no more drip. #{number}"},
                headers={"Authorization": f"Bearer {token}"},
                timeout=10,
            )
            if response.status_code != 200:
                raise BenchError(f"the test server refused a post: {response.status_code}")
            status_id = response.json()["id"]
            for reply in range(replies):
                server.reply(
                    status_id, f"Did it in nine minutes. Thanks! ({reply})", as_user=f"fan{reply}"
                )
            made.append(
                SyndicationPost(
                    story=story,
                    account=account,
                    text="Ten minutes, one washer, no more drip.\n\n{story_url}",
                    state=states.PUBLISHED,
                    remote_id=status_id,
                    scheduled_at=published_at,
                    published_at=published_at,
                )
            )
    return SyndicationPost.objects.bulk_create(made, batch_size=1000)


def common_story():
    from stories.models import StoryPage

    return StoryPage.objects.first()


def build_site(options, server) -> list:
    import django

    django.setup()
    from django.db import connection

    started = time.monotonic()
    common.add_stories(1)
    accounts = common.mastodon_accounts(server, ACCOUNTS)
    publish(server, accounts, options.posts, options.replies, 0)
    connection.close()
    log(
        f"built the site: {options.posts} posts with {options.replies} replies each "
        f"({time.monotonic() - started:.1f}s)"
    )
    return accounts


# --- Workers -----------------------------------------------------------------------------
def start_worker(env, tag: str, concurrency: int, log_path: Path) -> subprocess.Popen:
    pool = ["-P", "solo"] if concurrency == 1 else ["-P", "prefork", "-c", str(concurrency)]
    args = [CELERY, "-A", "cms", "worker", *pool, "-Q", f"{tag}-default"]
    args += ["--without-gossip", "--without-mingle", "--without-heartbeat", "-l", "INFO"]
    with log_path.open("wb") as out:
        return subprocess.Popen(
            args,
            cwd=ROOT,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )


def wait_ready(process: subprocess.Popen, log_path: Path, seconds: float) -> None:
    ends = time.monotonic() + seconds
    while time.monotonic() < ends:
        if process.poll() is not None:
            sys.stderr.write(common.log_tail(log_path))
            raise BenchError(f"the worker exited early with code {process.returncode}")
        if " ready." in common.log_tail(log_path, 20000):
            return
        time.sleep(0.2)
    sys.stderr.write(common.log_tail(log_path))
    raise BenchError(f"the worker was not ready within {seconds:.0f}s")


def stop(process: subprocess.Popen) -> None:
    if process.poll() is None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, 15)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, 9)
            process.wait()


# --- Measures -----------------------------------------------------------------------------
def collected_count() -> int:
    from django.db import connection

    from syndication.conversation.models import CollectionState

    count = CollectionState.objects.filter(last_collected_at__isnull=False).count()
    connection.close()
    return count


def stored_figures(replies_made: int) -> dict:
    from django.db.models import Count

    from syndication.conversation.models import CollectionState, ConversationItem

    items = ConversationItem.objects.count()
    shared = (
        ConversationItem.objects.values("network", "remote_id")
        .annotate(rows=Count("pk"))
        .filter(rows__gt=1)
    )
    replies = ConversationItem.objects.filter(kind="reply", deleted=False).count()
    failed = CollectionState.objects.exclude(last_error="").count()
    return {
        "items": items,
        "duplicates": sum(row["rows"] - 1 for row in shared) + max(0, replies - replies_made),
        "replies_stored": replies,
        "replies_made": replies_made,
        "failed": failed,
    }


def queries_per_post(options, server, accounts) -> list[int]:
    """Queries of ``collect_post`` (in this process) for ``--sample`` new posts."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from syndication.conversation import collect

    made = publish(server, accounts, options.sample, options.replies, options.posts)
    collect.ensure_states()
    counts = []
    for post_id, claim in collect.claim_due():
        if post_id not in {post.pk for post in made}:
            continue
        with CaptureQueriesContext(connection) as captured:
            outcome = collect.collect_post(post_id, claim)
        if outcome.get("outcome") != "collected":
            log(f"sample post {post_id}: {outcome}")
        counts.append(len(captured.captured_queries))
    return counts


def run(options) -> dict:
    from syndication.testing.mastodon_server import MastodonTestServer

    broker = redis_url()
    tag = f"bench-{uuid.uuid4().hex[:8]}"
    tmp = Path(tempfile.mkdtemp(prefix="storyloom-bench-backfeed-"))
    drop = None
    worker = None
    try:
        database_url, drop = make_database(tmp, tag)
        if database_url.startswith("sqlite") and options.concurrency > 1:
            # Two processes writing one SQLite file fail with "database is locked".
            log("SQLite: one worker process (set BENCH_DATABASE_URL for PostgreSQL and 2)")
            options.concurrency = 1
        env = site_env(tmp, database_url, broker, tag)
        os.environ.update(env)
        # No rate limit: the pass measures Storyloom, not the server's 300 a window.
        with MastodonTestServer(rate_limit=10**9) as server:
            accounts = build_site(options, server)
            log_path = tmp / "worker.log"
            worker = start_worker(env, tag, options.concurrency, log_path)
            wait_ready(worker, log_path, 60)
            log(f"worker ready ({options.concurrency} processes); dispatching")

            from cms.celery import app  # noqa: F401 (binds the shared tasks to the app)
            from syndication.conversation import collect, tasks

            def enqueue(post_id, claim):
                tasks.collect_conversation.delay(post_id, claim)

            started = time.monotonic()
            while collect.dispatch(enqueue)["queued"]:
                pass  # 500 claimed a dispatch: claim until none is left
            done = 0
            while time.monotonic() < started + options.timeout:
                done = collected_count()
                if done >= options.posts:
                    break
                if worker.poll() is not None:
                    raise BenchError(f"the worker exited early; see {log_path}")
                time.sleep(0.1)
            seconds = time.monotonic() - started
            if done < options.posts:
                raise BenchError(f"only {done} of {options.posts} posts collected in time")
            log(f"collected {done} posts in {seconds:.1f}s")
            stop(worker)
            figures = stored_figures(options.posts * options.replies)
            sample = queries_per_post(options, server, accounts)
            context_requests = server.hits.get("status_context", 0)
        return {
            "posts": options.posts,
            "items": figures["items"],
            "seconds": round(seconds, 2),
            "duplicates": figures["duplicates"],
            "queries_per_post": max(sample) if sample else None,
            "queries_sample": sample,
            "replies_made": figures["replies_made"],
            "replies_stored": figures["replies_stored"],
            "failed_posts": figures["failed"],
            "context_requests": context_requests,
            "workers": options.concurrency,
            "database": "postgresql" if "postgres" in database_url else "sqlite",
        }
    finally:
        if worker is not None:
            stop(worker)
        with contextlib.suppress(Exception):
            from django.db import connections

            connections.close_all()
        try:
            import redis

            client = redis.Redis.from_url(broker)
            for key in client.scan_iter(f"{tag}*"):
                client.delete(key)
        except Exception as exc:  # cleanup must not hide the result
            log(f"could not clean up Redis keys: {exc}")
        if drop is not None:
            try:
                drop()
            except Exception as exc:
                log(f"could not drop the database: {exc}")
        shutil.rmtree(tmp, ignore_errors=True)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--posts", type=int, default=1000)
    parser.add_argument("--replies", type=int, default=50)
    parser.add_argument("--concurrency", type=int, default=2, help="worker processes")
    parser.add_argument("--sample", type=int, default=5, help="posts whose queries are counted")
    parser.add_argument("--timeout", type=float, default=300)
    options = parser.parse_args()
    figures = {}
    code = common.run_main("backfeed.py", lambda: figures.update(run(options)))
    if code:
        return code
    rows = [
        ("posts collected", figures["posts"]),
        ("items stored", figures["items"]),
        ("replies made / stored", f"{figures['replies_made']} / {figures['replies_stored']}"),
        ("collection pass, s", figures["seconds"]),
        ("duplicates", figures["duplicates"]),
        ("posts that failed", figures["failed_posts"]),
        ("queries per post (sample)", figures["queries_sample"]),
        ("worker processes", figures["workers"]),
        ("database", figures["database"]),
    ]
    common.print_measures(rows)
    keys = ("posts", "items", "seconds", "duplicates", "queries_per_post")
    print(json.dumps({key: figures[key] for key in keys}))
    return 0 if figures["duplicates"] == 0 and figures["failed_posts"] == 0 else 2


if __name__ == "__main__":
    sys.exit(main())
