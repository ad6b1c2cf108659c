"""A small Mastodon server for tests, benchmarks and browser runs: real HTTP, in memory.

It speaks the subset of the Mastodon API that Storyloom uses, with Mastodon's shapes
and error bodies, so the adapter and the connect flow run unchanged against it:

* app registration (``POST /api/v1/apps``) and OAuth 2 with PKCE S256
  (``/oauth/authorize`` shows a page with Authorize/Deny buttons, ``/oauth/token``,
  ``/oauth/revoke``), ``verify_credentials`` and ``/api/v2/instance``;
* ``POST /api/v1/statuses`` with Mastodon's length rule (URLs count 23, ``@user@domain``
  counts as ``@user``, grapheme clusters otherwise), content rendered as Mastodon
  renders it, and ``Idempotency-Key`` replay for an hour, scoped per account as
  Mastodon scopes it;
* reading statuses back (one, a batch with ``id[]``, an account's newest 40) and
  ``X-RateLimit-*`` headers on every ``/api/`` answer;
* pictures: ``POST /api/v2/media`` (200, or 202 and processing for
  ``media_processing_polls`` reads of ``GET /api/v1/media/:id``), ``media_ids[]`` on a
  status, the limits of the profile's instance document (``media.py``).

Faults can be injected on any route (``create_status`` unless told otherwise): at
random with ``server.faults = FaultPlan(rate=0.3, seed=1)`` or one by one with
``server.fail_next("drop_after_create")``. ``*_after_create`` faults hit only requests
that succeeded, so the status exists and only the answer is lost. Set
``slow_seconds`` above the client's timeout for the two ``timeout_*`` kinds.

Other servers that speak the Mastodon API (GoToSocial, Akkoma, Takahē, Mastodon 3…)
are reproduced with ``MastodonTestServer(profile=profiles.TAKAHE)``: NodeInfo, scopes,
batch reads, idempotency, bad-token answers, length counting and status URLs follow
the family (``syndication/testing/mastodon/profiles.py`` says what each is based on).
The ``create_after_timeout`` fault makes a status only after ``slow_seconds``: a create
still on its way into a slow server when the client has given up.

A slow network without faults: ``server.latency = {"create_status": 0.05}`` makes every
answer on that route take that long. ``server.clock`` (``time.time`` unless given) is
what the server reads for its statuses' ``created_at`` and its rate windows, so a test
that runs the engine on a controllable clock can give the server the same one.

No pytest here: ``with MastodonTestServer() as server:`` works from any script.
"""

from __future__ import annotations

import base64
import contextlib
import copy
import hashlib
import html
import itertools
import json
import re
import secrets
import threading
import time
from collections import defaultdict, deque
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import ClassVar
from urllib.parse import parse_qs

import regex

