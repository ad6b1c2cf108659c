"""Reading-page benchmark: cached and uncached story, hub and home pages, and the floor.

Builds a throw-away site in a temporary directory (SQLite there unless
BENCH_DATABASE_URL names another database), fills it with ``load_demo --stories N``
(10,000 by default), and serves it with gunicorn on 127.0.0.1 with the production
settings, the page cache in Redis (REDIS_URL, default redis://127.0.0.1:6379/0, under
a key prefix of its own that is deleted afterwards) and one gunicorn set-up for every
row. Each row is loaded for --seconds from --connections keep-alive connections by an
epoll load generator in this process (after a short warm-up that is not counted):

* ``*_cached``: the stored page, as every reader after the first gets it; every
  answer must say ``X-Cache: hit``.
* ``*_uncached``: the same URL with a header that only this benchmark's settings
  honour (``PAGE_CACHE_FORCE_MISS_HEADER``): the lookup is made and ignored, Django
  renders the page and it is stored again. The content version does not move
  between requests, so the process renders from its copies for that version
  (``stories.render_cache``): what a page purged on its own costs. The first reader
  after a publish pays more (docs/architecture.md, "Reading pages in a fixed number of
  queries"). Every answer must say ``X-Cache: miss``.
* ``*_after_publish``: a forced miss as above, after what publishing the newest story
  again (with every interest) does to the caches, made before each request by the
  benchmark's WSGI wrapper, before its clock starts: the content version moves on and
  the story's tags, the listings' and every interest's stories' are purged
  (``stories.signals``). Each render is the first after a publish that touches every
  listing and every story's "More on…": what the first reader after a publish pays.
* ``floor``: a minimal Django view returning the cached story page's bytes from
  memory, through the same middleware, settings and gunicorn (a URL of the
  benchmark's own urlconf, dispatched straight to Django: no page-cache lookup).

The benchmark's settings module and urlconf are written into the temporary directory
(``cms.settings.production`` plus a cache key prefix, the miss header and the floor's
URL), so nothing of it reaches production. Logging is at WARNING (no access line per
request), which makes the floor faster, not slower.

``render_ms`` in each row is the median server CPU time of one request: the benchmark's
WSGI wrapper reads the serving thread's CPU clock (``time.thread_time``, so the other
threads of a gthread worker do not count) from the call to the last byte of the body,
and appends it to a file per worker process. It holds under load from other processes,
where the latencies do not. The site has ``--interests`` interests (100 by default: the
demo's own and generated topics shared out among the generated stories).

    .venv/bin/python bench/pages.py [--stories N] [--interests I] [--seconds S] [--connections C]
        [--workers W] [--worker-class gthread|sync] [--threads T] [--keep]
        [--storm-seconds S] [--storm-only]

Progress goes to stderr. Stdout carries a table, then, as its last line, one JSON
object with ``story_cached``, ``story_uncached``, ``story_after_publish``, the same three
for ``hub`` and ``home``, and ``floor``, each
``{"render_ms", "rps", "p50_ms", "p99_ms", "requests"}``, and ``ratios``, ``targets``,
``machine``, ``stories``, ``interests`` and ``purge_storm`` (bench/purge_storm.py:
``renders_per_purge``, ``p99_ms``, ``max_stale_s``; null with ``--storm-seconds 0``).
"""

import argparse
import contextlib
import json
import math
import os
import secrets
import shutil
import string
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import common
import purge_storm
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

