"""One interface for every network an account can live on.

An adapter turns a post into the network's API calls and the network's answers into
one vocabulary the publishing engine understands. Adapters never touch the database:
they get an account-like object (``network``, ``instance_url``, ``remote_id``,
``handle``, ``tokens``) and return values or raise one of the errors below, which say
*whether the post may exist now* — the question exactly-once publishing turns on.
"""

from __future__ import annotations

import datetime
import email.utils
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, ClassVar

import requests

from syndication.outbound import UNREACHABLE, OutboundRefused, guard

logger = logging.getLogger("syndication.channels")

USER_AGENT = "Storyloom/0.1 (+https://github.com/storyloom)"
DEFAULT_TIMEOUT = 10.0
BODY_EXCERPT = 300
#: The longest reason from a network's JSON error that a message repeats.
DETAIL_LENGTH = 200


# --- What a network said ---------------------------------------------------------------
class ChannelError(Exception):
    """Base of everything an adapter raises. ``message`` is for people."""

    #: True when the network may have created the post although we got no answer.
    may_have_posted: ClassVar[bool] = False
    #: True when trying again later can succeed.
    retryable: ClassVar[bool] = False

    def __init__(self, message: str, *, status: int | None = None, body: str = ""):
        super().__init__(message)
        self.message = message
        self.status = status
        self.body = body[:BODY_EXCERPT]

    def __str__(self):
        return self.message


class NotSent(ChannelError):
    """The request never reached the network (refused, DNS, connect timeout)."""

    retryable = True


class RateLimited(ChannelError):
    """The network refused for now; ``retry_after`` seconds says how long to wait."""

    retryable = True

    def __init__(self, message: str, *, retry_after: float | None = None, **kwargs):
        super().__init__(message, **kwargs)
        self.retry_after = retry_after


class Unconfirmed(ChannelError):
    """The request was sent and the answer was lost: the post may exist."""

    may_have_posted = True
    retryable = True


class Rejected(ChannelError):
    """The network refused this post for good (validation, duplicate, forbidden)."""


class AuthExpired(ChannelError):
    """The token was revoked or expired and could not be refreshed: reconnect."""


class NotAChannel(ChannelError):
    """The address given is not a server of the network it was said to be."""


class MediaGone(Rejected):
    """The create was refused because pictures uploaded earlier are no longer there
    (Mastodon deletes unattached uploads after about a day; a PDS drops blobs no record
    references): nothing was created, so they are uploaded again and the post resent."""


class MediaNotReady(NotSent):
    """The network is still processing an uploaded picture; the post tries again later."""


# --- Values ----------------------------------------------------------------------------
@dataclass(frozen=True)
class MediaUpload:
    """One picture to upload: the bytes as ``syndication.pictures.fit`` made them."""

    data: bytes
    mime: str
    width: int
    height: int
    alt: str = ""
    #: Mastodon's ``focus`` ("x,y", -1..1), "" for the centre.
    focus: str = ""
    filename: str = "picture.jpg"


@dataclass(frozen=True)
class Attachment:
    """An uploaded picture as the create call names it: the network's id, the alt text,
    and what else the network needs (Bluesky: the blob and the aspect ratio)."""

    id: str
    alt: str = ""
    width: int = 0
    height: int = 0
    ref: dict = field(default_factory=dict, compare=False, hash=False)
    #: False while the network is still processing it (Mastodon's 202).
    ready: bool = True


@dataclass(frozen=True)
class RemotePost:
    id: str
    url: str


