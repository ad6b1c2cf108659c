"""Bluesky (AT Protocol): posts are records written to the account's PDS.

Signing in. Bluesky's OAuth profile needs DPoP-bound tokens, pushed authorization
requests (PAR) and a client-metadata document, none of which requests-oauthlib does. So
an account connects with an *app password* (Settings → Privacy and security → App
passwords), and the session it opens is reused: ``createSession`` is limited to 30 per
5 minutes and 300 per day per account, so it runs only when connecting and when the
refresh token itself has expired. The app password is kept (encrypted, like every token)
for that second case. ``refreshSession`` rotates both JWTs; the engine stores the new
pair under a per-account lock before anything else runs (``syndication.tokens``).

Exactly once. Bluesky honours no idempotency key, but a record's key (rkey) is ours to
choose, and a repository holds one record per key. The rkey of a post is a TID derived
from the post's idempotency key, so every send of the same post writes to the same
address: a second create cannot make a second post. The PDS answers such a create with
an error (today a 500, later an explicit "already exists" error), and either way the
adapter reads the record at that rkey and, when it is there, returns it as published.
``find_published`` is the same lookup. The AppView indexes only posts whose rkey is a
valid TID, which is why the key is a TID and not the idempotency key's hex.

What we send. Links are not clickable unless declared as rich-text facets with UTF-8
*byte* offsets; hashtags get tag facets the same way. As Bluesky's own app does, a link
is shown short (host and the start of the path, ``stories.example/stories/the-f...``)
and the facet carries the whole address with its UTM tags, so the 300-grapheme limit is
spent on words, and every length we report is the length of the text as shown. Link
cards are not made by the server: we attach ``app.bsky.embed.external`` with the story's
title and intro, and a picture of the story (its audience's, else its hero) as its
``thumb`` blob.

Pictures. Each is a blob (``com.atproto.repo.uploadBlob``, at most 1,000,000 bytes for
``app.bsky.embed.images``), uploaded before the create and recorded
(``syndication.uploads``); the record embeds them with ``alt`` and ``aspectRatio``. A
record has one embed: a post with pictures carries ``app.bsky.embed.images`` and its
link stays a facet in the text, without a card (``recordWithMedia`` pairs pictures with
a quoted *record*, not with a link card, so it does not apply). A post without pictures
carries the link card with its thumbnail.

Where the account lives: one address form everywhere (``scheme://host[:port]``, see
``bluesky_identity.normalise_service_url``), found from the handle when connecting.

Refreshing. An access JWT lasts about two hours. It is refreshed when it is used and
about to expire (``tokens.ensure_fresh``), or when the PDS calls it expired before
then (``ExpiredToken``): the call is then made once more with the new session. The
beat sweep does not refresh Bluesky sessions ahead of time (``refreshes_ahead``).
"""

from __future__ import annotations

import base64
import datetime
import hashlib
import json
import re
from types import SimpleNamespace
from urllib.parse import urlsplit

from django.conf import settings

from . import bluesky_identity
from .base import (
    DETAIL_LENGTH,
    Attachment,
    AuthExpired,
    ChannelAdapter,
    ChannelError,
    MediaGone,
    MediaUpload,
    NotAChannel,
    NotSent,
    PostMetrics,
    Profile,
    PublishRequest,
    Rejected,
    RemotePost,
    Unconfirmed,
)
from .text import byte_range, find_hashtags, find_urls, grapheme_count

DEFAULT_SERVICE = bluesky_identity.DEFAULT_SERVICE
POST_COLLECTION = "app.bsky.feed.post"
#: ``app.bsky.feed.getPosts`` takes at most 25 URIs per call.
GET_POSTS_LIMIT = 25
#: The lexicon's other limit on post text, besides 300 graphemes.
MAX_TEXT_BYTES = 3000

_TID_ALPHABET = "234567abcdefghijklmnopqrstuvwxyz"
#: 2023-01-01 in microseconds: a derived TID's time part stays before it (see record_key).
_TID_TIME_CEILING = 1_672_531_200_000_000
#: Errors that mean "this session is over", as the PDS names them.
_SESSION_ERRORS = {"ExpiredToken", "InvalidToken", "AuthenticationRequired", "AuthMissing"}
#: An XRPC error name: a short CamelCase word, nothing else.
_ERROR_NAME = re.compile(r"[A-Z][A-Za-z]{1,40}")


