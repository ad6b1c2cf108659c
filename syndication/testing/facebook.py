"""A small Facebook Graph API server for tests and browser runs: real HTTP, in memory.

Written from Meta's published reference as summarised in
``/work/shared/research/meta-networks.md`` §1 (no real Meta server was reachable to check
it against). It follows **Graph API v25.0** (supported until 2028-07-29) and answers any
``/vNN.0/`` path of ``SUPPORTED_VERSIONS`` the same way; an unversioned path is read as
the server's own version, as Graph reads it as the app's.

Permissions it knows and checks, as the Pages API asks for them: ``pages_show_list``
(``/me/accounts``), ``pages_manage_posts`` (``POST /{page-id}/feed`` and ``/photos``),
``pages_read_engagement`` (reading posts, their reactions, comments and shares),
``pages_manage_engagement`` (replying to comments), ``pages_read_user_engagement``
(comments' authors). A Page token carries the scopes the person granted and the Page
tasks they may do (``CREATE_CONTENT``, ``MODERATE``, ``MANAGE``…).

Routes:

* ``GET /vNN.0/dialog/oauth`` (``client_id``, ``redirect_uri``, ``state``, ``scope``):
  a consent page listing the person's Pages with a checkbox each and Continue / Cancel
  buttons; the form POSTs back and is redirected to ``redirect_uri?code=…&state=…``
  (or ``?error=access_denied&error_reason=user_denied…``). ``auto_approve`` skips it.
* ``/vNN.0/oauth/access_token`` (GET or POST): a code for a short-lived user token
  (``expires_in`` about two hours); ``grant_type=fb_exchange_token`` for a long-lived
  one (``expires_in`` 5,183,944, about 60 days). An expired token cannot be exchanged.
* ``GET /debug_token?input_token=…`` with an app token (``app_id|app_secret``):
  ``data.{app_id,type,is_valid,expires_at,issued_at,scopes,user_id,profile_id}``;
  ``expires_at`` 0 means never (Page tokens from a long-lived user token, unless
  ``page_token_lifetime`` says otherwise).
* ``GET /me``, ``GET /me/accounts`` (and ``/{user-id}/accounts``): Pages with ``id``,
  ``name``, ``category``, ``tasks`` and ``access_token``. Never a fan or follower count:
  a request for one is refused (error 100) and recorded in ``refused_fields``.
* ``POST /{page-id}/feed`` (``message``, ``link``, ``attached_media[n]``, ``published``,
  ``fields`` for read-after-write): answers ``{"id": "{page-id}_{post-id}"}``; error 506
  "Duplicate status message" for the same message as the Page's previous post.
* ``POST /{page-id}/photos`` (multipart ``source`` or ``url``, ``caption``,
  ``published``, ``alt_text_custom``): a published photo makes a post
  (``{"id", "post_id"}``); ``published=false`` keeps it unpublished for a feed post's
  ``attached_media`` (``expire_photos()`` forgets unused ones, as Meta does).
* ``GET /{page-id}/feed`` and ``/published_posts`` (``fields``, ``limit`` ≤ 100,
  ``since``/``until`` Unix times, ``after`` cursor, ``paging.next``), newest first;
  posts carry no ``link`` field (gone since v3.3).
* ``GET /{post-id}?fields=…`` with ``reactions.summary(total_count)``,
  ``comments.summary(total_count)`` and ``shares`` (absent when nobody shared);
  ``GET /{post-id}/comments`` (``filter=toplevel|stream``, ``order``, ``summary``,
  ``since``); ``POST /{comment-id}/comments`` (a reply, ``pages_manage_engagement``).

Errors have Graph's shape: ``{"error": {"message", "type", "code", "error_subcode",
"fbtrace_id"}}`` with the codes of the error-handling guide: 190 with subcodes 460
(password changed), 463 (expired), 467 (invalid) for tokens; 4, 17, 32, 613 for
throttling (HTTP 400 or 403, as Graph answers them, not 429; the usage headers
``X-App-Usage`` and ``X-Business-Use-Case-Usage`` come on every answer, the latter
with ``estimated_time_to_regain_access`` in minutes); 1 and 2 transient (HTTP 500/503);
10 and 200 for a missing permission; 100 for a bad parameter; 506 for a duplicate.

Faults, as on the Mastodon test server: ``server.faults = FaultPlan(rate=0.3, seed=1)``
or ``server.fail_next("drop_after_create")`` on a route (``create_post`` unless told;
``create_photo``, ``read_feed``, ``post`` and the others by the names in ``_ROUTES``).
``*_after_create`` faults hit only requests that succeeded, so the post exists and only
the answer is lost. ``hold_next_create()`` holds a created post's answer until
``release_holds()``; ``latency = {"create_post": 0.05}`` slows a route;
``slow_seconds`` is how long a ``timeout_*`` fault waits.

No pytest here: ``with FacebookTestServer() as server:`` works from any script.
"""

from __future__ import annotations

import copy
import hashlib
import hmac
import html
import itertools
import json
import re
import secrets
import time
from collections import Counter, defaultdict
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import ClassVar
from urllib.parse import parse_qs, urlencode

