"""Reading the replies under one of our Threads posts.

What the Threads API allows (``/work/shared/research/meta-networks.md`` §2.3):

* **Replies at any depth**: ``GET /{media-id}/conversation`` lists every reply under a
  root post, flattened, with ``replied_to`` naming the parent; ``reverse=false`` reads
  oldest first, 100 a page, ``paging.cursors.after`` for the next, at most ``MAX_PAGES``
  pages. It needs ``threads_read_replies``.
* **Authors**: ``username`` and ``permalink`` come only for public profiles (and our
  own); a reply without them is "A Threads user". Nothing else about people is read: no
  profile, picture or follower counts.
* **Reposts, quotes and likes** are counts on the post (``fetch_metrics``), not items.

Our own replies (``is_reply_owned_by_me``: the account's answers) are not collected;
those under them are. Keys: the reply's media id (unique on Threads); ``ref``:
``{"id": reply id}``, what answering needs (``reply_to_id``). Hidden replies
(``hide_status`` HIDDEN) stay out of the inbox: the account's owner hid them. A
listing read whole makes the replies missing from it tombstones; a post Threads says
does not exist any more (error 100) is ``gone``.
"""

from __future__ import annotations

import hashlib
import json
import re

from syndication.channels.base import Rejected
from syndication.channels.threads import ThreadsAdapter

from . import sanitise
from .bluesky import rich_text
from .mastodon import PAYLOAD_EXCERPT, Harvest, Item, ServerTrouble, _moment

PAGE = 100
MAX_PAGES = 20
FIELDS = "id,text,username,permalink,timestamp,replied_to,is_reply_owned_by_me,hide_status"
SOMEONE = "A Threads user"
_ID = re.compile(r"\d{1,30}")
_USERNAME = re.compile(r"[\w.]{1,60}")


class ThreadsConversationReader(ThreadsAdapter):
    """The Threads adapter, reading: same token, version and guarded client."""

    def check(self, response, *, creates: bool = False):
        if response.status_code >= 500:
            raise ServerTrouble(
                f"Threads had a server error (HTTP {response.status_code}).",
                status=response.status_code,
                body=response.text,
            )
        return super().check(response, creates=creates)

    def read(self, post_id: str, cursor: dict, others: frozenset = frozenset()) -> Harvest:
        if not _ID.fullmatch(str(post_id)):
            raise Rejected("The post's id is not a Threads media id.")
        params = {"fields": FIELDS, "reverse": "false", "limit": PAGE}
        entries, whole = [], False
        try:
            for _ in range(MAX_PAGES):
                data = self._graph("GET", f"/{post_id}/conversation", params=params).json()
                page = data.get("data") if isinstance(data, dict) else None
                if not isinstance(page, list):
                    raise Rejected("Threads answered the conversation without a list.")
                entries += page
                after = ((data.get("paging") or {}).get("cursors") or {}).get("after")
                if not page or not after or not (data.get("paging") or {}).get("next"):
                    whole = True
                    break
                params = {**params, "after": after}
        except Rejected as error:
            if getattr(error, "graph_code", None) == 100:
                return Harvest(cursor=dict(cursor), gone=True)
            raise
        harvest = Harvest(cursor={})
        for entry in entries:
            self._item(entry, str(post_id), others, harvest)
        if whole:
            harvest.complete = {"reply"}
        return harvest

    def _item(self, entry, post_id: str, others: frozenset, harvest: Harvest) -> None:
        if not isinstance(entry, dict) or not _ID.fullmatch(str(entry.get("id") or "")):
            harvest.refused.append(_refusal(entry, "no usable id"))
            return
        if entry.get("is_reply_owned_by_me") or entry.get("hide_status") == "HIDDEN":
            return
        parent = str((entry.get("replied_to") or {}).get("id") or "")
        if parent == post_id or parent in others or not _ID.fullmatch(parent):
            parent = ""
        username = entry.get("username") if isinstance(entry.get("username"), str) else ""
        username = username if _USERNAME.fullmatch(username) else ""
        safe, text, cut = rich_text(entry.get("text") or "", None)
        harvest.items.append(
            Item(
                remote_id=str(entry["id"]),
                kind="reply",
                parent_remote_id=parent,
                html=safe,
                text=text,
                truncated=cut,
                url=sanitise.web_url(entry.get("permalink")),
                created_at=_moment(_iso(entry.get("timestamp"))),
                ref={"id": str(entry["id"])},
                author_name=f"@{username}" if username else SOMEONE,
                author_handle=f"@{username}" if username else "",
                author_url=f"https://www.threads.com/@{username}" if username else "",
            )
        )


def _iso(value):
    """Threads writes ``+0000``; Python's parser wants ``+00:00``."""
    if isinstance(value, str) and re.fullmatch(r".*[+-]\d{4}", value):
        return f"{value[:-2]}:{value[-2:]}"
    return value


def _refusal(entry, reason: str) -> tuple[str, dict, str]:
    payload = json.dumps(entry, default=str)[:PAYLOAD_EXCERPT]
    key = "threads/" + hashlib.sha256(payload.encode()).hexdigest()[:16]
    return key, {"payload": payload}, reason
