"""A small LinkedIn Comments API for the conversation reader's tests: real HTTP, in memory.

It answers ``GET /rest/socialActions/{URN}/comments`` for a post's URN or a comment's URN
(URL-encoded, as LinkedIn wants), paged by ``start`` and ``count``, in the shape of the
versioned REST API: ``{"paging": {"start", "count", "total", "links"}, "elements": [...]}``,
each comment with ``actor``, ``commentUrn``, ``id``, ``object``, ``message.text``,
``created``/``lastModified`` (epoch milliseconds) and ``commentsSummary``. Requests need
``Authorization: Bearer <token>`` for a token it knows (else 401 ``INVALID_ACCESS_TOKEN``),
``LinkedIn-Version`` (else 426 ``VERSION_MISSING``) and ``X-Restli-Protocol-Version``.

``answer_next(status, body, **headers)`` replaces the next answer; ``raw`` merges hostile
fields into a comment; ``inject(urn, element)`` adds any element to a listing. ``hits``
counts listings by the URN asked for; ``requests`` keeps each request's headers.
"""

from __future__ import annotations

import copy
import itertools
import json
import secrets
import threading
from collections import Counter, defaultdict, deque
from http.server import BaseHTTPRequestHandler
from urllib.parse import parse_qs, unquote, urlsplit

from .fake_http import FakeNetwork

START_MS = 1_796_000_000_000


class LinkedInTestServer(FakeNetwork):
    def __init__(self):
        self.lock = threading.RLock()
        self.tokens: set[str] = set()
        self.comments: dict[str, dict] = {}  # comment URN -> comment
        self.order: list[str] = []
        self.raw: dict[str, dict] = {}
        self.injected: dict[str, list] = defaultdict(list)
        self.answers: deque = deque()
        self.hits: Counter = Counter()
        self.requests: list[dict] = []
        self.ids = itertools.count(7_400_000_000_000_000_001)
        #: The most comments a page holds, whatever ``count`` asked for.
        self.page_cap = 100
        super().__init__()

    # --- The world ------------------------------------------------------------------------
    def token(self) -> str:
        value = secrets.token_urlsafe(16)
        self.tokens.add(value)
        return value

    def post(self) -> str:
        """A new post's URN (an organisation's share)."""
        return f"urn:li:share:{next(self.ids)}"

    def comment(self, on: str, text: str, actor: str = "urn:li:person:alice") -> str:
        """A comment by ``actor`` on a post or on a comment; its URN."""
        with self.lock:
            n = next(self.ids)
            parent = self.comments.get(on)
            activity = parent["activity"] if parent else f"urn:li:activity:{on.rsplit(':', 1)[1]}"
            urn = f"urn:li:comment:({activity},{n})"
            moment = START_MS + len(self.order) * 60_000
            self.comments[urn] = {
                "activity": activity,
                "on": on,
                "deleted": False,
                "element": {
                    "actor": actor,
                    "commentUrn": urn,
                    "id": str(n),
                    "object": parent["element"]["object"] if parent else on,
                    "message": {"text": text, "attributes": []},
                    "created": {"actor": actor, "time": moment},
                    "lastModified": {"actor": actor, "time": moment},
                },
            }
            if parent:
                self.comments[urn]["element"]["parentComment"] = on
            self.order.append(urn)
            return urn

    def delete(self, urn: str) -> None:
        self.comments[urn]["deleted"] = True

    def edit(self, urn: str, text: str) -> None:
        element = self.comments[urn]["element"]
        element["message"]["text"] = text
        element["lastModified"]["time"] += 1000

    def inject(self, urn: str, element) -> None:
        self.injected[urn].append(element)

    def answer_next(self, status: int, body: str, content_type="application/json", **headers):
        self.answers.append((status, body, content_type, headers))

    # --- Views ----------------------------------------------------------------------------
    def listing(self, on: str) -> list:
        found = []
        for urn in self.order:
            entry = self.comments[urn]
            if entry["on"] != on or entry["deleted"]:
                continue
            element = copy.deepcopy(entry["element"])
            children = [
                u
                for u in self.order
                if self.comments[u]["on"] == urn and not self.comments[u]["deleted"]
            ]
            element["commentsSummary"] = {
                "aggregatedTotalComments": len(children),
                "totalFirstLevelComments": len(children),
                "selectedComments": children[:1],
            }
            found.append(_merge(element, copy.deepcopy(self.raw.get(urn, {}))))
        return found + copy.deepcopy(self.injected.get(on, []))

    # --- HTTP -----------------------------------------------------------------------------
    def handle(self, handler: BaseHTTPRequestHandler) -> None:
        parts = urlsplit(handler.path)
        query = {key: values[-1] for key, values in parse_qs(parts.query).items()}
        with self.lock:
            self.requests.append(dict(handler.headers))
            if self.answers:
                status, body, content_type, headers = self.answers.popleft()
                return _send(handler, status, body, content_type, headers)
            token = handler.headers.get("Authorization", "").removeprefix("Bearer ")
            if token not in self.tokens:
                return _error(handler, 401, "INVALID_ACCESS_TOKEN", "Invalid access token")
            if not handler.headers.get("LinkedIn-Version"):
                return _error(handler, 426, "VERSION_MISSING", "A version must be present")
            path = parts.path
            if not (path.startswith("/rest/socialActions/") and path.endswith("/comments")):
                return _error(handler, 404, "NOT_FOUND", f"No resource {path}")
            urn = unquote(path.removeprefix("/rest/socialActions/").removesuffix("/comments"))
            self.hits[urn] += 1
            elements = self.listing(urn)
            start = int(query.get("start", 0))
            count = min(int(query.get("count", 10)), self.page_cap)
            body = {
                "paging": {"start": start, "count": count, "total": len(elements), "links": []},
                "elements": elements[start : start + count],
            }
        return _send(handler, 200, json.dumps(body), "application/json", {})


def _merge(view: dict, raw: dict) -> dict:
    for key, value in raw.items():
        if isinstance(value, dict) and isinstance(view.get(key), dict):
            view[key] = _merge(view[key], value)
        else:
            view[key] = value
    return view


def _error(handler, status: int, code: str, message: str) -> None:
    body = {"status": status, "serviceErrorCode": 65600, "code": code, "message": message}
    _send(handler, status, json.dumps(body), "application/json", {})


def _send(handler, status: int, body: str, content_type: str, headers: dict) -> None:
    data = body.encode("utf-8", "surrogatepass")
    handler.send_response(status)
    if content_type:
        handler.send_header("Content-Type", content_type)
    for name, value in headers.items():
        handler.send_header(name, value)
    handler.send_header("Content-Length", str(len(data)))
    handler.end_headers()
    handler.wfile.write(data)
