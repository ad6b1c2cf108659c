"""Reading the conversation under one of our Bluesky posts (AT Protocol).

For one post (docs/conversation.md, "Bluesky"), through the account's PDS, which
passes ``app.bsky.*`` calls on to its AppView, with the account's session:

1. ``app.bsky.feed.getPostThread`` (``depth`` 1,000, no parents) every time: the post's
   view, whose counters are the cursor, and the whole thread under it (replies at any
   depth; ``notFoundPost`` and ``blockedPost`` entries are skipped). Our post missing
   (``NotFound``) is confirmed on the PDS (``com.atproto.repo.getRecord``) before it
   counts as gone: an AppView that has not indexed a post yet says the same;
2. ``getRepostedBy``, ``getLikes`` and ``getQuotes`` (100 a page, by ``cursor``, at most
   ``MAX_PAGES`` pages), each only when its counter moved since the last run, as
   Bridgy's granary does.

Keys (``remote_id``, unique per network): a reply's or a quote's at:// URI;
``repost/<our post's at:// URI>/<DID>`` and ``like/<our post's at:// URI>/<DID>`` for
reposts and likes, which are records of the person's own and have no place in our
post's thread. ``parent_remote_id`` of a nested reply is its parent's URI.

``ref`` (``ConversationItem.remote_ref``) is what answering needs: the item's strong
reference and its thread's root, ``{"uri", "cid", "root": {"uri", "cid"}}``.

Text: a Bluesky post is plain text with facets (UTF-8 byte ranges). The HTML is made
here from the text, escaped, with a link only where a link facet points at an http(s)
address, and then passes the same allowlist as every network's (``sanitise``).
Bluesky has no edits; a record rewritten through the API shows new text at the next
run and is treated like an edit (back to unread), without an ``edited_at``.

Nothing here touches the database: ``read`` returns a ``Harvest`` like the Mastodon
reader's, and every request goes through the adapter's guarded session, its session
renewal and its error vocabulary; a 5xx also carries its ``Retry-After``.
"""

from __future__ import annotations

import hashlib
import html
import json
import re

from syndication.channels.base import NotSent, Rejected, retry_after_seconds
from syndication.channels.bluesky import BlueskyAdapter

from . import sanitise
from .mastodon import PAYLOAD_EXCERPT, Harvest, Item, ServerTrouble, _moment

#: ``getPostThread``'s deepest reading (the lexicon's maximum).
THREAD_DEPTH = 1000
#: Entries per page of reposts, likes and quotes (the lexicon's maximum), pages at most.
PAGE = 100
MAX_PAGES = 50
#: Link facets read per post at most (a real post has a handful).
MAX_FACETS = 100
#: A counter above this is nonsense (past JavaScript's exact integers): read as unknown.
MAX_COUNT = 2**53 - 1
MAX_KEY = 400

THREAD_VIEW = "app.bsky.feed.defs#threadViewPost"
NOT_FOUND = "app.bsky.feed.defs#notFoundPost"
BLOCKED = "app.bsky.feed.defs#blockedPost"
LINK = "app.bsky.richtext.facet#link"
#: The cursor: the post view's counters, by our name.
COUNTERS = {
    "replies": "replyCount",
    "reposts": "repostCount",
    "likes": "likeCount",
    "quotes": "quoteCount",
}

_DID = r"did:[a-z]{1,20}:[A-Za-z0-9._:%-]{1,200}"
_DID_RE = re.compile(_DID)
#: A post's at:// URI with a DID authority (what the AppView returns).
_POST_URI = re.compile(rf"at://({_DID})/app\.bsky\.feed\.post/([A-Za-z0-9._~:-]{{1,100}})")
#: A CID as text (CIDv1 base32 ``bafy…``; base58 CIDv0 ``Qm…`` too).
_CID = re.compile(r"[A-Za-z0-9]{8,200}")
#: A handle we put in an address (atproto.com/specs/handle); else the DID is used.
_HANDLE = re.compile(
    r"(?=.{1,253}$)([A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
)
INVALID_HANDLE = "handle.invalid"
_CONTROLS = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")
_SURROGATES = re.compile(r"[\ud800-\udfff]")


class PostNotFound(Rejected):
    """The AppView does not know the post (XRPC error ``NotFound``)."""


