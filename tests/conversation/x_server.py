"""A small X API v2 for the conversation reader's tests: real HTTP, in memory.

It answers, in the shapes of X's v2 answers (``data``, ``includes.users``, ``meta`` with
``result_count``, ``newest_id``, ``oldest_id``, ``next_token``; errors as problem details):

* ``GET /2/tweets/:id`` (``public_metrics``, ``conversation_id``); a deleted post is a 200
  with ``errors`` of type ``resource-not-found``, as X answers;
* ``GET /2/tweets/search/recent`` with ``query=conversation_id:<id>``, ``since_id``,
  ``until_id``, ``max_results`` and ``next_token``: newest first, only posts of the last
  7 days (``now``), only each post's newest version;
* ``GET /2/tweets/:id/quote_tweets`` paged by ``pagination_token``.

Requests must be signed with OAuth 1.0a (``Authorization: OAuth …`` naming a token it
knows), else 401. Ids are snowflakes made from the post's time. ``edit(id, text)`` makes a
new version (a new id, ``edit_history_tweet_ids`` from the first); ``delete(id)`` hides
it. ``answer_next(path_kind, status, body, **headers)`` replaces the next answer of
"lookup", "search" or "quotes"; ``raw`` merges fields into a post; ``inject`` adds any
entry to search's ``data``. ``hits`` counts calls by kind, ``read`` the posts returned.
"""

from __future__ import annotations

import copy
import datetime
import json
import re
import threading
from collections import Counter, defaultdict, deque
from http.server import BaseHTTPRequestHandler
from urllib.parse import parse_qs, urlsplit

from .fake_http import FakeNetwork

EPOCH_MS = 1_288_834_974_657
NOT_FOUND = "https://api.twitter.com/2/problems/resource-not-found"


def snowflake(moment: datetime.datetime, sequence: int) -> str:
    millis = int(moment.timestamp() * 1000) - EPOCH_MS
    return str((millis << 22) | (sequence & 0xFFF))


