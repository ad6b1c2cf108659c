"""Reading-page benchmark: the home page, a story, an interest hub and the site CSS.

Builds a throw-away site in a temporary directory (production settings, SQLite
there unless BENCH_DATABASE_URL names another database), fills it with
``load_demo --stories N``, serves it with gunicorn on 127.0.0.1 and measures each
page from outside (requests/s, p50 and p99 latency under concurrent clients) and
from inside (SQL queries per page, median server-side render time).

    .venv/bin/python bench/pages.py [--stories N] [--requests R] [--concurrency C] [--keep]

Progress goes to stderr. Stdout carries a table, then, as its last line, one JSON
object: {"home": {...}, "story": {...}, "hub": {...}, "static": {...}, "stories": N}
where each page has rps, p50_ms, p99_ms, queries and render_ms (warm: the rendered
page comes from the content-version cache) and, for HTML pages, queries_uncached and
render_uncached_ms (rendered afresh, as on the first visit after a publish).
"""

import argparse
import base64
import contextlib
import http.client
import json
import math
import os
import secrets
import shutil
import signal
import socket
import statistics
import string
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PAGES = ("home", "story", "hub", "static")
HUB_INTEREST = "pets"
HOST = "127.0.0.1"
PROXY_HEADERS = {"X-Forwarded-Proto": "https"}
# Inherited variables that would point the throw-away site at something else.
STRIPPED_ENV = (
    "DATABASE_URL",
    "DJANGO_SETTINGS_MODULE",
    "DEBUG",
    "REDIS_URL",
    "CELERY_BROKER_URL",
    "CELERY_RESULT_BACKEND",
    "GUNICORN_CMD_ARGS",
    "WEB_CONCURRENCY",
)


class BenchError(Exception):
    """A failure worth one clear line rather than a traceback."""


def log(message: str) -> None:
    print(f"[bench] {message}", file=sys.stderr, flush=True)


class Deadline:
    def __init__(self, seconds: float):
        self.ends = time.monotonic() + seconds

    def left(self, reserve: float = 0.0) -> float:
        seconds = self.ends - time.monotonic() - reserve
        if seconds <= 0:
            raise BenchError("the overall time cap was reached; try fewer --stories or --requests")
        return seconds


# --- Setting up the site ----------------------------------------------------------


def site_env(tmp: Path) -> dict[str, str]:
    env = {name: value for name, value in os.environ.items() if name not in STRIPPED_ENV}
    alphabet = string.ascii_letters + string.digits + "!#%&()*+-.:;<=>?@^_~"
    env.update(
        STORYLOOM_VAR_DIR=str(tmp / "var"),
        MEDIA_ROOT=str(tmp / "media"),
        STATIC_ROOT=str(tmp / "static"),
        DJANGO_SETTINGS_MODULE="cms.settings.production",
        SECRET_KEY="".join(secrets.choice(alphabet) for _ in range(50)),
        ALLOWED_HOSTS=f"{HOST},localhost",
        SECURE_SSL_REDIRECT="false",
        PYTHONUNBUFFERED="1",
        # Production settings require channel-token keys; a throw-away one will do.
        SYNDICATION_TOKEN_KEYS=base64.urlsafe_b64encode(secrets.token_bytes(32)).decode(),
    )
    database_url = os.environ.get("BENCH_DATABASE_URL", "").strip()
    if database_url:
        env["DATABASE_URL"] = database_url
    return env


def manage(env: dict[str, str], deadline: Deadline, *args: str, settings: str = "") -> None:
    """Run ``manage.py args`` with its output on our stderr."""
    # Wagtail logs every page created at INFO: thousands of lines for load_demo.
    env = {**env, "LOG_LEVEL": os.environ.get("LOG_LEVEL", "WARNING")}
    if settings:
        env["DJANGO_SETTINGS_MODULE"] = settings
    label = " ".join(args)
    log(f"manage.py {label} ({env['DJANGO_SETTINGS_MODULE']})")
    started = time.monotonic()
    sys.stderr.flush()
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
    try:
        result = subprocess.run(
            [sys.executable, str(Path(__file__).resolve()), *args],
            cwd=ROOT,
            env=env,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=deadline.left(reserve=10),
            check=False,
        )
    except subprocess.TimeoutExpired:
        raise BenchError(f"the {args[1]} child process ran out of time") from None
    lines = result.stdout.strip().splitlines()
    if result.returncode != 0 or not lines:
        sys.stderr.write(result.stderr[-4000:])
        raise BenchError(f"the {args[1]} child process failed (exit code {result.returncode})")
    return json.loads(lines[-1])


