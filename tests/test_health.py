"""``/healthz`` and ``/readyz``: what a load balancer asks, answered ahead of Django.

The failure cases go through ``cms.wsgi.application``, as gunicorn does: behind Django's
middleware a dead cache fails every request before any view runs (the site lookup is
cached), which is one reason the probes are answered ahead of it. The failures are
real: a cache pointed at a port nobody listens on, a broker folder that does not exist,
a server that accepts connections and never answers. With PostgreSQL and Redis servers
started and stopped for real: tests/integration/test_readyz.py.
"""

import io
import json
import socket
import time

import pytest

from cms import health
from cms.logging import redact


def closed_port() -> int:
    """A port nothing listens on (bound, then released)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def black_hole():
    """A server that accepts connections (the kernel's backlog) and never says a word."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(64)
    yield sock.getsockname()[1]
    sock.close()


def redis_cache_at(port: int, password: str = "") -> dict:
    auth = f":{password}@" if password else ""
    return {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": f"redis://{auth}127.0.0.1:{port}/0",
            "OPTIONS": {"socket_connect_timeout": 5, "socket_timeout": 5},
        },
        "renditions": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"},
    }


def call_wsgi(app, path, method="GET", host="10.1.2.3"):
    answer = {}

    def start_response(status, headers):
        answer["status"], answer["headers"] = status, dict(headers)

    environ = {
        "REQUEST_METHOD": method,
        "PATH_INFO": path,
        "SERVER_NAME": host,
        "SERVER_PORT": "80",
        "HTTP_HOST": host,
        "wsgi.url_scheme": "http",
        "wsgi.input": io.BytesIO(b""),
        "wsgi.errors": io.StringIO(),
        "SERVER_PROTOCOL": "HTTP/1.1",
    }
    answer["body"] = b"".join(app(environ, start_response))
    return answer


def readyz() -> tuple[str, dict]:
    from cms.wsgi import application

    answer = call_wsgi(application, "/readyz")
    return answer["status"], json.loads(answer["body"])


def test_healthz_touches_nothing():
    """No database (this test may not use one: a query would raise), no cache, no Django."""
    from cms.wsgi import application

    answer = call_wsgi(application, "/healthz")
    assert answer["status"] == "200 OK"
    assert answer["body"] == b"ok"
    assert answer["headers"]["Cache-Control"] == "no-store"


@pytest.mark.django_db
def test_the_routes_answer_the_same_behind_django(client):
    assert client.get("/healthz").content == b"ok"
    response = client.get("/readyz")
    assert response.status_code == 200, response.content
    assert response.json()["status"] == "ready"
    assert response["Cache-Control"] == "no-store"
    assert "X-Request-ID" in response  # it went through the middleware


@pytest.mark.django_db
def test_readyz_is_ready_when_everything_answers(settings):
    status, body = readyz()
    assert status == "200 OK", body
    expected = {"database": "ok", "cache": "ok", "broker": "ok"}
    if settings.ENGAGEMENT_REDIS_URL:  # CI points it at its Redis
        expected["events"] = "ok"
    assert body == {"status": "ready", "checks": expected}


@pytest.mark.django_db
def test_readyz_says_503_and_which_one_when_the_cache_server_is_gone(settings):
    settings.CACHES = redis_cache_at(closed_port(), password="hunter2-secret")
    status, body = readyz()
    assert status == "503 Service Unavailable"
    assert body["status"] == "unavailable"
    assert body["checks"]["database"] == "ok"
    assert body["checks"]["broker"] == "ok"
    assert body["checks"]["cache"].startswith("error: ConnectionError")
    assert "refused" in body["checks"]["cache"].lower()
    assert "hunter2" not in json.dumps(body)


@pytest.mark.django_db
def test_readyz_fails_the_file_system_broker_when_its_folder_is_gone(settings, tmp_path):
    settings.CELERY_BROKER_URL = "filesystem://"
    settings.CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(tmp_path / "gone"),
        "data_folder_out": str(tmp_path / "gone"),
    }
    status, body = readyz()
    assert status.startswith("503")
    assert body["checks"]["broker"].startswith("error: FileNotFoundError")
    (tmp_path / "gone").mkdir()
    assert readyz()[0] == "200 OK"
    assert list((tmp_path / "gone").iterdir()) == []  # the probe file is gone again


@pytest.mark.django_db
def test_readyz_answers_in_about_two_seconds_when_a_server_hangs(settings, black_hole):
    settings.CACHES = redis_cache_at(black_hole)
    settings.ENGAGEMENT_REDIS_URL = f"redis://127.0.0.1:{black_hole}/0"
    started = time.monotonic()
    status, body = readyz()
    elapsed = time.monotonic() - started
    assert status.startswith("503")
    checks = body["checks"]
    assert checks["cache"] == f"error: no answer within {health.DEADLINE:g} s"
    assert checks["events"].startswith("error: TimeoutError")
    assert checks["database"] == "ok"
    assert elapsed < health.DEADLINE + 1.0


@pytest.mark.django_db
def test_the_wsgi_layer_answers_probes_that_django_would_refuse(settings):
    """Plain HTTP, the balancer's own Host: production settings would redirect or refuse."""
    from cms.wsgi import application

    settings.ALLOWED_HOSTS = ["stories.example.org"]
    assert call_wsgi(application, "/")["status"].startswith("400")  # DisallowedHost

    answer = call_wsgi(application, "/healthz")
    assert answer["status"] == "200 OK"
    assert answer["body"] == b"ok"
    assert answer["headers"]["Cache-Control"] == "no-store"

    head = call_wsgi(application, "/healthz", method="HEAD")
    assert head["status"] == "200 OK" and head["body"] == b""
    assert head["headers"]["Content-Length"] == "2"


@pytest.mark.django_db
def test_the_wsgi_layer_serves_readyz_and_hands_everything_else_on():
    handed_on = []

    def django_app(environ, start_response):
        handed_on.append((environ["REQUEST_METHOD"], environ["PATH_INFO"]))
        start_response("204 No Content", [])
        return [b""]

    app = health.with_health(django_app)
    answer = call_wsgi(app, "/readyz")
    assert answer["status"] == "200 OK"
    assert answer["headers"]["Content-Type"] == "application/json"
    assert json.loads(answer["body"])["status"] == "ready"
    assert handed_on == []
    call_wsgi(app, "/healthz", method="POST")
    call_wsgi(app, "/healthz/")
    assert handed_on == [("POST", "/healthz"), ("GET", "/healthz/")]


def test_reasons_are_short_and_carry_no_credentials():
    error = ConnectionError(
        "could not reach redis://:pa55word@cache.internal:6379/1 (password=pa55word)\nmore"
    )
    text = health.reason(error)
    assert "pa55word" not in text
    assert text.startswith("ConnectionError: could not reach redis://***@cache.internal")
    assert "more" not in text
    assert len(health.reason(RuntimeError("x" * 1000))) == health.REASON_LENGTH
    assert redact("postgres://storyloom:hunter2@db:5432/storyloom") == (
        "postgres://***@db:5432/storyloom"
    )