HUB_INTEREST = "pets"
FLOOR_PATH = "/__bench__/floor/"
MISS_HEADER = "X-Bench-Miss"
#: The header's value for a render as the first after a story is published.
AFTER_PUBLISH = "publish"
ROWS = (
    ("story_cached", "story", False),
    ("story_uncached", "story", True),
    ("story_after_publish", "story", AFTER_PUBLISH),
    ("hub_cached", "hub", False),
    ("hub_uncached", "hub", True),
    ("hub_after_publish", "hub", AFTER_PUBLISH),
    ("home_cached", "home", False),
    ("home_uncached", "home", True),
    ("home_after_publish", "home", AFTER_PUBLISH),
    ("floor", "floor", False),
)
# Inherited variables that would point the throw-away site at something else.
STRIPPED_ENV = (
    *common.STRIPPED_ENV,
    "DEBUG",
    "ENGAGEMENT_REDIS_URL",
    *common.GUNICORN_ENV,
    "PAGE_CACHE_ENABLED",
    "FRONTEND_CACHE_BACKEND",
)
TARGET_VS_FLOOR = 0.5
TARGET_P99_MS = 20.0
# Server CPU of a render that misses the page cache (issue 18: a third of bakerydemo's
# blog post and home page or less), both with nothing else changed and after a publish.
TARGET_STORY_RENDER_MS = 6.0
TARGET_HOME_RENDER_MS = 15.0

SETTINGS_MODULE = """\
# Written by bench/pages.py: the production settings, plus what the benchmark needs.
from cms.settings.production import *  # noqa: F403
from cms.settings.production import CACHES

CACHES["default"]["KEY_PREFIX"] = {prefix!r}
PAGE_CACHE_FORCE_MISS_HEADER = "HTTP_{miss_header}"
ROOT_URLCONF = "bench_urls"
"""

URLCONF_MODULE = """\
# Written by bench/pages.py: the site's URLs and the floor, a view returning fixed bytes.
from pathlib import Path

from django.http import HttpResponse
from django.urls import path

from cms.urls import urlpatterns as site_urlpatterns

_content = []


def floor(request):
    if not _content:
        _content.append((Path(__file__).parent / "floor.html").read_bytes())
    return HttpResponse(_content[0], content_type="text/html; charset=utf-8")


urlpatterns = [path({floor_route!r}, floor), *site_urlpatterns]
"""

WSGI_MODULE = """\
# Written by bench/pages.py: the site's application; the floor goes straight to Django.
# Each request's CPU time (its own thread's, so other threads of a gthread worker do not
# count) is appended to a file per worker process, for render_ms.
import os
import time

from django.core.wsgi import get_wsgi_application

from cms.wsgi import application as site

django_only = get_wsgi_application()
_log = {{}}


def _record(seconds):
    pid = os.getpid()
    if pid not in _log:
        path = os.path.join({cpu_dir!r}, f"{{pid}}.txt")
        _log.clear()
        _log[pid] = open(path, "a", buffering=1)  # noqa: SIM115
    _log[pid].write(f"{{seconds * 1e6:.0f}}\\n")


_publish_tags = []


def _published():
    # What publishing the newest story again, with every interest, does to the caches,
    # before the clock starts (stories.signals): the content version moves on (the
    # listings are worked out again) and the tags are purged: the story, the listings,
    # and every interest's stories (each story page's "More on..." is worked out again).
    from stories.page_cache import STORIES, index_tag, interest_stories_tag, page_tag, purge_tags
    from stories.render_cache import bump_story_version
    from stories.sitemap import SITEMAP

    if not _publish_tags:
        from stories.models import AudienceInterest, StoryPage

        newest = StoryPage.objects.live().order_by("-first_published_at", "-pk").first()
        parent = newest.get_parent()
        _publish_tags.extend([page_tag(newest.pk), STORIES, SITEMAP, index_tag(parent.pk)])
        for pk in AudienceInterest.objects.values_list("pk", flat=True):
            _publish_tags.append(interest_stories_tag(pk))
    bump_story_version()
    purge_tags(_publish_tags)


def application(environ, start_response):
    if environ.get({move_header!r}) == {after_publish!r}:
        _published()
    started = time.thread_time()
    app = django_only if environ.get("PATH_INFO") == {floor_path!r} else site
    body = app(environ, start_response)
    try:
        chunks = list(body)
    finally:
        if hasattr(body, "close"):
            body.close()
    _record(time.thread_time() - started)
    return chunks
"""


