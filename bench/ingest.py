"""Ingestion benchmark: valid events into ``POST /e/`` under gunicorn, then flushed, none lost.

Builds a throw-away site in a temporary directory (production settings, SQLite there
unless BENCH_DATABASE_URL names another database) with a few stories, serves it with
gunicorn on 127.0.0.1 as the collector process runs it (``cms.asgi``, 2 uvicorn workers;
``--worker-class gthread`` measures the web process's WSGI path instead) with events buffered in a
Redis stream of its own (REDIS_URL, default redis://127.0.0.1:6379/0), and sends valid
events for --seconds from a separate load-generator process (epoll, persistent HTTP/1.1
connections where the server keeps them open), --rounds times against the same server.
Then it runs the flusher until the stream is empty and compares the events the collector
accepted (202) in all rounds with those counted in the rollups.

    .venv/bin/python bench/ingest.py [--seconds S (20)] [--rounds N (3)]
        [--connections C (16)] [--worker-class uvicorn|gthread|sync] [--threads T (2)]
        [--workers W (2)] [--no-limits] [--keep]

Progress goes to stderr. Stdout carries a table per round and a summary, then, as its
last line, one JSON object: {"events_per_s", "p50_ms", "p99_ms", "accepted", "counted",
"rounds"} — rate and latencies from the round with the median rate (the machines'
neighbours take CPU in bursts), accepted and counted over all rounds.
"""

import argparse
import contextlib
import http.client
import json
import os
import random
import secrets
import shutil
import string
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import common
from common import (
    HOST,
    ROOT,
    BenchError,
    cpu_seconds,
    describe,
    free_port,
    log,
    log_tail,
    percentile,
    redis_url,
    stop_gunicorn,
)

# Inherited variables that would point the throw-away site at something else.
STRIPPED_ENV = (
    *common.STRIPPED_ENV,
    "DEBUG",
    "ENGAGEMENT_REDIS_URL",
    "ENGAGEMENT_STREAM",
    *common.GUNICORN_ENV,
)
USER_AGENTS = [
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/126.0.0.0 Safari/537.36",
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:127.0) Gecko/20100101 Firefox/127.0",
]
LANDINGS = [
    {},
    {"r": "https://www.google.com/"},
    {"r": "https://news.example.org/2026/today?ref=front"},
    {"u": {"source": "mastodon", "medium": "social", "campaign": "tap", "content": "41"}},
    {"u": {"source": "bluesky", "medium": "social", "campaign": "tap", "content": "42"}},
    {"u": {"medium": "newsletter", "source": "weekly"}},
]


# --- Setting up the site ----------------------------------------------------------


def site_env(tmp: Path, redis: str, stream: str) -> dict[str, str]:
    from cryptography.fernet import Fernet

    env = common.inherited_env(STRIPPED_ENV)
    alphabet = string.ascii_letters + string.digits + "!#%&()*+-.:;<=>?@^_~"
    env.update(
        STORYLOOM_VAR_DIR=str(tmp / "var"),
        MEDIA_ROOT=str(tmp / "media"),
        STATIC_ROOT=str(tmp / "static"),
        DJANGO_SETTINGS_MODULE="cms.settings.production",
        SECRET_KEY="".join(secrets.choice(alphabet) for _ in range(50)),
        SYNDICATION_TOKEN_KEYS=Fernet.generate_key().decode(),
        ALLOWED_HOSTS=f"{HOST},localhost",
        SECURE_SSL_REDIRECT="false",
        ENGAGEMENT_REDIS_URL=redis,
        ENGAGEMENT_STREAM=stream,
        # The load comes from one address: limits so high they never bite, so the
        # collector still pays for counting (its EVAL) without refusing anything.
        ENGAGEMENT_EVENTS_PER_MINUTE="1000000000",
        ENGAGEMENT_EVENTS_PER_MINUTE_PER_ADDRESS="1000000000",
        LOG_LEVEL="WARNING",
        PYTHONUNBUFFERED="1",
    )
    # Production settings require DATABASE_URL: a SQLite file in the throw-away
    # directory unless BENCH_DATABASE_URL names another database.
    env["DATABASE_URL"] = os.environ.get("BENCH_DATABASE_URL", "").strip() or (
        f"sqlite:///{tmp / 'var' / 'storyloom.sqlite3'}"
    )
    return env


