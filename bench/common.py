"""Helpers shared by the benchmark scripts in bench/ (plain functions, no framework).

The scripts run as ``.venv/bin/python bench/<name>.py`` and import this module as
``common`` after putting bench/ on ``sys.path``.
"""

import contextlib
import http.client
import json
import math
import os
import selectors
import signal
import socket
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
HOST = "127.0.0.1"
# Inherited variables that would point any throw-away site at something else; each
# script adds the ones its own site reads.
STRIPPED_ENV = (
    "DATABASE_URL",
    "DJANGO_SETTINGS_MODULE",
    "REDIS_URL",
    "CELERY_BROKER_URL",
    "CELERY_RESULT_BACKEND",
)
# ... and those that would change how gunicorn runs.
GUNICORN_ENV = ("GUNICORN_CMD_ARGS", "WEB_CONCURRENCY")


class BenchError(Exception):
    """A failure worth one clear line rather than a traceback."""


def log(message: str) -> None:
    print(f"[bench] {message}", file=sys.stderr, flush=True)


def inherited_env(stripped: Iterable[str]) -> dict[str, str]:
    """This process's environment without the ``stripped`` variables."""
    stripped = set(stripped)
    return {name: value for name, value in os.environ.items() if name not in stripped}


def redis_url() -> str:
    import redis

    url = os.environ.get("REDIS_URL") or "redis://127.0.0.1:6379/0"
    try:
        redis.Redis.from_url(url, socket_connect_timeout=1).ping()
    except redis.RedisError as exc:
        raise BenchError(f"Redis at {url} is not reachable ({exc}); start it first") from None
    return url


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        return sock.getsockname()[1]


