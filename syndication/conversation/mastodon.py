"""Reading the conversation under one of our statuses from a Mastodon-API server.

For one status (docs/conversation.md, "Mastodon-API servers"):

1. ``GET /api/v1/statuses/:id`` for its counters; a 404 means the post itself is gone;
2. ``GET /api/v1/statuses/:id/context`` every time: its ``descendants`` are the whole
   thread under the post (replies at any depth; with the account's token the server
   returns up to 4,096 of them). Edits change no counter, so the thread is always read;
3. ``/reblogged_by`` and ``/favourited_by``, paged by ``Link: rel=next``, only when
   their counter moved since the last run (the cursor), as Bridgy's granary does;
4. ``/quotes`` on Mastodon 4.5 and later (the first release with quote posts), when the
   quotes counter moved; other software exposes no list of quotes.

Nothing here touches the database: ``read`` returns a ``Harvest`` of parsed items,
items refused with their reason (to quarantine) and which kinds were read whole (only
those may have their missing items marked deleted). Every request goes through the
adapter's guarded session and its error vocabulary; a 5xx also carries its
``Retry-After``.
"""

from __future__ import annotations

import datetime
import json
import re
from dataclasses import dataclass, field

import requests

from syndication.channels import fediverse
from syndication.channels.base import NotSent, Rejected, retry_after_seconds
from syndication.channels.mastodon import MastodonAdapter

from . import sanitise

#: Accounts per page for boosts and likes (Mastodon's maximum) and pages read at most.
ACCOUNTS_PAGE = 80
MAX_PAGES = 50
#: A status or account id we accept: what Mastodon, GoToSocial, Akkoma and Takahē use.
_ID = re.compile(r"[\w.-]{1,100}")
QUOTES_SINCE = (4, 5)
PAYLOAD_EXCERPT = 2_000


class ServerTrouble(NotSent):
    """A 5xx while reading: try later, not sooner than ``retry_after`` when it said."""

    def __init__(self, message: str, *, retry_after: float | None = None, **kwargs):
        super().__init__(message, **kwargs)
        self.retry_after = retry_after


@dataclass
class Item:
    remote_id: str
    kind: str
    parent_remote_id: str = ""
    author_name: str = ""
    author_handle: str = ""
    author_url: str = ""
    author_avatar_url: str = ""
    html: str = ""
    text: str = ""
    truncated: bool = False
    url: str = ""
    created_at: datetime.datetime | None = None
    edited_at: datetime.datetime | None = None
    #: The author asked not to be shown to people who are not signed in (Bluesky's
    #: ``!no-unauthenticated`` label; Mastodon has no such signal in the API).
    public_page_refused: bool = False
    #: What the network needs to answer the item (``ConversationItem.remote_ref``):
    #: Mastodon ``{"id": "<status id on our account's server>"}``, Bluesky ``{"uri",
    #: "cid", "root": {"uri", "cid"}}``; ``{}`` for boosts and likes.
    ref: dict = field(default_factory=dict)


@dataclass
class Harvest:
    cursor: dict = field(default_factory=dict)
    items: list[Item] = field(default_factory=list)
    #: ``(key, payload, reason)`` for ``cms.ops.quarantine``.
    refused: list[tuple[str, dict, str]] = field(default_factory=list)
    #: Kinds read whole this run: their items missing from it are gone.
    complete: set[str] = field(default_factory=set)
    #: The post itself is gone from the network.
    gone: bool = False


