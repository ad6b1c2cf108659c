"""Reading the replies (and quotes) under one of our posts on X, when the site allows it.

X charges for every post and user it returns and forgets threads after a week, so this
is **off unless** ``CONVERSATION_X_ENABLED`` is set (docs/conversation.md, "X"). When on,
each run of a post, through the adapter's signed (OAuth 1.0a) guarded session:

1. ``GET /2/tweets/:id`` (``public_metrics``, ``conversation_id``): our post's counters
   (an owned read). Our post not found: it is gone.
2. ``GET /2/tweets/search/recent?query=conversation_id:<id>`` with ``since_id`` (only
   what is new since the last run), 100 a page by ``next_token``, at most ``MAX_PAGES``
   pages; a run cut there goes on next time below the oldest it read (``until_id``), so
   nothing is skipped. Recent search covers **the last 7 days only**; the collector stops
   reading a post at 7 days (``collect.WINDOWS``). A post that is itself a reply (a chapter
   threaded under another) has no conversation of its own: its replies are in the first
   post's conversation and are collected there.
3. ``GET /2/tweets/:id/quote_tweets`` only when the quote counter moved since the last run
   (an unknown counter is not read: it costs money).

Never marked deleted: search is not a whole listing, so a reply it no longer returns may
simply be older than a week (``Harvest.complete`` stays empty). Deletions on X cannot be
seen this way; X's terms ask stored posts to follow deletes (batch compliance jobs), which
Storyloom does not run: docs/conversation.md says so. Reposts and likes (``retweeted_by``,
``liking_users``) are paid user reads and are not collected.

Edits: an edited post is a new post id whose ``edit_history_tweet_ids`` starts with the
original; the original's id is the key (``remote_id``), so an edit updates the row, and
the newest id is what answering needs (``ref``: ``{"id"}``). The creation time comes from
the original id (a snowflake); an edited version's ``created_at`` is the ``edited_at``.
"""

from __future__ import annotations

import datetime
import hashlib
import html
import json
import re

from django.conf import settings

from syndication.channels import x as xchannel
from syndication.channels.base import Rejected, retry_after_seconds
from syndication.channels.x import XAdapter

from . import sanitise
from .bluesky import rich_text
from .mastodon import PAYLOAD_EXCERPT, Harvest, Item, ServerTrouble, _moment

PAGE = 100
#: Pages of search (or quotes) read per run at most: 1,000 posts, $5 at $0.005 a post.
MAX_PAGES = 10
TWEET_FIELDS = (
    "created_at,in_reply_to_user_id,referenced_tweets,conversation_id,edit_history_tweet_ids"
)
USER_FIELDS = "name,username,profile_image_url"
DISABLED = (
    "Collecting from X is off: X charges for every post read and search covers 7 days only. "
    "Set CONVERSATION_X_ENABLED to turn it on."
)
#: X's ids are 64-bit snowflakes, sent as strings.
_ID = re.compile(r"[1-9]\d{0,18}")
_USERNAME = re.compile(r"\w{1,50}")
_TOKEN = re.compile(r"[\w-]{1,200}")
#: Snowflake ids carry their creation time: milliseconds since this (Twitter's epoch).
_EPOCH_MS = 1_288_834_974_657
_NOT_FOUND = "https://api.twitter.com/2/problems/resource-not-found"


def enabled() -> bool:
    return bool(getattr(settings, "CONVERSATION_X_ENABLED", False))