class Deadline:
    def __init__(self, seconds: float):
        self.ends = time.monotonic() + seconds

    def left(self, reserve: float = 0.0) -> float:
        seconds = self.ends - time.monotonic() - reserve
        if seconds <= 0:
            raise BenchError("the overall time cap was reached; try fewer --stories or --seconds")
        return seconds


def targets(results: dict) -> list[tuple[str, str, bool, str]]:
    """(JSON key, what was measured, met, the target) for each target of the benchmark."""
    story, floor = results["story_cached"], results["floor"]["rps"]
    found = [
        (
            "story_cached_vs_floor_at_least_half",
            f"story cached/floor {ratio(story['rps'], floor):.2f}x",
            ratio(story["rps"], floor) >= TARGET_VS_FLOOR,
            f">= {TARGET_VS_FLOOR:g}x",
        ),
        (
            "story_cached_p99_under_20ms",
            f"story cached p99 {story['p99_ms']:.2f} ms",
            story["p99_ms"] < TARGET_P99_MS,
            f"< {TARGET_P99_MS:g} ms",
        ),
    ]
    # The bounds: a story page rendered again on its own (a story is purged only
    # by publishes that touch what it shows), the home page also after a publish (every
    # publish purges it).
    for row, most in [
        ("story_uncached", TARGET_STORY_RENDER_MS),
        ("home_uncached", TARGET_HOME_RENDER_MS),
        ("home_after_publish", TARGET_HOME_RENDER_MS),
    ]:
        render = results[row]["render_ms"]
        found.append(
            (
                f"{row}_render_at_most_{most:g}ms",
                f"{row} render {render:.2f} ms",
                render <= most,
                f"<= {most:g} ms",
            )
        )
    return found


def machine() -> dict:
    return {"cores": os.cpu_count(), "load_1m": round(os.getloadavg()[0], 2)}


# --- Setting up the site ----------------------------------------------------------


def write_modules(tmp: Path, prefix: str) -> Path:
    folder = tmp / "benchsite"
    folder.mkdir()
    (folder / "bench_settings.py").write_text(
        SETTINGS_MODULE.format(prefix=prefix, miss_header=MISS_HEADER.upper().replace("-", "_"))
    )
    (folder / "bench_urls.py").write_text(URLCONF_MODULE.format(floor_route=FLOOR_PATH[1:]))
    (folder / "cpu").mkdir()
    (folder / "bench_wsgi.py").write_text(
        WSGI_MODULE.format(
            floor_path=FLOOR_PATH,
            cpu_dir=str(folder / "cpu"),
            move_header="HTTP_" + MISS_HEADER.upper().replace("-", "_"),
            after_publish=AFTER_PUBLISH,
        )
    )
    return folder


def site_env(tmp: Path, modules: Path, redis: str) -> dict[str, str]:
    env = common.inherited_env(STRIPPED_ENV)
    alphabet = string.ascii_letters + string.digits + "!#%&()*+-.:;<=>?@^_~"
    from cryptography.fernet import Fernet

    env.update(
        STORYLOOM_VAR_DIR=str(tmp / "var"),
        MEDIA_ROOT=str(tmp / "media"),
        STATIC_ROOT=str(tmp / "static"),
        DJANGO_SETTINGS_MODULE="bench_settings",
        PYTHONPATH=os.pathsep.join(filter(None, [str(modules), str(ROOT), env.get("PYTHONPATH")])),
        SECRET_KEY="".join(secrets.choice(alphabet) for _ in range(50)),
        ALLOWED_HOSTS=f"{HOST},localhost",
        SECURE_SSL_REDIRECT="false",
        SYNDICATION_TOKEN_KEYS=Fernet.generate_key().decode(),
        REDIS_URL=redis,
        # Not the Redis of the page cache: nothing here is queued or streamed.
        CELERY_BROKER_URL="filesystem://",
        CELERY_RESULT_BACKEND=f"file://{tmp / 'var' / 'celery' / 'results'}",
        LOG_LEVEL="WARNING",
        PYTHONUNBUFFERED="1",
    )
    # Production settings require DATABASE_URL: a SQLite file in the throw-away
    # directory unless BENCH_DATABASE_URL names another database.
    env["DATABASE_URL"] = os.environ.get("BENCH_DATABASE_URL", "").strip() or (
        f"sqlite:///{tmp / 'var' / 'storyloom.sqlite3'}"
    )
    return env


