"""The plumbing our in-process HTTP test servers share: real sockets on 127.0.0.1.

Each test server (Mastodon, Facebook, Threads) reproduces a different real API, so its
routes, error bodies and fault answers stay in its own module. What is the same for all
of them lives here:

* ``Reply`` and the small reply makers (``json_reply``, ``html_page``, ``redirect``,
  ``with_params``), each taking what differs between the APIs as a parameter;
* ``Request``, what a handler hands the server: method, path, parameters as lists;
* ``Handler`` and ``HTTPServer``: a quiet, threaded ``http.server`` that reads the body,
  asks the server for an answer and writes it, or drops the connection or answers late
  when a fault says so;
* ``FaultPlan``: random faults, reproducible from a seed; each server subclasses it with
  its own fault kinds and routes;
* ``TestServer``: the lifecycle (``start``/``stop``/``with``, ``port``, ``url``), the
  forced and random faults, per-route latency and holding a created post's answer.
"""

from __future__ import annotations

import contextlib
import json
import random
import re
import socket
import sys
import threading
import time
from collections import Counter, defaultdict, deque
from dataclasses import dataclass, field
from email.message import Message
from html import escape
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import ClassVar
from urllib.parse import parse_qs, urlencode, urlsplit

#: Faults that hit only requests that succeeded: the post exists, its answer is lost.
AFTER_KINDS = ("500_after_create", "timeout_after_create", "drop_after_create")
#: The post is made only after ``slow_seconds``, when the client has given up.
LATE_KINDS = ("create_after_timeout",)


@dataclass
class FaultPlan:
    """Faults chosen at random, ``rate`` of the time, reproducibly from ``seed``.

    A server's own plan subclasses this with its ``kinds`` and ``routes`` defaults and
    ``known``, every kind that server can play."""

    known: ClassVar[tuple[str, ...]] = ()

    rate: float = 0.3
    kinds: tuple[str, ...] = ()
    seed: int | None = None
    routes: tuple[str, ...] = ()
    _random: random.Random = field(init=False, repr=False)

    def __post_init__(self):
        check_fault_kinds(self.kinds, self.known)
        # Reproducible fault sequences, not secrets: a seeded PRNG is the point.
        self._random = random.Random(self.seed)  # noqa: S311

    def pick(self) -> str | None:
        if self._random.random() < self.rate:
            return self._random.choice(self.kinds)
        return None


def check_fault_kinds(kinds, known: tuple[str, ...]) -> None:
    unknown = set(kinds) - set(known)
    if unknown:
        raise ValueError(f"Unknown fault kinds {sorted(unknown)}; known: {known}")


@dataclass
class Reply:
    status: int
    body: bytes = b""
    headers: dict = field(default_factory=dict)
    delay: float = 0.0
    drop: bool = False


def json_reply(status: int, data, *, content_type: str, **headers) -> Reply:
    """``data`` as JSON; each API writes its own ``Content-Type`` spelling."""
    return Reply(status, json.dumps(data).encode(), {"Content-Type": content_type, **headers})


def html_page(status: int, title: str, body: str, *, site: str) -> Reply:
    """A small HTML page whose ``<title>`` ends as the site's do (``" - Mastodon"``)."""
    document = (
        '<!doctype html><html lang="en"><head><meta charset="utf-8">'
        f"<title>{escape(title)}{site}</title></head><body><main>{body}</main>"
        "</body></html>"
    )
    return Reply(status, document.encode(), {"Content-Type": "text/html; charset=utf-8"})


def redirect(location: str) -> Reply:
    return Reply(302, b"", {"Location": location})


def with_params(uri: str, params: dict) -> str:
    return uri + ("&" if "?" in uri else "?") + urlencode(params)


def contains_marker(text: str | None, marker: str) -> bool:
    """True when ``marker`` occurs whole: ``utm_content=12`` is not in ``utm_content=123``."""
    return bool(re.search(rf"(?<![\w.~-]){re.escape(marker)}(?![\w.~-])", text or ""))