class SessionExpired(NotSent):
    """The access JWT expired before the call was processed: refresh, then try again.

    Nothing was written, so it is "not sent"; the engine refreshes tokens whose
    ``expires_at`` has passed before the next try.
    """


class BlueskyAdapter(ChannelAdapter):
    network = "bluesky"
    label = "Bluesky"
    honours_idempotency_key = False
    refreshes_tokens = True
    refreshes_ahead = False
    default_limit = 300
    empty_message = "Write something: a Bluesky post cannot be empty."
    answers_items = True
    takes_card_thumb = True

    # --- Checking ----------------------------------------------------------------------
    def text_length(self, text: str) -> int:
        return grapheme_count(shorten_links(text)[0])

    def text_errors(self, text: str) -> list[str]:
        if len(shorten_links(text)[0].encode("utf-8")) > MAX_TEXT_BYTES:
            return [f"Bluesky posts can be at most {MAX_TEXT_BYTES} bytes long."]
        return []

    # --- Publishing --------------------------------------------------------------------
    def publish(self, request: PublishRequest) -> RemotePost:
        rkey = record_key(request.idempotency_key)
        body = {
            "repo": self._did(),
            "collection": POST_COLLECTION,
            "rkey": rkey,
            "record": self.build_record(request),
        }
        try:
            data = self._xrpc("POST", "com.atproto.repo.createRecord", json=body, creates=True)
        except (Unconfirmed, Rejected) as error:
            if isinstance(error, Rejected) and _blob_missing(error):
                raise MediaGone(
                    "Bluesky no longer has the pictures uploaded earlier (a PDS drops blobs "
                    "no record uses); uploading them again.",
                    status=error.status,
                    body=error.body,
                ) from error
            if isinstance(error, Rejected) and not _already_exists(error):
                raise
            # The record may be there, written by this request or an earlier send of the
            # same post: the rkey is the post's own, so whatever sits there is ours.
            existing = self.find_published_or_none(request)
            if existing is None:
                raise error from None
            return existing
        return self._remote(data["uri"])

    def build_record(self, request: PublishRequest, now: datetime.datetime | None = None):
        now = now or datetime.datetime.now(datetime.UTC)
        text, facets = shorten_links(request.text)
        record = {
            "$type": POST_COLLECTION,
            "text": text,
            "createdAt": now.isoformat(timespec="milliseconds").replace("+00:00", "Z"),
            "langs": [_language()],
        }
        facets += tag_facets(text)
        if facets:
            record["facets"] = sorted(facets, key=lambda facet: facet["index"]["byteStart"])
        if request.media:
            record["embed"] = images_embed(request.media)
        elif request.link:
            external = {
                "uri": request.link,
                "title": request.link_title,
                "description": request.link_description,
            }
            thumb = (request.card_thumb.ref or {}).get("blob") if request.card_thumb else None
            if isinstance(thumb, dict):
                external["thumb"] = thumb
            record["embed"] = {"$type": "app.bsky.embed.external", "external": external}
        if request.reply_ref:
            record["reply"] = answer_refs(request.reply_ref)
        elif request.reply_to:
            record["reply"] = self._reply_refs(request.reply_to)
        return record

    def _reply_refs(self, parent_uri: str) -> dict:
        """``{root, parent}`` for a reply: the parent's own root when it is a reply too."""
        post = self._posts([parent_uri]).get(parent_uri)
        record = (post or {}).get("record")
        if post is None:
            # The AppView may not have indexed a post made seconds ago; its PDS has it.
            post = self._record(parent_uri)
            record = (post or {}).get("value")
        if post is None:
            raise Rejected(
                f"The Bluesky post this replies to ({parent_uri}) is not there any more."
            )
        parent = {"uri": post["uri"], "cid": post["cid"]}
        root = ((record or {}).get("reply") or {}).get("root") or parent
        return {"root": {"uri": root["uri"], "cid": root["cid"]}, "parent": parent}

    # --- Pictures ------------------------------------------------------------------------
    def upload_media(self, upload: MediaUpload) -> Attachment:
        """``com.atproto.repo.uploadBlob``: the blob (CID, type, size) the record refers
        to. A PDS keeps a blob no record uses only for a while: ``publish`` turns its
        "BlobNotFound" into MediaGone, and the same bytes are uploaded again (same CID)."""
        data = self._xrpc(
            "POST",
            "com.atproto.repo.uploadBlob",
            data=upload.data,
            headers={"Content-Type": upload.mime},
        )
        blob = data.get("blob") if isinstance(data, dict) else None
        link = ((blob or {}).get("ref") or {}).get("$link") if isinstance(blob, dict) else None
        if not isinstance(link, str) or not link:
            raise NotSent("Bluesky answered the upload without a blob reference.")
        return Attachment(
            id=link,
            alt=upload.alt,
            width=upload.width,
            height=upload.height,
            ref={"blob": blob, "aspectRatio": {"width": upload.width, "height": upload.height}},
        )

    def find_published(self, request: PublishRequest) -> RemotePost | None:
        uri = f"at://{self._did()}/{POST_COLLECTION}/{record_key(request.idempotency_key)}"
        found = self._record(uri)
        return self._remote(found["uri"]) if found else None

    def _record(self, uri: str) -> dict | None:
        repo, collection, rkey = _split_at_uri(uri)
        try:
            return self._xrpc(
                "GET",
                "com.atproto.repo.getRecord",
                params={"repo": repo, "collection": collection, "rkey": rkey},
            )
        except Rejected as error:
            if _record_missing(error):
                return None
            raise

    def _remote(self, uri: str) -> RemotePost:
        _repo, _collection, rkey = _split_at_uri(uri)
        who = self.account.handle or self._did()
        return RemotePost(id=uri, url=f"https://bsky.app/profile/{who}/post/{rkey}")

    # --- Metrics -----------------------------------------------------------------------
    def fetch_metrics(self, remote_ids: list[str]) -> dict[str, PostMetrics]:
        metrics = {}
        for uri, post in self._posts(remote_ids).items():
            metrics[uri] = PostMetrics(
                reposts=post.get("repostCount") or 0,
                replies=post.get("replyCount") or 0,
                likes=post.get("likeCount") or 0,
                quotes=post.get("quoteCount") or 0,
            )
        return metrics

    def _posts(self, uris: list[str]) -> dict[str, dict]:
        """Post views by URI from ``app.bsky.feed.getPosts``, which the PDS proxies."""
        found = {}
        for start in range(0, len(uris), GET_POSTS_LIMIT):
            chunk = list(uris[start : start + GET_POSTS_LIMIT])
            data = self._xrpc("GET", "app.bsky.feed.getPosts", params={"uris": chunk})
            for post in data.get("posts", []):
                found[post["uri"]] = post
        return found

    # --- Sessions ----------------------------------------------------------------------
    def refresh(self, tokens: dict) -> dict:
        refresh_jwt = tokens.get("refresh_jwt")
        if refresh_jwt:
            try:
                data = self._xrpc("POST", "com.atproto.server.refreshSession", token=refresh_jwt)
            except (SessionExpired, AuthExpired, Rejected) as error:
                if error.status not in (400, 401):
                    raise
                refused = error
            else:
                return session_tokens(data, app_password=tokens.get("app_password", ""))
        else:
            refused = AuthExpired("There is no Bluesky refresh token.")
        password = tokens.get("app_password")
        if not password:
            raise AuthExpired(
                f"Bluesky ended the session ({refused.message}) and no app password is "
                "stored to sign in again; reconnect the account.",
                status=refused.status,
                body=refused.body,
            )
        identifier = tokens.get("did") or self.account.remote_id or self.account.handle
        return self.create_session(identifier, password)

    def create_session(self, identifier: str, app_password: str) -> dict:
        try:
            data = self._xrpc(
                "POST",
                "com.atproto.server.createSession",
                json={"identifier": identifier, "password": app_password},
                token="",
            )
        except (SessionExpired, AuthExpired, Rejected) as error:
            if error.status not in (400, 401):
                raise
            raise AuthExpired(
                f"Bluesky did not accept the app password for {identifier} "
                f"({_error_text(error)}); create a new app password and reconnect.",
                status=error.status,
                body=error.body,
            ) from error
        return session_tokens(data, app_password=app_password)

    # --- HTTP --------------------------------------------------------------------------
    def _xrpc(self, method, nsid, *, token=None, creates=False, **kwargs) -> dict:
        """Call ``nsid`` on the account's PDS with the session's access token.

        ``token`` overrides the bearer token (the refresh JWT for refreshSession, "" for
        no authorisation at all). When the PDS calls the session expired, the session is
        renewed (``renew_session``, given by ``tokens.ensure_fresh``) and the call made
        once more: an expired token is refused before anything is written, so a create
        is safe to repeat.
        """
        if token is not None or self.renew_session is None:
            return self._call(method, nsid, token=token, creates=creates, **kwargs)
        try:
            return self._call(method, nsid, creates=creates, **dict(kwargs))
        except SessionExpired:
            self.renew_session()
        return self._call(method, nsid, creates=creates, **kwargs)

    def _call(self, method, nsid, *, token=None, creates=False, **kwargs) -> dict:
        if token is None:
            token = self.account.tokens.get("access_jwt", "")
        headers = dict(kwargs.pop("headers", {}))
        if token:
            headers["Authorization"] = f"Bearer {token}"
        url = f"{self._service()}/xrpc/{nsid}"
        response = self.request(method, url, creates=creates, headers=headers, **kwargs)
        try:
            return response.json()
        except ValueError:
            if creates:
                raise Unconfirmed(
                    "Bluesky answered the post with something that is not JSON; "
                    "checking whether it was published.",
                    status=response.status_code,
                    body=response.text,
                ) from None
            raise NotSent(
                f"Bluesky answered {nsid} with something that is not JSON.",
                status=response.status_code,
                body=response.text,
            ) from None

    def check(self, response, *, creates: bool = False):
        status = response.status_code
        name = _error_name(response) if status in (400, 401) else ""
        if name == "ExpiredToken":
            # PDS versions differ on 400 or 401 for this; both mean "refresh first".
            raise SessionExpired(
                "The Bluesky session expired; it is refreshed before the next try.",
                status=status,
                body=response.text,
            )
        if status == 400:
            if name in _SESSION_ERRORS:
                raise AuthExpired(
                    f"Bluesky no longer accepts this account's session ({name}); "
                    "reconnect the account.",
                    status=400,
                    body=response.text,
                )
            if name == "ConcurrentWrites":
                # The repository was busy and nothing was written.
                raise NotSent(
                    "Bluesky was busy writing to this account; trying again.",
                    status=400,
                    body=response.text,
                )
        return super().check(response, creates=creates)

    def error_detail(self, response) -> str:
        """The PDS's own words: ``InvalidRequest: grapheme too big (maximum 300, got
        301)``, the XRPC error name and its message, shortened."""
        try:
            data = response.json()
        except ValueError:
            return ""
        if not isinstance(data, dict):
            return ""
        name = data.get("error") if isinstance(data.get("error"), str) else ""
        message = data.get("message") if isinstance(data.get("message"), str) else ""
        detail = f"{name}: {message}" if name and message and name != message else name or message
        return " ".join(detail.split())[:DETAIL_LENGTH]

    def describe_server(self) -> dict:
        """``com.atproto.server.describeServer``: what every PDS answers, signed in or
        not. Anything else is not a PDS, and is never sent an app password."""
        service = self._service()
        try:
            data = self._xrpc("GET", "com.atproto.server.describeServer", token="")
        except (Rejected, NotSent, AuthExpired) as error:
            if isinstance(error, NotSent) and error.status is None:
                raise  # never answered: the address is unreachable, not wrong
            answered = f"; it answered HTTP {error.status}" if error.status >= 400 else ""
            raise NotAChannel(
                f"{service} does not answer like a Bluesky server (PDS){answered}.",
                status=error.status,
                body=error.body,
            ) from error
        domains = data.get("availableUserDomains") if isinstance(data, dict) else None
        did = data.get("did") if isinstance(data, dict) else None
        if not isinstance(domains, list) or not (isinstance(did, str) and did.startswith("did:")):
            raise NotAChannel(f"{service} does not answer like a Bluesky server (PDS).")
        return data

    def _service(self) -> str:
        try:
            # Not strict: accounts saved before addresses were normalised keep working.
            return bluesky_identity.normalise_service_url(self.account.instance_url, strict=False)
        except NotAChannel as error:
            raise AuthExpired(
                f"The account's server address ({self.account.instance_url}) is not valid; "
                "reconnect the account."
            ) from error

    def _did(self) -> str:
        return self.account.tokens.get("did") or self.account.remote_id