def run_child(env: dict[str, str], timeout: float, *args: str) -> dict:
    """Run this script in a child process (same environment as the server); its JSON."""
    return common.run_child(__file__, env, timeout, *args)


def django_setup() -> None:
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()


def child_build(stories: int) -> dict:
    """Migrate the empty database and add ``stories`` live stories; their ids."""
    django_setup()
    return {"stories": [story.pk for story in common.add_stories(stories)]}


def child_flush() -> dict:
    """Flush the stream until it is empty; the events flushed and the rollups' total."""
    django_setup()
    from django.conf import settings
    from django.db.models import Sum

    from syndication.engagement import flush
    from syndication.engagement.buffer import redis_client
    from syndication.engagement.models import EngagementRollup

    client = redis_client()
    stream = settings.ENGAGEMENT_STREAM
    started = time.monotonic()
    totals = Counter()
    while True:
        outcome = flush.flush(batch_size=5000, seconds=600)
        totals.update({key: outcome[key] for key in ("batches", "events", "duplicate")})
        if client.xlen(stream) == 0 and not client.xpending(stream, flush.GROUP)["pending"]:
            break
        time.sleep(0.2)
    counted = EngagementRollup.objects.aggregate(total=Sum("count"))["total"] or 0
    return {**totals, "counted": counted, "seconds": time.monotonic() - started}


# --- gunicorn ------------------------------------------------------------------------


WORKER_CLASSES = {
    # The collector process (Procfile's collector): an event loop per worker.
    "uvicorn": ("cms.asgi:application", "uvicorn_worker.UvicornWorker"),
    # The web process, which answers POST /e/ too (syndication.engagement.wsgi).
    "gthread": ("cms.wsgi", "gthread"),
    "sync": ("cms.wsgi", "sync"),
}


def start_gunicorn(
    env: dict[str, str], tmp: Path, port: int, worker_class: str, threads: int, workers: int
) -> tuple[subprocess.Popen, Path]:
    target, gunicorn_class = WORKER_CLASSES[worker_class]
    return common.start_gunicorn(
        env, tmp, port, target, gunicorn_class, threads, workers, label=f"gunicorn {target}"
    )


def probe(port: int) -> None:
    """An empty event: a 400 proves the collector answers, and nothing is counted."""
    connection = http.client.HTTPConnection(HOST, port, timeout=5)
    try:
        headers = {"Content-Type": "text/plain", "User-Agent": USER_AGENTS[0]}
        connection.request("POST", "/e/", body=b"{}", headers=headers)
        response = connection.getresponse()
        response.read()
        if response.status != 400:
            raise BenchError(f"POST /e/ {{}} answered HTTP {response.status}, not 400")
    finally:
        connection.close()


def wait_until_serving(process: subprocess.Popen, port: int, log_path: Path, seconds: float):
    common.wait_until_serving(process, port, log_path, seconds, probe)


# --- Load (its own process, so the generator and the server don't share a GIL) ---------


def requests_for(story_ids: list[int], count: int = 2000) -> list[bytes]:
    """``count`` raw HTTP requests carrying a realistic mix of valid events."""
    rng = random.Random(20261123)
    made = []
    for number in range(count):
        story = rng.choice(story_ids)
        kind = rng.choice(["view"] * 4 + ["engaged_read", "read_through", "link_follow", "share"])
        event = {"t": kind, "s": story, **rng.choice(LANDINGS)}
        if kind == "engaged_read":
            event.update(ms=rng.randint(15_000, 600_000), sd=rng.randint(75, 100))
        elif kind == "link_follow":
            event.update(to=rng.choice(story_ids), k=rng.choice(["continues", "related"]))
        elif kind == "share":
            event["n"] = rng.choice(["mastodon", "bluesky", "copy"])
        body = json.dumps(event).encode()
        head = (
            f"POST /e/ HTTP/1.1\r\nHost: {HOST}\r\n"
            f"User-Agent: {rng.choice(USER_AGENTS)}\r\n"
            "Content-Type: text/plain;charset=UTF-8\r\n"
            f"X-Forwarded-For: 10.{number % 250}.{number // 250 % 250}.{rng.randint(1, 250)}\r\n"
            f"Content-Length: {len(body)}\r\n\r\n"
        )
        made.append(head.encode() + body)
    return made