def manage(env: dict[str, str], deadline: Deadline, *args: str, settings: str = "") -> None:
    """Run ``manage.py args`` with its output on our stderr."""
    if settings:
        env = {**env, "DJANGO_SETTINGS_MODULE": settings}
    label = " ".join(args)
    log(f"manage.py {label} ({env['DJANGO_SETTINGS_MODULE']})")
    started = time.monotonic()
    try:
        result = subprocess.run(
            [sys.executable, "manage.py", *args],
            cwd=ROOT,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=sys.stderr,
            stderr=sys.stderr,
            timeout=deadline.left(reserve=30),
            check=False,
        )
    except subprocess.TimeoutExpired:
        raise BenchError(f"manage.py {label} ran out of time") from None
    if result.returncode != 0:
        raise BenchError(f"manage.py {label} failed with exit code {result.returncode}")
    log(f"manage.py {args[0]} took {time.monotonic() - started:.1f}s")


def child(env: dict[str, str], deadline: Deadline, *args: str) -> dict:
    """Run this script in a Django-set-up child process and return the JSON it prints."""
    return common.run_child(__file__, env, deadline.left(reserve=10), *args)


def child_discover() -> dict:
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from stories.models import AudienceInterest, StoryIndexPage, StoryLink, StoryPage

    index = StoryIndexPage.objects.live().first()
    if index is None:
        raise SystemExit("no live StoryIndexPage: did migrate run?")
    # Hand-written stories come first and carry the editors' links.
    story = (
        StoryPage.objects.live()
        .filter(pk__in=StoryLink.objects.values("page_id"))
        .order_by("pk")
        .first()
    )
    if story is None:
        raise SystemExit("no live story with story links: did load_demo run?")
    return {
        "urls": {"home": "/", "story": story.get_url(), "hub": index.hub_url(HUB_INTEREST)},
        "stories": StoryPage.objects.live().count(),
        "interests": AudienceInterest.objects.count(),
    }


class CpuSamples:
    """Per-request CPU times the benchmark's WSGI wrapper appends, one file per worker."""

    def __init__(self, folder: Path):
        self.folder = folder
        self.offsets: dict[Path, int] = {}

    def take(self) -> list[float]:
        """Milliseconds of every request recorded since the last call."""
        samples = []
        for path in sorted(self.folder.glob("*.txt")):
            with path.open("rb") as file:
                file.seek(self.offsets.get(path, 0))
                data = file.read()
            complete = data[: data.rfind(b"\n") + 1]
            self.offsets[path] = self.offsets.get(path, 0) + len(complete)
            samples += [int(line) / 1000 for line in complete.split()]
        return samples


def delete_keys(redis: str, prefix: str) -> int:
    import redis as redis_py

    client = redis_py.Redis.from_url(redis)
    keys = list(client.scan_iter(f"{prefix}:*", count=1000))
    for start in range(0, len(keys), 1000):
        client.delete(*keys[start : start + 1000])
    return len(keys)


# --- gunicorn ------------------------------------------------------------------------


def start_gunicorn(env, tmp: Path, port: int, args) -> tuple[subprocess.Popen, Path]:
    return common.start_gunicorn(
        env, tmp, port, "bench_wsgi:application", args.worker_class, args.threads, args.workers
    )


def describe_args(args) -> str:
    return describe(args.worker_class, args.threads, args.workers)


def fetch(port: int, url: str, headers: dict | None = None) -> tuple[int, dict, bytes]:
    return common.http_request(
        port, "GET", url, headers={"X-Forwarded-Proto": "https", **(headers or {})}
    )


def wait_until_serving(process: subprocess.Popen, port: int, log_path: Path, seconds: float):
    common.wait_until_serving(
        process, port, log_path, seconds, lambda port: fetch(port, "/healthz")
    )