@dataclass(frozen=True)
class PublishRequest:
    """Everything an adapter needs to create one post."""

    post_id: int
    text: str
    link: str
    idempotency_key: str
    reply_to: str = ""
    #: A marker unique to this post that appears in its published text (its own
    #: ``utm_content``), so ``find_published`` can recognise it when reading back.
    marker: str = ""
    link_title: str = ""
    link_description: str = ""
    #: When the last create for this post may have left (``request_sent_at``): a
    #: read-back looks back to before it. None for a post never sent.
    sent_at: datetime.datetime | None = None
    #: The network's reference of someone else's item this post answers
    #: (``SyndicationPost.reply_to_ref``): Mastodon ``{"id"}``, Bluesky ``{"uri", "cid",
    #: "root"}``. An answer carries no marker: it is found again by what it replies to
    #: and what it says (Mastodon) or by its record key (Bluesky).
    reply_ref: dict | None = None
    #: Uploaded pictures, in order (``syndication.uploads``).
    media: tuple[Attachment, ...] = ()
    #: The link card's thumbnail where the network takes one (Bluesky), when the post
    #: has no pictures.
    card_thumb: Attachment | None = None
    #: What the adapter made on the network on the way to this post in an earlier try
    #: and recorded (a Threads container: ``remember``), "" when nothing.
    prepared: str = ""
    #: Records such a thing the moment it exists, before anything else is sent, so a
    #: retry after a lost answer reuses it (the engine stores it on the post under its
    #: claim). None where nobody records (a check, a test).
    remember: Callable[[str], None] | None = field(default=None, compare=False, repr=False)


@dataclass
class Validation:
    length: int
    limit: int
    errors: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors

    def as_dict(self) -> dict[str, Any]:
        return {"length": self.length, "limit": self.limit, "errors": self.errors, "ok": self.ok}


@dataclass(frozen=True)
class PostMetrics:
    """What people did with one post. Never followers: the product does not collect them."""

    reposts: int = 0
    replies: int = 0
    likes: int = 0
    quotes: int = 0
    clicks: int | None = None


@dataclass(frozen=True)
class Profile:
    """Who an account is, read back from the network after connecting."""

    remote_id: str
    handle: str
    display_name: str
    url: str = ""
    max_characters: int | None = None