# --- gunicorn ------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        return sock.getsockname()[1]


def start_gunicorn(env: dict[str, str], tmp: Path, port: int) -> tuple[subprocess.Popen, Path]:
    # An empty config file keeps a stray ./gunicorn.conf.py from changing the set-up.
    config = tmp / "gunicorn.conf.py"
    config.write_text("")
    log_path = tmp / "gunicorn.log"
    command = [
        sys.executable,
        "-m",
        "gunicorn",
        "cms.wsgi",
        "--config",
        str(config),
        "--bind",
        f"{HOST}:{port}",
        "--workers",
        "2",
        "--threads",
        "1",
        "--timeout",
        "60",
        "--access-logfile",
        "/dev/null",
        "--error-logfile",
        "-",
    ]
    log(f"starting gunicorn on http://{HOST}:{port}/ (2 workers, 1 thread each)")
    with log_path.open("wb") as log_file:
        process = subprocess.Popen(
            command,
            cwd=ROOT,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=log_file,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group: the workers go with it
        )
    return process, log_path


def log_tail(path: Path, chars: int = 3000) -> str:
    try:
        return path.read_text(errors="replace")[-chars:]
    except OSError:
        return ""


def wait_until_serving(process: subprocess.Popen, port: int, log_path: Path, seconds: float):
    ends = time.monotonic() + seconds
    while time.monotonic() < ends:
        if process.poll() is not None:
            sys.stderr.write(log_tail(log_path))
            raise BenchError(f"gunicorn exited early with code {process.returncode}")
        connection = http.client.HTTPConnection(HOST, port, timeout=5)
        try:
            connection.request("GET", "/", headers=PROXY_HEADERS)
            connection.getresponse().read()
            return
        except OSError:
            time.sleep(0.2)
        finally:
            connection.close()
    sys.stderr.write(log_tail(log_path))
    raise BenchError(f"gunicorn did not answer on port {port} within {seconds:.0f}s")


def stop_gunicorn(process: subprocess.Popen) -> None:
    if process.poll() is None:
        process.terminate()  # the master stops its workers gracefully
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            log("gunicorn did not stop within 15s; killing its process group")
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=15)
    # Workers left behind by a master that died abruptly share its process group.
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(process.pid, signal.SIGKILL)


# --- Load ------------------------------------------------------------------------------


def warm(port: int, url: str, times: int = 3) -> None:
    connection = http.client.HTTPConnection(HOST, port, timeout=60)
    try:
        for _ in range(times):
            connection.request("GET", url, headers=PROXY_HEADERS)
            response = connection.getresponse()
            response.read()
            if response.status != 200:
                raise BenchError(f"warming {url} answered HTTP {response.status}, not 200")
    finally:
        connection.close()


def percentile(ordered: list[float], pct: float) -> float:
    """Nearest-rank percentile of an already sorted list."""
    rank = math.ceil(pct / 100 * len(ordered))
    return ordered[min(max(rank, 1), len(ordered)) - 1]


