"""``/healthz`` (the process is up) and ``/readyz`` (it can do its work) for load balancers.

``/healthz`` answers ``200 ok`` without touching anything: a liveness probe that fails
only when the process is wedged. ``/readyz`` checks, at the same time and each with its
own short timeout, what a request or a task needs:

* ``database``: a new connection runs ``SELECT 1`` (and is closed again);
* ``cache``: the default cache stores a key and reads it back;
* ``broker``: a new connection to the Celery broker (the file-system broker: its
  folders take a file);
* ``events``: the engagement stream's Redis answers ``PING`` (only when
  ``ENGAGEMENT_REDIS_URL`` is set).

It answers ``200 {"status": "ready", "checks": {"database": "ok", …}}`` or
``503 {"status": "unavailable", "checks": {"cache": "error: <why>", …}}`` within about
``DEADLINE`` seconds even when a server hangs; reasons are short and carry no
credentials (``cms.logging.redact``).

``with_health`` serves both ahead of Django (``cms/wsgi.py``), like the event collector:
a load balancer probes over plain HTTP with its own Host header, which the production
settings would answer with an HTTPS redirect and a ``DisallowedHost`` error, and a probe
every few seconds needs no session, CSRF or access log line. The same answers are also
routed in ``cms/urls.py`` for servers that do not use ``cms.wsgi`` (ASGI, tests).
"""

import json
import os
import tempfile
import threading
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor, wait

from .logging import redact

HEALTHZ = "/healthz"
READYZ = "/readyz"
#: How long ``/readyz`` waits for all checks together (seconds).
DEADLINE = 2.0
#: Connect and read timeout of each check's own connection (libpq's minimum is 2 s).
TIMEOUT = 1.5
REASON_LENGTH = 200
NO_STORE = [("Cache-Control", "no-store"), ("X-Content-Type-Options", "nosniff")]


class CheckFailed(Exception):
    """A dependency answered, but not as it should."""


# --- The checks --------------------------------------------------------------------------


def check_database() -> None:
    """A new connection with a short connect timeout, ``SELECT 1``, closed again.

    Not the process's own connection: that one may be held by a request on this thread,
    and a fresh one proves new connections can be made (a full ``max_connections`` fails
    here too).
    """
    from django.db import DEFAULT_DB_ALIAS, connections
    from django.db.utils import load_backend

    params = dict(connections.settings[DEFAULT_DB_ALIAS])
    options = dict(params.get("OPTIONS") or {})
    options.pop("pool", None)  # one connection, not a pool per probe
    if params["ENGINE"] == "django.db.backends.postgresql":
        options["connect_timeout"] = max(2, round(TIMEOUT))
    params["OPTIONS"] = options
    params["CONN_MAX_AGE"] = 0
    wrapper = load_backend(params["ENGINE"]).DatabaseWrapper(params, DEFAULT_DB_ALIAS)
    try:
        with wrapper.cursor() as cursor:
            cursor.execute("SELECT 1")
            if cursor.fetchone()[0] != 1:
                raise CheckFailed("SELECT 1 did not return 1")
    finally:
        wrapper.close()


def check_cache() -> None:
    """Store a key in the default cache and read it back."""
    from django.core.cache import caches

    cache = caches["default"]
    key = f"storyloom:readyz:{uuid.uuid4().hex}"
    cache.set(key, "ok", 30)
    try:
        if cache.get(key) != "ok":
            raise CheckFailed("a key just written could not be read back")
    finally:
        cache.delete(key)


def check_broker() -> None:
    """Connect to the Celery broker (the file-system broker: write a file to its folders)."""
    from django.conf import settings

    from kombu import Connection

    url = settings.CELERY_BROKER_URL
    options = settings.CELERY_BROKER_TRANSPORT_OPTIONS
    if url.startswith("filesystem"):
        folders = {options.get("data_folder_in"), options.get("data_folder_out")} - {None}
        for folder in folders:
            # Not named *.msg, so kombu never takes the probe for a message.
            with tempfile.NamedTemporaryFile(dir=folder, prefix=".readyz-", suffix=".probe") as f:
                f.write(b"ok")
                f.flush()
        return
    transport_options = {**options, "socket_timeout": TIMEOUT, "socket_connect_timeout": TIMEOUT}
    with Connection(url, connect_timeout=TIMEOUT, transport_options=transport_options) as conn:
        conn.ensure_connection(max_retries=1, interval_start=0, interval_step=0, timeout=TIMEOUT)