# --- Connecting --------------------------------------------------------------------------
def connect(
    handle: str, app_password: str, service_url: str = "", session=None
) -> tuple[Profile, dict, str]:
    """Sign in with an app password: who the account is, its session tokens, and the
    address of its PDS (normalised).

    With no ``service_url`` the PDS is found from the handle (``bluesky_identity``), and
    the session must be the account the handle resolved to. A given server must answer
    ``describeServer`` like a PDS before it is sent the password.
    """
    identity = None
    if service_url and service_url.strip():
        service_url = bluesky_identity.normalise_service_url(service_url)
        identifier = bluesky_identity.normalise_handle(handle)
    else:
        identity = bluesky_identity.resolve(handle, session=session)
        service_url, identifier = identity.service_url, identity.did
    account = SimpleNamespace(
        network="bluesky",
        instance_url=service_url,
        remote_id="",
        handle=identity.handle if identity else identifier,
        max_characters=None,
        tokens={},
    )
    adapter = BlueskyAdapter(account, session=session)
    adapter.describe_server()
    try:
        tokens = adapter.create_session(identifier, app_password.strip())
    except (Rejected, NotSent) as error:
        # A web server that is not a PDS answers 404, or a page that is not JSON.
        not_json = isinstance(error, NotSent) and error.status and error.status < 400
        if error.status in (404, 405) or not_json:
            raise NotAChannel(
                f"{service_url} does not answer like a Bluesky server (PDS).",
                status=error.status,
                body=error.body,
            ) from error
        raise
    if identity is not None and tokens["did"] != identity.did:
        raise NotAChannel(
            f"{service_url} signed in {tokens['did']}, not {identity.handle} ({identity.did}); "
            "nothing was connected."
        )
    account.tokens = tokens
    account.remote_id = tokens["did"]
    handle = tokens.get("handle") or account.handle
    try:
        profile = adapter._xrpc("GET", "app.bsky.actor.getProfile", params={"actor": tokens["did"]})
    except ChannelError:
        profile = {}  # The name is a nicety: the account works without it.
    display_name = profile.get("displayName") or ""
    return (
        Profile(
            remote_id=tokens["did"],
            handle=handle,
            display_name=display_name or handle,
            url=f"https://bsky.app/profile/{handle}",
            max_characters=None,
        ),
        tokens,
        service_url,
    )


