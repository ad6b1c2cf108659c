"""Reading the comments under one of our Facebook Page posts.

What Graph allows (``/work/shared/research/meta-networks.md`` §1.5):

* **Comments at any depth**, by polling ``GET /{page-post-id}/comments`` with
  ``filter=stream`` (every comment, replies to comments included, in time order) and
  ``order=chronological``, 100 a page, following ``paging.next`` on Graph's own host for
  at most ``MAX_PAGES`` pages. A comment on a comment names it in ``parent``. It needs
  ``pages_read_engagement``; the comments' ids come only to someone who can do the
  MODERATE task on the Page (since v11.0), which the Page token of a person who
  connected it has.
* **Authors**: ``from`` gives a name and an app-scoped id, with
  ``pages_read_user_engagement``; without it a comment has no ``from`` and its author is
  "A Facebook user". Nothing else about people is read: no profile, picture, friends or
  follower counts.
* **Reactions and shares** are counts on the post (``fetch_metrics``), not items.

Our own Page's comments (its answers) are not collected; those under them are. Keys:
the comment's own id (``{post}_{comment}``, unique on Facebook); ``ref``: ``{"id":
comment id, "object": post id, "thread": the top comment it is under, or itself}``, the
thread being where an answer goes (comments are two levels deep). A listing read whole
makes the comments missing from it tombstones; a post Facebook says does not exist any
more (error 100, subcode 33) is ``gone``.
"""

from __future__ import annotations

import datetime
import hashlib
import json
import re

from syndication.channels.base import Rejected
from syndication.channels.facebook import FacebookAdapter, _same_graph, regain_seconds

from . import sanitise
from .bluesky import rich_text
from .mastodon import PAYLOAD_EXCERPT, Harvest, Item, ServerTrouble

PAGE = 100
MAX_PAGES = 50
FIELDS = "id,message,created_time,from{id,name},parent{id},permalink_url"
READ_SCOPE = "pages_read_engagement"
NEEDS_SCOPE = (
    "Facebook needs the pages_read_engagement permission to read comments; reconnect the "
    "Page and grant it."
)
SOMEONE = "A Facebook user"
_COMMENT_ID = re.compile(r"\d{1,30}_\d{1,30}")
_USER_ID = re.compile(r"\d{1,30}")


class FacebookConversationReader(FacebookAdapter):
    """The Facebook adapter, reading: same Page token, Graph version and guarded client."""

    def check(self, response, *, creates: bool = False):
        status = response.status_code
        if status >= 500:
            raise ServerTrouble(
                f"Facebook had a server error (HTTP {status}).",
                retry_after=regain_seconds(response, self.page_id),
                status=status,
                body=response.text,
            )
        return super().check(response, creates=creates)

    def refusal(self) -> tuple[str, bool] | None:
        granted = set(re.split(r"[\s,]+", getattr(self.account, "scopes", "") or "")) - {""}
        if granted and READ_SCOPE not in granted:
            return NEEDS_SCOPE, False
        return None

    def read(self, post_id: str, cursor: dict, others: frozenset = frozenset()) -> Harvest:
        harvest = Harvest(cursor={})
        params = {"filter": "stream", "order": "chronological", "fields": FIELDS, "limit": PAGE}
        url, whole, total = self.graph(f"{post_id}/comments"), False, 0
        for _ in range(MAX_PAGES):
            try:
                response = self._graph("GET", url, params=params, absolute=True)
            except Rejected as error:
                if getattr(error, "graph_subcode", None) == 33:
                    harvest.gone = True
                    return harvest
                raise
            data = _object(response)
            comments = data.get("data")
            if not isinstance(comments, list):
                raise Rejected("Facebook answered the comments without a list.")
            for comment in comments:
                total += 1
                self._comment(post_id, comment, harvest)
            paging = data.get("paging")
            following = paging.get("next") if isinstance(paging, dict) else None
            if not following:
                whole = True
                break
            if not (isinstance(following, str) and _same_graph(following)):
                break  # never followed off Graph; not whole, so nothing is marked deleted
            url, params = following, None
        harvest.cursor = {"comments": total}
        if whole:
            harvest.complete.add("reply")
        return harvest

    def _comment(self, post_id: str, comment, harvest: Harvest) -> None:
        problem = _problem(comment)
        if problem:
            harvest.refused.append(_refusal(comment, problem))
            return
        author = comment.get("from") if isinstance(comment.get("from"), dict) else {}
        author_id = str(author.get("id") or "")
        if author_id == self.page_id:
            return  # the Page's own answers
        parent = comment.get("parent") if isinstance(comment.get("parent"), dict) else {}
        parent_id = str(parent.get("id") or "")
        thread = parent_id if _COMMENT_ID.fullmatch(parent_id) else ""
        safe, text, cut = rich_text(comment.get("message"), None)
        permalink = comment.get("permalink_url")
        url = permalink if _is_facebook(permalink) else f"https://www.facebook.com/{post_id}"
        harvest.items.append(
            Item(
                remote_id=comment["id"],
                kind="reply",
                parent_remote_id=parent_id if _COMMENT_ID.fullmatch(parent_id) else "",
                author_name=sanitise.short_text(author.get("name"), 200) or SOMEONE,
                author_handle=author_id if _USER_ID.fullmatch(author_id) else "",
                html=safe,
                text=text,
                truncated=cut,
                url=sanitise.web_url(url),
                created_at=_time(comment.get("created_time")),
                # ``thread``: the top comment an answer goes under (two levels deep).
                ref={"id": comment["id"], "object": post_id, "thread": thread or comment["id"]},
            )
        )


def _object(response) -> dict:
    try:
        data = response.json()
    except (ValueError, RecursionError):
        raise Rejected("Facebook answered the comments with something that is not JSON.") from None
    if not isinstance(data, dict):
        raise Rejected("Facebook answered the comments with JSON that is not an object.")
    return data


def _problem(comment) -> str:
    if not isinstance(comment, dict):
        return "not a comment"
    if not (isinstance(comment.get("id"), str) and _COMMENT_ID.fullmatch(comment["id"])):
        return "no usable id"
    message = comment.get("message")
    if message is not None and not isinstance(message, str):
        return "a message that is not text"
    return ""


def _is_facebook(url) -> bool:
    return isinstance(url, str) and url.startswith("https://www.facebook.com/")


def _time(value) -> datetime.datetime | None:
    """Graph's ``2026-12-07T00:31:32+0000``."""
    if not isinstance(value, str):
        return None
    try:
        return datetime.datetime.strptime(value, "%Y-%m-%dT%H:%M:%S%z")
    except ValueError:
        return None


def _refusal(comment, reason: str) -> tuple[str, dict, str]:
    try:
        payload = json.dumps(comment, default=repr)[:PAYLOAD_EXCERPT]
    except (TypeError, ValueError, RecursionError):
        payload = repr(comment)[:PAYLOAD_EXCERPT]
    key = comment.get("id") if isinstance(comment, dict) else None
    if not (isinstance(key, str) and _COMMENT_ID.fullmatch(key)):
        digest = hashlib.sha256(payload.encode("utf-8", "backslashreplace")).hexdigest()
        key = f"sha256:{digest[:32]}"
    return (
        f"facebook/reply/{key}",
        {"kind": "reply", "entry": payload},
        f"Refused a reply: {reason}.",
    )