from .. import http
from ..http import (
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
from .media import MediaRoutes, parse_multipart
from .profiles import CODE_POINTS, GRAPHEMES, MASTODON_4, ServerFamily

FAULT_KINDS = (
    "429",
    "500",
    "502",
    "timeout_before_create",
    "drop_before_create",
    *AFTER_KINDS,
    *LATE_KINDS,
)
IDEMPOTENCY_SECONDS = 3600
RATE_WINDOW_SECONDS = 300
CODE_SECONDS = 600
URL_LENGTH = 23
COUNTS = ("reblogs_count", "replies_count", "favourites_count", "quotes_count")

INVALID_CLIENT = (
    "Client authentication failed due to unknown client, no client authentication "
    "included, or unsupported authentication method."
)
INVALID_GRANT = (
    "The provided authorization grant is invalid, expired, revoked, does not match the "
    "redirection URI used in the authorization request, or was issued to another client."
)

# The URL rule of Mastodon's length validator and formatter, simplified: trailing
# punctuation belongs to the sentence, not the link.
_URL = r"https?://[^\s<>\"]*[^\s<>\".,:;!?'()\[\]]"
_URL_RE = re.compile(_URL)
_MENTION_RE = re.compile(
    r"(?<![=/\w])@([a-z0-9_]+(?:[a-z0-9_.-]+[a-z0-9_]+)?)(?:@\w+(?:[.-]+\w+)*)?", re.I
)
_MARKER_RE = re.compile(r"utm_content=[^&\s#\"'<>]+")


def countable_length(text: str, counting: str = "mastodon") -> int:
    """Mastodon's count: each URL is 23 characters, mentions lose their domain; or, for
    other families, graphemes or code points with URLs in full."""
    if counting == CODE_POINTS:
        return len(text)
    if counting == GRAPHEMES:
        return len(regex.findall(r"\X", text))
    text = _MENTION_RE.sub(r"@\1", _URL_RE.sub("x" * URL_LENGTH, text))
    return len(regex.findall(r"\X", text))


def render_content(text: str, base_url: str) -> str:
    """HTML as Mastodon renders a status: paragraphs, links split into visible parts."""
    parts, position = [], 0
    for found in _URL_RE.finditer(text):
        parts += [html.escape(text[position : found.start()]), _link_html(found.group())]
        position = found.end()
    parts.append(html.escape(text[position:]))
    body = re.sub(r"\n{2,}", "</p><p>", "".join(parts).strip()).replace("\n", "<br />")
    return f"<p>{body}</p>"


def _link_html(url: str) -> str:
    prefix = re.match(r"https?://(www\.)?", url).group()
    rest = url[len(prefix) :]
    shown, hidden = rest[:30], rest[30:]
    return (
        f'<a href="{html.escape(url)}" target="_blank" rel="nofollow noopener" translate="no">'
        f'<span class="invisible">{html.escape(prefix)}</span>'
        f'<span class="{"ellipsis" if hidden else ""}">{html.escape(shown)}</span>'
        f'<span class="invisible">{html.escape(hidden)}</span></a>'
    )


def _now_iso(epoch: float | None = None) -> str:
    moment = datetime.fromtimestamp(time.time() if epoch is None else epoch, UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


@dataclass
class FaultPlan(http.FaultPlan):
    """Faults chosen at random, ``rate`` of the time, reproducibly from ``seed``."""

    known: ClassVar[tuple[str, ...]] = FAULT_KINDS

    kinds: tuple[str, ...] = FAULT_KINDS
    routes: tuple[str, ...] = ("create_status",)


def _json(status: int, data, **headers) -> Reply:
    return json_reply(status, data, content_type="application/json; charset=utf-8", **headers)


def _error(status: int, message: str, **headers) -> Reply:
    return _json(status, {"error": message}, **headers)


def _page(status: int, title: str, body: str) -> Reply:
    return html_page(status, title, body, site=" - Mastodon")


def _oauth_error(status: int, error: str, description: str) -> Reply:
    return _json(status, {"error": error, "error_description": description})


def _params(pairs: dict) -> dict[str, list[str]]:
    """Form, query or JSON parameters as lists, ``name[]`` filed under ``name``."""
    params = {}
    for name, value in pairs.items():
        values = value if isinstance(value, list) else [value]
        params[name.removesuffix("[]")] = [str(item) for item in values if item is not None]
    return params


class _Handler(Handler):
    server_version = "Mastodon"


_ROUTES = [
    ("POST", r"/api/v1/apps", "register_app"),
    ("GET", r"/oauth/authorize", "authorize_page"),
    ("POST", r"/oauth/authorize", "authorize_page"),
    ("POST", r"/oauth/token", "token"),
    ("POST", r"/oauth/revoke", "revoke_token"),
    ("GET", r"/api/v1/accounts/verify_credentials", "verify_credentials"),
    ("GET", r"/api/v2/instance", "instance"),
    ("GET", r"/api/v1/instance", "instance_v1"),
    ("GET", r"/.well-known/nodeinfo", "nodeinfo_links"),
    ("GET", r"/nodeinfo/2.0", "nodeinfo"),
    ("POST", r"/api/v1/statuses", "create_status"),
    ("POST", r"/api/v2/media", "create_media"),
    ("GET", r"/api/v1/media/(?P<media_id>\d+)", "media_item"),
    ("GET", r"/api/v1/statuses", "statuses_batch"),
    ("GET", r"/api/v1/statuses/(?P<status_id>\d+)", "status"),
    ("GET", r"/api/v1/statuses/(?P<status_id>\d+)/context", "status_context"),
    ("GET", r"/api/v1/statuses/(?P<status_id>\d+)/reblogged_by", "reblogged_by"),
    ("GET", r"/api/v1/statuses/(?P<status_id>\d+)/favourited_by", "favourited_by"),
    ("GET", r"/api/v1/statuses/(?P<status_id>\d+)/quotes", "status_quotes"),
    ("GET", r"/api/v1/accounts/(?P<account_id>\d+)/statuses", "account_statuses"),
    ("GET", r"/@(?P<username>[\w.-]+)(?:/(?P<status_id>\d+))?", "public_page"),
]
_ROUTES = [(method, re.compile(pattern), name) for method, pattern, name in _ROUTES]


def _route(request: Request) -> tuple[str, dict]:
    for method, pattern, name in _ROUTES:
        found = pattern.fullmatch(request.path)
        if found and method == request.method:
            return name, found.groupdict()
    return "not_found", {}


class MastodonTestServer(MediaRoutes, TestServer):
    """One Mastodon instance on 127.0.0.1; every piece of state behind one lock."""

    server_name = "Mastodon"
    handler = _Handler
    fault_kinds = FAULT_KINDS
    create_route = "create_status"
    create_routes = ("create_status",)

    def __init__(
        self,
        *,
        profile: ServerFamily = MASTODON_4,
        max_characters: int | None = None,
        title: str = "Storyloom test server",
        usernames: tuple[str, ...] = ("storyloom",),
        slow_seconds: float = 2.0,
        rate_limit: int = 300,
        port: int = 0,
        media_processing_polls: int = 0,
    ):
        # Also ``clock``: what statuses' ``created_at`` and the rate windows read.
        self._init_http(port=port, slow_seconds=slow_seconds)
        self._init_media()
        self.media_processing_polls = media_processing_polls
        self.profile = profile
        self.max_characters = max_characters or profile.max_characters
        self.title = title
        self.rate_limit = rate_limit
        self.auto_approve = False
        self.approve_as: str | None = None
        self.app_registrations = 0
        self.create_calls = 0
        self._canned: dict[str, deque] = defaultdict(deque)
        # Who favourited / boosted each status, oldest first: [(ordinal, account_id)].
        self._favourites: dict[str, list] = defaultdict(list)
        self._reblogs: dict[str, list] = defaultdict(list)
        self._ordinals = itertools.count(1)
        self._apps: dict[str, dict] = {}
        self._accounts: dict[str, dict] = {}
        self._tokens: dict[str, dict] = {}
        self._codes: dict[str, dict] = {}
        self._statuses: dict[str, dict] = {}
        self._idempotency: dict[tuple[str, str], tuple[str, float]] = {}
        self._windows: dict[str, list] = {}
        self._account_ids = itertools.count(1)
        self._status_ids = itertools.count(113_000_000_000_000_001)
        self._route_holds: dict[str, deque] = defaultdict(deque)
        for username in usernames:
            self.create_account(username)

    # --- Reading requests --------------------------------------------------------------
    def parse_body(self, content_type: str, raw: bytes) -> tuple[dict, dict]:
        if "json" in content_type:
            return _params(json.loads(raw or b"{}")), {}
        if content_type.startswith("multipart/form-data"):
            return parse_multipart(content_type, raw)
        return _params(parse_qs(raw.decode(), keep_blank_values=True)), {}

    def make_request(self, method, path, query, form, headers, client) -> Request:
        query = _params(parse_qs(query, keep_blank_values=True))
        return Request(method, path, query, form, headers, client)

    def unparsable_body(self) -> Reply:
        return _error(400, "The request body could not be parsed")

    @property
    def domain(self) -> str:
        return f"127.0.0.1:{self.port}"

    # --- Seeding, faults and inspection (for tests) ----------------------------------
    def create_account(self, username: str, display_name: str = "") -> tuple[str, str]:
        """A local account and a token for it with every scope: ``(account_id, token)``."""
        with self.lock:
            if any(account["username"] == username for account in self._accounts.values()):
                raise ValueError(f"@{username} exists already")
            account_id = str(next(self._account_ids))
            self._accounts[account_id] = {
                "id": account_id,
                "username": username,
                "display_name": display_name or username.title(),
                "created_at": _now_iso(),
                "statuses_count": 0,
            }
            token = self._issue_token(account_id, "read write follow profile", client_id=None)
        return account_id, token["access_token"]

    def revoke(self, token: str) -> None:
        with self.lock:
            self._tokens[token]["revoked"] = True

    def hold_next(self, route: str) -> threading.Event:
        """Hold the answer to the next request to ``route`` (any route, e.g.
        ``favourited_by``) until ``release_holds()``; the Event is set when it arrives:
        the moment to kill a worker in the middle of a collection."""
        arrived = threading.Event()
        with self.lock:
            self._route_holds[route].append(arrived)
        return arrived

    def set_counts(self, status_id: str, **counts: int) -> None:
        """``set_counts(id, reblogs=2, favourites=5)`` (or the full ``*_count`` names)."""
        with self.lock:
            record = self._statuses[str(status_id)]
            for name, value in counts.items():
                key = name if name.endswith("_count") else f"{name}_count"
                if key not in COUNTS:
                    raise ValueError(f"{name} is not one of {COUNTS}")
                record[key] = int(value)

    @property
    def statuses(self) -> list[dict]:
        """Every status, oldest first: the API entity plus ``text`` and ``idempotency_key``."""
        with self.lock:
            return [self._status_record(record) for record in self._statuses.values()]

    def statuses_with(self, marker: str) -> list[dict]:
        """Statuses whose source text contains ``marker`` whole (see ``contains_marker``)."""
        return [status for status in self.statuses if contains_marker(status["text"], marker)]

    def count_with(self, marker: str) -> int:
        return len(self.statuses_with(marker))

    def duplicates(self) -> dict[str, list[str]]:
        """What was published more than once: ``{marker: [status ids]}``.

        A status's marker is each distinct ``utm_content=…`` tag in its text (the engine
        writes the post's own id there); a status without one is known by its
        idempotency key, as ``"Idempotency-Key: …"``. Only markers carried by two or
        more statuses are returned, so an empty dict means nothing went out twice.
        """
        groups = defaultdict(list)
        for status in self.statuses:
            markers = set(_MARKER_RE.findall(status["text"]))
            if not markers and status["idempotency_key"]:
                markers = {f"Idempotency-Key: {status['idempotency_key']}"}
            for marker in markers:
                groups[marker].append(status["id"])
        return {marker: ids for marker, ids in groups.items() if len(ids) > 1}

    # --- The conversation under a status (tests of collection) ---------------------
    def account_id(self, username: str) -> str:
        """The id of @username, made (as another local account) when it does not exist."""
        with self.lock:
            found = next((a for a in self._accounts.values() if a["username"] == username), None)
        return found["id"] if found else self.create_account(username)[0]

    def reply(
        self,
        status_id: str,
        text: str,
        *,
        as_user: str = "alice",
        raw: dict | None = None,
        raw_account: dict | None = None,
        quote: bool = False,
    ) -> str:
        """A public status by @as_user replying to (or, with ``quote``, quoting)
        ``status_id``; ``raw`` / ``raw_account`` override fields of its API entity as a
        hostile or broken server would send them. Returns the new status's id."""
        account_id = self.account_id(as_user)
        with self.lock:
            parent = self._statuses[str(status_id)]
            record = {
                "id": str(next(self._status_ids)),
                "created_at": _now_iso(),
                "account_id": account_id,
                "in_reply_to_id": None if quote else parent["id"],
                "in_reply_to_account_id": None if quote else parent["account_id"],
                "visibility": "public",
                "language": "en",
                **{"sensitive": False, "spoiler_text": "", "reblog": None, "card": None},
                **{"media_attachments": [], "edited_at": None, **dict.fromkeys(COUNTS, 0)},
                **{"text": text, "key": "", "raw": raw or {}, "raw_account": raw_account or {}},
            }
            if quote:
                record["quoted_id"] = parent["id"]
                record["quote"] = {"state": "accepted", "quoted_status_id": parent["id"]}
                parent["quotes_count"] += 1
            else:
                parent["replies_count"] += 1
            self._statuses[record["id"]] = record
            self._accounts[account_id]["statuses_count"] += 1
            return record["id"]

    def edit(self, status_id: str, text: str) -> None:
        """Edit a status as its author would: new text, ``edited_at`` set."""
        with self.lock:
            record = self._statuses[str(status_id)]
            record["text"] = text
            record["edited_at"] = _now_iso()

    def delete(self, status_id: str) -> None:
        """Delete a status; replies to it stay but leave the thread, as on Mastodon."""
        with self.lock:
            record = self._statuses.pop(str(status_id))
            parent = self._statuses.get(record["in_reply_to_id"] or "")
            if parent:
                parent["replies_count"] = max(0, parent["replies_count"] - 1)
            quoted = self._statuses.get(record.get("quoted_id") or "")
            if quoted:
                quoted["quotes_count"] = max(0, quoted["quotes_count"] - 1)

    def favourite(self, status_id: str, username: str, *, undo: bool = False) -> None:
        self._toggle(self._favourites, "favourites_count", status_id, username, undo)

    def reblog(self, status_id: str, username: str, *, undo: bool = False) -> None:
        self._toggle(self._reblogs, "reblogs_count", status_id, username, undo)

    def _toggle(self, table, counter, status_id, username, undo) -> None:
        account_id = self.account_id(username)
        with self.lock:
            status_id = str(status_id)
            rows = [row for row in table[status_id] if row[1] != account_id]
            if not undo:
                rows.append((next(self._ordinals), account_id))
            table[status_id] = rows
            self._statuses[status_id][counter] = len(rows)

    def answer_next(
        self, route: str, status: int, body: bytes | str, *, content_type: str = "", **headers
    ) -> None:
        """Answer the next request to ``route`` with exactly this (garbage, a 503 with
        ``Retry-After``…) instead of the real answer."""
        body = body.encode() if isinstance(body, str) else body
        headers = {"Content-Type": content_type, **headers} if content_type else headers
        with self.lock:
            self._canned[route].append(Reply(status, body, headers))

    def account_entity(self, username: str) -> dict:
        with self.lock:
            found = next(a for a in self._accounts.values() if a["username"] == username)
            return copy.deepcopy(self._account_entity(found))

    # For the routes of ``media.py``, which cannot import this module.
    _reply_json = staticmethod(_json)
    _reply_error = staticmethod(_error)

    # --- Dispatch ----------------------------------------------------------------------
    def handle(self, request: Request) -> Reply:
        name, arguments = _route(request)
        with self.lock:
            self.hits[name] += 1
            if name == "create_status":
                self.create_calls += 1
            fault = self._next_fault(name)
            rate_headers = self._rate(request)
            canned = self._canned[name].popleft() if self._canned[name] else None
        self._wait_latency(name)
        if canned is not None:
            reply = copy.deepcopy(canned)
        elif name == "not_found":
            reply = self._not_found(request)
        elif fault and fault not in AFTER_KINDS + LATE_KINDS:
            reply = self._fault_reply(fault)
        else:
            reply = self._answer(name, request, arguments, fault)
        with self.lock:
            held = self._route_holds[name].popleft() if self._route_holds[name] else None
        if held is not None:
            self._released.clear()
            held.set()
            self._released.wait(30)
        if request.path.startswith("/api/"):
            reply.headers.update(rate_headers)
        return reply

    def _fault_reply(self, fault: str) -> Reply:
        if fault == "429":
            return _error(429, "Too many requests", **{"Retry-After": "1"})
        if fault == "500":
            return _error(500, "We're sorry, but something went wrong on our end.")
        if fault == "502":
            return _page(502, "502 Bad Gateway", "<h1>502 Bad Gateway</h1>")
        return self._transport_fault(fault)

    def _rate(self, request: Request) -> dict:
        """Mastodon's headers for a 5-minute window per account (or address); not enforced."""
        token = self._tokens.get(request.bearer)
        who = token["account_id"] if token else request.client
        now = self.clock()
        window = self._windows.get(who)
        if window is None or now >= window[0] + RATE_WINDOW_SECONDS:
            window = self._windows[who] = [now, 0]
        window[1] += 1
        return {
            "X-RateLimit-Limit": str(self.rate_limit),
            "X-RateLimit-Remaining": str(max(0, self.rate_limit - window[1])),
            "X-RateLimit-Reset": _now_iso(window[0] + RATE_WINDOW_SECONDS),
        }

    # --- Entities ----------------------------------------------------------------------
    def _account_entity(self, account: dict) -> dict:
        name = account["username"]
        return {
            **account,
            **{"acct": name, "note": "", "bot": False, "locked": False, "followers_count": 0},
            "url": f"{self.url}/@{name}",
            "uri": f"{self.url}/users/{name}",
            "avatar": f"{self.url}/avatars/original/missing.png",
        }

    @property
    def public_url(self) -> str:
        """Where the server says it is: Takahē writes https:// whatever it is reached on."""
        return self.url.replace("http://", "https://", 1) if self.profile.https_urls else self.url

    def _status_entity(self, record: dict) -> dict:
        account = self._accounts[record["account_id"]]
        hidden = ("text", "key", "account_id", "raw", "raw_account", "quoted_id")
        entity = {k: v for k, v in record.items() if k not in hidden}
        entity = {
            **entity,
            "uri": f"{self.public_url}/users/{account['username']}/statuses/{record['id']}",
            "url": f"{self.public_url}/@{account['username']}/{record['id']}",
            "content": render_content(record["text"], self.url),
            "account": {**self._account_entity(account), **record.get("raw_account", {})},
        }
        # What a hostile or broken server might send instead (tests of bad input).
        return {**entity, **record.get("raw", {})}

    def _status_record(self, record: dict) -> dict:
        entity = copy.deepcopy(self._status_entity(record))
        return {**entity, "text": record["text"], "idempotency_key": record["key"]}

    # --- Auth (called under the lock) ------------------------------------------------
    def _issue_token(self, account_id: str, scopes: str, client_id: str | None) -> dict:
        access_token = secrets.token_urlsafe(32)
        self._tokens[access_token] = {
            **{"account_id": account_id, "client_id": client_id, "revoked": False},
            "scopes": set(scopes.split()),
        }
        created = int(time.time())
        return {
            "access_token": access_token,
            "token_type": "Bearer",
            "scope": scopes,
            "created_at": created,
        }

    def _authorize(
        self, request: Request, *scopes: str, required: bool = True, exact: bool = False
    ):
        """``(account, None)`` or ``(None, error reply)``, as the profile's server decides:
        a scope opens a call when granted exactly or (unless ``exact``) by its top level."""
        if not request.bearer:
            return None, _error(401, "The access token is invalid") if required else None
        token = self._tokens.get(request.bearer)
        if token is None or token["revoked"]:
            if self.profile.software == "mastodon":
                reason = "was revoked" if token else "is invalid"
                return None, _error(401, f"The access token {reason}")
            status, body, content_type = self.profile.bad_token
            return None, Reply(status, body.encode(), {"Content-Type": content_type})
        granted = token["scopes"]
        if not any(
            scope in granted or (not exact and scope.split(":")[0] in granted) for scope in scopes
        ):
            status, body = self.profile.scope_error
            return None, _json(status, body)
        return self._accounts[token["account_id"]], None

    def _client(self, request: Request) -> dict | None:
        """The app a token request authenticates as, by HTTP Basic or form fields."""
        client_id, secret = request.one("client_id"), request.one("client_secret")
        basic = request.headers.get("Authorization", "")
        if basic.lower().startswith("basic "):
            with contextlib.suppress(ValueError):
                client_id, _, secret = base64.b64decode(basic[6:]).decode().partition(":")
        app = self._apps.get(client_id)
        return app if app and secrets.compare_digest(app["client_secret"], secret) else None

    # --- Routes: apps and OAuth --------------------------------------------------------
    def _register_app(self, request: Request) -> Reply:
        name = request.one("client_name").strip()
        uris = [uri for value in request.many("redirect_uris") for uri in value.split()]
        if not name or not uris:
            blank = "Application name" if not name else "Redirect URI"
            return _error(422, f"Validation failed: {blank} can't be blank")
        known = self.profile.known_scopes
        if known is not None and not set(request.one("scopes", "read").split()) <= known:
            status = self.profile.unknown_scope_status
            refusal = "Validation failed: Scopes doesn't match configured on the server"
            return _error(status, refusal)
        with self.lock:
            self.app_registrations += 1
            app = {
                "id": str(len(self._apps) + 1),
                "name": name,
                "website": request.one("website") or None,
                "scopes": request.one("scopes", "read").split(),
                "redirect_uri": "\n".join(uris),
                "redirect_uris": uris,
                "client_id": secrets.token_urlsafe(32),
                "client_secret": secrets.token_urlsafe(32),
            }
            self._apps[app["client_id"]] = app
        return _json(200, app)

    def _authorize_problem(self, params: dict) -> str:
        app = self._apps.get(params["client_id"])
        if app is None:
            return INVALID_CLIENT
        if params["redirect_uri"] not in app["redirect_uris"]:
            return "The redirect uri included is not valid."
        if params["response_type"] != "code":
            return "The authorization server does not support this response type."
        if not set(params["scope"].split()) <= set(app["scopes"]):
            return "The requested scope is invalid, unknown, or malformed."
        if params["code_challenge_method"] not in ("", "S256"):
            return "The code challenge method must be S256."
        return "" if self._accounts else "This server has no accounts to sign in with."

    def _authorize_page(self, request: Request) -> Reply:
        """GET shows the consent page (or approves at once); POST is the person's answer."""
        names = ("response_type", "client_id", "redirect_uri", "state", "code_challenge")
        params = {name: request.one(name) for name in names}
        params["scope"] = request.one("scope", "read")
        params["code_challenge_method"] = request.one("code_challenge_method")
        with self.lock:
            problem = self._authorize_problem(params)
            if problem:
                return _page(400, "Authorization error", f"<h1>{html.escape(problem)}</h1>")
            granted = self.profile.authorize_scopes
            if granted is not None and not set(params["scope"].split()) <= granted:
                refused = {
                    "error": "invalid_scope",
                    "error_description": "The requested scope is invalid, unknown, or malformed",
                }
                state = {"state": params["state"]} if params["state"] else {}
                return redirect(with_params(params["redirect_uri"], {**refused, **state}))
            if request.method == "POST" and request.one("decision") != "approve":
                denied = {"error": "access_denied", "error_description": "Access was denied."}
                state = {"state": params["state"]} if params["state"] else {}
                return redirect(with_params(params["redirect_uri"], {**denied, **state}))
            if request.method == "POST" or self.auto_approve:
                return self._grant(params, request.one("account") or self.approve_as)
            app_name = html.escape(self._apps[params["client_id"]]["name"])
            usernames = [account["username"] for account in self._accounts.values()]
        default = self.approve_as if self.approve_as in usernames else usernames[0]
        fields = "".join(
            f'<input type="hidden" name="{name}" value="{html.escape(value)}">'
            for name, value in params.items()
        )
        options = "".join(
            f'<option value="{html.escape(name)}"{" selected" * (name == default)}>@'
            f"{html.escape(name)}</option>"
            for name in usernames
        )
        body = (
            f"<h1>Authorize {app_name} to use @{html.escape(default)}?</h1>"
            f"<p>{app_name} would like permission to access your account: "
            f"{html.escape(params['scope'])}. If you do not trust it, do not authorize it.</p>"
            f'<form method="post" action="/oauth/authorize">{fields}'
            f'<label for="account">Sign in as</label> <select id="account" name="account">'
            f"{options}</select> "
            '<button type="submit" name="decision" value="approve">Authorize</button> '
            '<button type="submit" name="decision" value="deny">Deny</button></form>'
        )
        return _page(200, "Authorization required", body)

    def _grant(self, params: dict, username: str | None) -> Reply:
        accounts = list(self._accounts.values())
        account = next((a for a in accounts if a["username"] == username), accounts[0])
        code = secrets.token_urlsafe(32)
        self._codes[code] = {**params, "account_id": account["id"], "at": time.monotonic()}
        state = {"state": params["state"]} if params["state"] else {}
        return redirect(with_params(params["redirect_uri"], {"code": code, **state}))

    def _token(self, request: Request) -> Reply:
        with self.lock:
            app = self._client(request)
            if app is None:
                return _oauth_error(401, "invalid_client", INVALID_CLIENT)
            if request.one("grant_type") != "authorization_code":
                return _oauth_error(400, "unsupported_grant_type", "Only authorization_code.")
            # Single use: the code is taken out before anything about it is checked.
            code = self._codes.pop(request.one("code"), None)
            if (
                code is None
                or time.monotonic() - code["at"] > CODE_SECONDS
                or code["client_id"] != app["client_id"]
                or code["redirect_uri"] != request.one("redirect_uri")
                or not _pkce_ok(code["code_challenge"], request.one("code_verifier"))
            ):
                return _oauth_error(400, "invalid_grant", INVALID_GRANT)
            return _json(
                200, self._issue_token(code["account_id"], code["scope"], app["client_id"])
            )

    def _revoke_token(self, request: Request) -> Reply:
        with self.lock:
            app = self._client(request)
            if app is None:
                return _oauth_error(403, "unauthorized_client", INVALID_CLIENT)
            token = self._tokens.get(request.one("token"))
            if token and token["client_id"] == app["client_id"]:
                token["revoked"] = True
        return _json(200, {})

    # --- Routes: API -------------------------------------------------------------------
    def _verify_credentials(self, request: Request) -> Reply:
        with self.lock:
            account, error = self._authorize(
                request, *self.profile.verify_scopes, exact=self.profile.verify_needs_exact
            )
            return error or _json(200, {**self._account_entity(account), "source": {"note": ""}})

    def _instance(self, request: Request) -> Reply:
        if not self.profile.instance_v2:
            return self._not_found(request)
        document = {"domain": self.domain, **self._instance_common()}
        if self.profile.api_versions:
            document["api_versions"] = self.profile.api_versions
        return _json(200, document)

    def _instance_v1(self, request: Request) -> Reply:
        return _json(200, {"uri": self.domain, **self._instance_common()})

    def _instance_common(self) -> dict:
        profile = self.profile
        document = {"title": self.title, "version": profile.instance_version}
        if profile.software == "mastodon":
            document["source_url"] = "https://github.com/mastodon/mastodon"
        if profile.instance_configuration:
            document["configuration"] = {
                "statuses": {
                    "max_characters": self.max_characters,
                    "max_media_attachments": profile.max_media_attachments,
                    "characters_reserved_per_url": profile.characters_reserved_per_url,
                }
            }
            if profile.media is not None:
                document["configuration"]["media_attachments"] = dict(profile.media)
        else:
            document["max_toot_chars"] = self.max_characters
        if profile.upload_limit:
            document["upload_limit"] = profile.upload_limit
        if profile.description_limit:
            document["description_limit"] = profile.description_limit
        return document

    def _nodeinfo_links(self, request: Request) -> Reply:
        if self.profile.software is None:
            return self._not_found(request)
        # Servers write their public address here: https:// for Takahē even over http.
        href = f"{self.public_url}/nodeinfo/2.0"
        rel = "http://nodeinfo.diaspora.software/ns/schema/2.0"
        return _json(200, {"links": [{"rel": rel, "href": href}]})

    def _nodeinfo(self, request: Request) -> Reply:
        if self.profile.software is None:
            return self._not_found(request)
        return _json(
            200,
            {
                "version": "2.0",
                "software": {"name": self.profile.software, "version": self.profile.version},
                "protocols": ["activitypub"],
                "usage": {"users": {"total": len(self._accounts)}},
                "openRegistrations": False,
            },
        )

    def _not_found(self, request: Request) -> Reply:
        if request.path.startswith("/api/"):
            return _error(404, "Record not found")
        return _page(404, "Not found", "<h1>The page you are looking for isn't here.</h1>")

    def _create_status(self, request: Request) -> Reply:
        text, reply_to = request.one("status"), request.one("in_reply_to_id") or None
        key = request.headers.get("Idempotency-Key", "")
        visibility = request.one("visibility", "public")
        with self.lock:
            account, error = self._authorize(request, "write", "write:statuses")
            if error:
                return error
            profile = self.profile
            scope = account["id"] if profile.idempotency_per_account else ""
            earlier = self._idempotency.get((scope, key)) if key and profile.idempotency else None
            if earlier and time.monotonic() - earlier[1] < profile.idempotency_seconds:
                return _json(200, self._status_entity(self._statuses[earlier[0]]))
            if not text.strip():
                return _error(422, "Validation failed: Text can't be blank")
            length = countable_length(text, profile.counting)
            if length > self.max_characters:
                message = profile.too_long_message.format(limit=self.max_characters, length=length)
                return _error(profile.too_long_status, message)
            if visibility not in ("public", "unlisted", "private", "direct"):
                return _error(422, "Validation failed: Visibility is not valid")
            parent = self._statuses.get(reply_to) if reply_to else None
            if reply_to and parent is None:
                return _error(404, "Record not found")
            media, refusal = self._take_media(account, request.many("media_ids"))
            if refusal:
                return refusal
            record = {
                "id": str(next(self._status_ids)),
                "created_at": _now_iso(self.clock()),
                "account_id": account["id"],
                "in_reply_to_id": reply_to,
                "in_reply_to_account_id": parent["account_id"] if parent else None,
                "visibility": visibility,
                "language": request.one("language") or "en",
                **{"sensitive": False, "spoiler_text": "", "reblog": None, "card": None},
                **{"media_attachments": [], "edited_at": None, **dict.fromkeys(COUNTS, 0)},
                **{"text": text, "key": key},
            }
            for attached in media:
                attached["status_id"] = record["id"]
            record["media_attachments"] = [self._attachment(attached) for attached in media]
            self._statuses[record["id"]] = record
            account["statuses_count"] += 1
            if parent:
                parent["replies_count"] += 1
            if key and profile.idempotency:
                self._idempotency[(scope, key)] = (record["id"], time.monotonic())
            return _json(200, self._status_entity(record))

    def _status(self, request: Request, status_id: str) -> Reply:
        with self.lock:
            _, error = self._authorize(request, "read", "read:statuses", required=False)
            record = self._statuses.get(status_id)
            if error or record is None:
                return error or _error(404, "Record not found")
            return _json(200, self._status_entity(record))

    def _statuses_batch(self, request: Request) -> Reply:
        if self.profile.batch_refusal is not None:
            status, body, content_type = self.profile.batch_refusal
            return Reply(status, body.encode(), {"Content-Type": content_type})
        ids = [i for name in self.profile.batch_params for i in request.many(name)]
        if len(ids) > self.profile.batch_max:
            return _error(422, f"Too many ids: at most {self.profile.batch_max}")
        with self.lock:
            _, error = self._authorize(request, "read", "read:statuses", required=False)
            found = [self._statuses[i] for i in dict.fromkeys(ids) if i in self._statuses]
            return error or _json(200, [self._status_entity(record) for record in found])

    def _public_page(self, request: Request, username: str, status_id: str | None) -> Reply:
        """What a reader sees following a post's link: the account's posts, or one post."""
        with self.lock:
            account = next((a for a in self._accounts.values() if a["username"] == username), None)
            if account is None:
                return _page(404, "Not found", "<h1>No such account.</h1>")
            records = [
                copy.deepcopy(r)
                for r in reversed(self._statuses.values())
                if r["account_id"] == account["id"] and (not status_id or r["id"] == status_id)
            ]
        if status_id and not records:
            return _page(404, "Not found", "<h1>No such post.</h1>")
        return _page(200, f"@{username}", _public_page_body(username, records, self.url))

    def _account_statuses(self, request: Request, account_id: str) -> Reply:
        limit = request.one("limit", "20")
        limit = max(1, min(40, int(limit))) if limit.isdigit() else 20
        with self.lock:
            _, error = self._authorize(request, "read", "read:statuses", required=False)
            if error or account_id not in self._accounts:
                return error or _error(404, "Record not found")
            mine = [r for r in reversed(self._statuses.values()) if r["account_id"] == account_id]
            max_id = request.one("max_id")
            if max_id.isdigit():
                mine = [r for r in mine if int(r["id"]) < int(max_id)]
            page = mine[:limit]
            headers = {}
            if len(mine) > limit:
                # Mastodon's paging: the next (older) page by max_id, on the public address.
                following = with_params(
                    f"{self.public_url}{request.path}", {"limit": limit, "max_id": page[-1]["id"]}
                )
                headers["Link"] = f'<{following}>; rel="next"'
            return _json(200, [self._status_entity(record) for record in page], **headers)

    def _status_context(self, request: Request, status_id: str) -> Reply:
        """Ancestors and every descendant (depth first, oldest first), as Mastodon."""
        with self.lock:
            _, error = self._authorize(request, "read", "read:statuses", required=False)
            record = self._statuses.get(status_id)
            if error or record is None:
                return error or _error(404, "Record not found")
            ancestors, parent = [], self._statuses.get(record["in_reply_to_id"] or "")
            while parent is not None:
                ancestors.insert(0, parent)
                parent = self._statuses.get(parent["in_reply_to_id"] or "")
            children = defaultdict(list)
            for other in self._statuses.values():
                if other["in_reply_to_id"]:
                    children[other["in_reply_to_id"]].append(other)
            descendants, stack = [], list(reversed(children[status_id]))
            while stack:
                current = stack.pop()
                descendants.append(current)
                stack.extend(reversed(children[current["id"]]))
            return _json(
                200,
                {
                    "ancestors": [self._status_entity(r) for r in ancestors],
                    "descendants": [self._status_entity(r) for r in descendants],
                },
            )

    def _reblogged_by(self, request: Request, status_id: str) -> Reply:
        return self._accounts_page(request, status_id, self._reblogs)

    def _favourited_by(self, request: Request, status_id: str) -> Reply:
        return self._accounts_page(request, status_id, self._favourites)

    def _accounts_page(self, request: Request, status_id: str, table) -> Reply:
        """Accounts newest first, ``limit`` (40, at most 80) a page, ``Link: rel=next``."""
        limit = request.one("limit", "40")
        limit = max(1, min(80, int(limit))) if limit.isdigit() else 40
        with self.lock:
            _, error = self._authorize(request, "read", "read:statuses", required=False)
            if error or status_id not in self._statuses:
                return error or _error(404, "Record not found")
            rows = list(reversed(table[status_id]))
            max_id = request.one("max_id")
            if max_id.isdigit():
                rows = [row for row in rows if row[0] < int(max_id)]
            page = rows[:limit]
            headers = {}
            if len(rows) > limit:
                following = with_params(
                    f"{self.public_url}{request.path}", {"limit": limit, "max_id": page[-1][0]}
                )
                headers["Link"] = f'<{following}>; rel="next"'
            accounts = [self._account_entity(self._accounts[row[1]]) for row in page]
            return _json(200, accounts, **headers)

    def _status_quotes(self, request: Request, status_id: str) -> Reply:
        """Mastodon 4.5's quotes of a status (for its author); older servers have none."""
        if self.profile.software != "mastodon" or self.profile.version < "4.5":
            return self._not_found(request)
        with self.lock:
            _, error = self._authorize(request, "read", "read:statuses", required=False)
            if error or status_id not in self._statuses:
                return error or _error(404, "Record not found")
            found = [r for r in self._statuses.values() if r.get("quoted_id") == status_id]
            return _json(200, [self._status_entity(r) for r in reversed(found)])


def _public_page_body(username: str, records: list[dict], base_url: str) -> str:
    items = "".join(
        f'<article id="{r["id"]}"><time>{r["created_at"]}</time>'
        f"{render_content(r['text'], base_url)}</article>"
        for r in records
    )
    return f"<h1>@{html.escape(username)}</h1>{items or '<p>No posts yet.</p>'}"


def _pkce_ok(challenge: str, verifier: str) -> bool:
    """RFC 7636 S256: the verifier must hash to the challenge sent with the authorize request."""
    if not challenge:
        return True
    digest = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest())
    return bool(verifier) and secrets.compare_digest(digest.decode().rstrip("="), challenge)
