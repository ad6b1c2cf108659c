"""Purge storm: a publish every second while readers keep reading (called by bench/pages.py).

While ``connections`` keep-alive connections read the home page and the newest story
(half each, each sending its next request as soon as the last is answered), a child
process publishes that story every ``interval`` seconds for ``seconds``, with a marker
in its title (``· storm <n>``). Each publish purges exactly what a publish purges
(``stories.signals``): the story's page and every page showing it, the home page
among them. Measured:

* ``renders_per_purge``: answers that were rendered (``X-Cache: miss``) per publish,
  for the page that needed most (home or story); single flight makes it 1.
* ``p99_ms`` (and ``p50_ms``): readers' latency over the whole storm (and
  ``p99_ms_by_answer``: for hits, stale copies and renders apart).
* ``max_stale_s``: the longest any reader was shown a title out of date: from the
  start of the publish that replaced the title it shows to the moment its answer
  arrived (so it includes the publish's own commit). The bound is
  ``PAGE_CACHE_STALE_SECONDS`` (``stale_bound_s``).

Also ``stale_answers`` and ``answers`` by ``X-Cache``, ``publishes`` and their times.

    bench/pages.py ... [--storm-seconds 30]     (0 skips the storm)
"""

import contextlib
import json
import os
import re
import selectors
import socket
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import common
from common import HOST, ROOT, BenchError, log, percentile

MARK = "storm"
MARK_PATTERN = re.compile(rb"\xc2\xb7 " + MARK.encode() + rb" (\d+)")
TARGET_RENDERS_PER_PURGE = 1.0
TARGET_P99_MS = 50.0


# --- The publisher (a child process with Django set up) ----------------------------------


def child_discover() -> dict:
    """The newest live story: the home page lists it, so a publish purges both."""
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from django.conf import settings

    from stories.models import StoryPage

    story = StoryPage.objects.live().order_by("-first_published_at", "-pk").first()
    if story is None:
        raise SystemExit("no live story: did load_demo run?")
    return {
        "story_id": story.pk,
        "story_url": story.get_url(),
        "stale_bound_s": settings.PAGE_CACHE_STALE_SECONDS,
    }


def child_publish(story_id: int, seconds: float, interval: float) -> dict:
    """Publish the story every ``interval`` seconds for ``seconds``; when each started."""
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from stories.models import StoryPage

    story = StoryPage.objects.get(pk=story_id)
    title = re.sub(r" · storm \d+$", "", story.title)
    publishes = []
    started = time.monotonic()
    number = 0
    while time.monotonic() - started < seconds:
        number += 1
        due = started + (number - 1) * interval
        time.sleep(max(0.0, due - time.monotonic()))
        story.refresh_from_db()
        story.title = f"{title} · {MARK} {number}"
        began = time.time()
        story.save_revision().publish()  # purges after its commit, before it returns
        publishes.append({"number": number, "began": began, "ended": time.time()})
    return {"publishes": publishes}


# --- Readers -------------------------------------------------------------------------------


def read(port: int, urls: list[str], connections: int, done, linger: float) -> list[tuple]:
    """Keep-alive readers, as in ``common.load``, until ``linger`` seconds after ``done()``
    says so, noting for every answer
    ``(url index, sent, received, status, x-cache, storm number or 0)``."""
    requests = [
        (
            f"GET {url} HTTP/1.1\r\nHost: {HOST}:{port}\r\nUser-Agent: storyloom-bench/1\r\n"
            "Accept: text/html\r\nX-Forwarded-Proto: https\r\n\r\n"
        ).encode()
        for url in urls
    ]
    selector = selectors.DefaultSelector()
    answers = []
    ends = None

    class Client:
        __slots__ = ("sock", "buffer", "sent", "page")

    def connect(client):
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        sock.setblocking(False)
        with contextlib.suppress(BlockingIOError):
            sock.connect((HOST, port))
        client.sock = sock
        selector.register(sock, selectors.EVENT_WRITE, client)

    def send(client):
        client.buffer = b""
        client.sent = time.time()
        client.sock.sendall(requests[client.page])
        selector.modify(client.sock, selectors.EVENT_READ, client)

    for number in range(connections):
        client = Client()
        client.page, client.buffer = number % len(urls), b""
        connect(client)

    live = connections
    while live:
        if ends is None and done():
            ends = time.time() + linger
        if ends is not None and time.time() > ends + 30:
            raise BenchError("the server stopped answering during the purge storm")
        for key, mask in selector.select(timeout=1.0):
            client = key.data
            if mask & selectors.EVENT_WRITE:
                if client.sock.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR):
                    raise BenchError("a reader could not connect during the purge storm")
                send(client)
                continue
            chunk = client.sock.recv(262144)
            if not chunk:
                raise BenchError("the server closed a reader's connection during the storm")
            client.buffer += chunk
            head_end = client.buffer.find(b"\r\n\r\n")
            if head_end < 0:
                continue
            head = client.buffer[:head_end].lower()
            at = head.find(b"\r\ncontent-length:")
            length = int(head[at + 17 :].split(b"\r\n", 1)[0]) if at >= 0 else 0
            if len(client.buffer) < head_end + 4 + length:
                continue
            received = time.time()
            at = head.find(b"\r\nx-cache:")
            state = head[at + 10 :].split(b"\r\n", 1)[0].strip().decode() if at >= 0 else "-"
            found = MARK_PATTERN.search(client.buffer, head_end)
            number = int(found.group(1)) if found else 0
            answers.append((client.page, client.sent, received, int(head[9:12]), state, number))
            if ends is not None and received >= ends:
                selector.unregister(client.sock)
                client.sock.close()
                live -= 1
            else:
                send(client)
    selector.close()
    return answers


