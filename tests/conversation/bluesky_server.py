"""A small Bluesky PDS + AppView for the conversation reader's tests: real HTTP, in memory.

It answers the XRPC calls the reader makes, in the shapes of the lexicons
(``app.bsky.feed.defs#threadViewPost``, ``#postView``, ``#notFoundPost``,
``#blockedPost``, ``app.bsky.actor.defs#profileView``) and the PDS's error bodies
(``{"error": "NotFound", "message": …}``):

* ``app.bsky.feed.getPostThread`` (``depth``), ``getLikes``, ``getRepostedBy`` and
  ``getQuotes`` paged by ``cursor`` and ``limit``;
* ``com.atproto.repo.getRecord`` (``RecordNotFound`` once deleted);
* ``com.atproto.server.refreshSession``; a token made ``expire(token)`` is answered
  ``ExpiredToken`` and one ``revoke``d ``AuthenticationRequired`` (HTTP 401).

As the reference AppView does, a deleted post's replies leave the thread with it.
``answer_next(nsid, status, body)`` replaces the next answer of one call; ``raw``
merges hostile fields into a post's view; ``inject(parent, node)`` adds any entry
to a post's replies. ``hits`` counts calls by NSID.
"""

from __future__ import annotations

import base64
import copy
import hashlib
import itertools
import json
import secrets
import threading
from collections import Counter, defaultdict, deque
from http.server import BaseHTTPRequestHandler
from urllib.parse import parse_qs, urlsplit

from .fake_http import FakeNetwork

TIME = "2026-12-06T10:{:02d}:{:02d}.000Z"


def _did(name: str) -> str:
    digest = base64.b32encode(hashlib.sha256(name.encode()).digest()).decode().lower()
    return f"did:plc:{digest[:24]}"


def _cid(text: str) -> str:
    raw = text.encode("utf-8", "surrogatepass")
    digest = base64.b32encode(hashlib.sha256(raw).digest()).decode().lower()
    return f"bafyrei{digest[:52]}"