class ConversationReader(MastodonAdapter):
    """The Mastodon adapter, reading: same guard, token and error vocabulary."""

    def check(self, response: requests.Response, *, creates: bool = False):
        if response.status_code >= 500:
            raise ServerTrouble(
                f"{self.host} had a server error (HTTP {response.status_code}).",
                retry_after=retry_after_seconds(response.headers),
                status=response.status_code,
            )
        return super().check(response, creates=creates)

    @property
    def shows_quotes(self) -> bool:
        server = self.server
        return server.family == "mastodon" and fediverse.version_tuple(server.version) >= (
            QUOTES_SINCE
        )

    def key(self, *parts) -> str:
        return "/".join([self.host, *(str(part) for part in parts)])

    def read(self, status_id: str, cursor: dict, others: frozenset = frozenset()) -> Harvest:
        """The conversation under ``status_id``; ``others``: ids of our other posts on
        this account, whose own threads are theirs (a series threaded under this post)."""
        url = f"{self.base_url}/api/v1/statuses/{status_id}"
        headers = self.auth_headers()
        try:
            status = self.json(self.request("GET", url, headers=headers), dict)
        except Rejected as exc:
            if exc.status == 404:
                return Harvest(cursor=dict(cursor), gone=True)
            raise
        counts = {name: _count(status.get(f"{name}_count")) for name in COUNTERS}
        harvest = Harvest(cursor={**counts})
        context = self.json(self.request("GET", f"{url}/context", headers=headers), dict)
        descendants = context.get("descendants")
        if not isinstance(descendants, list):
            raise Rejected(f"{self.host} answered the thread without a list of replies.")
        self._replies(status_id, descendants, others, harvest)
        harvest.complete.add("reply")
        for kind, path, counter in (
            ("boost", "reblogged_by", "reblogs"),
            ("like", "favourited_by", "favourites"),
        ):
            if counter in cursor and cursor[counter] == counts[counter]:
                continue  # unchanged since the last run: the rows we have stand
            accounts, whole = self._accounts(f"{url}/{path}", headers)
            for account in accounts:
                self._reaction(kind, status_id, account, harvest)
            if whole:
                harvest.complete.add(kind)
        if self.shows_quotes and not ("quotes" in cursor and cursor["quotes"] == counts["quotes"]):
            quotes, whole = self._pages(f"{url}/quotes", headers, limit=40)
            for quote in quotes:
                self._status_item("quote", quote, "", harvest)
            if whole:
                harvest.complete.add("quote")
        return harvest

    # --- Replies ----------------------------------------------------------------------
    def _replies(self, root: str, descendants: list, others: frozenset, harvest: Harvest):
        parents = {}
        for status in descendants:
            if isinstance(status, dict) and _is_id(status.get("id")):
                parent = status.get("in_reply_to_id")
                parents[str(status["id"])] = str(parent) if _is_id(parent) else ""
        for status in descendants:
            if isinstance(status, dict) and (
                _belongs_elsewhere(str(status.get("id")), root, parents, others)
                or self._ours(status)
            ):
                continue
            parent = parents.get(str(status.get("id"))) if isinstance(status, dict) else ""
            parent_key = self.key(parent) if parent and parent != root else ""
            self._status_item("reply", status, parent_key, harvest)

    def _ours(self, status: dict) -> bool:
        """Written by our own account: an answer not yet confirmed (its status id is not
        known to us yet) or one written on the network by hand. Not a reply to collect."""
        account = status.get("account")
        return isinstance(account, dict) and str(account.get("id")) == str(self.account.remote_id)

    def _status_item(self, kind: str, status, parent_key: str, harvest: Harvest) -> None:
        problem = _status_problem(status)
        if problem:
            harvest.refused.append(self._refusal(kind, status, problem))
            return
        safe, cut = sanitise.clean_html(status.get("content"))
        item = Item(
            remote_id=self.key(status["id"]),
            kind=kind,
            parent_remote_id=parent_key,
            html=safe,
            text=sanitise.plain_text(safe),
            truncated=cut,
            url=sanitise.web_url(status.get("url")) or sanitise.web_url(status.get("uri")),
            created_at=_moment(status.get("created_at")),
            edited_at=_moment(status.get("edited_at")),
            ref={"id": str(status["id"])},
            **_author(status["account"], self.host),
        )
        harvest.items.append(item)

    # --- Boosts and likes ---------------------------------------------------------------
    def _reaction(self, kind: str, status_id: str, account, harvest: Harvest) -> None:
        if not isinstance(account, dict) or not _is_id(account.get("id")):
            harvest.refused.append(self._refusal(kind, account, "not an account with an id"))
            return
        harvest.items.append(
            Item(
                remote_id=self.key(kind, status_id, account["id"]),
                kind=kind,
                **_author(account, self.host),
            )
        )

    def _accounts(self, url: str, headers: dict) -> tuple[list, bool]:
        return self._pages(url, headers, limit=ACCOUNTS_PAGE)

    def _pages(self, url: str, headers: dict, *, limit: int) -> tuple[list, bool]:
        """Every entry of a listing paged by ``Link: rel=next``; ``(entries, whole)``:
        ``whole`` is False when ``MAX_PAGES`` pages did not reach the end."""
        found, params, seen = [], {"limit": limit}, set()
        for _ in range(MAX_PAGES):
            response = self.request("GET", url, params=params, headers=headers)
            found += self.json(response, list)
            following = (response.links.get("next") or {}).get("url", "")
            following = fediverse.same_host_url(following, self.base_url) if following else None
            if not following or following in seen:
                return found, True
            seen.add(following)
            url, params = following, None
        return found, False

    def _refusal(self, kind: str, entry, reason: str) -> tuple[str, dict, str]:
        entry_id = entry.get("id") if isinstance(entry, dict) else None
        key = self.key(kind, entry_id if _is_id(entry_id) else "?")
        try:
            payload = json.dumps(entry, default=repr)[:PAYLOAD_EXCERPT]
        except (TypeError, ValueError):
            payload = repr(entry)[:PAYLOAD_EXCERPT]
        return key, {"kind": kind, "entry": payload}, f"Refused a {kind}: {reason}."


