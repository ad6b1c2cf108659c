"""The collector process as the Procfile runs it: gunicorn, ``cms/gunicorn_collector.conf.py``.

Real HTTP over sockets to two uvicorn workers, events into a real Redis stream and
the test database; then the flusher: every event answered 202 is counted once.
"""

import http.client
import json
import os
import signal
import socket
import subprocess
import sys
import uuid
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path

from django.db.models import Sum

import pytest

from syndication.engagement import buffer, flush
from syndication.engagement.models import EngagementRollup
from tests.engagement.test_collector import READER
from tests.integration.conftest import ROOT, database_url_for_child, wait_for
from tests.integration.workloads import event_bodies

pytestmark = [
    pytest.mark.integration,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]

GUNICORN = str(Path(sys.executable).with_name("gunicorn"))
CONNECTIONS = 8
PER_CONNECTION = 250


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextmanager
def collector(env: dict[str, str], log: Path):
    with log.open("w") as out:
        process = subprocess.Popen(
            [GUNICORN, "-c", "cms/gunicorn_collector.conf.py"],
            cwd=ROOT,
            env={**os.environ, "DJANGO_SETTINGS_MODULE": "cms.settings.test", **env},
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        try:
            yield process
        finally:
            os.killpg(process.pid, signal.SIGTERM)
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()


def request(port: int, method: str, path: str, body: bytes = b"", **extra) -> tuple[int, bytes]:
    headers = {"Content-Type": "text/plain;charset=UTF-8", "User-Agent": READER}
    headers.update((name.replace("_", "-"), value) for name, value in extra.items())
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        connection.request(method, path, body=body, headers=headers)
        response = connection.getresponse()
        return response.status, response.read()
    finally:
        connection.close()


def answers_health(port: int) -> bool:
    try:
        return request(port, "GET", "/healthz")[0] == 200
    except OSError:
        return False


def send_over_one_connection(port: int, bodies: list[bytes]) -> list[int]:
    """Keep-alive, one event after another, as a reader's browser would."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    statuses = []
    try:
        for body in bodies:
            connection.request(
                "POST",
                "/e/",
                body=body,
                headers={"Content-Type": "text/plain;charset=UTF-8", "User-Agent": READER},
            )
            response = connection.getresponse()
            response.read()
            statuses.append(response.status)
    finally:
        connection.close()
    return statuses


def test_the_collector_process_accepts_events_and_the_flusher_counts_each_once(
    redis_server, settings, make_story, tmp_path
):
    stream = f"storyloom:test-collector-{uuid.uuid4().hex[:8]}"
    settings.ENGAGEMENT_REDIS_URL = redis_server
    settings.ENGAGEMENT_STREAM = stream
    buffer.forget_caches()
    redis = buffer.redis_client(redis_server)
    story_ids = [make_story(title=f"Story {n}").pk for n in range(4)]
    port = free_port()
    env = {
        "DATABASE_URL": database_url_for_child(),
        "ENGAGEMENT_REDIS_URL": redis_server,
        "ENGAGEMENT_STREAM": stream,
        "REDIS_URL": redis_server,
        "COLLECTOR_BIND": f"127.0.0.1:{port}",
        "COLLECTOR_CONCURRENCY": "2",
    }
    log = tmp_path / "collector.log"
    bodies = list(event_bodies(story_ids, CONNECTIONS * PER_CONNECTION))
    try:
        with collector(env, log) as process:
            wait_for(lambda: answers_health(port), 60, "the collector to answer /healthz", log)
            status, content = request(port, "GET", "/readyz")
            assert (status, json.loads(content)["status"]) == (200, "ready"), content

            with ThreadPoolExecutor(CONNECTIONS) as pool:
                chunks = [bodies[n::CONNECTIONS] for n in range(CONNECTIONS)]
                statuses = [
                    s
                    for part in pool.map(send_over_one_connection, [port] * CONNECTIONS, chunks)
                    for s in part
                ]
            refused = request(port, "POST", "/e/", b'{"t": "view", "s": -1}')
            opted_out = request(port, "POST", "/e/", bodies[0], DNT="1")
            assert process.poll() is None, log.read_text()[-3000:]
    finally:
        accepted = redis.xlen(stream)
        while flush.flush()["events"]:
            pass
        redis.delete(stream, f"{stream}:flush-lock")

    assert statuses == [202] * len(bodies), set(statuses)
    assert refused[0] == 400 and b"s:" in refused[1]
    assert opted_out == (202, b"")
    assert accepted == len(bodies)
    counted = EngagementRollup.objects.aggregate(n=Sum("count"))["n"]
    assert counted == len(bodies)
    assert "Traceback" not in log.read_text()
