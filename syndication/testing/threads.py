"""A small Threads API server for tests and benchmarks: real HTTP on 127.0.0.1, in memory.

Written from Meta's published Threads API reference (graph.threads.net, version
``v1.0``, the only one Meta has published for Threads; docs snapshots of 2025-2026,
summarised in the project's research note on Meta networks). No real Meta server was
reachable to compare answers with, so where the reference gives no example the shape
here is our reading of it, said at the place.

Permissions it checks, as the reference names them: ``threads_basic`` (every call),
``threads_content_publish`` (containers and ``threads_publish``),
``threads_manage_replies`` (a container with ``reply_to_id``), ``threads_read_replies``
(``/replies`` and ``/conversation``) and ``threads_manage_insights`` (``/insights``).

What it speaks:

* OAuth: ``GET /oauth/authorize`` shows a consent page (Allow/Cancel) that redirects to
  ``redirect_uri?code=…&state=…``; ``POST /oauth/access_token`` trades the code for a
  short-lived token (1 hour) and the user id; ``GET /access_token?grant_type=
  th_exchange_token`` makes it long-lived (60 days, ``expires_in`` 5,184,000);
  ``GET /refresh_access_token?grant_type=th_refresh_token`` renews a long-lived token
  that is at least 24 hours old and not expired (60 days from then).
* ``GET /me`` (and ``/{user-id}``): ``id``, ``username``, ``name``,
  ``threads_profile_picture_url``, ``threads_biography``. No follower counts: the user
  node has none, and ``followers_count`` in the user insights is not served here.
* Publishing in two steps: ``POST /{user-id}/threads`` (``media_type`` TEXT or IMAGE,
  ``text``, ``link_attachment``, ``image_url``, ``alt_text``, ``reply_to_id``) makes a
  container and answers its id; ``GET /{container-id}?fields=status,error_message``
  says IN_PROGRESS (an IMAGE for ``image_processing_seconds``), FINISHED, ERROR,
  EXPIRED (24 hours unpublished) or PUBLISHED; ``POST /{user-id}/threads_publish?
  creation_id=…`` publishes it once and answers the media id. A container published
  already is refused (``error_subcode`` 4279009, our choice of number): publishing is
  keyed by the container, which is what makes a retry after a lost answer safe.
* Reading back: ``GET /{user-id}/threads?fields=id,text,permalink,timestamp,
  link_attachment_url`` (newest first, ``limit`` at most 100, ``since``/``until``),
  ``GET /{media-id}``, ``GET /{media-id}/insights?metric=views,likes,replies,reposts,
  quotes,shares``, ``GET /{media-id}/replies`` (top level) and ``/conversation`` (every
  depth, flattened), both with ``reverse``; replying is a container with
  ``reply_to_id``, published the same way.
* Limits: text of 500 characters (emoji count their UTF-8 bytes), at most 5 links; 250
  published posts per profile per rolling 24 hours (``GET /{user-id}/
  threads_publishing_limit``; over it ``threads_publish`` answers code 9, subcode
  2207042, modelled on Instagram's content-publishing limit); a call budget per token
  (``call_limit`` per hour) answered with code 17 "User request limit reached".
* Errors as the Graph API writes them: ``{"error": {"message", "type", "code",
  "error_subcode", "fbtrace_id"}}``; 190 for a bad, expired or revoked token (subcode
  463 expired), 10 for a missing permission, 100 for a bad parameter, 4/17/613 for
  throttling (HTTP 400: the Graph API does not use 429), 1 and 2 for its own failures
  (HTTP 500/503).

Faults like the Mastodon test server's: ``server.faults = FaultPlan(rate=0.3, seed=1)``
on ``threads_publish`` unless told other routes, ``server.fail_next("drop_after_create",
route="create_container")`` one by one; ``*_after_create`` faults hit only requests that
succeeded, so the container or the post exists and only the answer is lost.
``hold_next_create()`` holds the answer of the next successful ``threads_publish``;
``latency = {"threads_publish": 0.05}`` slows a route. ``clock`` (``time.time``) is the
server's wall clock for tokens, timestamps, container expiry and the 24-hour quota.

No pytest here: ``with ThreadsTestServer() as server:`` works from any script.
"""