@dataclass
class Request:
    method: str
    path: str
    query: dict
    form: dict
    headers: Message
    client: str = ""
    #: Multipart uploads: ``{name: (filename, content_type, bytes)}``.
    files: dict = field(default_factory=dict)
    #: The API version the path named (Graph's ``/v25.0/…``), where the API has one.
    version: str = ""

    def one(self, name: str, default: str = "") -> str:
        values = self.form.get(name) or self.query.get(name)
        return values[0] if values else default

    def many(self, name: str) -> list[str]:
        return self.form.get(name) or self.query.get(name) or []

    @property
    def bearer(self) -> str:
        """A bearer token from the ``Authorization`` header, or nothing."""
        value = self.headers.get("Authorization", "")
        return value[7:].strip() if value.lower().startswith("bearer ") else ""

    @property
    def token(self) -> str:
        """A bearer (or Graph's ``OAuth``) token from the header, else ``access_token``."""
        value = self.headers.get("Authorization", "")
        if value.lower().startswith(("bearer ", "oauth ")):
            return value.split(" ", 1)[1].strip()
        return self.one("access_token")


class Handler(BaseHTTPRequestHandler):
    """Reads a request, lets ``self.server.app`` answer it, writes (or drops) the answer."""

    sys_version = ""

    def log_message(self, format, *args):
        """Quiet: tests read the server's counters, not its access log."""

    def do_GET(self):
        self._serve()

    def do_POST(self):
        self._serve()

    def _serve(self):
        app = self.server.app
        parts = urlsplit(self.path)
        raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        try:
            form, files = app.parse_body(self.headers.get("Content-Type", ""), raw)
        except (ValueError, AttributeError):
            self._send(app.unparsable_body())
            return
        request = app.make_request(
            self.command, parts.path, parts.query, form, self.headers, self.client_address[0]
        )
        request.files = files
        reply = app.handle(request)
        if reply.delay:
            # An Event rather than sleep, so that stop() releases slow answers at once.
            app._stopping.wait(reply.delay)
        if reply.drop:
            # Close without a status line: the client sees the connection drop.
            self.close_connection = True
            with contextlib.suppress(OSError):
                self.connection.shutdown(socket.SHUT_RDWR)
            return
        self._send(reply)

    def _send(self, reply: Reply):
        try:
            self.send_response(reply.status)
            for name, value in reply.headers.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(reply.body)))
            self.end_headers()
            self.wfile.write(reply.body)
        except (BrokenPipeError, ConnectionResetError):
            pass  # The client gave up waiting, which is what a timeout fault is for.


class HTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    # Bursts of concurrent publishes must queue, not be refused at the socket.
    request_queue_size = 128

    def handle_error(self, request, client_address):
        """Clients that hang up mid-answer are expected here; anything else is a bug."""
        if not isinstance(sys.exc_info()[1], ConnectionError):
            super().handle_error(request, client_address)