# --- The interface ---------------------------------------------------------------------
class ChannelAdapter:
    network: ClassVar[str]
    label: ClassVar[str]
    #: The network honours an idempotency key on create, so a resend is safe.
    honours_idempotency_key: ClassVar[bool] = False
    #: Tokens expire and can be refreshed (OAuth2 with a refresh token, Bluesky sessions).
    refreshes_tokens: ClassVar[bool] = False
    #: The beat sweep refreshes these tokens ahead of expiry. False where sessions are
    #: short and refreshed when used (Bluesky's last two hours: ahead of time would be
    #: every sweep).
    refreshes_ahead: ClassVar[bool] = True
    #: Renews the session now (stores the new tokens, raises AuthExpired when refused):
    #: given by ``tokens.ensure_fresh`` for an adapter whose network may call a session
    #: expired before its stated expiry. None when no one gave it.
    renew_session: Callable[[], None] | None = None
    default_limit: ClassVar[int]
    max_media: ClassVar[int] = 4
    #: What ``validate`` says about a post with no text, in the network's words.
    empty_message: ClassVar[str]
    #: Whether a post with no text is also measured against the limit (whitespace
    #: counts on most networks, so an empty post can be too long as well).
    measures_empty_text: ClassVar[bool] = True
    #: What the network says when it refuses a resend as a duplicate we cannot find.
    duplicate_message: ClassVar[str] = ""
    #: The adapter can send a post as a reply to someone else's item
    #: (``PublishRequest.reply_ref``): the conversation's answers.
    answers_items: ClassVar[bool] = False
    #: The network shows a link card only with a thumbnail we upload (Bluesky); others
    #: make their cards from the story page's own Open Graph image.
    takes_card_thumb: ClassVar[bool] = False

    def __init__(self, account, *, session: requests.Session | None = None, timeout=None):
        self.account = account
        self.timeout = timeout or DEFAULT_TIMEOUT
        # Whatever session the caller brings, every request goes through the guard
        # (syndication/outbound.py): refused addresses never see a byte.
        self.session = guard(session or requests.Session())
        self.session.headers["User-Agent"] = USER_AGENT

    # --- Checking a post before it is scheduled --------------------------------------
    def validate(self, text: str, media=()) -> Validation:
        """The checks every network makes, in the order people read them: empty, too
        long, the network's own (``text_errors``), then images.

        A network says how it counts (``text_length``) and words its messages
        (``empty_message``, ``too_long_message``).
        """
        length, limit = self.text_length(text), self.limit
        errors = []
        empty = not text.strip()
        if empty:
            errors.append(self.empty_message)
        if length > limit and (self.measures_empty_text or not empty):
            errors.append(self.too_long_message(length, limit))
        errors += self.text_errors(text)
        errors += self.media_errors(media)
        return Validation(length=length, limit=limit, errors=errors)

    def text_length(self, text: str) -> int:
        """How long the network considers ``text``, in the unit its limit is in."""
        raise NotImplementedError

    def too_long_message(self, length: int, limit: int) -> str:
        return f"{self.label} posts can be {limit} characters long; this one has {length}."

    def text_errors(self, text: str) -> list[str]:
        """Limits of the network's own beyond length (Bluesky's byte limit)."""
        return []

    # Each adapter implements these three and ``text_length`` (and ``refresh`` when
    # ``refreshes_tokens``).
    def publish(self, request: PublishRequest) -> RemotePost:
        raise NotImplementedError

    def find_published(self, request: PublishRequest) -> RemotePost | None:
        raise NotImplementedError

    def fetch_metrics(self, remote_ids: list[str]) -> dict[str, PostMetrics]:
        raise NotImplementedError

    def refresh(self, tokens: dict) -> dict:
        """Return new tokens for ``tokens``; raise AuthExpired when refused for good."""
        raise NotImplementedError

    # Pictures: uploaded before the create call (``syndication.uploads``), which records
    # what comes back so a retry sends the same ids.
    def upload_media(self, upload: MediaUpload) -> Attachment:
        """Upload one picture; a lost answer is NotSent (an unused upload harms nobody)."""
        raise Rejected(f"Storyloom cannot send pictures to {self.label}.")

    def media_ready(self, attachment: Attachment) -> bool:
        """Whether an upload answered "processing" is ready now; MediaGone when the
        network no longer has it."""
        return True

    @property
    def limit(self) -> int:
        return getattr(self.account, "max_characters", None) or self.default_limit

    def media_errors(self, media) -> list[str]:
        if len(media) > self.max_media:
            return [f"{self.label} takes at most {self.max_media} images per post."]
        return []

    # --- A resend the network recognised ----------------------------------------------
    def find_published_or_none(self, request: PublishRequest) -> RemotePost | None:
        """``find_published``, with a failure to look counted as not found."""
        try:
            return self.find_published(request)
        except ChannelError:
            return None

    def _duplicate(self, request: PublishRequest, error: Rejected) -> RemotePost:
        """The network refused ``request`` as a duplicate of a post on the account: a
        resend of ours, whose earlier post is the one to keep when we can find it."""
        found = self.find_published_or_none(request)
        if found is None:
            found = self.duplicate_named(request, error)
        if found is not None:
            return found
        raise Rejected(self.duplicate_message, status=error.status, body=error.body) from error

    def duplicate_named(self, request: PublishRequest, error: Rejected) -> RemotePost | None:
        """The earlier post as the refusal names it, when the network says which."""
        return None

    # --- HTTP with the engine's error vocabulary -------------------------------------
    def request(self, method: str, url: str, *, creates: bool = False, **kwargs):
        """Send one request and classify what went wrong.

        ``creates`` marks a call that makes something on the network: once such a
        request may have left this machine, a lost answer is ``Unconfirmed``, never a
        plain failure, so nobody retries it blindly.
        """
        kwargs.setdefault("timeout", self.timeout)
        try:
            response = self.session.request(method, url, **kwargs)
        except (
            OutboundRefused,
            requests.ConnectTimeout,
            requests.exceptions.InvalidURL,
            requests.exceptions.InvalidSchema,
            requests.exceptions.MissingSchema,
        ) as exc:
            # One message for a refused address, a closed port, a name that does not
            # resolve and a silent host: none may be told apart. Detail goes to the log.
            _log_failure(self.label, exc)
            raise NotSent(UNREACHABLE) from exc
        except requests.ConnectionError as exc:
            _log_failure(self.label, exc)
            if _never_connected(exc):
                raise NotSent(UNREACHABLE) from exc
            if creates:
                raise Unconfirmed(
                    f"The connection to {self.label} dropped after the post was sent; "
                    "checking whether it was published."
                ) from exc
            raise NotSent(f"Lost the connection to {self.label}.") from exc
        except requests.Timeout as exc:
            cls = _lost(creates)
            raise cls(
                f"{self.label} did not answer within {self.timeout:g} s"
                + ("; checking whether the post was published." if creates else ".")
            ) from exc
        except requests.RequestException as exc:  # too many redirects, a broken answer
            _log_failure(self.label, exc)
            cls = _lost(creates)
            raise cls(
                f"{self.label} did not answer properly"
                + ("; checking whether the post was published." if creates else ".")
            ) from exc
        return self.check(response, creates=creates)

    def check(self, response: requests.Response, *, creates: bool = False):
        status = response.status_code
        if status < 400:
            return response
        body = response.text[:BODY_EXCERPT]
        detail = self.error_detail(response)
        if status == 429:
            raise RateLimited(
                f"{self.label} rate limit reached{': ' + detail if detail else ''}.",
                retry_after=retry_after_seconds(response.headers),
                status=status,
                body=body,
            )
        if status == 401:
            raise AuthExpired(
                f"{self.label} no longer accepts this account's token ({detail or 'HTTP 401'}); "
                "reconnect the account.",
                status=status,
                body=body,
            )
        if status >= 500:
            cls = _lost(creates)
            raise cls(
                f"{self.label} had a server error (HTTP {status})"
                + ("; checking whether the post was published." if creates else "."),
                status=status,
                body=body,
            )
        raise Rejected(
            f"{self.label} refused the request (HTTP {status}): {detail or 'no reason given'}.",
            status=status,
            body=body,
        )

    def error_detail(self, response: requests.Response) -> str:
        """The reason a network's API gave in its JSON error, for people to read.

        Only a JSON API's own error field, shortened: an answer that is not the API's
        JSON (a proxy's page, some other server) is never repeated.
        """
        try:
            data = response.json()
        except ValueError:
            return ""
        if isinstance(data, dict):
            for key in ("error_description", "error", "message", "detail"):
                if isinstance(data.get(key), str):
                    return " ".join(data[key].split())[:DETAIL_LENGTH]
        return ""