COUNTERS = ("replies", "reblogs", "favourites", "quotes")


def _count(value) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) and value >= 0 else 0


def _is_id(value) -> bool:
    if isinstance(value, int) and not isinstance(value, bool):
        value = str(value)
    return isinstance(value, str) and bool(_ID.fullmatch(value))


def _status_problem(status) -> str:
    if not isinstance(status, dict):
        return "not a status"
    if not _is_id(status.get("id")):
        return "no usable id"
    if not isinstance(status.get("account"), dict):
        return "no author"
    if status.get("content") is not None and not isinstance(status.get("content"), str):
        return "content that is not text"
    if status.get("visibility") not in (None, "public", "unlisted"):
        # Followers-only and direct replies are not ours to keep (as Bridgy skips them).
        return f"not public ({str(status.get('visibility'))[:20]})"
    return ""


def _belongs_elsewhere(status_id: str, root: str, parents: dict, others: frozenset) -> bool:
    """True when the status is one of our other posts or lies under one, before the
    walk up reaches ``root``: that post collects it."""
    current, steps = status_id, 0
    while current and current != root and steps < 10_000:
        if current in others:
            return True
        current, steps = parents.get(current, ""), steps + 1
    return False


def _author(account: dict, host: str) -> dict:
    """The author as the network shows them. A local account's ``acct`` has no server
    ("ann"): it is completed with our server's host, so two "ann"s on the servers of two
    of our accounts stay two people."""
    acct = sanitise.short_text(account.get("acct"), 250)
    if acct and "@" not in acct:
        acct = f"{acct}@{host}"
    return {
        "author_name": sanitise.short_text(account.get("display_name"), 200)
        or sanitise.short_text(account.get("username"), 200),
        "author_handle": f"@{acct}" if acct else "",
        "author_url": sanitise.web_url(account.get("url")),
        "author_avatar_url": sanitise.web_url(account.get("avatar")),
    }


def _moment(value) -> datetime.datetime | None:
    if not isinstance(value, str) or len(value) > 40:
        return None
    try:
        moment = datetime.datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    if not 1970 <= moment.year <= 9000:
        return None  # a server's nonsense, and near the edges UTC conversion overflows
    return moment if moment.tzinfo else moment.replace(tzinfo=datetime.UTC)
