"""``/readyz`` with each dependency stopped for real, served by gunicorn as in production.

Each test runs gunicorn (``cms/gunicorn.conf.py``, production settings) against the
machine's PostgreSQL and Redis, with one dependency behind something the test can stop:
a throw-away ``redis-server`` for the cache, the broker or the event stream, a TCP relay
in front of PostgreSQL for the database. ``/readyz`` is ready, the test stops that one
thing, and ``/readyz`` must say 503, name it, keep the others ``ok`` and answer in about
two seconds. The probe comes over plain HTTP with a Host the site does not serve, as a
load balancer's does.
"""

import http.client
import json
import os
import secrets
import shutil
import socket
import subprocess
import sys
import threading
import time
from contextlib import contextmanager, suppress
from pathlib import Path

import pytest
from cryptography.fernet import Fernet

from cms import health
from tests.conftest import require_service
from tests.integration.conftest import ROOT, redis_is_up, redis_url, wait_for

pytestmark = pytest.mark.integration

GUNICORN = str(Path(sys.executable).with_name("gunicorn"))
PROBE_HOST = "10.0.0.9"  # not in ALLOWED_HOSTS: a balancer probes by address


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def postgres_url() -> str:
    url = os.environ.get("DATABASE_URL", "")
    return url if url.startswith("postgres") else "postgres://postgres@127.0.0.1:5432/test"


def postgres_is_up(url: str) -> bool:
    import psycopg

    try:
        with psycopg.connect(url.replace("postgres://", "postgresql://", 1), connect_timeout=2):
            return True
    except psycopg.Error:
        return False


@pytest.fixture
def servers():
    """The machine's PostgreSQL and Redis; skipped without them (failed under CI=true)."""
    database, redis = postgres_url(), redis_url()
    require_service(postgres_is_up(database), f"PostgreSQL at {database}")
    require_service(redis_is_up(redis), f"Redis at {redis}")
    return {"database": database, "redis": redis}