def session_tokens(data: dict, *, app_password: str = "") -> dict:
    """The tokens we keep from a createSession/refreshSession answer."""
    tokens = {
        "access_jwt": data["accessJwt"],
        "refresh_jwt": data["refreshJwt"],
        "did": data["did"],
        "handle": data.get("handle", ""),
        "app_password": app_password,
        "expires_at": jwt_expiry(data["accessJwt"]),
    }
    return {key: value for key, value in tokens.items() if value not in ("", None)}


def jwt_expiry(token: str) -> float | None:
    """The ``exp`` claim of a JWT, read without verifying: only to know when to refresh."""
    try:
        payload = token.split(".")[1]
        claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
        return float(claims["exp"])
    except (IndexError, KeyError, TypeError, ValueError):
        return None


# --- Records -----------------------------------------------------------------------------
def record_key(idempotency_key: str) -> str:
    """A TID that is the same for every send of one post, and different for every post.

    A TID is 64 bits (top bit 0: 53 bits of microseconds, 10 of clock id) written in
    13 characters of base32-sortable. Ours come from a hash of the idempotency key, with
    the time part kept before 2023 so it never claims a future date; Bluesky orders posts
    by ``createdAt``, not by their key.
    """
    digest = int.from_bytes(hashlib.sha256(idempotency_key.encode("utf-8")).digest()[:16], "big")
    microseconds = digest % _TID_TIME_CEILING
    clock_id = (digest >> 64) & 0x3FF
    number = (microseconds << 10) | clock_id
    chars = []
    for _ in range(13):
        chars.append(_TID_ALPHABET[number & 31])
        number >>= 5
    return "".join(reversed(chars))