class XConversationReader(XAdapter):
    """The X adapter, reading: same signing, guard and error vocabulary."""

    def check(self, response, *, creates: bool = False):
        status = response.status_code
        if status >= 500:
            raise ServerTrouble(
                f"X had a server error (HTTP {status}).",
                retry_after=retry_after_seconds(response.headers),
                status=status,
                body=response.text,
            )
        return super().check(response, creates=creates)

    def refusal(self) -> tuple[str, bool] | None:
        """Off unless the site turned it on; decided before any request."""
        return None if enabled() else (DISABLED, False)

    def read(self, post_id: str, cursor: dict, others: frozenset = frozenset()) -> Harvest:
        if not enabled():  # the collector asks first; never spend money when off
            raise Rejected(DISABLED)
        if not _is_id(post_id):
            raise Rejected("The post's id is not an X post id.")
        ours = self._get(f"/tweets/{post_id}", {"tweet.fields": "public_metrics,conversation_id"})
        post = ours.get("data")
        if post is None and _not_found(ours.get("errors")):
            return Harvest(cursor=dict(cursor), gone=True)
        if not isinstance(post, dict) or post.get("id") != post_id:
            raise Rejected("X answered without our post.")
        harvest = Harvest(cursor={})
        if post.get("conversation_id") in (None, post_id):
            harvest.cursor.update(self._replies(post_id, cursor, others, harvest))
        quotes = _count(post.get("public_metrics"), "quote_count")
        harvest.cursor["quotes"] = quotes
        if quotes is not None and quotes != cursor.get("quotes", 0):
            entries, users = self._pages(f"/tweets/{post_id}/quote_tweets", {}, "pagination_token")
            for entry in entries:
                self._item("quote", entry, users, post_id, others, harvest)
        return harvest

    # --- Replies -----------------------------------------------------------------------
    def _replies(self, post_id: str, cursor: dict, others: frozenset, harvest: Harvest) -> dict:
        """New replies since the last run; the cursor that follows."""
        since, until, newest = (
            _id_or_none(cursor.get(n)) for n in ("since_id", "until_id", "newest")
        )
        params = {"query": f"conversation_id:{post_id}"}
        if since:
            params["since_id"] = since
        if until:
            params["until_id"] = until
        entries, users, whole = self._pages("/tweets/search/recent", params, "next_token", cut=True)
        read = [
            int(entry["id"])
            for entry in entries
            if isinstance(entry, dict) and _is_id(entry.get("id"))
        ]
        for entry in entries:
            if isinstance(entry, dict) and entry.get("conversation_id") != post_id:
                harvest.refused.append(_refusal("reply", entry, "not in this conversation"))
                continue
            self._item("reply", entry, users, post_id, others, harvest)
        top = max([int(n) for n in (newest, since) if n] + read, default=0)
        if whole:
            return {"since_id": str(top)} if top else {}
        # Cut at MAX_PAGES: next time, what lies between the last run and the oldest read.
        kept = {"until_id": str(min(read))} if read else {}
        return {**({"since_id": since} if since else {}), **kept, "newest": str(top)}

    def _item(self, kind, entry, users: dict, post_id: str, others: frozenset, harvest) -> None:
        problem = _problem(entry)
        if problem:
            harvest.refused.append(_refusal(kind, entry, problem))
            return
        if entry["author_id"] == str(self.account.remote_id):
            return  # our own account: not the public's conversation; replies to it are
        first = _first_version(entry)
        parent = _replied_to(entry) if kind == "reply" else ""
        if parent == post_id or parent in others:
            parent = ""
        user = users.get(entry["author_id"], {})
        username = user.get("username") if isinstance(user.get("username"), str) else ""
        username = username if _USERNAME.fullmatch(username) else ""
        edited = first != entry["id"]
        safe, text, cut = rich_text(html.unescape(entry.get("text") or ""), None)
        harvest.items.append(
            Item(
                remote_id=first,
                kind=kind,
                parent_remote_id=parent,
                html=safe,
                text=text,
                truncated=cut,
                url=f"https://x.com/{username or 'i/web'}/status/{entry['id']}",
                created_at=_snowflake_time(first) or _moment(entry.get("created_at")),
                edited_at=_moment(entry.get("created_at")) if edited else None,
                ref={"id": entry["id"]},
                author_name=sanitise.short_text(user.get("name"), 200) or username,
                author_handle=f"@{username}" if username else "",
                author_url=f"https://x.com/{username}" if username else "",
                author_avatar_url=sanitise.web_url(user.get("profile_image_url")),
            )
        )

    # --- HTTP --------------------------------------------------------------------------
    def _pages(self, path: str, params: dict, token_name: str, *, cut: bool = False):
        """Posts of a listing and their authors; ``(posts, users by id[, whole])``."""
        query = {
            **params,
            "max_results": PAGE,
            "expansions": "author_id",
            "user.fields": USER_FIELDS,
            "tweet.fields": TWEET_FIELDS,
        }
        found, users, seen, whole = [], {}, set(), False
        for _ in range(MAX_PAGES):
            data = self._get(path, query)
            page = data.get("data", [])
            if not isinstance(page, list):
                raise Rejected(f"X answered {path} without a list of posts.")
            found += page
            included = data.get("includes") if isinstance(data.get("includes"), dict) else {}
            for user in included.get("users") or []:
                if isinstance(user, dict) and _is_id(user.get("id")):
                    users[user["id"]] = user
            meta = data.get("meta") if isinstance(data.get("meta"), dict) else {}
            following = meta.get("next_token")
            if following is None:
                whole = True
                break
            if not (isinstance(following, str) and _TOKEN.fullmatch(following)):
                raise Rejected(f"X answered {path} with a next page it cannot name.")
            if following in seen:
                raise Rejected(f"X answered {path} with the same page twice.")
            seen.add(following)
            query[token_name] = following
        return (found, users, whole) if cut else (found, users)

    def _get(self, path: str, params: dict) -> dict:
        response = self.request("GET", f"{xchannel.API}{path}", params=params)
        try:
            data = response.json()
        except (ValueError, RecursionError):
            raise Rejected(f"X answered {path} with something that is not JSON.") from None
        if not isinstance(data, dict):
            raise Rejected(f"X answered {path} with JSON that is not an object.")
        return data