# --- Load ------------------------------------------------------------------------------


def request_bytes(port: int, url: str, miss: bool | str) -> bytes:
    head = (
        f"GET {url} HTTP/1.1\r\nHost: {HOST}:{port}\r\n"
        "User-Agent: storyloom-bench/1\r\nAccept: text/html\r\n"
        "X-Forwarded-Proto: https\r\n"
    )
    if miss:
        head += f"{MISS_HEADER}: {AFTER_PUBLISH if miss == AFTER_PUBLISH else 1}\r\n"
    return (head + "\r\n").encode()


def load(port: int, request: bytes, seconds: float, connections: int) -> dict:
    """``connections`` clients, each sending its next GET as soon as the last is answered."""
    measured = common.load(
        port, [request], seconds, connections, header=b"x-cache", recv_size=262144
    )
    latencies = measured["latencies"]
    if not latencies:
        raise BenchError("no request was answered")
    return {
        "rps": len(latencies) / measured["wall"],
        "p50_ms": percentile(latencies, 50) * 1000,
        "p99_ms": percentile(latencies, 99) * 1000,
        "requests": len(latencies),
        "statuses": {str(code): n for code, n in measured["statuses"].items()},
        "x_cache": dict(measured["header_values"]),
        "errors": dict(measured["errors"]),
    }


# --- Reporting -----------------------------------------------------------------------


def ratio(a: float, b: float) -> float:
    return a / b if b else math.inf


def table(rows: list[tuple[str, ...]]) -> str:
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    lines = []
    for number, row in enumerate(rows):
        cells = [
            cell.ljust(width) if i < 2 else cell.rjust(width)
            for i, (cell, width) in enumerate(zip(row, widths, strict=True))
        ]
        lines.append("  ".join(cells).rstrip())
        if number == 0:
            lines.append("  ".join("-" * width for width in widths))
    return "\n".join(lines)


def report(urls, results, args, stories, interests, machines, server_cpu) -> str:
    floor = results["floor"]["rps"]
    rows = [
        (
            "row",
            "url",
            "render_ms",
            "rps",
            "p50_ms",
            "p99_ms",
            "requests",
            "x-cache",
            "vs_uncached",
            "vs_floor",
        )
    ]
    for name, page, _miss in ROWS:
        figures = results[name]
        uncached = results.get(f"{page}_uncached")
        vs_uncached = (
            f"{ratio(figures['rps'], uncached['rps']):.1f}x"
            if name.endswith("_cached") and uncached
            else "-"
        )
        rows.append(
            (
                name,
                FLOOR_PATH if page == "floor" else urls[page],
                f"{figures['render_ms']:.2f}",
                f"{figures['rps']:.1f}",
                f"{figures['p50_ms']:.2f}",
                f"{figures['p99_ms']:.2f}",
                str(figures["requests"]),
                ",".join(f"{k}:{v}" for k, v in sorted(figures["x_cache"].items())),
                vs_uncached,
                f"{ratio(figures['rps'], floor):.2f}x",
            )
        )
    checks = targets(results)
    lines = [
        table(rows),
        "",
        "render_ms: median server CPU time per request (the serving thread's, from the WSGI "
        "call to the last byte of the body)",
        f"site: {stories} live stories, {interests} interests; "
        f"gunicorn bench_wsgi ({describe_args(args)}), "
        f"production settings, page cache in Redis; {args.connections} keep-alive "
        f"connections, {args.seconds:g}s per row after {args.warmup:g}s warm-up",
        "server CPU ms/request: "
        + ", ".join(f"{name} {value:.2f}" for name, value in server_cpu.items()),
        f"machine: {machines[0]['cores']} cores; load (1 min) "
        f"{machines[0]['load_1m']} before, {machines[-1]['load_1m']} after; "
        "other processes on the machine share the cores, so figures are noisy",
        "targets: "
        + "; ".join(
            f"{text} ({'met' if ok else 'MISSED'}: {want})" for _k, text, ok, want in checks
        ),
    ]
    return "\n".join(lines)