from __future__ import annotations

import html
import itertools
import random
import re
import secrets
from collections import defaultdict, deque
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import ClassVar

import regex

from . import http
from .http import (
    AFTER_KINDS,
    Handler,
    Reply,
    Request,
    TestServer,
    contains_marker,
    html_page,
    json_reply,
    redirect,
    with_params,
)

API_VERSION = "v1.0"
PERMISSIONS = (
    "threads_basic",
    "threads_content_publish",
    "threads_manage_replies",
    "threads_read_replies",
    "threads_manage_insights",
)
SHORT_LIVED_SECONDS = 3600
LONG_LIVED_SECONDS = 60 * 86400
REFRESH_AFTER_SECONDS = 86400
CODE_SECONDS = 600
CONTAINER_SECONDS = 86400
QUOTA_TOTAL = 250
QUOTA_SECONDS = 86400
TEXT_LIMIT = 500
LINK_LIMIT = 5
INSIGHT_METRICS = ("views", "likes", "replies", "reposts", "quotes", "shares")
ALREADY_PUBLISHED = 4279009

FAULT_KINDS = (
    "throttle",
    "500",
    "503",
    "timeout_before_create",
    "drop_before_create",
    *AFTER_KINDS,
)

_URL = re.compile(r"https?://[^\s<>\"']+")
_EMOJI = regex.compile(r"[\p{Emoji_Presentation}\p{Extended_Pictographic}\uFE0F\u200D]")
_VERSION = re.compile(r"/v\d+\.\d+(?=/)")


def threads_length(text: str) -> int:
    """Threads' count as its reference states it: characters, emoji by their UTF-8 bytes."""
    return sum(len(char.encode()) if _EMOJI.match(char) else 1 for char in text)


def _iso(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, UTC).strftime("%Y-%m-%dT%H:%M:%S+0000")


@dataclass
class FaultPlan(http.FaultPlan):
    """Faults chosen at random, ``rate`` of the time, reproducibly from ``seed``."""

    known: ClassVar[tuple[str, ...]] = FAULT_KINDS

    kinds: tuple[str, ...] = FAULT_KINDS
    routes: tuple[str, ...] = ("threads_publish",)


def _json(status: int, data) -> Reply:
    return json_reply(status, data, content_type="application/json")


def _graph_error(
    status: int, code: int, message: str, *, subcode: int | None = None, kind="THApiException"
) -> Reply:
    error = {"message": message, "type": kind, "code": code, "fbtrace_id": secrets.token_hex(8)}
    if subcode is not None:
        error["error_subcode"] = subcode
    return _json(status, {"error": error})


def _bad_parameter(message: str) -> Reply:
    return _graph_error(400, 100, message, kind="OAuthException")


def _page(status: int, title: str, body: str) -> Reply:
    return html_page(status, title, body, site=" • Threads")


class _Handler(Handler):
    server_version = "Threads"


_ROUTES = [
    ("GET", r"/oauth/authorize", "authorize_page"),
    ("POST", r"/oauth/authorize", "authorize_page"),
    ("POST", r"/oauth/access_token", "code_token"),
    ("GET", r"/access_token", "exchange_token"),
    ("GET", r"/refresh_access_token", "refresh_token"),
    ("GET", r"/me", "me"),
    ("POST", r"/(?P<user_id>\d+)/threads", "create_container"),
    ("POST", r"/(?P<user_id>\d+)/threads_publish", "threads_publish"),
    ("GET", r"/(?P<user_id>\d+)/threads", "user_threads"),
    ("GET", r"/(?P<user_id>\d+)/threads_publishing_limit", "publishing_limit"),
    ("GET", r"/(?P<node_id>\d+)/insights", "insights"),
    ("GET", r"/(?P<node_id>\d+)/replies", "replies"),
    ("GET", r"/(?P<node_id>\d+)/conversation", "conversation"),
    ("GET", r"/(?P<node_id>\d+)", "node"),
]
_ROUTES = [(method, re.compile(pattern), name) for method, pattern, name in _ROUTES]