def answer_refs(reply_ref: dict) -> dict:
    """``{root, parent}`` of an answer from the item's reference
    (``SyndicationPost.reply_to_ref``: ``{uri, cid, root: {uri, cid}}``, as collected).

    The parent is the item itself; the root is the thread's first post, which the item
    named in its own reply refs (our post, or further up). An item that is not a reply
    (a quote) is its own root. Strong refs only: a URI and a CID, nothing else is sent.
    """

    def strong(ref) -> dict | None:
        if not isinstance(ref, dict):
            return None
        uri, cid = ref.get("uri"), ref.get("cid")
        if not (isinstance(uri, str) and isinstance(cid, str) and uri.startswith("at://") and cid):
            return None
        _split_at_uri(uri)
        return {"uri": uri, "cid": cid}

    parent = strong(reply_ref)
    if parent is None:
        raise Rejected("The Bluesky post this answers has no usable reference (URI and CID).")
    return {"root": strong(reply_ref.get("root")) or parent, "parent": parent}


def images_embed(media) -> dict:
    """``app.bsky.embed.images``: each picture's blob, its alt text and its aspect ratio
    (so apps lay it out before it loads)."""
    images = []
    for attachment in media:
        image = {"alt": attachment.alt, "image": (attachment.ref or {}).get("blob")}
        if attachment.width and attachment.height:
            image["aspectRatio"] = {"width": attachment.width, "height": attachment.height}
        images.append(image)
    return {"$type": "app.bsky.embed.images", "images": images}