# --- Main ------------------------------------------------------------------------------


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description="Benchmark Storyloom's reading pages, cached and uncached, under gunicorn."
    )
    parser.add_argument("--stories", type=int, default=10_000, help="stories in the demo site")
    parser.add_argument(
        "--interests", type=int, default=100, help="interests in the demo site (topped up)"
    )
    parser.add_argument("--seconds", type=float, default=10.0, help="seconds of load per row")
    parser.add_argument("--warmup", type=float, default=2.0, help="uncounted seconds per row")
    parser.add_argument("--connections", type=int, default=16, help="keep-alive connections")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn worker processes")
    parser.add_argument(
        "--worker-class",
        choices=["sync", "gthread"],
        default="gthread",
        help="gunicorn worker class (sync closes the connection after each request)",
    )
    parser.add_argument("--threads", type=int, default=2, help="threads per gthread worker")
    parser.add_argument(
        "--max-seconds", type=float, default=1800.0, help="overall cap on the whole run"
    )
    parser.add_argument("--keep", action="store_true", help="keep the temporary directory")
    parser.add_argument(
        "--storm-seconds",
        type=float,
        default=30.0,
        help="seconds of the purge storm (bench/purge_storm.py) after the rows; 0 skips it",
    )
    parser.add_argument(
        "--storm-only", action="store_true", help="only the purge storm, none of the rows"
    )
    parser.add_argument("--child", choices=["discover"], help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    for name in ("stories", "interests", "seconds", "connections", "workers", "threads"):
        if getattr(args, name) <= 0:
            parser.error(f"--{name.replace('_', '-')} must be positive")
    return args


def run(args: argparse.Namespace) -> None:
    deadline = Deadline(args.max_seconds)
    redis = redis_url()
    prefix = f"storyloom-bench-{uuid.uuid4().hex[:10]}"
    tmp = Path(tempfile.mkdtemp(prefix="storyloom-bench-pages-"))
    log(f"working in {tmp}; cached pages go to {redis} under the key prefix {prefix}")
    modules = write_modules(tmp, prefix)
    env = site_env(tmp, modules, redis)
    gunicorn = None
    try:
        if os.environ.get("BENCH_DATABASE_URL", "").strip():
            log("using BENCH_DATABASE_URL; load_demo tops that database up to --stories")
        dev = "cms.settings.dev"  # load_demo refuses production settings
        quiet = {**env, "REDIS_URL": "", "LOG_LEVEL": "WARNING"}  # the build needs no Redis
        manage(quiet, deadline, "migrate", "--noinput", "-v", "0", settings=dev)
        manage(env, deadline, "collectstatic", "--noinput", "-v", "0")
        manage(
            quiet,
            deadline,
            "load_demo",
            "--stories",
            str(args.stories),
            "--interests",
            str(args.interests),
            "--stories-only",  # no demo network, posts or readers: the pages alone
            settings=dev,
        )

        found = child(env, deadline, "--child", "discover")
        urls, stories, interests = found["urls"], found["stories"], found["interests"]
        log(
            f"{stories} live stories, {interests} interests; "
            f"story page {urls['story']}, hub {urls['hub']}"
        )

        port = free_port()
        gunicorn, log_path = start_gunicorn(env, tmp, port, args)
        wait_until_serving(gunicorn, port, log_path, min(60.0, deadline.left()))

        # The floor returns exactly the bytes readers get for the cached story page.
        status, headers, story_body = fetch(port, urls["story"])
        if status != 200:
            raise BenchError(f"{urls['story']} answered HTTP {status}")
        (modules / "floor.html").write_bytes(story_body)

        results, server_cpu, machines = {}, {}, [machine()]
        samples = CpuSamples(modules / "cpu")
        for name, page, miss in () if args.storm_only else ROWS:
            url = FLOOR_PATH if page == "floor" else urls[page]
            request = request_bytes(port, url, miss)
            extra = {MISS_HEADER: "1" if miss is True else miss} if miss else None
            status, headers, body = fetch(port, url, extra)
            if status != 200:
                raise BenchError(f"{url} answered HTTP {status}")
            if page == "floor" and body != story_body:
                raise BenchError("the floor does not return the story page's bytes")
            deadline.left(reserve=args.seconds + args.warmup + 30)
            log(f"{name}: {url} for {args.warmup:g}+{args.seconds:g}s, {args.connections} conns")
            load(port, request, args.warmup, args.connections)
            samples.take()  # the warm-up's and the check's
            cpu_before = cpu_seconds(gunicorn.pid)
            figures = load(port, request, args.seconds, args.connections)
            figures["render_ms"] = percentile(sorted(samples.take()), 50)
            server_cpu[name] = 1000 * (cpu_seconds(gunicorn.pid) - cpu_before) / figures["requests"]
            if gunicorn.poll() is not None:
                sys.stderr.write(log_tail(log_path))
                raise BenchError("gunicorn died during the load")
            expected = {"floor": "-"}.get(page, "miss" if miss else "hit")
            unexpected = {k: v for k, v in figures["x_cache"].items() if k != expected}
            if figures["errors"] or set(figures["statuses"]) != {"200"} or unexpected:
                raise BenchError(
                    f"{name}: statuses {figures['statuses']}, X-Cache {figures['x_cache']}, "
                    f"errors {figures['errors']}; the figures would be meaningless"
                )
            results[name] = figures
            log(
                f"  render {figures['render_ms']:.2f} ms CPU, {figures['rps']:.1f} req/s, "
                f"p50 {figures['p50_ms']:.2f} ms, "
                f"p99 {figures['p99_ms']:.2f} ms, load {os.getloadavg()[0]:.2f}"
            )
            machines.append(machine())
        storm = None
        if args.storm_seconds > 0:
            storm = purge_storm.run(
                port,
                env,
                urls["home"],
                args.storm_seconds,
                args.connections,
                timeout=deadline.left(30),
            )
            for text, ok, want in purge_storm.check(storm):
                log(f"  {text} ({'met' if ok else 'MISSED'}: {want})")
        stop_gunicorn(gunicorn)
        gunicorn = None
        if args.storm_only:
            print(json.dumps({"purge_storm": storm, "stories": stories, "machine": machine()}))
            return

        print(report(urls, results, args, stories, interests, machines, server_cpu))
        story, floor = results["story_cached"], results["floor"]
        summary = {
            name: {
                key: round(results[name][key], 2)
                for key in ("render_ms", "rps", "p50_ms", "p99_ms")
            }
            | {"requests": results[name]["requests"]}
            for name, _page, _miss in ROWS
        }
        summary["ratios"] = {
            f"{page}_cached_vs_uncached": round(
                ratio(results[f"{page}_cached"]["rps"], results[f"{page}_uncached"]["rps"]), 2
            )
            for page in ("story", "hub", "home")
        } | {"story_cached_vs_floor": round(ratio(story["rps"], floor["rps"]), 2)}
        summary["targets"] = {key: ok for key, _text, ok, _want in targets(results)}
        summary["machine"] = {
            "cores": machines[0]["cores"],
            "load_1m_before": machines[0]["load_1m"],
            "load_1m_after": machines[-1]["load_1m"],
        }
        summary["server"] = describe_args(args)
        summary["connections"] = args.connections
        summary["stories"] = stories
        summary["interests"] = interests
        summary["purge_storm"] = storm
        print(json.dumps(summary), flush=True)
    finally:
        if gunicorn is not None:
            stop_gunicorn(gunicorn)
        with contextlib.suppress(Exception):
            log(f"deleted {delete_keys(redis, prefix)} cache keys")
        if args.keep:
            log(f"kept {tmp}")
        else:
            shutil.rmtree(tmp, ignore_errors=True)


def main(argv: list[str]) -> int:
    args = parse_args(argv)
    if args.child == "discover":
        print(json.dumps(child_discover()))
        return 0
    return common.run_main("pages.py", lambda: run(args))


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
