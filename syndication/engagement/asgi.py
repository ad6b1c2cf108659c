"""The event collector on an event loop: ``POST /e/`` for a process of its own.

Under gunicorn's gthread workers (the web process, ``wsgi.py``) the HTTP handling
costs several times what checking an event does, and each event waits for its own
round trip to Redis. This ASGI application serves the same endpoint from one event
loop per process (uvicorn with httptools and uvloop, run by gunicorn:
``Procfile``'s ``collector``):

- the check is ``buffer.accept``, the very code the WSGI path runs, called on the loop:
  once the process's caches are warm (the live stories, today's salt, the share
  tokens seen) it does no I/O at all;
- when it would need the database (after a publish, once a day, a new share token)
  Django refuses the query on the loop, and the check runs again in a thread;
- accepted entries go to Redis through one connection per process; the XADDs of every
  request that arrived while one batch was on the wire go together in the next, so
  a busy collector pays one round trip per batch, not per event;
- each request is answered 202 only once Redis has acknowledged its own entry, as in
  the WSGI path; a connection that fails answers that batch 503.

``/healthz`` and ``/readyz`` are answered here too; every other request goes to
Django's ASGI handler, so the process can stand in for the web one if it must.

    # cms/asgi.py
    application = with_collector(get_asgi_application())

    gunicorn cms.asgi -c cms/gunicorn_collector.conf.py
"""

import asyncio
import logging
import weakref

from django.conf import settings
from django.core.exceptions import SynchronousOnlyOperation
from django.db import DatabaseError, close_old_connections

import redis
import redis.asyncio
from asgiref.sync import sync_to_async

from cms import health

from . import buffer, events

logger = logging.getLogger(__name__)

COLLECT_PATH = "/e/"
CONNECTION_ERRORS = (redis.ConnectionError, redis.TimeoutError, OSError)


class StreamWriter:
    """Appends entries to one Redis stream over one connection, a batch per round trip.

    ``add`` queues the entry's XADD and waits for its reply. While a batch is on the
    wire, new entries wait; the next batch takes all of them, written in one go and
    answered in order (Redis runs a connection's commands in the order they came).
    """

    def __init__(self, url: str, stream: str):
        self.pool = redis.asyncio.ConnectionPool.from_url(
            url, socket_timeout=5, socket_connect_timeout=2
        )
        self.stream = stream
        self.connection = None
        self.waiting: list[tuple[bytes, asyncio.Future]] = []
        self.sending: asyncio.Task | None = None
        self.batches = 0

    async def add(self, entry: dict):
        """Append ``entry``; Redis's reply, or a ``redis.RedisError`` if it did not take it."""
        future = asyncio.get_running_loop().create_future()
        self.waiting.append((buffer.xadd_command(self.stream, entry), future))
        if self.sending is None:
            self.sending = asyncio.create_task(self._send_all())
        return await future

    async def _send_all(self) -> None:
        try:
            while self.waiting:
                batch, self.waiting = self.waiting, []
                await self._send(batch)
        finally:
            self.sending = None

    async def _send(self, batch: list[tuple[bytes, asyncio.Future]]) -> None:
        self.batches += 1
        connection = self.connection or self.pool.make_connection()
        self.connection = connection
        replied = 0
        try:
            await connection.send_packed_command(b"".join(command for command, _ in batch))
            for _command, future in batch:
                try:
                    reply = await connection.read_response()
                except redis.ResponseError as problem:  # this entry alone (e.g. OOM)
                    settle(future, problem)
                else:
                    settle(future, reply)
                replied += 1
        except CONNECTION_ERRORS as problem:
            # Entries sent but unanswered may be in the stream: the reader is told 503,
            # as the WSGI path does when the answer to its one XADD is lost.
            self.connection = None
            await connection.disconnect()
            failure = (
                problem
                if isinstance(problem, redis.RedisError)
                else redis.ConnectionError(str(problem))
            )
            for _command, future in batch[replied:]:
                settle(future, failure)


def settle(future: asyncio.Future, result) -> None:
    """Give the waiting request its reply (or error), unless it has gone away."""
    if future.done():
        return
    if isinstance(result, BaseException):
        future.set_exception(result)
    else:
        future.set_result(result)