def _lost(creates: bool):
    return Unconfirmed if creates else NotSent


def _never_connected(exc: requests.ConnectionError) -> bool:
    """True when the failure happened before any byte of the request was sent."""
    text = repr(exc)
    return any(
        marker in text
        for marker in ("NewConnectionError", "Connection refused", "NameResolutionError")
    )


def _log_failure(label: str, exc: Exception) -> None:
    logger.warning("Request to %s failed: %r", label, exc)


def retry_after_seconds(headers, now: float | None = None) -> float | None:
    """Seconds to wait from ``Retry-After`` (seconds or HTTP date) or rate-limit reset headers."""
    value = headers.get("Retry-After")
    now = time.time() if now is None else now
    if value:
        value = value.strip()
        if value.isdigit():
            return float(value)
        parsed = email.utils.parsedate_to_datetime(value) if value else None
        if parsed is not None:
            return max(0.0, parsed.timestamp() - now)
    for name in ("X-RateLimit-Reset", "x-rate-limit-reset", "RateLimit-Reset"):
        reset = headers.get(name)
        if not reset:
            continue
        reset = reset.strip()
        if reset.isdigit():
            number = float(reset)
            # Epoch seconds (X) or seconds from now (IETF draft).
            return max(0.0, number - now) if number > 10**9 else number
        try:
            from datetime import datetime

            return max(0.0, datetime.fromisoformat(reset.replace("Z", "+00:00")).timestamp() - now)
        except ValueError:
            continue
    return None