class BlueskyConversationReader(BlueskyAdapter):
    """The Bluesky adapter, reading: same session, renewal and error vocabulary."""

    def check(self, response, *, creates: bool = False):
        status = response.status_code
        if status >= 500:
            raise ServerTrouble(
                f"Bluesky had a server error (HTTP {status}).",
                retry_after=retry_after_seconds(response.headers),
                status=status,
                body=response.text,
            )
        if status == 400 and _error_name(response) == "NotFound":
            raise PostNotFound("Bluesky does not know the post.", status=status, body=response.text)
        return super().check(response, creates=creates)

    def read(self, uri: str, cursor: dict, others: frozenset = frozenset()) -> Harvest:
        """The conversation under our post ``uri``; ``others``: the at:// URIs of our
        other posts on this account, whose own threads are theirs."""
        params = {"uri": uri, "depth": THREAD_DEPTH, "parentHeight": 0}
        try:
            data = self._get("app.bsky.feed.getPostThread", params)
        except PostNotFound:
            return self._not_found(uri, cursor)
        thread = data.get("thread")
        if isinstance(thread, dict) and _type(thread) == NOT_FOUND:
            return self._not_found(uri, cursor)
        post = thread.get("post") if isinstance(thread, dict) else None
        ours = _strong_ref(post)
        if _type(thread) != THREAD_VIEW or ours is None or ours["uri"] != uri:
            raise Rejected("Bluesky answered the thread without our post in it.")
        counts = {name: _count(post.get(field)) for name, field in COUNTERS.items()}
        harvest = Harvest(cursor=dict(counts))
        record = post.get("record") if isinstance(post.get("record"), dict) else {}
        # Answers go to the thread's root: our post, or the root it is itself a reply in.
        root = _root(record) or ours
        self._replies(thread.get("replies"), root, others, harvest)
        harvest.complete.add("reply")
        for kind, nsid, key, counter in (
            ("boost", "app.bsky.feed.getRepostedBy", "repostedBy", "reposts"),
            ("like", "app.bsky.feed.getLikes", "likes", "likes"),
            ("quote", "app.bsky.feed.getQuotes", "posts", "quotes"),
        ):
            if counts[counter] is not None and cursor.get(counter) == counts[counter]:
                continue  # unchanged since the last run: the rows we have stand
            entries, whole = self._pages(nsid, key, uri)
            for entry in entries:
                if kind == "quote":
                    self._quote(entry, others, harvest)
                else:
                    self._reaction(kind, uri, entry, harvest)
            if whole:
                harvest.complete.add(kind)
        return harvest

    def _not_found(self, uri: str, cursor: dict) -> Harvest:
        """Gone only when the PDS no longer has the record either."""
        if self._record(uri) is None:
            return Harvest(cursor=dict(cursor), gone=True)
        raise NotSent("Bluesky does not show the post yet (its server has it); trying later.")

    # --- Replies ----------------------------------------------------------------------
    def _replies(self, replies, root: dict, others: frozenset, harvest: Harvest) -> None:
        """Every reply under the post, walked without recursion (a thread can be deep)."""
        if replies is None:
            return
        if not isinstance(replies, list):
            raise Rejected("Bluesky answered the thread with replies that are not a list.")
        stack = [(node, "") for node in reversed(replies)]
        while stack:
            node, parent = stack.pop()
            if isinstance(node, dict) and _type(node) in (NOT_FOUND, BLOCKED):
                continue  # deleted, or hidden from us by a block: nothing to keep
            post = node.get("post") if isinstance(node, dict) else None
            uri = post.get("uri") if isinstance(post, dict) else None
            uri = uri if isinstance(uri, str) and _POST_URI.fullmatch(uri) else ""
            if uri and uri in others:
                continue  # one of our other posts: it and its replies are its own
            if self._ours(post):
                # Our account's own reply (an answer not confirmed yet, or one written
                # by hand): not the public's conversation; replies to it still are.
                item = None
            else:
                item = self._post_item(
                    "reply", node if post is None else post, parent, root, harvest
                )
            if item is not None:
                harvest.items.append(item)
            children = node.get("replies") if isinstance(node, dict) else None
            if isinstance(children, list):
                stack.extend((child, uri or parent) for child in reversed(children))

    def _ours(self, post) -> bool:
        author = post.get("author") if isinstance(post, dict) else None
        return isinstance(author, dict) and author.get("did") == self.account.remote_id

    def _quote(self, post, others: frozenset, harvest: Harvest) -> None:
        uri = post.get("uri") if isinstance(post, dict) else None
        if isinstance(uri, str) and uri in others:
            return  # one of our own posts quoting this one
        item = self._post_item("quote", post, "", None, harvest)
        if item is not None:
            harvest.items.append(item)

    def _post_item(self, kind, post, parent: str, root: dict | None, harvest) -> Item | None:
        problem = _post_problem(post)
        if problem:
            harvest.refused.append(_refusal(kind, post, problem))
            return None
        record = post["record"]
        safe, text, cut = rich_text(record.get("text"), record.get("facets"))
        ref = _strong_ref(post)
        author = post["author"]
        rkey = _POST_URI.fullmatch(post["uri"]).group(2)
        return Item(
            remote_id=post["uri"],
            kind=kind,
            parent_remote_id=parent,
            html=safe,
            text=text,
            truncated=cut,
            url=sanitise.web_url(f"{profile_url(author)}/post/{rkey}"),
            created_at=_moment(record.get("createdAt")) or _moment(post.get("indexedAt")),
            # A quote's root is its own thread's: itself, or the root it replies in.
            ref={**ref, "root": _root(record) or root or ref},
            **_author(author),
        )

    # --- Reposts and likes --------------------------------------------------------------
    def _reaction(self, kind: str, uri: str, entry, harvest: Harvest) -> None:
        actor = entry.get("actor") if kind == "like" and isinstance(entry, dict) else entry
        did = actor.get("did") if isinstance(actor, dict) else None
        if not (isinstance(did, str) and _DID_RE.fullmatch(did)):
            harvest.refused.append(_refusal(kind, entry, "not an account with a DID"))
            return
        key = f"{'repost' if kind == 'boost' else 'like'}/{uri}/{did}"
        if len(key) > MAX_KEY:
            harvest.refused.append(_refusal(kind, entry, "a key too long to keep"))
            return
        harvest.items.append(Item(remote_id=key, kind=kind, **_author(actor)))

    def _pages(self, nsid: str, key: str, uri: str) -> tuple[list, bool]:
        """Every entry of a listing paged by ``cursor``; ``(entries, whole)``: ``whole``
        is False when ``MAX_PAGES`` pages did not reach the end or the cursor repeated."""
        found, cursor, seen = [], "", set()
        for _ in range(MAX_PAGES):
            params = {"uri": uri, "limit": PAGE, **({"cursor": cursor} if cursor else {})}
            data = self._get(nsid, params)
            entries = data.get(key)
            if not isinstance(entries, list):
                raise Rejected(f"Bluesky answered {nsid} without a list of {key}.")
            found += entries
            cursor = data.get("cursor")
            if not (isinstance(cursor, str) and cursor and len(cursor) <= 1000):
                return found, True
            if cursor in seen:
                return found, False
            seen.add(cursor)
        return found, False

    def _get(self, nsid: str, params: dict) -> dict:
        try:
            data = self._xrpc("GET", nsid, params=params)
        except RecursionError:
            raise Rejected(f"Bluesky answered {nsid} with JSON nested too deeply.") from None
        if not isinstance(data, dict):
            raise Rejected(f"Bluesky answered {nsid} with JSON that is not an object.")
        return data