@contextmanager
def throwaway_redis():
    """A redis-server of this test's own on a free port; yields (url, stop)."""
    binary = shutil.which("redis-server")
    require_service(binary is not None, "redis-server (to start a throw-away one)")
    port = free_port()
    process = subprocess.Popen(
        [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"redis://127.0.0.1:{port}/0"

    def stop():
        if process.poll() is None:
            process.kill()
            process.wait(timeout=10)

    try:
        wait_for(lambda: redis_is_up(url), 10, f"a throw-away redis-server on port {port}")
        yield url, stop
    finally:
        stop()


class Relay:
    """A TCP relay to ``target``: stopping it is the server going away for new connections."""

    def __init__(self, target: tuple[str, int]):
        self.target = target
        self.listener = socket.socket()
        self.listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.listener.bind(("127.0.0.1", 0))
        self.listener.listen(64)
        self.port = self.listener.getsockname()[1]
        self.sockets: list[socket.socket] = []
        self.lock = threading.Lock()
        threading.Thread(target=self.accept, daemon=True).start()

    def accept(self):
        while True:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return  # stopped
            try:
                upstream = socket.create_connection(self.target, timeout=5)
            except OSError:
                client.close()
                continue
            with self.lock:
                self.sockets += [client, upstream]
            for source, sink in ((client, upstream), (upstream, client)):
                threading.Thread(target=self.pump, args=(source, sink), daemon=True).start()

    @staticmethod
    def pump(source: socket.socket, sink: socket.socket):
        try:
            while data := source.recv(65536):
                sink.sendall(data)
        except OSError:
            pass
        finally:
            for end in (source, sink):
                with suppress(OSError):
                    end.shutdown(socket.SHUT_RDWR)

    def stop(self):
        # shutdown() wakes the thread blocked in accept(); close() alone would leave the
        # kernel's listening socket open until that call returned.
        with suppress(OSError):
            self.listener.shutdown(socket.SHUT_RDWR)
        self.listener.close()
        with self.lock:
            for sock in self.sockets:
                sock.close()


def relayed_database(database_url: str, relay: Relay) -> str:
    """``database_url`` with its host and port replaced by the relay's."""
    import dj_database_url

    params = dj_database_url.parse(database_url)
    password = f":{params['PASSWORD']}" if params["PASSWORD"] else ""
    return f"postgres://{params['USER']}{password}@127.0.0.1:{relay.port}/{params['NAME']}"


@contextmanager
def gunicorn(env: dict[str, str], log: Path):
    port = free_port()
    full_env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "cms.settings.production",
        "SECRET_KEY": secrets.token_urlsafe(50),
        "ALLOWED_HOSTS": "stories.example.org",
        "SYNDICATION_TOKEN_KEYS": Fernet.generate_key().decode(),
        "GUNICORN_BIND": f"127.0.0.1:{port}",
        "WEB_CONCURRENCY": "1",
        "LOG_LEVEL": "WARNING",
        **env,
    }
    with log.open("w") as out:
        process = subprocess.Popen(
            [GUNICORN, "cms.wsgi", "-c", "cms/gunicorn.conf.py"],
            cwd=ROOT,
            env=full_env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        try:
            wait_for(lambda: probe(port, "/healthz")[0] == 200, 60, "gunicorn to start", log)
            yield port
        finally:
            process.terminate()
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def probe(port: int, path: str) -> tuple[int, bytes]:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        connection.request("GET", path, headers={"Host": PROBE_HOST})
        response = connection.getresponse()
        return response.status, response.read()
    except OSError:
        return 0, b""
    finally:
        connection.close()


def readyz(port: int) -> tuple[int, dict, float]:
    started = time.monotonic()
    status, body = probe(port, "/readyz")
    return status, json.loads(body), time.monotonic() - started


def assert_only_failing(port: int, name: str, log: Path):
    status, body, elapsed = readyz(port)
    assert status == 503, (body, log.read_text()[-3000:])
    assert body["status"] == "unavailable"
    assert body["checks"][name].startswith("error: "), body
    assert {other for other, result in body["checks"].items() if result != "ok"} == {name}, body
    assert elapsed < health.DEADLINE + 1.5, elapsed
    assert probe(port, "/healthz") == (200, b"ok")  # still alive: a restart would not help
    return body["checks"][name]


# The env variable that points each dependency at its own server.
SETTING = {"cache": "REDIS_URL", "broker": "CELERY_BROKER_URL", "events": "ENGAGEMENT_REDIS_URL"}


@pytest.mark.parametrize("name", ["cache", "broker", "events"])
def test_readyz_names_the_redis_that_stopped(servers, tmp_path, name):
    with throwaway_redis() as (victim, stop):
        env = {
            "STORYLOOM_VAR_DIR": str(tmp_path / "var"),
            "DATABASE_URL": servers["database"],
            "REDIS_URL": servers["redis"],
            "CELERY_BROKER_URL": servers["redis"],
            "CELERY_RESULT_BACKEND": servers["redis"],
            "ENGAGEMENT_REDIS_URL": servers["redis"],
            SETTING[name]: victim,
        }
        log = tmp_path / "gunicorn.log"
        with gunicorn(env, log) as port:
            status, body, _ = readyz(port)
            assert status == 200, (body, log.read_text()[-3000:])
            assert body == {
                "status": "ready",
                "checks": {"database": "ok", "cache": "ok", "broker": "ok", "events": "ok"},
            }
            stop()
            reason = assert_only_failing(port, name, log)
            assert "Connection refused" in reason or "Error 111" in reason


def test_readyz_names_the_database_when_postgresql_goes_away(servers, tmp_path):
    import dj_database_url

    target = dj_database_url.parse(servers["database"])
    relay = Relay((target["HOST"] or "127.0.0.1", int(target["PORT"] or 5432)))
    env = {
        "STORYLOOM_VAR_DIR": str(tmp_path / "var"),
        "DATABASE_URL": relayed_database(servers["database"], relay),
        "REDIS_URL": servers["redis"],
        "CELERY_BROKER_URL": servers["redis"],
        "CELERY_RESULT_BACKEND": servers["redis"],
        "ENGAGEMENT_REDIS_URL": servers["redis"],
    }
    log = tmp_path / "gunicorn.log"
    try:
        with gunicorn(env, log) as port:
            status, body, _ = readyz(port)
            assert status == 200, (body, log.read_text()[-3000:])
            assert body["checks"] == dict.fromkeys(("database", "cache", "broker", "events"), "ok")
            relay.stop()
            reason = assert_only_failing(port, "database", log)
            assert "OperationalError" in reason
            assert "refused" in reason.lower()
    finally:
        relay.stop()


def test_readyz_answers_in_time_when_every_server_hangs(tmp_path):
    """Servers that accept connections and never answer: every check fails within ~2 s."""
    hole = socket.socket()
    hole.bind(("127.0.0.1", 0))
    hole.listen(256)
    silent = f"127.0.0.1:{hole.getsockname()[1]}"
    env = {
        "STORYLOOM_VAR_DIR": str(tmp_path / "var"),
        "DATABASE_URL": f"postgres://postgres@{silent}/test",
        "REDIS_URL": f"redis://{silent}/0",
        "CELERY_BROKER_URL": f"redis://{silent}/0",
        "CELERY_RESULT_BACKEND": f"redis://{silent}/0",
        "ENGAGEMENT_REDIS_URL": f"redis://{silent}/0",
    }
    log = tmp_path / "gunicorn.log"
    try:
        with gunicorn(env, log) as port:
            status, body, elapsed = readyz(port)
        assert status == 503, (body, log.read_text()[-3000:])
        assert set(body["checks"]) == {"database", "cache", "broker", "events"}
        assert all(result.startswith("error: ") for result in body["checks"].values()), body
        assert elapsed < health.DEADLINE + 1.5, elapsed
    finally:
        hole.close()
