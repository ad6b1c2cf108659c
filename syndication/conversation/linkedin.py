"""Reading the comments under one of our LinkedIn posts (organisation pages only).

What LinkedIn allows (docs/conversation.md, "LinkedIn"):

* **Comments on an organisation's posts**, by polling the Comments API:
  ``GET /rest/socialActions/{post URN}/comments`` (``start``/``count``, 100 a page, at most
  ``MAX_PAGES`` pages), then ``GET /rest/socialActions/{comment URN}/comments`` for each
  comment whose ``commentsSummary`` says it has comments of its own (at most
  ``MAX_LISTINGS`` listings a run). It needs ``r_organization_social`` (or its newer name
  ``r_organization_social_feed``) from the Community Management API, which LinkedIn
  grants only to approved apps. The scopes are read from what LinkedIn granted (the
  token's ``scope``), else what the account was connected with; without one of them
  nothing is called and the post's state says why.
* **Comments on a member's own posts: never.** Reading them needs ``r_member_social``,
  which LinkedIn gives to selected partners only; nothing is called.
* **Likes and shares**: LinkedIn lists neither per post to a polling app; they arrive as
  Organization Social Action Notifications (a webhook or a pull, ``rw_organization_admin``
  and an approved use case). Not collected.

Authors: a comment names its author by URN only (``actor``). Their name comes only from
an ``actor~`` decoration, which needs profile access the Community Management scopes do
not give, so it is not asked for; when LinkedIn sends one anyway its name is used, else
"A LinkedIn member" (or "A LinkedIn page"). The URN is kept as the handle: it tells two
people apart in the metrics and finds them again when they ask to be forgotten. Never
their profile, headline, picture or follower counts.

Keys: a comment's own ``commentUrn`` (globally unique); ``parent_remote_id`` of a comment
on a comment is that comment's URN. ``ref``: ``{"urn": commentUrn, "object": post URN}``.
A comment missing from a listing read whole is gone: its row becomes a tombstone.
"""

from __future__ import annotations

import datetime
import hashlib
import json
import re
from urllib.parse import quote

from syndication.channels.base import Rejected, retry_after_seconds
from syndication.channels.linkedin import LinkedInAdapter

from . import sanitise
from .bluesky import rich_text
from .mastodon import PAYLOAD_EXCERPT, Harvest, Item, ServerTrouble

#: Comments per page (the Comments API's largest ``count``), pages per listing at most.
PAGE = 100
MAX_PAGES = 50
#: Listings of comments on comments read per run at most; past it the run is not whole
#: (nothing is marked deleted) and the rest is read at the next run.
MAX_LISTINGS = 100
#: Comments on comments on comments… are followed this deep at most.
MAX_DEPTH = 5
READ_SCOPES = frozenset({"r_organization_social", "r_organization_social_feed"})
NEEDS_SCOPE = (
    "LinkedIn needs the Community Management API's r_organization_social scope to read "
    "comments; reconnect after the app is approved."
)
MEMBER_POSTS = (
    "LinkedIn does not let apps read the comments on a member's own posts (r_member_social "
    "is given to selected partners only): only an organisation page's comments are collected."
)
MEMBER, PAGE_NAME = "A LinkedIn member", "A LinkedIn page"

_ACTOR = re.compile(r"urn:li:(person|organization):[A-Za-z0-9_-]{1,100}")
_THREAD = r"urn:li:(?:activity|share|ugcPost):\d{1,30}"
_COMMENT = re.compile(rf"urn:li:comment:\(({_THREAD}),(\d{{1,30}})\)")
_SCOPE_SPLIT = re.compile(r"[\s,]+")
#: LinkedIn's times are epoch milliseconds; beyond these they are nonsense.
_EARLIEST, _LATEST = 0, 253_402_300_799_000  # 1970 .. 9999