class TestServer:
    """Lifecycle, faults, latency and holds for a test server; routes are the subclass's.

    A subclass sets ``server_name`` (for messages), ``handler``, ``fault_kinds``,
    ``create_route`` (where ``fail_next`` aims by default) and ``create_routes`` (whose
    successful answers ``hold_next_create`` holds), calls ``_init_http`` first in its
    ``__init__``, and answers with ``handle(request)``, ``_fault_reply(kind)`` and the
    ``_<route>`` methods."""

    __test__ = False  # not a pytest class, whatever its name says

    server_name: ClassVar[str] = "test"
    handler: ClassVar[type[Handler]] = Handler
    fault_kinds: ClassVar[tuple[str, ...]] = ()
    create_route: ClassVar[str] = ""
    create_routes: ClassVar[tuple[str, ...]] = ()
    #: Whether ``multipart/form-data`` bodies are read as uploads (else as a form).
    multipart: ClassVar[bool] = True

    def _init_http(self, *, port: int, slow_seconds: float) -> None:
        self.lock = threading.Lock()
        self.bind_port = port
        #: How long a ``timeout_*`` fault keeps the client waiting.
        self.slow_seconds = slow_seconds
        #: Seconds every answer on a route takes (``{"create_status": 0.05}``).
        self.latency: dict[str, float] = {}
        #: The server's wall clock, epoch seconds.
        self.clock = time.time
        self.faults: FaultPlan | None = None
        self.fault_counts: Counter = Counter()
        self.hits: Counter = Counter()
        self._forced: dict[str, deque] = defaultdict(deque)
        self._stopping = threading.Event()
        self._holds: deque = deque()
        self._released = threading.Event()
        self._httpd: HTTPServer | None = None
        self._thread: threading.Thread | None = None

    # --- Lifecycle ---------------------------------------------------------------------
    def start(self):
        self._stopping.clear()
        self._httpd = HTTPServer(("127.0.0.1", self.bind_port), self.handler)
        self._httpd.app = self
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._httpd is None:
            return
        self._stopping.set()
        self._released.set()
        self._httpd.shutdown()
        self._httpd.server_close()
        self._thread.join(timeout=5)
        self._httpd = self._thread = None

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()

    @property
    def port(self) -> int:
        if self._httpd is None:
            raise RuntimeError(
                f"The {self.server_name} test server is not running; call start() first."
            )
        return self._httpd.server_address[1]

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    # --- Reading requests (the handler calls these) ----------------------------------
    def parse_body(self, content_type: str, raw: bytes) -> tuple[dict, dict]:
        """``(form, files)``: a JSON object, a multipart upload or a URL-encoded form."""
        if "json" in content_type:
            return {k: [str(v)] for k, v in json.loads(raw or b"{}").items()}, {}
        if self.multipart and content_type.startswith("multipart/form-data"):
            # Imported here: the Mastodon package imports this module as it loads.
            from .mastodon.media import parse_multipart

            return parse_multipart(content_type, raw)
        return parse_qs(raw.decode(), keep_blank_values=True), {}

    def make_request(self, method, path, query, form, headers, client) -> Request:
        return Request(method, path, parse_qs(query, keep_blank_values=True), form, headers, client)

    def unparsable_body(self) -> Reply:
        raise NotImplementedError

    # --- Faults, latency, holds --------------------------------------------------------
    def fail_next(self, *kinds: str, route: str | None = None) -> None:
        """Force these faults, in order, on the next requests to ``route`` (the server's
        create route unless told)."""
        check_fault_kinds(kinds, self.fault_kinds)
        with self.lock:
            self._forced[route or self.create_route].extend(kinds)

    def hold_next_create(self) -> threading.Event:
        """Hold the answer to the next successful create until ``release_holds()``.

        Returns an Event set once the post exists: the moment to kill a client that has
        sent its post and not yet heard back.
        """
        arrived = threading.Event()
        with self.lock:
            self._holds.append(arrived)
        return arrived

    def release_holds(self) -> None:
        self._released.set()

    def _hold_if_asked(self) -> None:
        with self.lock:
            arrived = self._holds.popleft() if self._holds else None
        if arrived is not None:
            self._released.clear()
            arrived.set()
            self._released.wait(30)

    def _wait_latency(self, route: str) -> None:
        if self.latency.get(route):
            self._stopping.wait(self.latency[route])

    def _next_fault(self, route: str) -> str | None:
        """The fault for this request (forced first, then the random plan); under the lock."""
        fault = None
        if self._forced[route]:
            fault = self._forced[route].popleft()
        elif self.faults is not None and route in self.faults.routes:
            fault = self.faults.pick()
        if fault and fault not in AFTER_KINDS:
            self.fault_counts[fault] += 1
        return fault

    def _answer(self, name: str, request: Request, arguments: dict, fault: str | None) -> Reply:
        """The route's own answer, with an ``*_after_create`` or late fault played on it and
        a successful create held when asked."""
        if fault in LATE_KINDS:
            # Still on its way in: the post is made only after the client gave up.
            self._stopping.wait(self.slow_seconds)
        reply = getattr(self, f"_{name}")(request, **arguments)
        if fault in AFTER_KINDS and reply.status < 400:
            reply = self._lose_answer(fault, reply)
        if name in self.create_routes and reply.status < 400:
            self._hold_if_asked()
        return reply

    def _transport_fault(self, fault: str) -> Reply:
        """``drop_before_create`` and ``timeout_before_create``: nothing is made."""
        if fault == "drop_before_create":
            return Reply(0, drop=True)
        return Reply(504, b"Gateway Time-out", {"Content-Type": "text/plain"}, self.slow_seconds)

    def _lose_answer(self, fault: str, reply: Reply) -> Reply:
        with self.lock:
            self.fault_counts[fault] += 1
        if fault == "500_after_create":
            return self._fault_reply("500")
        if fault == "drop_after_create":
            return Reply(0, drop=True)
        reply.delay = self.slow_seconds
        return reply

    def _fault_reply(self, fault: str) -> Reply:
        raise NotImplementedError