def hammer(port: int, url: str, total: int, concurrency: int, seconds: float) -> dict:
    """``total`` GETs of ``url`` from ``concurrency`` clients, stopping early after ``seconds``."""
    lock = threading.Lock()
    stop = threading.Event()  # set when the run is interrupted
    issued = 0
    ends = time.monotonic() + seconds

    def client() -> tuple[list[float], list[str]]:
        nonlocal issued
        latencies: list[float] = []
        failures: list[str] = []
        # Keep-alive where the server allows it; http.client reconnects by itself
        # after a response that closes the connection (gunicorn's sync workers do).
        connection = http.client.HTTPConnection(HOST, port, timeout=30)
        try:
            while True:
                with lock:
                    if stop.is_set() or issued >= total or time.monotonic() >= ends:
                        return latencies, failures
                    issued += 1
                started = time.perf_counter()
                try:
                    connection.request("GET", url, headers=PROXY_HEADERS)
                    response = connection.getresponse()
                    response.read()
                except (OSError, http.client.HTTPException) as exc:
                    connection.close()
                    failures.append(f"{type(exc).__name__}: {exc}")
                    continue
                elapsed = time.perf_counter() - started
                if response.status == 200:
                    latencies.append(elapsed)
                else:
                    failures.append(f"HTTP {response.status}")
        finally:
            connection.close()

    started = time.perf_counter()
    with ThreadPoolExecutor(max_workers=concurrency) as pool:
        futures = [pool.submit(client) for _ in range(concurrency)]
        try:
            results = [future.result() for future in futures]
        except BaseException:
            stop.set()  # let the clients finish their current request and return
            raise
    wall = time.perf_counter() - started
    latencies = sorted(latency for mine, _ in results for latency in mine)
    failures = [failure for _, theirs in results for failure in theirs]
    if failures:
        examples = ", ".join(sorted(set(failures))[:3])
        raise BenchError(
            f"{len(failures)} of {issued} requests to {url} failed ({examples}); "
            "the figures would be meaningless"
        )
    if not latencies:
        raise BenchError(f"no request to {url} completed in time")
    if len(latencies) < total:
        log(f"  time cap hit: only {len(latencies)} of {total} requests to {url} were made")
    return {
        "rps": len(latencies) / wall,
        "p50_ms": percentile(latencies, 50) * 1000,
        "p99_ms": percentile(latencies, 99) * 1000,
    }


# --- Child processes (Django set up, same environment as the server) -------------------


def django_setup() -> None:
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()


def child_discover() -> dict:
    django_setup()
    from django.templatetags.static import static

    from stories.models import StoryIndexPage, StoryLink, StoryPage

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
        "urls": {
            "home": "/",
            "story": story.get_url(),
            "hub": index.hub_url(HUB_INTEREST),
            "static": static("css/site.css"),
        },
        "stories": StoryPage.objects.live().count(),
    }


def child_measure(urls: dict[str, str], renders: int) -> dict:
    django_setup()
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    client = Client(HTTP_HOST=HOST, HTTP_X_FORWARDED_PROTO="https")

    def get(url):
        response = client.get(url)
        if response.status_code != 200:
            raise SystemExit(f"{url} answered HTTP {response.status_code} in-process")
        response.close()  # static files are streamed from an open file
        return response

    from stories.render_cache import bump_content_version

    def timed(url, fresh):
        if fresh:
            bump_content_version()  # as after any publish: the page is rendered anew
        started = time.perf_counter()
        get(url)
        return time.perf_counter() - started

    def count_queries(url, fresh):
        if fresh:
            bump_content_version()
        with CaptureQueriesContext(connection) as captured:
            get(url)
        # Read now: captured_queries slices the live log, which each request resets.
        return len(captured.captured_queries)

    figures = {}
    for name, url in urls.items():
        get(url)
        get(url)
        queries = count_queries(url, fresh=False)
        if name == "static":
            figures[name] = {"queries": queries, "render_ms": None}
            continue
        figures[name] = {
            "queries": queries,
            "render_ms": statistics.median(timed(url, False) for _ in range(renders)) * 1000,
            "queries_uncached": count_queries(url, fresh=True),
            "render_uncached_ms": statistics.median(timed(url, True) for _ in range(renders))
            * 1000,
        }
    return figures


# --- Reporting -----------------------------------------------------------------------


def rounded(value):
    return None if value is None else round(value, 2)


def table(urls: dict[str, str], results: dict[str, dict]) -> str:
    columns = (
        "page",
        "url",
        "rps",
        "p50_ms",
        "p99_ms",
        "queries",
        "render_ms",
        "queries_uncached",
        "render_uncached_ms",
    )
    rows = [columns]
    for name in PAGES:
        figures = results[name]
        render_ms = figures["render_ms"]
        rows.append(
            (
                name,
                urls[name],
                f"{figures['rps']:.2f}",
                f"{figures['p50_ms']:.2f}",
                f"{figures['p99_ms']:.2f}",
                str(figures["queries"]),
                "-" if render_ms is None else f"{render_ms:.2f}",
                str(figures.get("queries_uncached", "-")),
                "-"
                if figures.get("render_uncached_ms") is None
                else f"{figures['render_uncached_ms']:.2f}",
            )
        )
    widths = [max(len(row[i]) for row in rows) for i in range(len(columns))]
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