class BlueskyTestServer(FakeNetwork):
    def __init__(self):
        self.lock = threading.RLock()
        self.people: dict[str, dict] = {}
        self.posts: dict[str, dict] = {}
        self.order: list[str] = []
        self.likes: dict[str, list[str]] = defaultdict(list)
        self.reposts: dict[str, list[str]] = defaultdict(list)
        self.raw: dict[str, dict] = {}
        self.injected: dict[str, list] = defaultdict(list)
        self.tokens: dict[str, str] = {}  # token -> "access" | "refresh" | "expired"
        self.answers: dict[str, deque] = defaultdict(deque)
        self.hits: Counter = Counter()
        self.seconds = itertools.count()
        super().__init__()

    # --- The world ------------------------------------------------------------------------
    def person(self, name: str, **profile) -> dict:
        with self.lock:
            if name not in self.people:
                self.people[name] = {
                    "did": _did(name),
                    "handle": f"{name}.bsky.social",
                    "displayName": name.title(),
                    "avatar": f"https://cdn.bsky.example/avatar/{name}.jpg",
                    "labels": [],
                    "createdAt": "2024-01-01T00:00:00.000Z",
                }
            self.people[name].update(profile)
            return self.people[name]

    def session(self, name: str = "brand") -> dict:
        """Tokens for ``name`` as Storyloom keeps them (``bluesky.session_tokens``)."""
        access, refresh = secrets.token_urlsafe(16), secrets.token_urlsafe(16)
        self.tokens[access], self.tokens[refresh] = "access", "refresh"
        return {"access_jwt": access, "refresh_jwt": refresh, "did": self.person(name)["did"]}

    def expire(self, token: str) -> None:
        self.tokens[token] = "expired"

    def revoke(self, token: str) -> None:
        self.tokens.pop(token, None)

    def post(self, name: str, text: str, *, reply_to: str = "", quote: str = "", facets=None):
        """A post by ``name``; its at:// URI."""
        with self.lock:
            author = self.person(name)
            n = next(self.seconds)
            rkey = f"3l{n:011d}"
            uri = f"at://{author['did']}/app.bsky.feed.post/{rkey}"
            record = {
                "$type": "app.bsky.feed.post",
                "text": text,
                "createdAt": TIME.format(n // 60 % 60, n % 60),
                "langs": ["en"],
            }
            if facets is not None:
                record["facets"] = facets
            if reply_to:
                parent = self.posts[reply_to]
                root = parent["record"].get("reply", {}).get("root") or self._ref(reply_to)
                record["reply"] = {"root": root, "parent": self._ref(reply_to)}
            if quote:
                record["embed"] = {"$type": "app.bsky.embed.record", "record": self._ref(quote)}
            self.posts[uri] = {
                "uri": uri,
                "cid": _cid(uri + text),
                "author_name": name,
                "record": record,
                "indexedAt": TIME.format(n // 60 % 60, n % 60),
                "deleted": False,
            }
            self.order.append(uri)
            return uri

    def _ref(self, uri: str) -> dict:
        return {"uri": uri, "cid": self.posts[uri]["cid"]}

    def reply(self, parent: str, text: str, as_user: str = "alice", **kwargs) -> str:
        return self.post(as_user, text, reply_to=parent, **kwargs)

    def delete(self, uri: str) -> None:
        self.posts[uri]["deleted"] = True

    def like(self, uri: str, name: str, *, undo: bool = False) -> None:
        self._toggle(self.likes[uri], name, undo)

    def repost(self, uri: str, name: str, *, undo: bool = False) -> None:
        self._toggle(self.reposts[uri], name, undo)

    def _toggle(self, names: list, name: str, undo: bool) -> None:
        with self.lock:
            self.person(name)
            if undo:
                names.remove(name)
            elif name not in names:
                names.append(name)

    def inject(self, parent: str, node) -> None:
        """Add ``node`` (anything) to the replies of ``parent`` in its thread."""
        self.injected[parent].append(node)

    def answer_next(self, nsid: str, status: int, body: str, content_type="application/json", **h):
        self.answers[nsid].append((status, body, content_type, h))

    # --- Views ----------------------------------------------------------------------------
    def profile(self, name: str) -> dict:
        return copy.deepcopy(self.people[name])

    def view(self, uri: str) -> dict:
        post = self.posts[uri]
        alive = [u for u in self.order if not self.posts[u]["deleted"]]
        view = {
            "$type": "app.bsky.feed.defs#postView",
            "uri": uri,
            "cid": post["cid"],
            "author": self.profile(post["author_name"]),
            "record": copy.deepcopy(post["record"]),
            "replyCount": sum(1 for u in alive if self._parent(u) == uri),
            "repostCount": len(self.reposts[uri]),
            "likeCount": len(self.likes[uri]),
            "quoteCount": sum(1 for u in alive if self._quoted(u) == uri),
            "indexedAt": post["indexedAt"],
            "labels": [],
        }
        return _merge(view, copy.deepcopy(self.raw.get(uri, {})))

    def _parent(self, uri: str) -> str:
        return self.posts[uri]["record"].get("reply", {}).get("parent", {}).get("uri", "")

    def _quoted(self, uri: str) -> str:
        return self.posts[uri]["record"].get("embed", {}).get("record", {}).get("uri", "")

    def thread(self, uri: str, depth: int) -> dict:
        node = {"$type": "app.bsky.feed.defs#threadViewPost", "post": self.view(uri)}
        if depth > 0:
            replies = [
                self.thread(child, depth - 1)
                for child in reversed(self.order)
                if self._parent(child) == uri and not self.posts[child]["deleted"]
            ]
            node["replies"] = replies + copy.deepcopy(self.injected.get(uri, []))
        return node

    # --- HTTP -----------------------------------------------------------------------------
    def handle(self, handler: BaseHTTPRequestHandler) -> None:
        parts = urlsplit(handler.path)
        nsid = parts.path.removeprefix("/xrpc/")
        query = {key: values[-1] for key, values in parse_qs(parts.query).items()}
        length = int(handler.headers.get("Content-Length") or 0)
        if length:
            handler.rfile.read(length)
        with self.lock:
            self.hits[nsid] += 1
            if self.answers[nsid]:
                status, body, content_type, headers = self.answers[nsid].popleft()
                return _send(handler, status, body, content_type, headers)
            token = handler.headers.get("Authorization", "").removeprefix("Bearer ")
            kind = self.tokens.get(token)
            wanted = "refresh" if nsid == "com.atproto.server.refreshSession" else "access"
            if kind == "expired":
                return _error(handler, 400, "ExpiredToken", "Token has expired")
            if kind != wanted:
                return _error(handler, 401, "AuthenticationRequired", "Invalid token")
            try:
                status, data = self.route(nsid, query, token)
            except KeyError as missing:
                return _error(handler, 400, "InvalidRequest", f"Missing {missing}")
        if status != 200:
            return _error(handler, status, data["error"], data["message"])
        return _send(handler, 200, json.dumps(data), "application/json", {})

    def route(self, nsid: str, query: dict, token: str) -> tuple[int, dict]:
        uri = query.get("uri", "")
        alive = uri in self.posts and not self.posts[uri]["deleted"]
        if nsid == "app.bsky.feed.getPostThread":
            if not alive:
                return 400, {"error": "NotFound", "message": f"Post not found: {uri}"}
            return 200, {"thread": self.thread(uri, int(query.get("depth", 6)))}
        if nsid == "app.bsky.feed.getLikes":
            likes = [
                {"actor": self.profile(n), "createdAt": TIME.format(0, 0), "indexedAt": "x"}
                for n in self.likes[uri]
            ]
            return 200, self._page(query, "likes", likes)
        if nsid == "app.bsky.feed.getRepostedBy":
            people = [self.profile(n) for n in self.reposts[uri]]
            return 200, self._page(query, "repostedBy", people)
        if nsid == "app.bsky.feed.getQuotes":
            quotes = [
                self.view(u)
                for u in reversed(self.order)
                if self._quoted(u) == uri and not self.posts[u]["deleted"]
            ]
            return 200, self._page(query, "posts", quotes)
        if nsid == "com.atproto.repo.getRecord":
            found = f"at://{query['repo']}/{query['collection']}/{query['rkey']}"
            if found not in self.posts or self.posts[found]["deleted"]:
                return 400, {
                    "error": "RecordNotFound",
                    "message": f"Could not locate record: {found}",
                }
            post = self.posts[found]
            return 200, {"uri": found, "cid": post["cid"], "value": post["record"]}
        if nsid == "com.atproto.server.refreshSession":
            self.tokens.pop(token, None)
            # A JWT whose expiry Storyloom reads (``bluesky.jwt_expiry``), unique per call.
            access = _jwt(2_000_000_000) + secrets.token_urlsafe(16)
            refresh = secrets.token_urlsafe(16)
            self.tokens[access], self.tokens[refresh] = "access", "refresh"
            did = self.person("brand")["did"]
            return 200, {
                "accessJwt": access,
                "refreshJwt": refresh,
                "did": did,
                "handle": "brand.bsky.social",
            }
        return 400, {"error": "MethodNotImplemented", "message": nsid}

    @staticmethod
    def _page(query: dict, key: str, entries: list) -> dict:
        start = int(query.get("cursor") or 0)
        limit = int(query.get("limit", 50))
        page = {"uri": query["uri"], key: entries[start : start + limit]}
        if start + limit < len(entries):
            page["cursor"] = str(start + limit)
        return page


def _merge(view: dict, raw: dict) -> dict:
    for key, value in raw.items():
        if isinstance(value, dict) and isinstance(view.get(key), dict):
            view[key] = _merge(view[key], value)
        else:
            view[key] = value
    return view


def _jwt(exp: int) -> str:
    def part(data):
        return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()

    return f"{part({'alg': 'ES256K'})}.{part({'exp': exp})}.c2ln"


def _error(handler, status: int, name: str, message: str) -> None:
    _send(handler, status, json.dumps({"error": name, "message": message}), "application/json", {})


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