# --- The storm -----------------------------------------------------------------------------


def staleness(answers: list[tuple], publishes: list[dict]) -> list[float]:
    """For each answer, how long the title it shows had been replaced when it arrived."""
    began = {p["number"]: p["began"] for p in publishes}
    stale = []
    for _page, _sent, received, _status, _state, number in answers:
        replaced = began.get(number + 1)  # the publish after the one shown
        stale.append(received - replaced if replaced is not None and replaced < received else 0.0)
    return stale


def by_answer(answers: list[tuple]) -> dict[str, list[float]]:
    """Latencies (seconds) by ``X-Cache``: hits, stale copies, renders."""
    found: dict[str, list[float]] = {}
    for _page, sent, received, _status, state, _number in answers:
        found.setdefault(state, []).append(received - sent)
    return found


def run(
    port: int,
    env: dict[str, str],
    home_url: str,
    seconds: float = 30.0,
    connections: int = 16,
    interval: float = 1.0,
    timeout: float = 600.0,
) -> dict:
    """The purge storm against the gunicorn serving on ``port`` (env: its site's)."""
    found = common.run_child(__file__, env, min(timeout, 120), "--child", "discover")
    urls = [home_url, found["story_url"]]
    log(
        f"purge storm: publishing story {found['story_id']} every {interval:g}s for "
        f"{seconds:g}s while {connections} connections read {urls}"
    )
    for url in urls:  # stored before the storm starts, as on a site in use
        common.http_request(port, "GET", url, headers={"X-Forwarded-Proto": "https"})
    # Files, not pipes: nothing read while the readers run, so a full pipe cannot stall it.
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        publisher = subprocess.Popen(
            [
                sys.executable,
                str(Path(__file__).resolve()),
                *("--child", "publish", "--story", str(found["story_id"])),
                *("--seconds", str(seconds), "--interval", str(interval)),
            ],
            cwd=ROOT,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=err,
            text=True,
        )
        try:
            # Readers start first and stop a while after the last publish.
            give_up = time.monotonic() + timeout

            def done():
                return publisher.poll() is not None or time.monotonic() > give_up

            answers = read(port, urls, connections, done, linger=2 * interval)
            publisher.wait(timeout=60)
        finally:
            if publisher.poll() is None:
                publisher.kill()
                publisher.wait()
        out.seek(0), err.seek(0)
        stdout, stderr = out.read(), err.read()
    lines = stdout.strip().splitlines()
    if publisher.returncode != 0 or not lines:
        sys.stderr.write(stderr[-4000:])
        raise BenchError(f"the storm's publisher failed (exit code {publisher.returncode})")
    publishes = json.loads(lines[-1])["publishes"]
    if not publishes:
        raise BenchError("the storm's publisher published nothing")

    statuses = Counter(status for *_rest, status, _state, _number in answers)
    if set(statuses) != {200}:
        raise BenchError(f"purge storm: statuses {dict(statuses)}")
    last = publishes[-1]["number"]
    seen = {number for *_rest, number in answers}
    if last not in seen:
        raise BenchError(f"purge storm: no reader saw the last publish ({last})")
    latencies = sorted(received - sent for _page, sent, received, *_rest in answers)
    stale = staleness(answers, publishes)
    renders = Counter(page for page, *_rest, state, _number in answers if state == "miss")
    per_page = {
        name: round(renders[page] / len(publishes), 2)
        for page, name in enumerate(("home", "story"))
    }
    return {
        "renders_per_purge": max(per_page.values()),
        "renders_per_purge_by_page": per_page,
        "p50_ms": round(percentile(latencies, 50) * 1000, 2),
        "p99_ms": round(percentile(latencies, 99) * 1000, 2),
        "p99_ms_by_answer": {
            state: round(percentile(sorted(times), 99) * 1000, 2)
            for state, times in by_answer(answers).items()
        },
        "max_stale_s": round(max(stale), 3),
        "stale_bound_s": found["stale_bound_s"],
        "publishes": len(publishes),
        "publish_ms_p50": round(
            1000 * percentile(sorted(p["ended"] - p["began"] for p in publishes), 50), 1
        ),
        "answers": dict(Counter(state for *_rest, state, _number in answers)),
        "requests": len(answers),
        "seconds": seconds,
        "connections": connections,
    }


def check(storm: dict) -> list[tuple[str, bool, str]]:
    """The storm's targets: ``(measured, met, wanted)``."""
    return [
        (
            f"purge storm renders per purge {storm['renders_per_purge']:g}",
            storm["renders_per_purge"] <= TARGET_RENDERS_PER_PURGE,
            f"<= {TARGET_RENDERS_PER_PURGE:g}",
        ),
        (
            f"purge storm p99 {storm['p99_ms']:.2f} ms",
            storm["p99_ms"] < TARGET_P99_MS,
            f"< {TARGET_P99_MS:g} ms",
        ),
        (
            f"purge storm max stale {storm['max_stale_s']:.2f} s",
            storm["max_stale_s"] <= storm["stale_bound_s"],
            f"<= {storm['stale_bound_s']} s",
        ),
    ]


def main(argv: list[str]) -> int:
    import argparse

    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--child", choices=["discover", "publish"], required=True)
    parser.add_argument("--story", type=int)
    parser.add_argument("--seconds", type=float, default=30.0)
    parser.add_argument("--interval", type=float, default=1.0)
    args = parser.parse_args(argv)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "cms.settings.dev")
    if args.child == "discover":
        print(json.dumps(child_discover()))
    else:
        print(json.dumps(child_publish(args.story, args.seconds, args.interval)))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