def shorten_links(text: str) -> tuple[str, list[dict]]:
    """``text`` with every link shown short, and the link facets of that text.

    Each facet spans the short form and points at the whole address (UTM tags and all).
    """
    shown, facets, position = "", [], 0
    for start, end, url in find_urls(text):
        shown += text[position:start]
        byte_start = len(shown.encode("utf-8"))
        shown += short_link(url)
        facets.append(
            {
                "index": {"byteStart": byte_start, "byteEnd": len(shown.encode("utf-8"))},
                "features": [{"$type": "app.bsky.richtext.facet#link", "uri": url}],
            }
        )
        position = end
    return shown + text[position:], facets


def short_link(url: str) -> str:
    """How Bluesky's app shows a link (social-app ``toShortUrl``): host and path, a path
    past 15 characters cut to 13 and ``...``. The query (our UTM tags) is not shown."""
    parts = urlsplit(url)
    path = "" if parts.path == "/" else parts.path
    if len(path) > 15:
        path = path[:13] + "..."
    return parts.netloc + path


def tag_facets(text: str) -> list[dict]:
    facets = []
    for start, end, tag in find_hashtags(text):
        byte_start, byte_end = byte_range(text, start, end)
        facets.append(
            {
                "index": {"byteStart": byte_start, "byteEnd": byte_end},
                "features": [{"$type": "app.bsky.richtext.facet#tag", "tag": tag}],
            }
        )
    return facets


def _split_at_uri(uri: str) -> tuple[str, str, str]:
    parts = uri.removeprefix("at://").split("/")
    if len(parts) != 3 or not all(parts):
        raise Rejected(f"{uri!r} is not the address of a Bluesky post.")
    return parts[0], parts[1], parts[2]


def _language() -> str:
    """The site's language as a BCP 47 tag (``en-gb`` → ``en-GB``), for ``langs``."""
    code = getattr(settings, "LANGUAGE_CODE", "en") if settings.configured else "en"
    primary, _, region = code.partition("-")
    return f"{primary}-{region.upper()}" if region else primary


def _error_name(response) -> str:
    try:
        data = response.json()
    except ValueError:
        return ""
    return data.get("error", "") if isinstance(data, dict) else ""


def _error_text(error: ChannelError) -> str:
    """The error's name when it is one of the PDS's own (``AuthenticationRequired``),
    else its status: never free text from the answer, which may be any server's."""
    try:
        data = json.loads(error.body)
    except ValueError:
        data = None
    name = data.get("error") if isinstance(data, dict) else None
    if isinstance(name, str) and _ERROR_NAME.fullmatch(name):
        return f"{name}, HTTP {error.status}"
    return f"HTTP {error.status}"


def _already_exists(error: ChannelError) -> bool:
    if error.status == 409:
        return True
    text = error.body.lower()
    return error.status == 400 and ("alreadyexists" in text or "already exists" in text)


def _blob_missing(error: ChannelError) -> bool:
    """The PDS refused the record because a blob it names is not there (any more)."""
    text = error.body.lower()
    return error.status == 400 and ("blobnotfound" in text or "could not find blob" in text)


def _record_missing(error: ChannelError) -> bool:
    text = error.body.lower()
    return error.status in (400, 404) and (
        "recordnotfound" in text or "could not locate record" in text
    )