_writers: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def writer() -> StreamWriter:
    """This event loop's writer (a connection belongs to the loop that opened it)."""
    loop = asyncio.get_running_loop()
    found = _writers.get(loop)
    if found is None:
        found = _writers[loop] = StreamWriter(
            settings.ENGAGEMENT_REDIS_URL, settings.ENGAGEMENT_STREAM
        )
    return found


# --- Requests --------------------------------------------------------------------------


def meta_of(scope) -> dict:
    """The request's headers as WSGI names (``HTTP_USER_AGENT``), as ``buffer`` reads them."""
    meta = {}
    for name, value in scope["headers"]:
        key = name.decode("latin-1").upper().replace("-", "_")
        if key not in ("CONTENT_TYPE", "CONTENT_LENGTH"):
            key = "HTTP_" + key
        meta[key] = value.decode("latin-1")
    client = scope.get("client")
    meta["REMOTE_ADDR"] = client[0] if client else ""
    server = scope.get("server")
    meta["SERVER_NAME"] = server[0] if server else ""
    return meta


async def read_body(receive) -> bytes:
    """At most ``MAX_BODY + 1`` bytes: enough to tell a body is too long."""
    body = b""
    while len(body) <= events.MAX_BODY:
        message = await receive()
        if message["type"] != "http.request":
            break
        body += message.get("body", b"")
        if not message.get("more_body"):
            break
    return body[: events.MAX_BODY + 1]


def accept_in_thread(body: bytes, host: str, details: dict) -> buffer.Outcome | dict:
    try:
        return buffer.accept(body, host=host, **details)
    except DatabaseError:
        logger.exception("engagement: database error in the collector")
        close_old_connections()
        return buffer.Outcome(503, "database: unavailable, try again later")


async def check(meta: dict, body: bytes) -> buffer.Outcome | dict:
    host = buffer.allowed_host(meta)
    if host is None:
        return buffer.Outcome(400, "host: not allowed")
    details = buffer.request_details(meta)
    try:
        return buffer.accept(body, host=host, **details)
    except SynchronousOnlyOperation:
        # A cache is cold: run the whole check again where Django allows the query.
        return await sync_to_async(accept_in_thread, thread_sensitive=False)(body, host, details)


async def collect(scope, receive, send) -> None:
    body = await read_body(receive)
    checked = await check(meta_of(scope), body)
    if isinstance(checked, buffer.Outcome):
        outcome = checked
    else:
        try:
            reply = await writer().add(checked)
        except redis.RedisError:
            logger.exception("engagement: could not buffer an event")
            outcome = buffer.Outcome(503, "buffer: unavailable, try again later")
        else:
            outcome = buffer.outcome_of(reply)
    headers, content = buffer.answer(outcome)
    await respond(send, outcome.status, headers, content)


async def respond(send, status: int, headers: list[tuple[str, str]], content: bytes) -> None:
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [(name.lower().encode(), value.encode()) for name, value in headers],
        }
    )
    await send({"type": "http.response.body", "body": content})


async def probe(scope, send) -> None:
    """``/healthz`` (this process answers) and ``/readyz`` (its dependencies do)."""
    if scope["path"] == health.HEALTHZ:
        status, content, content_type = 200, b"ok", "text/plain; charset=utf-8"
    else:
        status, content = await sync_to_async(health.readiness_body, thread_sensitive=False)()
        content_type = "application/json"
    headers = [("Content-Type", content_type), ("Content-Length", str(len(content)))]
    headers += health.NO_STORE
    await respond(send, status, headers, b"" if scope["method"] == "HEAD" else content)


def with_collector(django_app):
    """Wrap Django's ASGI application: events, health probes, then the site."""

    async def application(scope, receive, send) -> None:
        if scope["type"] == "http":
            path, method = scope["path"], scope["method"]
            if path == COLLECT_PATH and method == "POST" and settings.ENGAGEMENT_REDIS_URL:
                return await collect(scope, receive, send)
            if path in (health.HEALTHZ, health.READYZ) and method in ("GET", "HEAD"):
                return await probe(scope, send)
        return await django_app(scope, receive, send)

    return application