# --- Shapes ------------------------------------------------------------------------------
def _problem(entry) -> str:
    if not isinstance(entry, dict):
        return "not a post"
    if not _is_id(entry.get("id")):
        return "no usable id"
    if not _is_id(entry.get("author_id")):
        return "no author"
    if entry.get("text") is not None and not isinstance(entry.get("text"), str):
        return "text that is not text"
    history = entry.get("edit_history_tweet_ids")
    if history is not None and not (
        isinstance(history, list) and history and all(_is_id(n) for n in history)
    ):
        return "an edit history that is not one"
    return ""


def _is_id(value) -> bool:
    return isinstance(value, str) and bool(_ID.fullmatch(value)) and int(value) < 2**63


def _id_or_none(value) -> str | None:
    return value if _is_id(value) else None


def _first_version(entry: dict) -> str:
    history = entry.get("edit_history_tweet_ids")
    return history[0] if history else entry["id"]


def _replied_to(entry: dict) -> str:
    for reference in entry.get("referenced_tweets") or []:
        if isinstance(reference, dict) and reference.get("type") == "replied_to":
            return reference["id"] if _is_id(reference.get("id")) else ""
    return ""


def _snowflake_time(post_id: str) -> datetime.datetime | None:
    number = int(post_id)
    if number < 2**40:
        return None  # not a snowflake: X's posts before 2010 have sequential ids
    return datetime.datetime.fromtimestamp(((number >> 22) + _EPOCH_MS) / 1000, tz=datetime.UTC)


def _count(metrics, name: str) -> int | None:
    value = metrics.get(name) if isinstance(metrics, dict) else None
    if isinstance(value, int) and not isinstance(value, bool) and 0 <= value <= 2**53:
        return value
    return None


def _not_found(errors) -> bool:
    return isinstance(errors, list) and any(
        isinstance(error, dict) and error.get("type") == _NOT_FOUND for error in errors
    )


def _refusal(kind: str, entry, reason: str) -> tuple[str, dict, str]:
    try:
        payload = json.dumps(entry, default=repr)[:PAYLOAD_EXCERPT]
    except (TypeError, ValueError, RecursionError):
        payload = repr(entry)[:PAYLOAD_EXCERPT]
    key = entry.get("id") if isinstance(entry, dict) else None
    if not _is_id(key):
        digest = hashlib.sha256(payload.encode("utf-8", "backslashreplace")).hexdigest()
        key = f"sha256:{digest[:32]}"
    return f"x/{kind}/{key}", {"kind": kind, "entry": payload}, f"Refused a {kind}: {reason}."