_event_clients: dict[str, object] = {}


def check_events() -> None:
    """The engagement stream's Redis answers ``PING``."""
    from django.conf import settings

    import redis

    url = settings.ENGAGEMENT_REDIS_URL
    client = _event_clients.get(url)
    if client is None:
        # A client of its own, with timeouts shorter than the collector's.
        client = redis.Redis.from_url(url, socket_timeout=TIMEOUT, socket_connect_timeout=TIMEOUT)
        _event_clients[url] = client
    if not client.ping():
        raise CheckFailed("PING was not answered with PONG")


def enabled_checks() -> dict[str, Callable[[], None]]:
    from django.conf import settings

    checks = {"database": check_database, "cache": check_cache, "broker": check_broker}
    if settings.ENGAGEMENT_REDIS_URL:
        checks["events"] = check_events
    return checks


# --- Running them --------------------------------------------------------------------


def reason(exc: BaseException) -> str:
    """A short, credential-free account of what went wrong."""
    first_line = next((line.strip() for line in str(exc).splitlines() if line.strip()), "")
    text = f"{type(exc).__name__}: {first_line}" if first_line else type(exc).__name__
    text = redact(text)
    return text if len(text) <= REASON_LENGTH else text[: REASON_LENGTH - 1] + "…"


def run_check(check: Callable[[], None]) -> str:
    try:
        check()
    except Exception as exc:
        return f"error: {reason(exc)}"
    return "ok"


_pool: ThreadPoolExecutor | None = None
_pool_pid: int | None = None
_pool_lock = threading.Lock()


def pool() -> ThreadPoolExecutor:
    """This process's threads for the checks (made afresh after a fork).

    Kept between probes so the cache client and its connections are reused; every check
    has its own timeout, so a hung server ties a thread up for seconds, not for good.
    """
    global _pool, _pool_pid
    with _pool_lock:
        if _pool is None or _pool_pid != os.getpid():
            _pool = ThreadPoolExecutor(max_workers=8, thread_name_prefix="readyz")
            _pool_pid = os.getpid()
        return _pool


def readiness(deadline: float = DEADLINE) -> tuple[bool, dict[str, str]]:
    """Run every check at once; ``(ready, {name: "ok" | "error: …"})`` within ``deadline``."""
    futures = {name: pool().submit(run_check, check) for name, check in enabled_checks().items()}
    done, _ = wait(futures.values(), timeout=deadline)
    results = {
        name: future.result() if future in done else f"error: no answer within {deadline:g} s"
        for name, future in futures.items()
    }
    return all(result == "ok" for result in results.values()), results


def readiness_body() -> tuple[int, bytes]:
    ready, results = readiness()
    body = {"status": "ready" if ready else "unavailable", "checks": results}
    return (200 if ready else 503), json.dumps(body).encode()


# --- Serving them ----------------------------------------------------------------------


def healthz(request):
    from django.http import HttpResponse

    response = HttpResponse(b"ok", content_type="text/plain; charset=utf-8")
    for name, value in NO_STORE:
        response[name] = value
    return response


def readyz(request):
    from django.http import HttpResponse

    status, body = readiness_body()
    response = HttpResponse(body, status=status, content_type="application/json")
    for name, value in NO_STORE:
        response[name] = value
    return response


STATUS_LINES = {200: "200 OK", 503: "503 Service Unavailable"}


def with_health(django_app):
    """Wrap a WSGI application so ``GET``/``HEAD`` ``/healthz`` and ``/readyz`` skip Django."""

    def application(environ, start_response):
        path = environ.get("PATH_INFO")
        method = environ.get("REQUEST_METHOD")
        if path not in (HEALTHZ, READYZ) or method not in ("GET", "HEAD"):
            return django_app(environ, start_response)
        if path == HEALTHZ:
            status, body, content_type = 200, b"ok", "text/plain; charset=utf-8"
        else:
            status, body = readiness_body()
            content_type = "application/json"
        headers = [
            ("Content-Type", content_type),
            ("Content-Length", str(len(body))),
            *NO_STORE,
        ]
        start_response(STATUS_LINES[status], headers)
        return [b""] if method == "HEAD" else [body]

    return application