# --- Main ------------------------------------------------------------------------------


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description="Benchmark Storyloom's reading pages under gunicorn with production settings."
    )
    parser.add_argument("--stories", type=int, default=10_000, help="stories in the demo site")
    parser.add_argument("--requests", type=int, default=400, help="requests per URL")
    parser.add_argument("--concurrency", type=int, default=8, help="concurrent HTTP clients")
    parser.add_argument("--renders", type=int, default=50, help="in-process renders per page")
    parser.add_argument(
        "--time-cap", type=float, default=60.0, help="seconds of load per URL at most"
    )
    parser.add_argument(
        "--max-seconds", type=float, default=600.0, help="overall cap on the whole run"
    )
    parser.add_argument("--keep", action="store_true", help="keep the temporary directory")
    parser.add_argument("--child", choices=["discover", "measure"], help=argparse.SUPPRESS)
    parser.add_argument("--urls", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    for name in ("stories", "requests", "concurrency", "renders"):
        if getattr(args, name) < 1:
            parser.error(f"--{name} must be at least 1")
    return args


def run(args: argparse.Namespace) -> None:
    deadline = Deadline(args.max_seconds)
    tmp = Path(tempfile.mkdtemp(prefix="storyloom-bench-"))
    log(f"working in {tmp}")
    gunicorn = None
    try:
        env = site_env(tmp)
        if "DATABASE_URL" in env:
            log("using BENCH_DATABASE_URL; load_demo tops that database up to --stories")
        dev = "cms.settings.dev"  # load_demo refuses production settings
        manage(env, deadline, "migrate", "--noinput", "-v", "0", settings=dev)
        manage(env, deadline, "collectstatic", "--noinput", "-v", "0")
        manage(env, deadline, "load_demo", "--stories", str(args.stories), settings=dev)

        found = child(env, deadline, "--child", "discover")
        urls = found["urls"]
        log(f"{found['stories']} live stories; story page {urls['story']}")

        port = free_port()
        gunicorn, log_path = start_gunicorn(env, tmp, port)
        wait_until_serving(gunicorn, port, log_path, min(60.0, deadline.left()))

        results = {}
        for name in PAGES:
            url = urls[name]
            log(f"warming {name}: {url}")
            warm(port, url)
            seconds = min(args.time_cap, deadline.left(reserve=60))
            log(f"loading {name}: {args.requests} requests, {args.concurrency} clients")
            results[name] = hammer(port, url, args.requests, args.concurrency, seconds)
            if gunicorn.poll() is not None:
                sys.stderr.write(log_tail(log_path))
                raise BenchError("gunicorn died during the load")
        stop_gunicorn(gunicorn)
        gunicorn = None

        log(f"measuring queries and render time in-process ({args.renders} renders per page)")
        measured = child(
            env,
            deadline,
            "--child",
            "measure",
            "--urls",
            json.dumps(urls),
            "--renders",
            str(args.renders),
        )
        for name in PAGES:
            results[name].update(measured[name])

        print(table(urls, results))
        summary = {
            name: {key: rounded(value) for key, value in results[name].items()} for name in PAGES
        }
        summary["stories"] = found["stories"]
        print(json.dumps(summary), flush=True)
    finally:
        if gunicorn is not None:
            stop_gunicorn(gunicorn)
        if args.keep:
            log(f"kept {tmp}")
        else:
            shutil.rmtree(tmp, ignore_errors=True)


def on_sigterm(signum, frame):
    raise KeyboardInterrupt


def main(argv: list[str]) -> int:
    args = parse_args(argv)
    if args.child == "discover":
        print(json.dumps(child_discover()))
        return 0
    if args.child == "measure":
        print(json.dumps(child_measure(json.loads(args.urls), args.renders)))
        return 0
    signal.signal(signal.SIGTERM, on_sigterm)  # so the finally blocks still clean up
    try:
        run(args)
    except BenchError as exc:
        print(f"bench/pages.py: error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("bench/pages.py: interrupted", file=sys.stderr)
        return 130
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