def _route(method: str, path: str) -> tuple[str, dict]:
    path = _VERSION.sub("", path, count=1) if _VERSION.match(path) else path
    for wanted, pattern, name in _ROUTES:
        found = pattern.fullmatch(path.rstrip("/") or "/")
        if found and wanted == method:
            return name, found.groupdict()
    return "not_found", {}


class ThreadsTestServer(TestServer):
    """One Threads API host (graph and OAuth) on 127.0.0.1; all state behind one lock."""

    server_name = "Threads"
    handler = _Handler
    fault_kinds = FAULT_KINDS
    create_route = "threads_publish"
    create_routes = ("threads_publish",)
    #: Threads takes no uploads: pictures come by ``image_url``.
    multipart = False

    def __init__(
        self,
        *,
        app_id: str = "1234567890",
        app_secret: str = "threads-app-secret",  # noqa: S107 (a test server's)
        usernames: tuple[str, ...] = ("storyloom",),
        slow_seconds: float = 2.0,
        image_processing_seconds: float = 0.0,
        call_limit: int = 100_000,
        port: int = 0,
    ):
        self._init_http(port=port, slow_seconds=slow_seconds)
        self.app_id, self.app_secret = app_id, app_secret
        self.image_processing_seconds = image_processing_seconds
        self.call_limit = call_limit
        #: Posts a profile may publish per rolling 24 hours (Meta's is 250).
        self.quota_total = QUOTA_TOTAL
        #: Every request and answer, newest last: ``(method, path, params, answer bytes)``.
        self.log: deque = deque(maxlen=2000)
        self.auto_approve = False
        self._users: dict[str, dict] = {}
        self._tokens: dict[str, dict] = {}
        self._codes: dict[str, dict] = {}
        self._containers: dict[str, dict] = {}
        self._media: dict[str, dict] = {}
        self._calls: dict[str, list] = {}
        self._next_error: deque = deque()
        self._ids = itertools.count(17_841_400_000_000_001)
        self._user_ids = itertools.count(25_000_000_000_001)
        for username in usernames:
            self.create_user(username)

    def unparsable_body(self) -> Reply:
        return _bad_parameter("The request body could not be parsed.")

    @property
    def authorize_url(self) -> str:
        return f"{self.url}/oauth/authorize"

    # --- Seeding, faults and inspection (for tests) ----------------------------------
    def create_user(self, username: str) -> tuple[str, str]:
        """A profile and a long-lived token for it with every permission: ``(id, token)``."""
        with self.lock:
            if any(user["username"] == username for user in self._users.values()):
                raise ValueError(f"@{username} exists already")
            user_id = str(next(self._user_ids))
            self._users[user_id] = {"id": user_id, "username": username, "name": username.title()}
            token = self._issue(user_id, " ".join(PERMISSIONS), long_lived=True)
        return user_id, token["access_token"]

    def user_id(self, username: str) -> str:
        with self.lock:
            return next(u["id"] for u in self._users.values() if u["username"] == username)

    def revoke(self, token: str) -> None:
        with self.lock:
            self._tokens[token]["revoked"] = True

    def token_info(self, token: str) -> dict:
        with self.lock:
            return dict(self._tokens[token])

    def error_next(self, route: str, status: int, code: int, message: str, subcode=None):
        """Answer the next request to ``route`` with this Graph error (nothing is made)."""
        with self.lock:
            self._next_error.append((route, status, code, message, subcode))

    def set_counts(self, media_id: str, **counts: int) -> None:
        """``set_counts(id, likes=3, reposts=1)``: the post's insight values."""
        with self.lock:
            record = self._media[str(media_id)]
            for name, value in counts.items():
                if name not in INSIGHT_METRICS:
                    raise ValueError(f"{name} is not one of {INSIGHT_METRICS}")
                record["insights"][name] = int(value)

    def reply(self, media_id: str, text: str, *, as_user: str = "reader") -> str:
        """Someone replies to ``media_id`` (a post or a reply): the reply's id."""
        with self.lock:
            parent = self._media[str(media_id)]
            reply_id = str(next(self._ids))
            self._media[reply_id] = self._media_record(
                reply_id, None, text, username=as_user, replied_to=parent
            )
            parent["insights"]["replies"] += 1
        return reply_id

    @property
    def posts(self) -> list[dict]:
        """Every published post and reply, oldest first (copies)."""
        with self.lock:
            return [dict(record) for record in self._media.values()]

    @property
    def containers(self) -> list[dict]:
        with self.lock:
            return [dict(record) for record in self._containers.values()]

    def posts_with(self, marker: str) -> list[dict]:
        return [
            post
            for post in self.posts
            if contains_marker(post["text"], marker)
            or contains_marker(post["link_attachment_url"], marker)
        ]

    def count_with(self, marker: str) -> int:
        return len(self.posts_with(marker))

    def duplicates(self) -> dict[str, list[str]]:
        """Markers published more than once, with the media ids: must stay empty."""
        seen = defaultdict(list)
        for post in self.posts:
            for marker in set(re.findall(r"utm_content=\d+", post["text"] or "")):
                seen[marker].append(post["id"])
        return {marker: ids for marker, ids in seen.items() if len(ids) > 1}

    # --- Dispatch ----------------------------------------------------------------------
    def handle(self, request: Request) -> Reply:
        name, arguments = _route(request.method, request.path)
        with self.lock:
            self.hits[name] += 1
            fault = self._next_fault(name)
            canned = None
            for index, entry in enumerate(self._next_error):
                if entry[0] == name:
                    canned = entry
                    del self._next_error[index]
                    break
        self._wait_latency(name)
        if canned is not None:
            _, status, code, message, subcode = canned
            return _graph_error(status, code, message, subcode=subcode)
        if fault and fault not in AFTER_KINDS:
            return self._fault_reply(fault)
        if name == "not_found":
            return _graph_error(
                400, 100, "Unsupported request - method type: " + request.method.lower()
            )
        reply = self._answer(name, request, arguments, fault)
        params = {**request.query, **request.form}
        self.log.append((request.method, request.path, params, reply.body))
        return reply

    def _fault_reply(self, fault: str) -> Reply:
        if fault == "throttle":
            code, message = random.choice(  # noqa: S311 (which of Meta's three)
                (
                    (4, "Application request limit reached"),
                    (17, "User request limit reached"),
                    (613, "Calls to this api have exceeded the rate limit."),
                )
            )
            return _graph_error(400, code, message, kind="OAuthException")
        if fault == "500":
            return _graph_error(500, 1, "An unknown error occurred", kind="OAuthException")
        if fault == "503":
            return _graph_error(503, 2, "An unexpected error has occurred. Please retry.")
        return self._transport_fault(fault)

    # --- Tokens ------------------------------------------------------------------------
    def _issue(self, user_id: str, scope: str, *, long_lived: bool) -> dict:
        token = ("THAA" if long_lived else "THQV") + secrets.token_urlsafe(24)
        seconds = LONG_LIVED_SECONDS if long_lived else SHORT_LIVED_SECONDS
        now = self.clock()
        self._tokens[token] = {
            "user_id": user_id,
            "scope": set(scope.split()),
            "issued_at": now,
            "expires_at": now + seconds,
            "long_lived": long_lived,
            "revoked": False,
        }
        return {"access_token": token, "token_type": "bearer", "expires_in": seconds}

    def _authorize(self, request: Request, permission: str = "threads_basic"):
        """The token's record, or the Graph error a bad token or permission gets."""
        token = self._tokens.get(request.token)
        if token is None or token["revoked"]:
            return None, _graph_error(
                400,
                190,
                "Invalid OAuth access token - Cannot parse access token",
                kind="OAuthException",
            )
        if self.clock() >= token["expires_at"]:
            return None, _graph_error(
                400,
                190,
                "Error validating access token: Session has expired.",
                subcode=463,
                kind="OAuthException",
            )
        for needed in ("threads_basic", permission):
            if needed not in token["scope"]:
                return None, _graph_error(
                    403,
                    10,
                    f"Application does not have permission for this action ({needed})",
                    kind="OAuthException",
                )
        calls = self._calls.setdefault(request.token, [])
        now = self.clock()
        calls[:] = [moment for moment in calls if moment > now - 3600]
        if len(calls) >= self.call_limit:
            return None, _graph_error(400, 17, "User request limit reached", kind="OAuthException")
        calls.append(now)
        return token, None

    # --- Routes: OAuth -----------------------------------------------------------------
    def _authorize_page(self, request: Request) -> Reply:
        names = ("client_id", "redirect_uri", "scope", "response_type", "state")
        params = {name: request.one(name) for name in names}
        if params["client_id"] != self.app_id:
            return _page(400, "Error", "<h1>Invalid app ID</h1>")
        if params["response_type"] != "code" or not params["redirect_uri"].startswith("http"):
            return _page(400, "Error", "<h1>Invalid request: response_type and redirect_uri</h1>")
        asked = set(params["scope"].replace(",", " ").split())
        unknown = asked - set(PERMISSIONS)
        if "threads_basic" not in asked or unknown:
            return _page(400, "Error", f"<h1>Invalid scope {html.escape(params['scope'])}</h1>")
        state = {"state": params["state"]} if params["state"] else {}
        if request.method == "POST" and request.one("decision") != "allow":
            denied = {
                "error": "access_denied",
                "error_reason": "user_denied",
                "error_description": "Permissions error",
            }
            return redirect(with_params(params["redirect_uri"], {**denied, **state}))
        with self.lock:
            users = list(self._users.values())
        if request.method == "POST" or self.auto_approve:
            chosen = request.one("username") or users[0]["username"]
            user = next((u for u in users if u["username"] == chosen), users[0])
            code = secrets.token_urlsafe(32)
            with self.lock:
                self._codes[code] = {
                    **params,
                    "scope": " ".join(sorted(asked)),
                    "user_id": user["id"],
                    "at": self.clock(),
                }
            return redirect(with_params(params["redirect_uri"], {"code": code, **state}))
        hidden = "".join(
            f'<input type="hidden" name="{name}" value="{html.escape(value)}">'
            for name, value in params.items()
        )
        options = "".join(
            f'<option value="{html.escape(u["username"])}">@{html.escape(u["username"])}</option>'
            for u in users
        )
        body = (
            "<h1>Allow Storyloom to access your Threads profile?</h1>"
            f"<p>It asks for: {html.escape(', '.join(sorted(asked)))}.</p>"
            f'<form method="post" action="/oauth/authorize">{hidden}'
            f'<label for="username">Profile</label> <select id="username" name="username">'
            f"{options}</select> "
            '<button type="submit" name="decision" value="allow">Allow</button> '
            '<button type="submit" name="decision" value="cancel">Cancel</button></form>'
        )
        return _page(200, "Allow access", body)

    def _code_token(self, request: Request) -> Reply:
        with self.lock:
            if request.one("client_id") != self.app_id or not secrets.compare_digest(
                request.one("client_secret"), self.app_secret
            ):
                return _graph_error(
                    400, 101, "Error validating client secret.", kind="OAuthException"
                )
            if request.one("grant_type") != "authorization_code":
                return _bad_parameter("Unsupported grant_type")
            code = self._codes.pop(request.one("code"), None)
            if (
                code is None
                or self.clock() - code["at"] > CODE_SECONDS
                or code["redirect_uri"] != request.one("redirect_uri")
            ):
                return _graph_error(
                    400,
                    100,
                    "Invalid verification code format.",
                    subcode=36008,
                    kind="OAuthException",
                )
            token = self._issue(code["user_id"], code["scope"], long_lived=False)
        return _json(200, {"access_token": token["access_token"], "user_id": int(code["user_id"])})

    def _exchange_token(self, request: Request) -> Reply:
        with self.lock:
            if request.one("grant_type") != "th_exchange_token":
                return _bad_parameter("grant_type must be th_exchange_token")
            if not secrets.compare_digest(request.one("client_secret"), self.app_secret):
                return _graph_error(
                    400, 101, "Error validating client secret.", kind="OAuthException"
                )
            old, error = self._authorize(request)
            if error:
                return error
            if old["long_lived"]:
                return _bad_parameter("The access token is already long-lived.")
            new = self._issue(old["user_id"], " ".join(old["scope"]), long_lived=True)
        return _json(200, new)

    def _refresh_token(self, request: Request) -> Reply:
        with self.lock:
            if request.one("grant_type") != "th_refresh_token":
                return _bad_parameter("grant_type must be th_refresh_token")
            old, error = self._authorize(request)
            if error:
                return error
            if not old["long_lived"]:
                return _bad_parameter("Only long-lived access tokens can be refreshed.")
            if self.clock() - old["issued_at"] < REFRESH_AFTER_SECONDS:
                return _bad_parameter("The access token must be at least 24 hours old.")
            old["revoked"] = True
            new = self._issue(old["user_id"], " ".join(old["scope"]), long_lived=True)
        return _json(200, new)

    # --- Routes: profile and publishing ------------------------------------------------
    def _me(self, request: Request) -> Reply:
        with self.lock:
            token, error = self._authorize(request)
            if error:
                return error
            return _json(200, self._user_node(token["user_id"], request.one("fields")))

    def _user_node(self, user_id: str, fields: str) -> dict:
        user = self._users[user_id]
        node = {
            "id": user["id"],
            "username": user["username"],
            "name": user["name"],
            "threads_profile_picture_url": "",
            "threads_biography": "",
        }
        wanted = [name for name in fields.split(",") if name] or ["id"]
        return {name: node[name] for name in wanted if name in node} | {"id": user["id"]}

    def _own(self, request: Request, user_id: str, permission: str = "threads_basic"):
        token, error = self._authorize(request, permission)
        if error:
            return None, error
        if user_id != token["user_id"]:
            return None, _graph_error(
                400,
                100,
                f"Object with ID '{user_id}' does not exist, cannot be loaded due to "
                "missing permissions, or does not support this operation",
                subcode=33,
                kind="GraphMethodException",
            )
        return token, None

    def _create_container(self, request: Request, user_id: str) -> Reply:
        media_type = request.one("media_type").upper()
        text, image_url = request.one("text"), request.one("image_url")
        link, reply_to = request.one("link_attachment"), request.one("reply_to_id")
        with self.lock:
            _, error = self._own(request, user_id, "threads_content_publish")
            if error:
                return error
            if reply_to:
                _, error = self._authorize(request, "threads_manage_replies")
                if error:
                    return error
                if reply_to not in self._media:
                    return _bad_parameter(f"Param reply_to_id {reply_to} is not a valid id")
            if media_type not in ("TEXT", "IMAGE"):
                return _bad_parameter(
                    "Param media_type must be one of {TEXT, IMAGE, VIDEO, CAROUSEL}"
                )
            if media_type == "TEXT" and not text.strip():
                return _bad_parameter("Param text is required for TEXT posts")
            if media_type == "IMAGE" and not image_url:
                return _bad_parameter("Param image_url is required for IMAGE posts")
            if link and media_type != "TEXT":
                return _bad_parameter("Param link_attachment is only allowed on TEXT posts")
            if threads_length(text) > TEXT_LIMIT:
                return _bad_parameter(f"Param text must be at most {TEXT_LIMIT} characters long")
            links = set(_URL.findall(text)) | ({link} if link else set())
            if len(links) > LINK_LIMIT:
                return _graph_error(
                    400, 100, "THREADS_API__LINK_LIMIT_EXCEEDED: more than 5 links", subcode=4279013
                )
            container_id = str(next(self._ids))
            status = "FINISHED"
            if media_type == "IMAGE":
                status = "ERROR" if not image_url.startswith(("http://", "https://")) else status
            self._containers[container_id] = {
                "id": container_id,
                "user_id": user_id,
                "media_type": media_type,
                "text": text,
                "image_url": image_url,
                "alt_text": request.one("alt_text"),
                "link_attachment": link,
                "reply_to_id": reply_to,
                "created": self.clock(),
                "status": status,
                "error_message": "FAILED_DOWNLOADING_IMAGE" if status == "ERROR" else "",
                "media_id": "",
                "publish_calls": 0,
            }
        return _json(200, {"id": container_id})

    def _container_status(self, container: dict) -> str:
        status = container["status"]
        now = self.clock()
        if status in ("FINISHED", "IN_PROGRESS") and now - container["created"] > CONTAINER_SECONDS:
            return "EXPIRED"
        image = container["media_type"] == "IMAGE"
        if (
            status == "FINISHED"
            and image
            and now - container["created"] < self.image_processing_seconds
        ):
            return "IN_PROGRESS"
        return status

    def _threads_publish(self, request: Request, user_id: str) -> Reply:
        creation_id = request.one("creation_id")
        with self.lock:
            _, error = self._own(request, user_id, "threads_content_publish")
            if error:
                return error
            container = self._containers.get(creation_id)
            if container is None or container["user_id"] != user_id:
                return _bad_parameter(f"Param creation_id {creation_id} is not a valid container")
            container["publish_calls"] += 1
            status = self._container_status(container)
            if status == "PUBLISHED":
                return _graph_error(
                    400, 10, "The media has already been published.", subcode=ALREADY_PUBLISHED
                )
            if status != "FINISHED":
                return _graph_error(
                    400,
                    9007,
                    f"The media is not ready for publishing (status {status}).",
                    subcode=2207027,
                )
            if not container["reply_to_id"] and self._quota_used(user_id) >= self.quota_total:
                return _graph_error(
                    400,
                    9,
                    "You have reached the maximum number of posts that can be "
                    "published in 24 hours.",
                    subcode=2207042,
                )
            media_id = str(next(self._ids))
            parent = self._media.get(container["reply_to_id"])
            record = self._media_record(
                media_id, container, container["text"], username=None, replied_to=parent
            )
            self._media[media_id] = record
            if parent is not None:
                parent["insights"]["replies"] += 1
            container["status"], container["media_id"] = "PUBLISHED", media_id
        return _json(200, {"id": media_id})

    def _media_record(self, media_id, container, text, *, username, replied_to) -> dict:
        owner = self._users[container["user_id"]] if container else None
        root = replied_to
        while root is not None and root.get("replied_to_id"):
            root = self._media[root["replied_to_id"]]
        username = username or owner["username"]
        return {
            "id": media_id,
            "user_id": owner["id"] if owner else "",
            "username": username,
            "media_type": container["media_type"] if container else "TEXT_POST",
            "text": text,
            "link_attachment_url": container["link_attachment"] if container else "",
            "image_url": container["image_url"] if container else "",
            "alt_text": container["alt_text"] if container else "",
            "container_id": container["id"] if container else "",
            "timestamp": self.clock(),
            "permalink": f"https://www.threads.com/@{username}/post/{secrets.token_urlsafe(8)}",
            "replied_to_id": replied_to["id"] if replied_to else "",
            "root_id": root["id"] if root else "",
            "insights": dict.fromkeys(INSIGHT_METRICS, 0),
        }

    def _quota_used(self, user_id: str) -> int:
        since = self.clock() - QUOTA_SECONDS
        return sum(
            1
            for media in self._media.values()
            if media["user_id"] == user_id
            and not media["replied_to_id"]
            and media["timestamp"] > since
        )

    def _publishing_limit(self, request: Request, user_id: str) -> Reply:
        with self.lock:
            _, error = self._own(request, user_id)
            if error:
                return error
            usage = self._quota_used(user_id)
        config = {"quota_total": self.quota_total, "quota_duration": QUOTA_SECONDS}
        return _json(200, {"data": [{"quota_usage": usage, "config": config}]})

    # --- Routes: reading ---------------------------------------------------------------
    def _entity(self, media: dict, fields: str) -> dict:
        node = {
            "id": media["id"],
            "media_product_type": "THREADS",
            "media_type": media["media_type"],
            "text": media["text"],
            "permalink": media["permalink"],
            "timestamp": _iso(media["timestamp"]),
            "username": media["username"],
            "shortcode": media["permalink"].rsplit("/", 1)[-1],
            "is_reply": bool(media["replied_to_id"]),
            "hide_status": "NOT_HUSHED",
            "is_reply_owned_by_me": media["user_id"] != "",
            "has_replies": any(m["replied_to_id"] == media["id"] for m in self._media.values()),
        }
        if media["link_attachment_url"]:
            node["link_attachment_url"] = media["link_attachment_url"]
        if media["image_url"]:
            node["media_url"] = media["image_url"]
            node["alt_text"] = media["alt_text"]
        if media["replied_to_id"]:
            node["replied_to"] = {"id": media["replied_to_id"]}
            node["root_post"] = {"id": media["root_id"]}
        wanted = [name for name in fields.split(",") if name] or ["id"]
        return {name: node[name] for name in wanted if name in node} | {"id": media["id"]}

    def _user_threads(self, request: Request, user_id: str) -> Reply:
        with self.lock:
            _, error = self._own(request, user_id)
            if error:
                return error
            try:
                limit = min(100, int(request.one("limit") or 25))
                since = float(request.one("since") or 0)
                until = float(request.one("until") or 1e12)
            except ValueError:
                return _bad_parameter("Params limit, since and until must be numbers")
            mine = [
                media
                for media in self._media.values()
                if media["user_id"] == user_id
                and not media["replied_to_id"]
                and since <= media["timestamp"] <= until
            ]
            mine.sort(key=lambda media: (media["timestamp"], int(media["id"])), reverse=True)
            after = request.one("after")
            if after:
                ids = [media["id"] for media in mine]
                mine = mine[ids.index(after) + 1 :] if after in ids else []
            page = mine[:limit]
            data = [self._entity(media, request.one("fields")) for media in page]
        paging = {}
        if page:
            paging = {"cursors": {"before": page[0]["id"], "after": page[-1]["id"]}}
        return _json(200, {"data": data, "paging": paging})

    def _node(self, request: Request, node_id: str) -> Reply:
        with self.lock:
            token, error = self._authorize(request)
            if error:
                return error
            fields = request.one("fields")
            if node_id in self._containers:
                container = self._containers[node_id]
                node = {"id": node_id, "status": self._container_status(container)}
                if container["error_message"]:
                    node["error_message"] = container["error_message"]
                wanted = [name for name in fields.split(",") if name] or ["id"]
                return _json(200, {k: v for k, v in node.items() if k in wanted or k == "id"})
            if node_id in self._media:
                return _json(200, self._entity(self._media[node_id], fields))
            if node_id in self._users:
                return _json(200, self._user_node(node_id, fields))
        return _graph_error(
            400,
            100,
            f"Object with ID '{node_id}' does not exist",
            subcode=33,
            kind="GraphMethodException",
        )

    def _insights(self, request: Request, node_id: str) -> Reply:
        with self.lock:
            _, error = self._authorize(request, "threads_manage_insights")
            if error:
                return error
            media = self._media.get(node_id)
            if media is None:
                return _bad_parameter(f"Object with ID '{node_id}' does not exist")
            asked = [name for name in request.one("metric").split(",") if name]
            wrong = [name for name in asked if name not in INSIGHT_METRICS]
            if not asked or wrong:
                return _bad_parameter(
                    f"metric[0] must be one of the following values: {', '.join(INSIGHT_METRICS)}"
                )
            data = [
                {
                    "name": name,
                    "period": "lifetime",
                    "values": [{"value": media["insights"][name]}],
                    "title": name.title(),
                    "description": f"The number of {name} of your post.",
                    "id": f"{node_id}/insights/{name}/lifetime",
                }
                for name in asked
            ]
        return _json(200, {"data": data})

    def _replies(self, request: Request, node_id: str) -> Reply:
        return self._reply_list(request, node_id, nested=False)

    def _conversation(self, request: Request, node_id: str) -> Reply:
        return self._reply_list(request, node_id, nested=True)

    def _reply_list(self, request: Request, node_id: str, *, nested: bool) -> Reply:
        with self.lock:
            _, error = self._authorize(request, "threads_read_replies")
            if error:
                return error
            if node_id not in self._media:
                return _bad_parameter(f"Object with ID '{node_id}' does not exist")
            key = "root_id" if nested else "replied_to_id"
            found = [media for media in self._media.values() if media[key] == node_id]
            found.sort(key=lambda media: (media["timestamp"], int(media["id"])))
            if request.one("reverse", "true") != "false":
                found.reverse()
            data = [self._entity(media, request.one("fields")) for media in found]
        return _json(200, {"data": data, "paging": {}})