# --- Text ------------------------------------------------------------------------------
def rich_text(source, facets) -> tuple[str, str, bool]:
    """``(safe HTML, plain text, was cut)`` from a post's text and facets.

    Facets count UTF-8 bytes; one that is not a link to an http(s) address, overlaps
    another, or does not start and end between characters is left as plain text.
    """
    text = source if isinstance(source, str) else ""
    cut = len(text) > sanitise.MAX_SOURCE
    # A lone surrogate and U+FFFD are both three bytes in UTF-8: the offsets still hold.
    data = _SURROGATES.sub("\ufffd", text[: sanitise.MAX_SOURCE]).encode("utf-8")
    parts, position = [], 0
    for start, end, url in _links(facets, data):
        parts.append(_escaped(data[position:start]))
        parts.append(f'<a href="{html.escape(url)}">{_escaped(data[start:end])}</a>')
        position = end
    parts.append(_escaped(data[position:]))
    body = "".join(parts).replace("\r\n", "\n").replace("\n", "<br>")
    safe, html_cut = sanitise.clean_html(f"<p>{body}</p>" if body else "")
    return safe, sanitise.plain_text(safe), cut or html_cut


def _links(facets, data: bytes) -> list[tuple[int, int, str]]:
    if not isinstance(facets, list):
        return []
    found = []
    for facet in facets[:MAX_FACETS]:
        index = facet.get("index") if isinstance(facet, dict) else None
        features = facet.get("features") if isinstance(facet, dict) else None
        if not isinstance(index, dict) or not isinstance(features, list):
            continue
        start, end = index.get("byteStart"), index.get("byteEnd")
        if not (_is_int(start) and _is_int(end) and 0 <= start < end <= len(data)):
            continue
        if not (_boundary(data, start) and _boundary(data, end)):
            continue
        url = next(
            (
                sanitise.web_url(feature.get("uri"))
                for feature in features
                if isinstance(feature, dict) and feature.get("$type") == LINK
            ),
            "",
        )
        if url:
            found.append((start, end, url))
    found.sort()
    kept, last_end = [], 0
    for start, end, url in found:
        if start >= last_end:
            kept.append((start, end, url))
            last_end = end
    return kept


def _boundary(data: bytes, at: int) -> bool:
    """True when byte ``at`` starts a character (or is the end)."""
    return at == len(data) or data[at] & 0xC0 != 0x80