def run_child(script: str | Path, env: dict[str, str], timeout: float, *args: str) -> dict:
    """Run ``script`` in a child process (``args`` start ``--child NAME``); its last JSON line."""
    try:
        result = subprocess.run(
            [sys.executable, str(Path(script).resolve()), *args],
            cwd=ROOT,
            env=env,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
    except subprocess.TimeoutExpired:
        raise BenchError(f"the {args[1]} child process ran out of time") from None
    lines = result.stdout.strip().splitlines()
    if result.returncode != 0 or not lines:
        sys.stderr.write(result.stderr[-4000:])
        raise BenchError(f"the {args[1]} child process failed (exit code {result.returncode})")
    return json.loads(lines[-1])


def print_measures(rows: list[tuple[str, object]]) -> None:
    """Print ``rows`` of (measure, value) as a readable two-column table."""
    width = max(len(label) for label, _ in rows)
    print(f"{'measure'.ljust(width)} | value")
    print(f"{'-' * width}-|------")
    for label, value in rows:
        print(f"{label.ljust(width)} | {value}")


def percentile(ordered: list[float], pct: float) -> float:
    """Nearest-rank percentile of an already sorted list."""
    rank = math.ceil(pct / 100 * len(ordered))
    return ordered[min(max(rank, 1), len(ordered)) - 1]


# --- gunicorn ------------------------------------------------------------------------


def describe(worker_class: str, threads: int, workers: int) -> str:
    per = f", {threads} threads each" if worker_class == "gthread" else ""
    return f"{workers} {worker_class} workers{per}"


def start_gunicorn(
    env: dict[str, str],
    tmp: Path,
    port: int,
    target: str,
    worker_class: str,
    threads: int,
    workers: int,
    label: str = "gunicorn",
) -> tuple[subprocess.Popen, Path]:
    """Start gunicorn serving ``target`` in its own process group; it and its log's path."""
    config = tmp / "gunicorn.conf.py"  # empty: a stray ./gunicorn.conf.py changes nothing
    config.write_text("")
    log_path = tmp / "gunicorn.log"
    command = [
        sys.executable,
        "-m",
        "gunicorn",
        target,
        "--config",
        str(config),
        "--bind",
        f"{HOST}:{port}",
        "--workers",
        str(workers),
        "--worker-class",
        worker_class,
        "--threads",
        str(threads),
        "--keep-alive",
        "30",
        "--backlog",
        "2048",
        "--timeout",
        "60",
        # No access log: formatting a line per request would cost as much as the request.
        "--error-logfile",
        "-",
    ]
    described = describe(worker_class, threads, workers)
    log(f"starting {label} on http://{HOST}:{port}/ ({described})")
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


def wait_until_serving(
    process: subprocess.Popen,
    port: int,
    log_path: Path,
    seconds: float,
    probe: Callable[[int], None],
) -> None:
    """Wait until ``probe(port)`` returns; it raises OSError while nothing answers yet."""
    ends = time.monotonic() + seconds
    while time.monotonic() < ends:
        if process.poll() is not None:
            sys.stderr.write(log_tail(log_path))
            raise BenchError(f"gunicorn exited early with code {process.returncode}")
        try:
            probe(port)
            return
        except OSError:
            time.sleep(0.2)
    sys.stderr.write(log_tail(log_path))
    raise BenchError(f"gunicorn did not answer on port {port} within {seconds:.0f}s")


def http_request(
    port: int, method: str, url: str, body: bytes | None = None, headers: dict | None = None
) -> tuple[int, dict, bytes]:
    """One request on a fresh connection: status, lower-cased headers, body."""
    connection = http.client.HTTPConnection(HOST, port, timeout=60)
    try:
        connection.request(method, url, body=body, headers=headers or {})
        response = connection.getresponse()
        content = response.read()
        return response.status, {k.lower(): v for k, v in response.getheaders()}, content
    finally:
        connection.close()


def cpu_seconds(master: int) -> float:
    """CPU time (user + system) used so far by gunicorn's master and its workers."""
    ticks = os.sysconf("SC_CLK_TCK")
    total = 0.0
    try:
        children = Path(f"/proc/{master}/task/{master}/children").read_text().split()
    except OSError:
        return 0.0
    for pid in [str(master), *children]:
        with contextlib.suppress(OSError):
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            total += (int(fields[11]) + int(fields[12])) / ticks
    return total


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
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(process.pid, signal.SIGKILL)


# --- Load ------------------------------------------------------------------------------


def load(
    port: int,
    requests: list[bytes],
    seconds: float,
    connections: int,
    *,
    header: bytes | None = None,
    recv_size: int = 65536,
) -> dict:
    """``connections`` clients, each sending its next request as soon as the last is answered.

    Client ``i`` sends ``requests[i]``, ``requests[i + connections]``, ... (cycling).
    One thread, non-blocking sockets and epoll, persistent HTTP/1.1 connections: a
    few system calls per request and no per-request Python objects beyond the bytes,
    so the generator costs the machine far less than the server it measures. A
    connection the server closes (gunicorn's sync workers answer with ``Connection:
    close``) is opened again, and the time to connect counts towards the next
    request's latency, as it would for a reader.

    Returns ``wall`` seconds, sorted ``latencies`` in seconds, ``statuses`` and
    ``errors`` (Counters), ``opened`` connections and, when ``header`` names a
    response header (lower case, no colon), ``header_values``: a Counter of its values
    ("-" where absent).
    """
    selector = selectors.DefaultSelector()
    latencies: list[float] = []
    statuses: Counter = Counter()
    header_values: Counter = Counter()
    errors: Counter = Counter()
    marker = b"\r\n" + header + b":" if header else b""
    opened = 0
    clock = time.perf_counter
    ends = clock() + seconds

    class Client:
        __slots__ = ("sock", "buffer", "started", "number")

    def connect(client: Client) -> None:
        nonlocal opened
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        sock.setblocking(False)
        with contextlib.suppress(BlockingIOError):
            sock.connect((HOST, port))
        client.sock = sock
        opened += 1
        selector.register(sock, selectors.EVENT_WRITE, client)

    def send(client: Client) -> None:
        client.buffer = b""
        request = requests[client.number % len(requests)]
        client.number += connections
        sent = client.sock.send(request)
        if sent != len(request):  # never for these small requests on loopback
            client.sock.sendall(request[sent:])
        selector.modify(client.sock, selectors.EVENT_READ, client)

    def drop(client: Client, problem: str) -> None:
        errors[problem] += 1
        selector.unregister(client.sock)
        client.sock.close()

    for offset in range(connections):
        client = Client()
        client.number, client.buffer = offset, b""
        client.started = clock()
        connect(client)

    started = clock()
    live = connections
    while live:
        if clock() > ends + 30:  # a server that stopped answering: give up
            errors["no answer within 30 s of the end"] += live
            break
        for key, mask in selector.select(timeout=1.0):
            client = key.data
            sock = client.sock
            if mask & selectors.EVENT_WRITE:
                error = sock.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
                if error:
                    drop(client, os.strerror(error))
                    client.started = clock()
                    connect(client)
                    continue
                send(client)
                continue
            try:
                chunk = sock.recv(recv_size)
            except OSError as exc:
                chunk, problem = b"", type(exc).__name__
            else:
                problem = "closed by the server"
            if not chunk:
                drop(client, problem)
                client.started = clock()
                connect(client)
                continue
            client.buffer += chunk
            head_end = client.buffer.find(b"\r\n\r\n")
            if head_end < 0:
                continue
            head = client.buffer[:head_end].lower()
            at = head.find(b"\r\ncontent-length:")
            length = int(head[at + 17 :].split(b"\r\n", 1)[0]) if at >= 0 else 0
            if len(client.buffer) < head_end + 4 + length:
                continue
            now = clock()
            latencies.append(now - client.started)
            statuses[int(head[9:12])] += 1
            if marker:
                at = head.find(marker)
                value = head[at + len(marker) :].split(b"\r\n", 1)[0].strip() if at >= 0 else b"-"
                header_values[value.decode()] += 1
            client.started = now
            if now >= ends:
                selector.unregister(sock)
                sock.close()
                live -= 1
            elif b"connection: close" in head:
                selector.unregister(sock)
                sock.close()
                connect(client)
            else:
                send(client)
    wall = clock() - started
    selector.close()
    latencies.sort()
    return {
        "wall": wall,
        "latencies": latencies,
        "statuses": statuses,
        "errors": errors,
        "opened": opened,
        "header_values": header_values,
    }


def add_stories(count: int) -> list:
    """Migrate the throw-away database and publish ``count`` short stories under the index.

    Run inside a bench child process after ``django.setup()``; returns the pages.
    """
    from django.core.management import call_command

    from stories.models import AudienceInterest, StoryIndexPage, StoryPage

    call_command("migrate", verbosity=0)
    index = StoryIndexPage.objects.first()
    interest, _ = AudienceInterest.objects.get_or_create(slug="home", defaults={"name": "Home"})
    made = []
    for number in range(count):
        story = StoryPage(
            title=f"Fixing a dripping tap, part {number + 1}",
            slug=f"dripping-tap-{number + 1}",
            intro="A washer costs pennies and the job takes ten minutes with the water off.",
            purpose="solve",
        )
        index.add_child(instance=story)
        story.interests.add(interest)
        made.append(story)
    return made


def interrupt_on_sigterm() -> None:
    """SIGTERM raises ``KeyboardInterrupt``, so a bench's ``finally`` still stops what it
    started (Python's default would end the process at once and leave its servers and
    workers running, still holding the bench's database)."""

    def on_sigterm(signum, frame):
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, on_sigterm)


def run_main(script: str, run: Callable[[], object]) -> int:
    """Run a bench's main part: SIGTERM still runs its ``finally`` clean-ups; exit codes."""
    interrupt_on_sigterm()
    try:
        run()
    except BenchError as exc:
        print(f"bench/{script}: error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print(f"bench/{script}: interrupted", file=sys.stderr)
        return 130
    return 0


def mastodon_accounts(server, count: int) -> list[tuple]:
    """``count`` accounts (``@brand0``…) made on the Mastodon test ``server`` and connected
    as Storyloom connects them, tokens encrypted; ``[(account, token), …]``.

    Run inside a bench child process after ``django.setup()``.
    """
    from syndication.models import ChannelAccount, Network

    made = []
    for number in range(count):
        remote_id, token = server.create_account(f"brand{number}")
        account = ChannelAccount(
            network=Network.MASTODON,
            instance_url=server.url,
            remote_id=remote_id,
            handle=f"@brand{number}",
            max_characters=500,
        )
        account.set_tokens({"access_token": token})
        account.save()
        made.append((account, token))
    return made