from . import http
from .http import (
    AFTER_KINDS,
    LATE_KINDS,
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

VERSION = "v25.0"
SUPPORTED_VERSIONS = ("v24.0", "v25.0", "v26.0", "v27.0")
PERMISSIONS = (
    "pages_show_list",
    "pages_manage_posts",
    "pages_read_engagement",
    "pages_manage_engagement",
    "pages_read_user_engagement",
    "pages_manage_metadata",
)
SHORT_LIVED_SECONDS = 5400
LONG_LIVED_SECONDS = 5_183_944
CODE_SECONDS = 600
DEFAULT_PAGE_SIZE = 25
MAX_PAGE_SIZE = 100

THROTTLE_KINDS = ("throttle_4", "throttle_17", "throttle_32", "throttle_613")
TOKEN_KINDS = ("token_expired", "token_invalid", "password_changed")
FAULT_KINDS = (
    *THROTTLE_KINDS,
    "500",
    "503",
    "timeout_before_create",
    "drop_before_create",
    *AFTER_KINDS,
    *LATE_KINDS,
    "duplicate",
    *TOKEN_KINDS,
    "permission",
)
#: Fields that are counts of people; this server never gives them (see module docstring).
PEOPLE_COUNTS = re.compile(r"fan|follower", re.I)
_MARKER_RE = re.compile(r"utm_content=[^&\s#\"'<>]+")

THROTTLES = {
    # kind: (HTTP status, code, message), as the error-handling guide lists them.
    "throttle_4": (400, 4, "(#4) Application request limit reached"),
    "throttle_17": (400, 17, "(#17) User request limit reached"),
    "throttle_32": (
        403,
        32,
        "(#32) Page request limit reached",
    ),
    "throttle_613": (400, 613, "(#613) Calls to this api have exceeded the rate limit."),
}
TOKEN_FAULTS = {
    "token_expired": (463, "Error validating access token: Session has expired."),
    "token_invalid": (467, "Invalid OAuth access token - Cannot parse access token"),
    "password_changed": (
        460,
        "Error validating access token: The session has been invalidated because the user "
        "changed their password or Facebook has changed the session for security reasons.",
    ),
}


def _iso(epoch: float) -> str:
    """Graph's time format: ``2026-12-07T00:31:32+0000``."""
    return datetime.fromtimestamp(epoch, UTC).strftime("%Y-%m-%dT%H:%M:%S+0000")


@dataclass
class FaultPlan(http.FaultPlan):
    """Faults chosen at random, ``rate`` of the time, reproducibly from ``seed``."""

    known: ClassVar[tuple[str, ...]] = FAULT_KINDS

    kinds: tuple[str, ...] = (
        "throttle_4",
        "throttle_32",
        "500",
        "timeout_before_create",
        "drop_before_create",
        *AFTER_KINDS,
    )
    routes: tuple[str, ...] = ("create_post",)


def _json(status: int, data, **headers) -> Reply:
    return json_reply(status, data, content_type="application/json; charset=UTF-8", **headers)


def graph_error(
    status: int, code: int, message: str, *, subcode: int | None = None, kind="OAuthException"
) -> Reply:
    """An error in Graph's shape (docs/graph-api/guides/error-handling)."""
    error = {"message": message, "type": kind, "code": code, "fbtrace_id": _trace()}
    if subcode is not None:
        error["error_subcode"] = subcode
    if code in (1, 2, 4, 17, 32, 613):
        error["is_transient"] = code in (1, 2)
    return _json(status, {"error": error}, **{"WWW-Authenticate": 'OAuth "Facebook Platform"'})


def _missing(node: str) -> Reply:
    return graph_error(400, 100, f"Object with ID '{node}' does not exist", subcode=33)


def _trace() -> str:
    return secrets.token_urlsafe(8)


def _page(status: int, title: str, body: str) -> Reply:
    return html_page(status, title, body, site=" | Facebook")


class _Handler(Handler):
    server_version = "Facebook"

    def do_DELETE(self):
        self._serve()


_ID = r"(?P<node>\d+)"
_ROUTES = [
    ("GET", r"/dialog/oauth", "dialog"),
    ("POST", r"/dialog/oauth", "dialog"),
    ("GET", r"/oauth/access_token", "access_token"),
    ("POST", r"/oauth/access_token", "access_token"),
    ("GET", r"/debug_token", "debug_token"),
    ("GET", r"/me", "me"),
    ("GET", r"/me/accounts", "accounts"),
    ("GET", r"/(?P<user_id>\d+)/accounts", "accounts"),
    ("POST", rf"/{_ID}/feed", "create_post"),
    ("POST", rf"/{_ID}/photos", "create_photo"),
    ("GET", rf"/{_ID}/(?P<edge>feed|published_posts|posts)", "read_feed"),
    ("GET", r"/(?P<post_id>\d+_\d+)", "post"),
    ("GET", r"/(?P<post_id>\d+_\d+)/comments", "read_comments"),
    ("GET", r"/(?P<post_id>\d+_\d+)/reactions", "reactions"),
    ("POST", r"/(?P<comment_id>\d+_\d+)/comments", "reply"),
    ("GET", rf"/{_ID}", "node"),
]
_ROUTES = [(method, re.compile(pattern), name) for method, pattern, name in _ROUTES]


def _route(request: Request) -> tuple[str, dict]:
    for method, pattern, name in _ROUTES:
        found = pattern.fullmatch(request.path.rstrip("/") or "/")
        if found and method == request.method:
            return name, {k: v for k, v in found.groupdict().items() if v is not None}
    return "not_found", {}


def _fields(value: str) -> list[str]:
    """Top-level names of a ``fields`` parameter: ``a,b.summary(true).limit(0),c{d,e}``."""
    names, depth, current = [], 0, ""
    for char in value:
        if char in "({":
            depth += 1
        elif char in ")}":
            depth -= 1
        if char == "," and depth == 0:
            names.append(current)
            current = ""
        else:
            current += char
    names.append(current)
    return [name.strip() for name in names if name.strip()]


def _field_name(spec: str) -> str:
    return re.split(r"[.{(]", spec, maxsplit=1)[0]


class FacebookTestServer(TestServer):
    """One Graph API on 127.0.0.1: one app, one person, their Pages; state behind one lock."""

    server_name = "Facebook"
    handler = _Handler
    fault_kinds = FAULT_KINDS
    create_route = "create_post"
    create_routes = ("create_post", "create_photo")

    def __init__(
        self,
        *,
        app_id: str = "880011223344556",
        app_secret: str = "",
        person: str = "Ada Lovelace",
        pages: tuple[str, ...] = ("Storyloom Stories", "Storyloom Recipes"),
        version: str = VERSION,
        slow_seconds: float = 2.0,
        page_token_lifetime: int | None = None,
        require_appsecret_proof: bool = False,
        port: int = 0,
    ):
        self._init_http(port=port, slow_seconds=slow_seconds)
        self.app_id = app_id
        self.app_secret = app_secret or secrets.token_hex(16)
        self.version = version
        #: Seconds a Page token lives; None: it never expires (``expires_at`` 0).
        self.page_token_lifetime = page_token_lifetime
        self.require_appsecret_proof = require_appsecret_proof
        #: Minutes ``estimated_time_to_regain_access`` says after a throttle fault.
        self.throttle_minutes = 0
        self.auto_approve = False
        self.create_calls = 0
        self.versions_seen: Counter = Counter()
        #: Every field a client asked for that is a count of people (never answered).
        self.refused_fields: list[str] = []
        #: Every ``fields`` parameter clients sent, by route (for tests).
        self.requested_fields: list[tuple[str, str]] = []
        self._ids = itertools.count(100_000_000_000_001)
        self.user_id = str(next(self._ids))
        self.person = person
        self._pages: dict[str, dict] = {}
        self._tokens: dict[str, dict] = {}
        self._codes: dict[str, dict] = {}
        self._posts: dict[str, dict] = {}
        self._photos: dict[str, dict] = {}
        self._comments: dict[str, dict] = {}
        for name in pages:
            self.add_page(name)

    # --- Reading requests --------------------------------------------------------------
    def make_request(self, method, path, query, form, headers, client) -> Request:
        """Graph's version is the path's ``/vNN.0/`` prefix, else the server's own."""
        version = self.version
        found = re.match(r"/(v\d+\.\d+)(/.*)?$", path)
        if found:
            version, path = found.group(1), found.group(2) or "/"
        query = parse_qs(query, keep_blank_values=True)
        return Request(method, path, query, form, headers, client, version=version)

    def unparsable_body(self) -> Reply:
        return graph_error(400, 100, "(#100) The request body could not be parsed")

    # --- Seeding and inspection (for tests) --------------------------------------------
    def add_page(self, name: str, tasks=("ADVERTISE", "ANALYZE", "CREATE_CONTENT", "MODERATE")):
        """A Page the person manages, doing ``tasks`` on it; returns its id."""
        with self.lock:
            page_id = str(next(self._ids))
            self._pages[page_id] = {
                "id": page_id,
                "name": name,
                "category": "Media/news company",
                "tasks": list(tasks),
            }
        return page_id

    @property
    def page_ids(self) -> list[str]:
        with self.lock:
            return list(self._pages)

    def page_token(self, page_id: str, scopes=PERMISSIONS) -> str:
        """A valid Page token with ``scopes`` (for tests that skip connecting)."""
        with self.lock:
            return self._issue("page", scopes, page_id=page_id)["access_token"]

    def expire(self, token: str) -> None:
        with self.lock:
            self._tokens[token]["expires_at"] = self.clock() - 1

    def invalidate(self, token: str, subcode: int = 460) -> None:
        """The person changed their password (460) or removed the app (458)."""
        with self.lock:
            self._tokens[token]["invalid_subcode"] = subcode

    @property
    def posts(self) -> list[dict]:
        """Every post, oldest first, as stored (``message``, ``link``, ``page_id``…)."""
        with self.lock:
            return [copy.deepcopy(post) for post in self._posts.values()]

    def posts_with(self, marker: str) -> list[dict]:
        return [post for post in self.posts if contains_marker(post["message"], marker)]

    def count_with(self, marker: str) -> int:
        return len(self.posts_with(marker))

    # For ``tests/integration/workloads.assert_exactly_once``, which reads statuses.
    statuses_with = posts_with

    def duplicates(self) -> dict[str, list[str]]:
        """``{marker: [post ids]}`` for every ``utm_content`` marker on two or more posts."""
        groups = defaultdict(list)
        for post in self.posts:
            for marker in set(_MARKER_RE.findall(post["message"])):
                groups[marker].append(post["id"])
        return {marker: ids for marker, ids in groups.items() if len(ids) > 1}

    def set_engagement(self, post_id: str, *, reactions=None, shares=None) -> None:
        """Reactions by type (``{"LIKE": 3, "LOVE": 1}`` or a number of likes) and shares."""
        with self.lock:
            post = self._posts[post_id]
            if reactions is not None:
                post["reactions"] = (
                    {"LIKE": reactions} if isinstance(reactions, int) else dict(reactions)
                )
            if shares is not None:
                post["shares"] = int(shares)

    def comment(self, parent_id: str, message: str, *, name="Grace Hopper", user_id="") -> str:
        """A comment by someone on a post (or a reply to a comment); returns its id."""
        with self.lock:
            return self._add_comment(parent_id, message, name, user_id or "700000000000001")

    def delete_comment(self, comment_id: str) -> None:
        """Delete a comment and the replies under it, as Facebook does."""
        with self.lock:
            doomed = {comment_id}
            while True:
                more = {c for c, row in self._comments.items() if row["parent_id"] in doomed}
                if more <= doomed:
                    break
                doomed |= more
            for gone in doomed:
                self._comments.pop(gone, None)

    def delete_post(self, post_id: str) -> None:
        with self.lock:
            del self._posts[post_id]

    def _add_comment(self, parent_id, message, name, user_id) -> str:
        post_id = parent_id if parent_id in self._posts else self._comments[parent_id]["post_id"]
        comment_id = f"{post_id.split('_')[1]}_{next(self._ids)}"
        self._comments[comment_id] = {
            "id": comment_id,
            "post_id": post_id,
            "parent_id": parent_id if parent_id != post_id else None,
            "message": message,
            "from": {"name": name, "id": user_id},
            "created_time": self.clock(),
        }
        return comment_id

    def expire_photos(self) -> int:
        """Forget unpublished photos no post used, as Meta does after a while."""
        with self.lock:
            unused = [
                pid for pid, p in self._photos.items() if not p["published"] and not p["used"]
            ]
            for photo_id in unused:
                del self._photos[photo_id]
            return len(unused)

    @property
    def photos(self) -> list[dict]:
        with self.lock:
            return [
                {k: v for k, v in photo.items() if k != "data"} | {"size": len(photo["data"])}
                for photo in self._photos.values()
            ]

    # --- Dispatch ----------------------------------------------------------------------
    def handle(self, request: Request) -> Reply:
        name, arguments = _route(request)
        with self.lock:
            self.hits[name] += 1
            self.versions_seen[request.version] += 1
            if name in ("create_post", "create_photo"):
                self.create_calls += 1
            fault = self._next_fault(name)
            if request.one("fields"):
                self.requested_fields.append((name, request.one("fields")))
        self._wait_latency(name)
        if request.version not in SUPPORTED_VERSIONS:
            return graph_error(
                400,
                2635,
                f"(#2635) You are calling a deprecated version of the Graph API "
                f"({request.version}). Please update to the latest version: {self.version}.",
            )
        if name == "not_found":
            return graph_error(
                400,
                100,
                f"Unsupported {request.method.lower()} request. Please read the Graph API "
                "documentation at https://developers.facebook.com/docs/graph-api",
                kind="GraphMethodException",
            )
        if fault and fault not in AFTER_KINDS + LATE_KINDS:
            reply = self._fault_reply(fault)
        else:
            reply = self._answer(name, request, arguments, fault)
        for name, value in self._usage_headers(request).items():
            reply.headers.setdefault(name, value)
        return reply

    def _fault_reply(self, fault: str) -> Reply:
        if fault in THROTTLES:
            status, code, message = THROTTLES[fault]
            reply = graph_error(status, code, message)
            if fault == "throttle_32":
                reply.headers["X-Business-Use-Case-Usage"] = json.dumps(
                    self._buc_usage("0", 100, self.throttle_minutes)
                )
            return reply
        if fault in TOKEN_FAULTS:
            subcode, message = TOKEN_FAULTS[fault]
            return graph_error(400, 190, message, subcode=subcode)
        if fault == "500":
            return graph_error(500, 1, "An unknown error has occurred.")
        if fault == "503":
            return graph_error(503, 2, "Service temporarily unavailable")
        if fault == "duplicate":
            return graph_error(400, 506, "(#506) Duplicate status message")
        if fault == "permission":
            return graph_error(
                403,
                200,
                "(#200) If posting to a page, requires both pages_read_engagement and "
                "pages_manage_posts permission with page token",
            )
        return self._transport_fault(fault)

    def _usage_headers(self, request: Request) -> dict:
        """Graph's usage headers: percentages of the app's and the Page's limits."""
        with self.lock:
            token = self._tokens.get(request.token) or {}
            calls = min(99, self.hits.total() // 50)
        headers = {
            "X-App-Usage": json.dumps({"call_count": calls, "total_cputime": 1, "total_time": 1})
        }
        if token.get("page_id"):
            headers["X-Business-Use-Case-Usage"] = json.dumps(
                self._buc_usage(token["page_id"], calls, 0)
            )
        return headers

    @staticmethod
    def _buc_usage(page_id: str, calls: int, minutes: int) -> dict:
        return {
            page_id: [
                {
                    "type": "pages",
                    "call_count": calls,
                    "total_cputime": 1,
                    "total_time": 1,
                    "estimated_time_to_regain_access": minutes,
                }
            ]
        }

    # --- Tokens (called under the lock) ------------------------------------------------
    def _issue(self, kind: str, scopes, *, page_id=None, lifetime=None) -> dict:
        token = ("EAA" if kind != "app" else "") + secrets.token_urlsafe(40)
        now = self.clock()
        self._tokens[token] = {
            "kind": kind,
            "scopes": list(scopes),
            "page_id": page_id,
            "user_id": self.user_id,
            "issued_at": now,
            "expires_at": now + lifetime if lifetime else 0,
            "granted_pages": list(self._pages) if page_id is None else [page_id],
        }
        answer = {"access_token": token, "token_type": "bearer"}
        if lifetime:
            answer["expires_in"] = lifetime
        return answer

    def _check_token(self, request: Request, *scopes: str, page_id: str | None = None):
        """``(token record, None)`` or ``(None, Graph's error)``."""
        value = request.token
        if not value:
            return None, graph_error(
                400, 104, "An access token is required to request this resource."
            )
        token = self._tokens.get(value)
        if token is None:
            return None, graph_error(400, 190, "Invalid OAuth access token data.", subcode=467)
        if token.get("invalid_subcode"):
            return None, graph_error(
                400,
                190,
                "Error validating access token: The session has been invalidated.",
                subcode=token["invalid_subcode"],
            )
        if token["expires_at"] and token["expires_at"] <= self.clock():
            return None, graph_error(
                400,
                190,
                f"Error validating access token: Session has expired on "
                f"{_iso(token['expires_at'])}.",
                subcode=463,
            )
        if self.require_appsecret_proof:
            proof = hmac.new(self.app_secret.encode(), value.encode(), hashlib.sha256).hexdigest()
            if not hmac.compare_digest(proof, request.one("appsecret_proof")):
                return None, graph_error(
                    400,
                    100,
                    "The access token could not be decrypted; appsecret_proof is "
                    "invalid or missing",
                    kind="GraphMethodException",
                )
        missing = [scope for scope in scopes if scope not in token["scopes"]]
        if missing:
            return None, graph_error(
                403, 200, f"(#200) This action requires the permission(s): {', '.join(missing)}"
            )
        if page_id is not None and token["kind"] == "page" and token["page_id"] != page_id:
            return None, graph_error(
                403, 200, "(#200) The token does not belong to this Page", kind="OAuthException"
            )
        return token, None

    def _app_token_ok(self, value: str) -> bool:
        if value == f"{self.app_id}|{self.app_secret}":
            return True
        token = self._tokens.get(value)
        return bool(token and token["kind"] == "app")

    # --- Routes: login -----------------------------------------------------------------
    def _dialog(self, request: Request) -> Reply:
        """Facebook Login's consent dialog: the person picks the Pages to grant."""
        client_id, redirect_uri = request.one("client_id"), request.one("redirect_uri")
        state = request.one("state")
        scopes = [s for s in re.split(r"[,\s]+", request.one("scope")) if s]
        if client_id != self.app_id:
            return _page(400, "Error", "<h1>Invalid App ID: the app is not known.</h1>")
        if not redirect_uri.startswith(("http://", "https://")):
            return _page(400, "Error", "<h1>URL blocked: the redirect URI is not valid.</h1>")
        unknown = [scope for scope in scopes if scope not in PERMISSIONS]
        if unknown:
            return _page(
                400, "Error", f"<h1>Invalid Scopes: {html.escape(', '.join(unknown))}</h1>"
            )
        with self.lock:
            pages = list(self._pages.values())
        if request.method == "POST" and request.one("decision") != "continue":
            denied = {
                "error": "access_denied",
                "error_code": "200",
                "error_description": "Permissions error",
                "error_reason": "user_denied",
                "state": state,
            }
            return redirect(with_params(redirect_uri, denied) + "#_=_")
        if request.method == "POST" or self.auto_approve:
            chosen = request.many("pages") if request.method == "POST" else [p["id"] for p in pages]
            with self.lock:
                code = secrets.token_urlsafe(48)
                self._codes[code] = {
                    "redirect_uri": redirect_uri,
                    "scopes": scopes,
                    "pages": [pid for pid in chosen if pid in self._pages],
                    "at": time.monotonic(),
                }
            return redirect(with_params(redirect_uri, {"code": code, "state": state}) + "#_=_")
        hidden = "".join(
            f'<input type="hidden" name="{name}" value="{html.escape(value)}">'
            for name, value in (
                ("client_id", client_id),
                ("redirect_uri", redirect_uri),
                ("state", state),
                ("scope", ",".join(scopes)),
            )
        )
        boxes = "".join(
            f'<li><label><input type="checkbox" name="pages" value="{page["id"]}" checked> '
            f"{html.escape(page['name'])}</label></li>"
            for page in pages
        )
        body = (
            f"<h1>{html.escape(self.person)}, continue to the app?</h1>"
            f"<p>The app is requesting: {html.escape(', '.join(scopes))}.</p>"
            f'<form method="post" action="/{request.version}/dialog/oauth">{hidden}'
            f"<fieldset><legend>Which Pages may the app use?</legend><ul>{boxes}</ul></fieldset>"
            '<button type="submit" name="decision" value="continue">Continue</button> '
            '<button type="submit" name="decision" value="cancel">Cancel</button></form>'
        )
        return _page(200, "Log in with Facebook", body)

    def _access_token(self, request: Request) -> Reply:
        client_id, secret = request.one("client_id"), request.one("client_secret")
        if client_id != self.app_id:
            return graph_error(400, 101, "Error validating application. Invalid application ID.")
        if not secrets.compare_digest(secret, self.app_secret):
            return graph_error(400, 1, "Error validating client secret.")
        with self.lock:
            if request.one("grant_type") == "fb_exchange_token":
                old = self._tokens.get(request.one("fb_exchange_token"))
                if old is None or (old["expires_at"] and old["expires_at"] <= self.clock()):
                    return graph_error(
                        400,
                        190,
                        "Error validating access token: Session has expired.",
                        subcode=463,
                    )
                answer = self._issue("user", old["scopes"], lifetime=LONG_LIVED_SECONDS)
                self._tokens[answer["access_token"]]["granted_pages"] = old["granted_pages"]
                return _json(200, answer)
            if request.one("grant_type") == "client_credentials":
                return _json(200, self._issue("app", ()))
            code = self._codes.pop(request.one("code"), None)
            if code is None or time.monotonic() - code["at"] > CODE_SECONDS:
                return graph_error(400, 100, "Invalid verification code format.", subcode=36007)
            if code["redirect_uri"] != request.one("redirect_uri"):
                return graph_error(
                    400,
                    100,
                    "Error validating verification code. Please make sure your redirect_uri "
                    "is identical to the one you used in the OAuth dialog request",
                    subcode=36008,
                )
            answer = self._issue("user", code["scopes"], lifetime=SHORT_LIVED_SECONDS)
            self._tokens[answer["access_token"]]["granted_pages"] = code["pages"]
            return _json(200, answer)

    def _debug_token(self, request: Request) -> Reply:
        with self.lock:
            if not self._app_token_ok(request.token):
                return graph_error(400, 190, "Invalid OAuth access token signature.", subcode=467)
            token = self._tokens.get(request.one("input_token"))
            if token is None:
                return _json(
                    200,
                    {
                        "data": {
                            "error": {"code": 190, "message": "Invalid OAuth access token."},
                            "is_valid": False,
                            "scopes": [],
                        }
                    },
                )
            valid = not token.get("invalid_subcode") and (
                not token["expires_at"] or token["expires_at"] > self.clock()
            )
            data = {
                "app_id": self.app_id,
                "type": token["kind"].upper(),
                "application": "Storyloom",
                "data_access_expires_at": int(token["issued_at"]) + 90 * 86400,
                "expires_at": int(token["expires_at"]),
                "is_valid": valid,
                "issued_at": int(token["issued_at"]),
                "scopes": list(token["scopes"]),
                "user_id": token["user_id"],
            }
            if token["page_id"]:
                data["profile_id"] = token["page_id"]
            return _json(200, {"data": data})

    def _me(self, request: Request) -> Reply:
        with self.lock:
            token, error = self._check_token(request)
            if error:
                return error
            if token["kind"] == "page":
                page = self._pages[token["page_id"]]
                return _json(200, {"id": page["id"], "name": page["name"]})
            return _json(200, {"id": self.user_id, "name": self.person})

    def _refuse_people_counts(self, request: Request) -> Reply | None:
        names = [_field_name(spec) for spec in _fields(request.one("fields"))]
        counted = [name for name in names if PEOPLE_COUNTS.search(name)]
        if counted:
            self.refused_fields.extend(counted)
            return graph_error(
                400,
                100,
                f"(#100) This test server gives no counts of people: {', '.join(counted)}",
            )
        return None

    def _accounts(self, request: Request, user_id: str = "") -> Reply:
        with self.lock:
            token, error = self._check_token(request, "pages_show_list")
            if error or (refused := self._refuse_people_counts(request)):
                return error or refused
            if token["kind"] != "user" or (user_id and user_id != self.user_id):
                return graph_error(400, 100, "(#100) Tried accessing nonexisting field (accounts)")
            wanted = _fields(request.one("fields")) or [
                "access_token",
                "category",
                "name",
                "id",
                "tasks",
            ]
            lifetime = None
            if self.page_token_lifetime:
                lifetime = self.page_token_lifetime
            elif token["expires_at"] and token["expires_at"] - token["issued_at"] < 86400:
                # From a short-lived user token, Page tokens are short-lived too.
                lifetime = max(1, int(token["expires_at"] - self.clock()))
            rows = []
            for page_id in token["granted_pages"]:
                page = self._pages.get(page_id)
                if page is None:
                    continue
                entry = dict(page)
                entry["access_token"] = self._issue(
                    "page", token["scopes"], page_id=page_id, lifetime=lifetime
                )["access_token"]
                rows.append({name: entry[name] for name in wanted if name in entry})
        return self._paged(request, rows, lambda row: row.get("id", ""))

    def _paged(self, request: Request, rows: list[dict], key, *, since_key=None) -> Reply:
        """``data`` and cursor ``paging``: ``limit`` (≤ 100), ``after``, ``paging.next``."""
        limit = request.one("limit", str(DEFAULT_PAGE_SIZE))
        limit = max(1, min(MAX_PAGE_SIZE, int(limit))) if limit.isdigit() else DEFAULT_PAGE_SIZE
        after = request.one("after")
        start = 0
        if after:
            keys = [key(row) for row in rows]
            try:
                start = keys.index(after) + 1
            except ValueError:
                return graph_error(400, 100, "(#100) The after cursor is not valid")
        page = rows[start : start + limit]
        body: dict = {"data": page}
        if page:
            body["paging"] = {"cursors": {"before": key(page[0]), "after": key(page[-1])}}
            if start + limit < len(rows):
                params = {k: v[0] for k, v in request.query.items() if k not in ("after",)}
                params.update(limit=limit, after=key(page[-1]))
                params.pop("access_token", None)
                body["paging"]["next"] = (
                    f"{self.url}/{request.version}{request.path}?{urlencode(params)}"
                )
        return _json(200, body)

    # --- Routes: publishing ------------------------------------------------------------
    def _page_for(self, request: Request, node: str, *scopes: str):
        token, error = self._check_token(request, *scopes, page_id=node)
        if error:
            return None, error
        page = self._pages.get(node)
        if page is None:
            return None, graph_error(
                400,
                100,
                f"Unsupported post request. Object with ID '{node}' does not exist, cannot be "
                "loaded due to missing permissions, or does not support this operation.",
                subcode=33,
                kind="GraphMethodException",
            )
        if token["kind"] != "page":
            return None, graph_error(
                403,
                200,
                "(#200) If posting to a page, requires both pages_read_engagement and "
                "pages_manage_posts permission with page token",
            )
        if "CREATE_CONTENT" not in page["tasks"] and request.method == "POST":
            return None, graph_error(
                403, 10, "(#10) The user does not have the CREATE_CONTENT task on this Page"
            )
        return page, None

    def _create_post(self, request: Request, node: str) -> Reply:
        message, link = request.one("message"), request.one("link")
        with self.lock:
            page, error = self._page_for(request, node, "pages_manage_posts")
            if error:
                return error
            attached = []
            for name in sorted(
                k for k in {**request.query, **request.form} if k.startswith("attached_media")
            ):
                try:
                    fbid = str(json.loads(request.one(name))["media_fbid"])
                except (ValueError, KeyError, TypeError):
                    return graph_error(400, 100, f"(#100) param {name} must be a JSON object")
                photo = self._photos.get(fbid)
                if photo is None or photo["page_id"] != node or photo["used"]:
                    return graph_error(
                        400,
                        100,
                        f"(#100) param {name} has invalid media_fbid {fbid}",
                    )
                attached.append(fbid)
            if not message.strip() and not link and not attached:
                return graph_error(400, 100, "(#100) Missing message or attachment")
            previous = [p for p in self._posts.values() if p["page_id"] == node]
            if previous and message.strip() and previous[-1]["message"] == message:
                return graph_error(400, 506, "(#506) Duplicate status message")
            for fbid in attached:
                self._photos[fbid]["used"] = True
            post = self._add_post(node, message, link, attached)
            return self._created(request, post)

    def _add_post(self, page_id: str, message: str, link: str, photos: list[str]) -> dict:
        post_id = f"{page_id}_{next(self._ids)}"
        post = {
            "id": post_id,
            "page_id": page_id,
            "message": message,
            "link": link,
            "photos": photos,
            "created_time": self.clock(),
            "reactions": {},
            "shares": 0,
        }
        self._posts[post_id] = post
        return post

    def _created(self, request: Request, post: dict, **extra) -> Reply:
        """``{"id": …}``, with read-after-write ``fields`` when asked (since v2.9)."""
        body = {"id": post["id"], **extra}
        wanted = _fields(request.one("fields"))
        if wanted:
            body.update(self._post_entity(post, wanted))
        return _json(200, body)

    def _create_photo(self, request: Request, node: str) -> Reply:
        published = request.one("published", "true").lower() != "false"
        with self.lock:
            page, error = self._page_for(request, node, "pages_manage_posts")
            if error:
                return error
            source = request.files.get("source")
            url = request.one("url")
            if source is None and not url:
                return graph_error(400, 324, "(#324) Requires upload file")
            data = source[2] if source else url.encode()
            if source is not None and not data.startswith((b"\xff\xd8", b"\x89PNG", b"GIF8")):
                return graph_error(
                    400, 324, "(#324) Missing or invalid image file", subcode=2069019
                )
            if len(data) > 4 * 1024 * 1024:
                return graph_error(400, 100, "(#100) The image file is larger than 4 MB")
            photo_id = str(next(self._ids))
            self._photos[photo_id] = {
                "id": photo_id,
                "page_id": node,
                "published": published,
                "used": published,
                "alt_text": request.one("alt_text_custom"),
                "caption": request.one("caption"),
                "mime": source[1] if source else "",
                "url": url,
                "data": data,
            }
            if not published:
                return _json(200, {"id": photo_id})
            post = self._add_post(node, request.one("caption"), "", [photo_id])
            return self._created(request, post, post_id=post["id"])

    # --- Routes: reading ---------------------------------------------------------------
    def _post_entity(self, post: dict, wanted: list[str]) -> dict:
        entity = {}
        page_number, number = post["id"].split("_")
        comments = [c for c in self._comments.values() if c["post_id"] == post["id"]]
        for spec in wanted:
            name = _field_name(spec)
            if name == "id":
                entity["id"] = post["id"]
            elif name == "message" and post["message"]:
                entity["message"] = post["message"]
            elif name == "created_time":
                entity["created_time"] = _iso(post["created_time"])
            elif name == "permalink_url":
                entity["permalink_url"] = f"https://www.facebook.com/{page_number}/posts/{number}"
            elif name == "reactions":
                total = sum(post["reactions"].values())
                entity["reactions"] = {
                    "data": [],
                    "summary": {"total_count": total, "viewer_reaction": "NONE"},
                }
            elif name == "comments":
                if "filter(stream)" not in spec:
                    # The default filter, ``toplevel``, counts no replies to comments.
                    comments = [c for c in comments if c["parent_id"] is None]
                entity["comments"] = {
                    "data": [],
                    "summary": {
                        "order": "ranked",
                        "total_count": len(comments),
                        "can_comment": True,
                    },
                }
            elif name == "shares" and post["shares"]:
                # Graph leaves ``shares`` out of a post nobody shared.
                entity["shares"] = {"count": post["shares"]}
            elif name == "from":
                page = self._pages[post["page_id"]]
                entity["from"] = {"name": page["name"], "id": page["id"]}
            elif name == "is_published":
                entity["is_published"] = True
        return entity

    def _read_feed(self, request: Request, node: str, edge: str) -> Reply:
        with self.lock:
            _token, error = self._check_token(request, "pages_read_engagement")
            if error or (refused := self._refuse_people_counts(request)):
                return error or refused
            if node not in self._pages:
                return _missing(node)
            wanted = _fields(request.one("fields")) or ["created_time", "message", "id"]
            since, until = request.one("since"), request.one("until")
            rows = []
            for post in reversed(self._posts.values()):
                if post["page_id"] != node:
                    continue
                if since.isdigit() and post["created_time"] < int(since):
                    continue
                if until.isdigit() and post["created_time"] > int(until):
                    continue
                rows.append(self._post_entity(post, [*wanted, "id"]))
        return self._paged(request, rows, lambda row: row["id"])

    def _post(self, request: Request, post_id: str) -> Reply:
        with self.lock:
            _token, error = self._check_token(request, "pages_read_engagement")
            if error or (refused := self._refuse_people_counts(request)):
                return error or refused
            post = self._posts.get(post_id)
            if post is None:
                return graph_error(
                    400,
                    100,
                    f"Unsupported get request. Object with ID '{post_id}' does not exist, "
                    "cannot be loaded due to missing permissions, or does not support this "
                    "operation.",
                    subcode=33,
                    kind="GraphMethodException",
                )
            wanted = _fields(request.one("fields")) or ["created_time", "message", "id"]
            return _json(200, self._post_entity(post, [*wanted, "id"]))

    def _node(self, request: Request, node: str) -> Reply:
        with self.lock:
            _token, error = self._check_token(request)
            if error or (refused := self._refuse_people_counts(request)):
                return error or refused
            page = self._pages.get(node)
            if page is None:
                return _missing(node)
            return _json(200, {"id": page["id"], "name": page["name"]})

    def _reactions(self, request: Request, post_id: str) -> Reply:
        with self.lock:
            _token, error = self._check_token(request, "pages_read_engagement")
            if error:
                return error
            post = self._posts.get(post_id)
            if post is None:
                return graph_error(
                    400, 100, f"Object with ID '{post_id}' does not exist", subcode=33
                )
            total = sum(post["reactions"].values())
            return _json(200, {"data": [], "summary": {"total_count": total}})

    def _read_comments(self, request: Request, post_id: str) -> Reply:
        """A post's comments: top level (default) or every one (``filter=stream``)."""
        with self.lock:
            _token, error = self._check_token(request, "pages_read_engagement")
            if error:
                return error
            if post_id not in self._posts and post_id not in self._comments:
                return graph_error(
                    400, 100, f"Object with ID '{post_id}' does not exist", subcode=33
                )
            stream = request.one("filter") == "stream"
            if post_id in self._posts:
                found = [
                    c
                    for c in self._comments.values()
                    if c["post_id"] == post_id and (stream or c["parent_id"] is None)
                ]
            else:
                found = [c for c in self._comments.values() if c["parent_id"] == post_id]
            since = request.one("since")
            if since.isdigit():
                found = [c for c in found if c["created_time"] >= int(since)]
            if request.one("order") == "reverse_chronological":
                found = list(reversed(found))
            rows = []
            for comment in found:
                row = {
                    "id": comment["id"],
                    "message": comment["message"],
                    "created_time": _iso(comment["created_time"]),
                    "from": dict(comment["from"]),
                    "permalink_url": f"https://www.facebook.com/{comment['post_id']}"
                    f"?comment_id={comment['id']}",
                }
                if stream and comment["parent_id"]:
                    row["parent"] = {"id": comment["parent_id"]}
                rows.append(row)
        reply = self._paged(request, rows, lambda row: row["id"])
        if request.one("summary") in ("true", "1"):
            body = json.loads(reply.body)
            body["summary"] = {"order": "chronological", "total_count": len(rows)}
            reply.body = json.dumps(body).encode()
        return reply

    def _reply(self, request: Request, comment_id: str) -> Reply:
        with self.lock:
            token, error = self._check_token(request, "pages_manage_engagement")
            if error:
                return error
            comment = self._comments.get(comment_id)
            if comment is None:
                return graph_error(
                    400, 100, f"Object with ID '{comment_id}' does not exist", subcode=33
                )
            if not request.one("message").strip():
                return graph_error(400, 100, "(#100) Missing message")
            page = self._pages[token["page_id"]] if token["page_id"] else None
            name = page["name"] if page else self.person
            new = self._add_comment(
                comment_id, request.one("message"), name, token["page_id"] or ""
            )
            return _json(200, {"id": new})