class XTestServer(FakeNetwork):
    def __init__(self):
        self.lock = threading.RLock()
        self.tokens: set[str] = set()
        self.users: dict[str, dict] = {}
        self.posts: dict[str, dict] = {}  # id -> post (every version)
        self.raw: dict[str, dict] = {}
        self.injected: list = []
        self.answers: dict[str, deque] = defaultdict(deque)
        self.hits: Counter = Counter()
        self.read = 0
        self.now = datetime.datetime.now(datetime.UTC)
        self.sequence = 0
        super().__init__()

    # --- The world ------------------------------------------------------------------------
    def user(self, who: str, **fields) -> dict:
        with self.lock:
            if who not in self.users:
                self.users[who] = {
                    "id": str(1_000_000 + len(self.users)),
                    "name": who.title(),
                    "username": who,
                    "profile_image_url": f"https://pbs.twimg.example/{who}_normal.jpg",
                }
            self.users[who].update(fields)
            return self.users[who]

    def token(self, name: str = "brand") -> dict:
        self.user(name)
        value = f"{self.user(name)['id']}-{len(self.tokens)}tok"
        self.tokens.add(value)
        return {"oauth_token": value, "oauth_token_secret": "secret"}

    def post(self, name: str, text: str, *, reply_to: str = "", quote: str = "", ago=None):
        """A post by ``name`` ``ago`` before now (a minute later each time by default)."""
        with self.lock:
            self.sequence += 1
            moment = (
                self.now
                - (ago or datetime.timedelta(0))
                + self.sequence * datetime.timedelta(seconds=1)
            )
            post_id = snowflake(moment, self.sequence)
            parent = self.posts.get(reply_to)
            references = []
            if reply_to:
                references.append({"type": "replied_to", "id": reply_to})
            if quote:
                references.append({"type": "quoted", "id": quote})
            self.posts[post_id] = {
                "id": post_id,
                "text": text,
                "author_id": self.user(name)["id"],
                "created_at": moment.isoformat(timespec="milliseconds").replace("+00:00", "Z"),
                "conversation_id": parent["conversation_id"] if parent else post_id,
                "edit_history_tweet_ids": [post_id],
                **({"referenced_tweets": references} if references else {}),
                **({"in_reply_to_user_id": parent["author_id"]} if parent else {}),
                "_deleted": False,
                "_newest": True,
                "_moment": moment,
            }
            return post_id

    def reply(self, parent: str, text: str, as_user: str = "alice", **kwargs) -> str:
        return self.post(as_user, text, reply_to=parent, **kwargs)

    def edit(self, post_id: str, text: str) -> str:
        """A new version of ``post_id``; its id."""
        with self.lock:
            old = self.posts[post_id]
            self.sequence += 1
            moment = self.now + self.sequence * datetime.timedelta(seconds=1)
            new_id = snowflake(moment, self.sequence)
            self.posts[new_id] = {
                **copy.deepcopy(old),
                "id": new_id,
                "text": text,
                "created_at": moment.isoformat(timespec="milliseconds").replace("+00:00", "Z"),
                "edit_history_tweet_ids": [*old["edit_history_tweet_ids"], new_id],
                "_moment": moment,
            }
            old["_newest"] = False
            return new_id

    def delete(self, post_id: str) -> None:
        self.posts[post_id]["_deleted"] = True

    def inject(self, entry) -> None:
        self.injected.append(entry)

    def answer_next(self, kind: str, status: int, body: str, content_type="application/json", **h):
        self.answers[kind].append((status, body, content_type, h))

    # --- Views ----------------------------------------------------------------------------
    def view(self, post_id: str, *, metrics: bool = False) -> dict:
        post = {k: v for k, v in self.posts[post_id].items() if not k.startswith("_")}
        if metrics:
            alive = [p for p in self.posts.values() if not p["_deleted"] and p["_newest"]]
            post["public_metrics"] = {
                "retweet_count": 0,
                "reply_count": sum(1 for p in alive if _replied_to(p) == post_id),
                "like_count": 0,
                "quote_count": sum(1 for p in alive if _quoted(p) == post_id),
                "bookmark_count": 0,
                "impression_count": 0,
            }
        return _merge(post, copy.deepcopy(self.raw.get(post_id, {})))

    def _listed(self, posts: list[dict], query: dict, token_name: str) -> dict:
        posts = sorted(posts, key=lambda p: int(p["id"]), reverse=True)
        start = int(query.get(token_name, "0").removeprefix("t") or 0)
        size = int(query.get("max_results", 10))
        page = [self.view(p["id"]) for p in posts[start : start + size]]
        if start == 0:
            page += copy.deepcopy(self.injected)
        self.read += len(page)
        meta = {"result_count": len(page)}
        if start < len(posts):
            last = posts[min(start + size, len(posts)) - 1]
            meta["newest_id"], meta["oldest_id"] = posts[start]["id"], last["id"]
        if start + size < len(posts):
            meta["next_token"] = f"t{start + size}"
        body = {"meta": meta}
        if page:
            ids = {p.get("author_id") for p in page if isinstance(p, dict)}
            body["data"] = page
            body["includes"] = {
                "users": [copy.deepcopy(u) for u in self.users.values() if u["id"] in ids]
            }
        return body

    # --- HTTP -----------------------------------------------------------------------------
    def handle(self, handler: BaseHTTPRequestHandler) -> None:
        parts = urlsplit(handler.path)
        query = {key: values[-1] for key, values in parse_qs(parts.query).items()}
        path = parts.path
        if path == "/2/tweets/search/recent":
            kind = "search"
        elif path.endswith("/quote_tweets"):
            kind = "quotes"
        else:
            kind = "lookup"
        with self.lock:
            self.hits[kind] += 1
            if self.answers[kind]:
                status, body, content_type, headers = self.answers[kind].popleft()
                return _send(handler, status, body, content_type, headers)
            signed = re.search(r'oauth_token="([^"]+)"', handler.headers.get("Authorization", ""))
            if not signed or signed.group(1) not in self.tokens:
                return _problem(handler, 401, "Unauthorized", "Unauthorized")
            body = self.route(kind, path, query)
        return _send(handler, 200, json.dumps(body), "application/json", {})

    def route(self, kind: str, path: str, query: dict) -> dict:
        alive = [p for p in self.posts.values() if not p["_deleted"] and p["_newest"]]
        if kind == "search":
            conversation = query["query"].removeprefix("conversation_id:")
            week_ago = self.now - datetime.timedelta(days=7)
            since, until = int(query.get("since_id", 0)), int(query.get("until_id", 2**63))
            found = [
                p
                for p in alive
                if p["conversation_id"] == conversation
                and p["id"] != conversation
                and p["_moment"] >= week_ago
                and since < int(p["id"]) < until
            ]
            return self._listed(found, query, "next_token")
        if kind == "quotes":
            post_id = path.split("/")[3]
            return self._listed(
                [p for p in alive if _quoted(p) == post_id], query, "pagination_token"
            )
        post_id = path.split("/")[3]
        if post_id not in self.posts or self.posts[post_id]["_deleted"]:
            return {
                "errors": [
                    {
                        "value": post_id,
                        "detail": f"Could not find tweet with id: [{post_id}].",
                        "title": "Not Found Error",
                        "resource_type": "tweet",
                        "parameter": "id",
                        "resource_id": post_id,
                        "type": NOT_FOUND,
                    }
                ]
            }
        return {"data": self.view(post_id, metrics=True)}


def _replied_to(post: dict) -> str:
    for ref in post.get("referenced_tweets", []):
        if ref["type"] == "replied_to":
            return ref["id"]
    return ""


def _quoted(post: dict) -> str:
    for ref in post.get("referenced_tweets", []):
        if ref["type"] == "quoted":
            return ref["id"]
    return ""


def _merge(view: dict, raw: dict) -> dict:
    for key, value in raw.items():
        if isinstance(value, dict) and isinstance(view.get(key), dict):
            view[key] = _merge(view[key], value)
        else:
            view[key] = value
    return view


def _problem(handler, status: int, title: str, detail: str) -> None:
    body = {"title": title, "type": "about:blank", "status": status, "detail": detail}
    _send(handler, status, json.dumps(body), "application/problem+json", {})


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