def _escaped(part: bytes) -> str:
    """Bytes of the text as escaped HTML: NUL and other control characters (but newlines
    and tabs) go."""
    return html.escape(_CONTROLS.sub("", part.decode("utf-8", "replace")))


# --- Shapes ------------------------------------------------------------------------------
def _post_problem(post) -> str:
    if not isinstance(post, dict):
        return "not a post"
    uri = post.get("uri")
    if not (isinstance(uri, str) and _POST_URI.fullmatch(uri)) or len(uri) > MAX_KEY:
        return "no usable at:// URI"
    if not _strong_ref(post):
        return "no usable CID"
    author = post.get("author")
    if not (isinstance(author, dict) and isinstance(author.get("did"), str)):
        return "no author"
    if not _DID_RE.fullmatch(author["did"]):
        return "no author"
    record = post.get("record")
    if not isinstance(record, dict):
        return "no record"
    if record.get("text") is not None and not isinstance(record.get("text"), str):
        return "text that is not text"
    return ""


def _strong_ref(value) -> dict | None:
    """``{"uri", "cid"}`` of a post view or a record's strong reference, when both are
    well formed (they go back to the network when answering)."""
    if not isinstance(value, dict):
        return None
    uri, cid = value.get("uri"), value.get("cid")
    if not (isinstance(uri, str) and _POST_URI.fullmatch(uri)):
        return None
    return {"uri": uri, "cid": cid} if isinstance(cid, str) and _CID.fullmatch(cid) else None


def _root(record: dict) -> dict | None:
    reply = record.get("reply")
    return _strong_ref(reply.get("root")) if isinstance(reply, dict) else None


def _type(value) -> str:
    if not isinstance(value, dict):
        return ""
    kind = value.get("$type")
    if kind is None:
        # Unions carry a $type; without one, the lexicon's markers tell them apart.
        if value.get("notFound") is True:
            return NOT_FOUND
        if value.get("blocked") is True:
            return BLOCKED
        return THREAD_VIEW if "post" in value else ""
    return kind if isinstance(kind, str) else ""


def profile_url(actor: dict) -> str:
    """``https://bsky.app/profile/<handle>``, or the DID when the handle is not one."""
    handle = actor.get("handle")
    if isinstance(handle, str) and handle != INVALID_HANDLE and _HANDLE.fullmatch(handle):
        return f"https://bsky.app/profile/{handle.lower()}"
    did = actor.get("did")
    return f"https://bsky.app/profile/{did}" if isinstance(did, str) else ""


def _author(actor: dict) -> dict:
    handle = sanitise.short_text(actor.get("handle"), 250)
    return {
        "author_name": sanitise.short_text(actor.get("displayName"), 200)
        or sanitise.short_text(actor.get("handle"), 200),
        "author_handle": f"@{handle}" if handle else "",
        "author_url": sanitise.web_url(profile_url(actor)),
        "author_avatar_url": sanitise.web_url(actor.get("avatar")),
        "public_page_refused": _refuses_public(actor),
    }


#: The self-label by which a Bluesky user asks apps not to show them to logged-out
#: visitors (the AT Protocol's moderation docs).
NO_UNAUTHENTICATED = "!no-unauthenticated"


def _refuses_public(actor: dict) -> bool:
    labels = actor.get("labels")
    return isinstance(labels, list) and any(
        isinstance(label, dict) and label.get("val") == NO_UNAUTHENTICATED for label in labels
    )


def _count(value) -> int | None:
    """A counter, or None when it is not one (then the list is read every run)."""
    if _is_int(value) and 0 <= value <= MAX_COUNT:
        return value
    return None


def _is_int(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _error_name(response) -> str:
    try:
        data = response.json()
    except (ValueError, RecursionError):
        return ""
    name = data.get("error") if isinstance(data, dict) else None
    return name if isinstance(name, str) else ""


def _refusal(kind: str, entry, reason: str) -> tuple[str, dict, str]:
    """``(key, payload, reason)`` for ``cms.ops.quarantine`` (which escapes NUL and lone
    surrogates). The key is the item's URI, else a digest of what was sent, so two
    different broken items are both kept and the same one again is not."""
    try:
        payload = json.dumps(entry, default=repr)[:PAYLOAD_EXCERPT]
    except (TypeError, ValueError, RecursionError):
        payload = repr(entry)[:PAYLOAD_EXCERPT]
    uri = entry.get("uri") if isinstance(entry, dict) else None
    if not (isinstance(uri, str) and _POST_URI.fullmatch(uri)):
        digest = hashlib.sha256(payload.encode("utf-8", "backslashreplace")).hexdigest()
        uri = f"sha256:{digest[:32]}"
    return f"bluesky/{kind}/{uri}", {"kind": kind, "entry": payload}, f"Refused a {kind}: {reason}."