def load(port: int, requests: list[bytes], seconds: float, connections: int) -> dict:
    """``connections`` clients, each sending its next event as soon as the last is answered."""
    measured = common.load(port, requests, seconds, connections)
    latencies = measured["latencies"]
    return {
        "seconds": measured["wall"],
        "statuses": {str(code): n for code, n in measured["statuses"].items()},
        "errors": dict(measured["errors"]),
        "connections_opened": measured["opened"],
        "p50_ms": percentile(latencies, 50) * 1000 if latencies else None,
        "p90_ms": percentile(latencies, 90) * 1000 if latencies else None,
        "p99_ms": percentile(latencies, 99) * 1000 if latencies else None,
        "max_ms": latencies[-1] * 1000 if latencies else None,
    }


def child_load(port: int, stories: list[int], seconds: float, connections: int) -> dict:
    return load(port, requests_for(stories), seconds, connections)


# --- Reporting -----------------------------------------------------------------------


def table(rows: list[tuple[str, str]]) -> str:
    width = max(len(name) for name, _ in rows)
    return "\n".join(f"{name.ljust(width)}  {value}" for name, value in rows)


# --- Main ------------------------------------------------------------------------------


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description="Benchmark Storyloom's event collector under gunicorn, then check for loss."
    )
    parser.add_argument("--seconds", type=float, default=20.0, help="seconds of load per round")
    parser.add_argument(
        "--rounds", type=int, default=3, help="rounds of load; the median round is reported"
    )
    parser.add_argument("--connections", type=int, default=16, help="concurrent connections")
    parser.add_argument("--stories", type=int, default=8, help="live stories in the site")
    parser.add_argument(
        "--worker-class",
        choices=list(WORKER_CLASSES),
        default="uvicorn",
        help="uvicorn: the collector process (cms.asgi); gthread or sync: the web process "
        "(cms.wsgi; sync closes the connection after each event)",
    )
    parser.add_argument("--threads", type=int, default=2, help="threads per gthread worker")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn worker processes")
    parser.add_argument(
        "--no-limits",
        action="store_true",
        help="rate limits off (a plain XADD per event) instead of counted but never reached",
    )
    parser.add_argument("--keep", action="store_true", help="keep the temporary directory")
    parser.add_argument("--child", choices=["build", "load", "flush"], help=argparse.SUPPRESS)
    parser.add_argument("--port", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--story-ids", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    for name in ("seconds", "rounds", "connections", "stories", "threads", "workers"):
        if getattr(args, name) <= 0:
            parser.error(f"--{name} must be positive")
    return args


def run(args: argparse.Namespace) -> None:
    redis = redis_url()
    stream = f"storyloom:bench-events:{uuid.uuid4().hex[:10]}"
    tmp = Path(tempfile.mkdtemp(prefix="storyloom-bench-ingest-"))
    log(f"working in {tmp}; events go to the Redis stream {stream}")
    env = site_env(tmp, redis, stream)
    if args.no_limits:
        env["ENGAGEMENT_EVENTS_PER_MINUTE"] = env["ENGAGEMENT_EVENTS_PER_MINUTE_PER_ADDRESS"] = "0"
    gunicorn = None
    try:
        log(f"migrating and adding {args.stories} stories")
        story_ids = run_child(env, 300, "--child", "build", "--stories", str(args.stories))[
            "stories"
        ]
        port = free_port()
        gunicorn, log_path = start_gunicorn(
            env, tmp, port, args.worker_class, args.threads, args.workers
        )
        wait_until_serving(gunicorn, port, log_path, 60)

        rounds = []
        cpu_before = cpu_seconds(gunicorn.pid)
        for number in range(1, args.rounds + 1):
            log(
                f"round {number}/{args.rounds}: sending events for {args.seconds:.0f}s "
                f"over {args.connections} connections"
            )
            loaded = run_child(
                env,
                args.seconds + 120,
                "--child",
                "load",
                "--port",
                str(port),
                "--story-ids",
                json.dumps(story_ids),
                "--seconds",
                str(args.seconds),
                "--connections",
                str(args.connections),
            )
            loaded["accepted"] = int(loaded["statuses"].get("202", 0))
            loaded["events_per_s"] = loaded["accepted"] / loaded["seconds"]
            loaded["load"] = os.getloadavg()[0]
            rounds.append(loaded)
            if gunicorn.poll() is not None:
                sys.stderr.write(log_tail(log_path))
                raise BenchError("gunicorn died during the load")
        server_cpu = cpu_seconds(gunicorn.pid) - cpu_before
        server = describe(args.worker_class, args.threads, args.workers)
        stop_gunicorn(gunicorn)  # graceful: every request answered was buffered
        gunicorn = None

        log("flushing the stream into the rollups")
        flushed = run_child(env, 600, "--child", "flush")

        # This machine's neighbours take CPU time in bursts: the round with the median
        # rate is reported; loss is checked over every event of every round.
        median = sorted(rounds, key=lambda r: r["events_per_s"])[len(rounds) // 2]
        accepted = sum(r["accepted"] for r in rounds)
        refused = sum(n for r in rounds for code, n in r["statuses"].items() if code != "202")
        errors = Counter()
        for r in rounds:
            errors.update(r["errors"])
        print("round  events/s  p50 ms  p99 ms  max ms  accepted  load (1 min)")
        for number, r in enumerate(rounds, 1):
            print(
                f"{number:>5}  {r['events_per_s']:>8.0f}  {r['p50_ms']:>6.2f}  {r['p99_ms']:>6.2f}"
                f"  {r['max_ms']:>6.2f}  {r['accepted']:>8}  {r['load']:>12.2f}"
                + ("  <- median" if r is median else "")
            )
        print()
        print(
            table(
                [
                    ("gunicorn", f"{WORKER_CLASSES[args.worker_class][0]}, {server}"),
                    ("connections", f"{args.connections} per round"),
                    ("rounds", f"{args.rounds} x {args.seconds:.0f}s"),
                    ("accepted (202)", str(accepted)),
                    ("other answers", str(refused)),
                    ("errors", json.dumps(dict(errors))),
                    ("events/s (median round)", f"{median['events_per_s']:.0f}"),
                    ("p50 ms (median round)", f"{median['p50_ms']:.2f}"),
                    ("p99 ms (median round)", f"{median['p99_ms']:.2f}"),
                    ("server CPU ms/event", f"{1000 * server_cpu / max(accepted, 1):.3f}"),
                    ("flushed batches", str(flushed["batches"])),
                    ("flush seconds", f"{flushed['seconds']:.1f}"),
                    ("counted", str(flushed["counted"])),
                    ("lost", str(accepted - flushed["counted"])),
                ]
            )
        )
        summary = {
            "events_per_s": round(median["events_per_s"], 1),
            "p50_ms": round(median["p50_ms"], 2),
            "p99_ms": round(median["p99_ms"], 2),
            "accepted": accepted,
            "counted": flushed["counted"],
            "rounds": [round(r["events_per_s"], 1) for r in rounds],
        }
        print(json.dumps(summary), flush=True)
        if refused or errors:
            raise BenchError(f"{refused} events refused and {dict(errors)} errors")
        if flushed["counted"] != accepted:
            raise BenchError(f"accepted {accepted} events but counted {flushed['counted']}")
    finally:
        if gunicorn is not None:
            stop_gunicorn(gunicorn)
        with contextlib.suppress(Exception):
            import redis as redis_py

            redis_py.Redis.from_url(redis).delete(stream, f"{stream}:flush-lock")
        if args.keep:
            log(f"kept {tmp}")
        else:
            shutil.rmtree(tmp, ignore_errors=True)


def main(argv: list[str]) -> int:
    args = parse_args(argv)
    if args.child == "build":
        print(json.dumps(child_build(args.stories)))
        return 0
    if args.child == "load":
        figures = child_load(args.port, json.loads(args.story_ids), args.seconds, args.connections)
        print(json.dumps(figures))
        return 0
    if args.child == "flush":
        print(json.dumps(child_flush()))
        return 0
    return common.run_main("ingest.py", lambda: run(args))


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