class LinkedInConversationReader(LinkedInAdapter):
    """The LinkedIn adapter, reading: same token, ``LinkedIn-Version`` and guarded client."""

    def check(self, response, *, creates: bool = False):
        status = response.status_code
        if status >= 500:
            raise ServerTrouble(
                f"LinkedIn had a server error (HTTP {status}).",
                retry_after=retry_after_seconds(response.headers),
                status=status,
                body=response.text,
            )
        return super().check(response, creates=creates)

    # --- What may be read ----------------------------------------------------------------
    @property
    def organization(self) -> bool:
        return self.account.remote_id.startswith("urn:li:organization:")

    def scopes(self) -> frozenset:
        """What LinkedIn granted (the token's ``scope``), else what was asked at connect."""
        granted = self.account.tokens.get("scope") or getattr(self.account, "scopes", "") or ""
        return frozenset(_SCOPE_SPLIT.split(str(granted))) - {""}

    def refusal(self) -> tuple[str, bool] | None:
        """Why this account's comments are not read, and whether that is for good;
        None when they are. Decided before any request."""
        if not self.organization:
            return MEMBER_POSTS, True
        if not READ_SCOPES & self.scopes():
            return NEEDS_SCOPE, False
        return None

    # --- Reading -------------------------------------------------------------------------
    def read(self, urn: str, cursor: dict, others: frozenset = frozenset()) -> Harvest:
        """The comments under our post ``urn``, at any depth LinkedIn has."""
        refused = self.refusal()
        if refused:  # the collector asks first; never call LinkedIn without the scope
            raise Rejected(refused[0])
        harvest = Harvest(cursor={})
        comments, whole = self._listing(urn)
        stack = [(comment, "", 0) for comment in reversed(comments)]
        listings = 0
        total = 0
        while stack:
            comment, parent, depth = stack.pop()
            key = self._comment(urn, comment, parent, harvest)
            total += 1
            if not key or not _has_comments(comment):
                continue
            if depth + 1 >= MAX_DEPTH or listings >= MAX_LISTINGS:
                whole = False  # comments under it are unread: nothing may be marked deleted
                continue
            listings += 1
            children, children_whole = self._listing(key)
            whole = whole and children_whole
            stack.extend((child, key, depth + 1) for child in reversed(children))
        harvest.cursor = {"comments": total}
        if whole:
            harvest.complete.add("reply")
        return harvest

    def _comment(self, post_urn: str, comment, parent: str, harvest: Harvest) -> str:
        """Add one comment to ``harvest``; its URN (to read the comments under it), or ""
        when it has none. Our own page's comments are not collected; those under them are."""
        problem = _problem(comment)
        if problem:
            harvest.refused.append(_refusal(comment, problem))
            return ""
        key = comment["commentUrn"]
        if comment["actor"] == self.account.remote_id:
            return key
        message = comment.get("message")
        safe, text, cut = rich_text((message or {}).get("text"), None)
        harvest.items.append(
            Item(
                remote_id=key,
                kind="reply",
                parent_remote_id=parent,
                html=safe,
                text=text,
                truncated=cut,
                url=sanitise.web_url(
                    f"https://www.linkedin.com/feed/update/{post_urn}/"
                    f"?commentUrn={quote(key, safe='')}"
                ),
                created_at=_millis(_field(comment, "created", "time")),
                ref={"urn": key, "object": post_urn},
                **_author(comment),
            )
        )
        return key

    def _listing(self, urn: str) -> tuple[list, bool]:
        """Every comment on ``urn`` (a post or a comment), paged by ``start``;
        ``(comments, whole)``. Whole only when LinkedIn's ``paging.total`` is reached (or,
        without one, a short page came): a page shorter than asked for is not taken for
        the end while the total says there is more, and ``MAX_PAGES`` pages end nothing."""
        found, start = [], 0
        path = f"/socialActions/{quote(urn, safe='')}/comments"
        for _ in range(MAX_PAGES):
            data = self._get(path, {"start": start, "count": PAGE})
            elements = data.get("elements")
            if not isinstance(elements, list):
                raise Rejected("LinkedIn answered the comments without a list of elements.")
            found += elements
            start += len(elements)
            total = _field(data, "paging", "total")
            if _is_int(total):
                if start >= total:
                    return found, True
                if not elements:
                    return found, False  # more announced, none given: not whole
            elif len(elements) < PAGE:
                return found, True
        return found, False

    def _get(self, path: str, params: dict) -> dict:
        response = self._rest("GET", path, params=params)
        try:
            data = response.json()
        except (ValueError, RecursionError):
            raise Rejected(
                "LinkedIn answered the comments with something that is not JSON."
            ) from None
        if not isinstance(data, dict):
            raise Rejected("LinkedIn answered the comments with JSON that is not an object.")
        return data


# --- Shapes ------------------------------------------------------------------------------
def _problem(comment) -> str:
    if not isinstance(comment, dict):
        return "not a comment"
    key = comment.get("commentUrn")
    if not (isinstance(key, str) and _COMMENT.fullmatch(key)):
        return "no usable commentUrn"
    actor = comment.get("actor")
    if not (isinstance(actor, str) and _ACTOR.fullmatch(actor)):
        return "no author"
    message = comment.get("message")
    if message is not None and not isinstance(message, dict):
        return "a message that is not one"
    text = (message or {}).get("text")
    if text is not None and not isinstance(text, str):
        return "text that is not text"
    return ""


def _has_comments(comment: dict) -> bool:
    summary = comment.get("commentsSummary")
    if not isinstance(summary, dict):
        return False
    counts = (summary.get(name) for name in ("aggregatedTotalComments", "totalFirstLevelComments"))
    return any(_is_int(count) and count > 0 for count in counts)


def _author(comment: dict) -> dict:
    actor = comment["actor"]
    decorated = comment.get("actor~")
    name = ""
    if isinstance(decorated, dict):
        name = sanitise.short_text(decorated.get("localizedName"), 200) or sanitise.short_text(
            " ".join(
                part
                for part in (
                    decorated.get("localizedFirstName"),
                    decorated.get("localizedLastName"),
                )
                if isinstance(part, str)
            ),
            200,
        )
    fallback = PAGE_NAME if actor.startswith("urn:li:organization:") else MEMBER
    return {"author_name": name or fallback, "author_handle": actor}


def _millis(value) -> datetime.datetime | None:
    if not (_is_int(value) and _EARLIEST <= value <= _LATEST):
        return None
    return datetime.datetime.fromtimestamp(value / 1000, tz=datetime.UTC)


def _field(data: dict, name: str, inner: str):
    value = data.get(name)
    return value.get(inner) if isinstance(value, dict) else None


def _is_int(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _refusal(comment, reason: str) -> tuple[str, dict, str]:
    """``(key, payload, reason)`` for ``cms.ops.quarantine``: the comment's URN, else a
    digest of what was sent, so two different broken comments are both kept."""
    try:
        payload = json.dumps(comment, default=repr)[:PAYLOAD_EXCERPT]
    except (TypeError, ValueError, RecursionError):
        payload = repr(comment)[:PAYLOAD_EXCERPT]
    key = comment.get("commentUrn") if isinstance(comment, dict) else None
    if not (isinstance(key, str) and _COMMENT.fullmatch(key)):
        digest = hashlib.sha256(payload.encode("utf-8", "backslashreplace")).hexdigest()
        key = f"sha256:{digest[:32]}"
    return (
        f"linkedin/reply/{key}",
        {"kind": "reply", "entry": payload},
        f"Refused a reply: {reason}.",
    )
