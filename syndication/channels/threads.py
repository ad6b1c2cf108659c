"""Threads (Meta): posts through the Threads API at graph.threads.net, version ``v1.0``.

Signing in is OAuth 2 (authorization code) with requests-oauthlib, at
``THREADS_AUTHORIZE_URL`` (threads.net/oauth/authorize; Meta now also names
threads.com). The code buys a short-lived token (1 hour) at ``/oauth/access_token``;
``th_exchange_token`` makes it a long-lived one (60 days), and ``th_refresh_token``
renews that for another 60 days once it is a day old. The beat sweep
(``tokens.refresh_expiring``) refreshes it in its last hours; a token left to lapse is
lost and the account must be reconnected. Permissions asked: ``threads_basic``,
``threads_content_publish``, ``threads_manage_replies``, ``threads_read_replies`` and
``threads_manage_insights``. Threads has no refresh token: the access token itself is
what is refreshed.

Publishing is two steps: ``POST /{user-id}/threads`` makes a *container* (TEXT with the
text and, when the post has no picture, a ``link_attachment`` preview card; or IMAGE
with an ``image_url`` Meta fetches), then ``POST /{user-id}/threads_publish?
creation_id=…`` publishes it. The container is invisible and can be published once, so
its id is the key that keeps a retry from publishing twice:

* the container id is recorded the moment it arrives (``PublishRequest.remember``, which
  the engine stores on the post before anything else happens);
* a retry (``PublishRequest.prepared``) asks the container first: PUBLISHED means the
  post exists (found again by reading back, never published anew), FINISHED or
  IN_PROGRESS means it is published now (or once ready), EXPIRED (24 hours unpublished)
  or ERROR means a new container;
* a lost answer to a container's creation is only "not sent": nobody can publish a
  container whose id we never had, and Meta drops it after a day.

Before publishing, the container is asked for its status a few times within the HTTP
timeout (Meta suggests about 30 s for media and polling at most once a minute for five
minutes: that is the engine's retry, not a worker blocked for minutes). Text containers
are ready at once.

Pictures: one per post, as an IMAGE container. Meta fetches ``image_url`` from a public
address, so "uploading" stores the fitted JPEG in the site's media storage under a name
made of its hash and hands Meta its absolute address (``WAGTAILADMIN_BASE_URL`` +
``MEDIA_URL`` when the storage gives a relative one).

Errors come as Graph API errors, whatever the HTTP status: 190 token (reconnect), 10 and
200-299 permission (reconnect granting it), 4/17/32/613 throttling and 9 with subcode
2207042 the 250-posts-a-day limit (rate limited), 1 and 2 Meta's own failures
(retry; "unconfirmed" on ``threads_publish``), anything else refused.

Metrics are a post's insights: likes, replies, reposts and quotes. Never followers.
"""

from __future__ import annotations

import hashlib
import json
import time
from urllib.parse import urljoin

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

import regex
import requests
from oauthlib.oauth2 import OAuth2Error
from requests_oauthlib import OAuth2Session

from syndication.outbound import UNREACHABLE, guard

from . import meta_graph
from .base import (
    DETAIL_LENGTH,
    Attachment,
    AuthExpired,
    ChannelAdapter,
    ChannelError,
    MediaNotReady,
    MediaUpload,
    NotSent,
    PostMetrics,
    Profile,
    PublishRequest,
    RateLimited,
    Rejected,
    RemotePost,
    Unconfirmed,
    retry_after_seconds,
)
from .meta_graph import describe, graph_error, raise_graph_error, refusal
from .text import contains_marker, find_urls

DEFAULT_GRAPH_URL = "https://graph.threads.net"
DEFAULT_AUTHORIZE_URL = "https://threads.net/oauth/authorize"
DEFAULT_API_VERSION = "v1.0"
SCOPES = (
    "threads_basic",
    "threads_content_publish",
    "threads_manage_replies",
    "threads_read_replies",
    "threads_manage_insights",
)
METRICS = ("likes", "replies", "reposts", "quotes")
#: How many of the profile's newest threads ``find_published`` reads back.
FIND_COUNT = 50
#: What a recorded container id looks like on the post (``SyndicationPost.remote_id``
#: until the post is published).
CONTAINER_PREFIX = "threads-container:"
TEXT_LIMIT = 500
LINK_LIMIT = 5
ALT_LIMIT = 1000
#: Threads' own Graph errors (the shared ones are ``meta_graph``'s).
PUBLISHING_LIMIT_SUBCODE = 2207042
ALREADY_PUBLISHED_SUBCODE = 4279009
#: A day, when the 24-hour publishing limit is reached and Meta says no more.
LIMIT_PAUSE = 3600.0
WORDING = meta_graph.Wording(
    expired="Threads no longer accepts this account's token: {detail}; reconnect it.",
    permission=(
        "Threads refused for want of a permission: {detail}; reconnect the account "
        "and allow everything Storyloom asks for."
    ),
    throttled="Threads rate limit reached: {detail}.",
    transient="Threads had a server error: {detail}{checking}",
    refused="Threads refused the request: {detail}.",
)

_EMOJI = regex.compile(r"[\p{Emoji_Presentation}\p{Extended_Pictographic}\uFE0F\u200D]")


class ThreadsAdapter(ChannelAdapter):
    network = "threads"
    label = "Threads"
    # The container is the key (see the module docstring), but nothing documents that
    # Meta refuses a second ``threads_publish`` of one container while the first is in
    # flight, so the engine keeps its settle delay before a resend.
    honours_idempotency_key = False
    refreshes_tokens = True
    default_limit = TEXT_LIMIT
    max_media = 1
    empty_message = "Write something: a thread needs text."
    answers_items = True

    # --- Checking ----------------------------------------------------------------------
    def text_length(self, text: str) -> int:
        # Threads: 500 characters, emoji counted by their UTF-8 bytes.
        return sum(len(char.encode()) if _EMOJI.match(char) else 1 for char in text)

    def too_long_message(self, length: int, limit: int) -> str:
        return (
            f"Threads posts can be {limit} characters long (an emoji counts as its UTF-8 "
            f"bytes, up to 4); this one counts {length}."
        )

    def text_errors(self, text: str) -> list[str]:
        links = {url for _start, _end, url in find_urls(text)}
        if len(links) > LINK_LIMIT:
            return [
                f"Threads takes at most {LINK_LIMIT} links in a post; this one has {len(links)}."
            ]
        return []

    # --- Publishing --------------------------------------------------------------------
    def publish(self, request: PublishRequest) -> RemotePost:
        body = self.container_body(request)
        container, made_for = _container_id(request.prepared)
        if container:
            status = self.container_status(container)
            if status == "PUBLISHED":
                found = self.find_published(request) if request.marker else None
                if found is not None:
                    return found
                raise Unconfirmed(
                    "Threads says this post's container was published, but the post is not "
                    "among the profile's newest threads yet; looking again later."
                )
            if status in ("EXPIRED", "ERROR") or (made_for and made_for != _digest(body)):
                # Never published: expired, failed, or made for words since edited (a
                # person changed a failed post and retried it).
                container = ""
        if not container:
            container = self.create_container(request)
            if request.remember is not None:
                request.remember(f"{CONTAINER_PREFIX}{container}:{_digest(body)}")
        self.wait_until_finished(container)
        try:
            response = self._graph(
                "POST",
                f"/{self.account.remote_id}/threads_publish",
                data={"creation_id": container},
                creates=True,
            )
        except Rejected as error:
            if getattr(error, "graph_subcode", None) == ALREADY_PUBLISHED_SUBCODE:
                found = self.find_published(request) if request.marker else None
                if found is not None:
                    return found
                raise Unconfirmed(
                    "Threads says this post was published already; looking for it."
                ) from error
            raise
        try:
            media_id = str(response.json()["id"])
        except (ValueError, KeyError, TypeError):
            raise Unconfirmed(
                "Threads published the post without saying its id; looking it up.",
                status=response.status_code,
                body=response.text,
            ) from None
        return self.remote_post(media_id)

    def container_body(self, request: PublishRequest) -> dict:
        body = {"text": request.text}
        if request.media:
            picture = request.media[0]
            body.update(media_type="IMAGE", image_url=picture.id)
            if picture.alt:
                body["alt_text"] = picture.alt[:ALT_LIMIT]
        else:
            body["media_type"] = "TEXT"
            if request.link and not request.reply_to and not request.reply_ref:
                body["link_attachment"] = request.link
        reply_to = request.reply_to or (request.reply_ref or {}).get("id", "")
        if reply_to:
            body["reply_to_id"] = reply_to
        return body

    def create_container(self, request: PublishRequest) -> str:
        """A new container; a lost answer is NotSent (only we could publish it)."""
        response = self._graph(
            "POST", f"/{self.account.remote_id}/threads", data=self.container_body(request)
        )
        try:
            return str(response.json()["id"])
        except (ValueError, KeyError, TypeError):
            raise NotSent("Threads answered without the new container's id.") from None

    def container_status(self, container: str) -> str:
        data = self._graph("GET", f"/{container}", params={"fields": "status,error_message"}).json()
        status = str(data.get("status") or "")
        if status == "ERROR":
            self._container_error = str(data.get("error_message") or "")[:DETAIL_LENGTH]
        return status

    def wait_until_finished(self, container: str) -> None:
        """Ask the container's status, a few times within the HTTP timeout."""
        polls = int(getattr(settings, "SYNDICATION_MEDIA_POLLS", 10))
        deadline = time.monotonic() + self.timeout
        pause = 0.2
        for _ in range(max(1, polls)):
            status = self.container_status(container)
            if status == "FINISHED":
                return
            if status == "PUBLISHED":
                return  # threads_publish will say so, and the post is found again
            if status == "ERROR":
                reason = getattr(self, "_container_error", "") or "no reason given"
                raise Rejected(f"Threads could not prepare the post ({reason}).")
            if status == "EXPIRED":
                raise NotSent(
                    "The Threads container expired before it was published; "
                    "a new one is made on the next try."
                )
            if time.monotonic() + pause > deadline:
                break
            time.sleep(pause)
            pause = min(pause * 2, 2.0)
        raise MediaNotReady(
            "Threads is still preparing the post (its picture is being fetched); it is "
            "published once ready."
        )

    def upload_media(self, upload: MediaUpload) -> Attachment:
        """Put the picture where Meta can fetch it: the site's media storage, by hash."""
        from django.core.files.base import ContentFile
        from django.core.files.storage import default_storage

        digest = hashlib.sha256(upload.data).hexdigest()[:32]
        name = f"syndication/threads/{digest}.jpg"
        try:
            if not default_storage.exists(name):
                name = default_storage.save(name, ContentFile(upload.data))
            address = default_storage.url(name)
        except OSError as error:
            raise NotSent(f"Could not store the picture for Threads to fetch: {error}") from error
        address = urljoin(_setting("WAGTAILADMIN_BASE_URL").rstrip("/") + "/", address)
        if not address.startswith(("https://", "http://")):
            raise Rejected(
                "Threads fetches pictures from this site's public address: set "
                "WAGTAILADMIN_BASE_URL to it."
            )
        return Attachment(id=address, alt=upload.alt, width=upload.width, height=upload.height)

    def find_published(self, request: PublishRequest) -> RemotePost | None:
        """The profile's newest threads, read back, matched by the post's marker (in its
        text or its link card); an answer by what it replies to and what it says."""
        if request.reply_ref:
            return self._find_answer(request)
        if not request.marker:
            return None
        params = {"fields": "id,text,permalink,timestamp,link_attachment_url", "limit": FIND_COUNT}
        if request.sent_at is not None:
            params["since"] = int(request.sent_at.timestamp()) - 300
        data = self._graph("GET", f"/{self.account.remote_id}/threads", params=params).json()
        for post in data.get("data") or []:
            texts = (post.get("text") or "", post.get("link_attachment_url") or "")
            if any(contains_marker(text, request.marker) for text in texts):
                return RemotePost(id=str(post["id"]), url=post.get("permalink") or self.fallback)
        return None

    def _find_answer(self, request: PublishRequest) -> RemotePost | None:
        parent = (request.reply_ref or {}).get("id", "")
        if not parent:
            return None
        fields = "id,text,permalink,is_reply_owned_by_me,username"
        data = self._graph("GET", f"/{parent}/replies", params={"fields": fields}).json()
        for reply in data.get("data") or []:
            mine = reply.get("is_reply_owned_by_me") or reply.get("username") == self.handle
            if mine and (reply.get("text") or "").strip() == request.text.strip():
                return RemotePost(id=str(reply["id"]), url=reply.get("permalink") or self.fallback)
        return None

    def remote_post(self, media_id: str) -> RemotePost:
        """The published post with its permalink (its shortcode is not its id); the
        profile's address when the permalink cannot be read now."""
        try:
            data = self._graph("GET", f"/{media_id}", params={"fields": "permalink"}).json()
            url = str(data.get("permalink") or "")
        except ChannelError:
            url = ""
        return RemotePost(id=media_id, url=url or self.fallback)

    @property
    def handle(self) -> str:
        return (self.account.handle or "").lstrip("@")

    @property
    def fallback(self) -> str:
        return (
            f"https://www.threads.com/@{self.handle}" if self.handle else "https://www.threads.com/"
        )

    # --- Metrics -----------------------------------------------------------------------
    def fetch_metrics(self, remote_ids: list[str]) -> dict[str, PostMetrics]:
        """Each post's insights (one call per post: Threads has no batch read)."""
        metrics = {}
        for media_id in remote_ids:
            try:
                response = self._graph(
                    "GET", f"/{media_id}/insights", params={"metric": ",".join(METRICS)}
                )
            except Rejected as error:
                if getattr(error, "graph_code", None) == 100:  # deleted, or not ours any more
                    continue
                raise
            values = {}
            for item in response.json().get("data") or []:
                points = item.get("values") or [{}]
                values[item.get("name")] = int(points[0].get("value") or 0)
            metrics[media_id] = PostMetrics(
                likes=values.get("likes", 0),
                replies=values.get("replies", 0),
                reposts=values.get("reposts", 0),
                quotes=values.get("quotes", 0),
                clicks=None,
            )
        return metrics

    # --- Tokens ------------------------------------------------------------------------
    def refresh(self, tokens: dict) -> dict:
        """``th_refresh_token``: another 60 days for a long-lived token a day old or more."""
        try:
            response = self.request(
                "GET",
                graph_url() + "/refresh_access_token",
                params={
                    "grant_type": "th_refresh_token",
                    "access_token": tokens.get("access_token", ""),
                },
            )
        except (AuthExpired, Rejected) as error:
            raise AuthExpired(
                f"Threads refused to refresh the token ({error.message}); reconnect the account.",
                status=error.status,
                body=error.body,
            ) from error
        return token_dict(response.json(), previous=tokens)

    # --- HTTP --------------------------------------------------------------------------
    def _graph(self, method: str, path: str, *, creates: bool = False, **kwargs):
        token = self.account.tokens.get("access_token", "")
        headers = {"Authorization": f"Bearer {token}", **kwargs.pop("headers", {})}
        url = f"{graph_url()}/{api_version()}{path}"
        return self.request(method, url, creates=creates, headers=headers, **kwargs)

    def check(self, response: requests.Response, *, creates: bool = False):
        """Graph errors by their code, whatever HTTP status carries them (``meta_graph``)."""
        if response.status_code < 400:
            return response
        error = graph_error(response)
        if error is None:
            return super().check(response, creates=creates)
        code, subcode = error.get("code"), error.get("error_subcode")
        if code == 10 and subcode == ALREADY_PUBLISHED_SUBCODE:
            raise refusal(Rejected, f"Threads refused: {describe(error)}.", response, error)
        wait = retry_after_seconds(response.headers)
        if subcode == PUBLISHING_LIMIT_SUBCODE:
            message = f"Threads' daily publishing limit reached: {describe(error)}."
            raise refusal(RateLimited, message, response, error, retry_after=wait or LIMIT_PAUSE)
        raise_graph_error(response, error, WORDING, creates=creates, retry_after=wait)


def _container_id(prepared: str) -> tuple[str, str]:
    """The kept container's id and the digest of what it was made with, or ``("", "")``."""
    prepared = prepared or ""
    if not prepared.startswith(CONTAINER_PREFIX):
        return "", ""
    container, _, made_for = prepared[len(CONTAINER_PREFIX) :].partition(":")
    return container, made_for


def _digest(body: dict) -> str:
    """What a container was made with, in 12 hex digits."""
    return hashlib.sha256(json.dumps(body, sort_keys=True).encode()).hexdigest()[:12]


def token_dict(answer: dict, previous: dict | None = None) -> dict:
    """What we keep of a token answer: the token, when it ends, the user id."""
    previous = previous or {}
    tokens = {
        "access_token": answer["access_token"],
        "expires_at": time.time() + float(answer["expires_in"])
        if answer.get("expires_in")
        else None,
        "user_id": str(answer.get("user_id") or previous.get("user_id") or ""),
    }
    return {key: value for key, value in tokens.items() if value not in ("", None)}


# --- Settings ----------------------------------------------------------------------------
def _setting(name: str) -> str:
    return (getattr(settings, name, "") or "") if settings.configured else ""


def graph_url() -> str:
    return (_setting("THREADS_GRAPH_URL") or DEFAULT_GRAPH_URL).rstrip("/")


def authorize_url() -> str:
    return _setting("THREADS_AUTHORIZE_URL") or DEFAULT_AUTHORIZE_URL


def api_version() -> str:
    return _setting("THREADS_API_VERSION") or DEFAULT_API_VERSION


def _client_credentials(error_class) -> tuple[str, str]:
    app_id, secret = _setting("THREADS_APP_ID"), _setting("THREADS_APP_SECRET")
    if not app_id or not secret:
        raise error_class(
            "Threads is not set up on this site: set THREADS_APP_ID and THREADS_APP_SECRET "
            "(the Threads app ID and secret of the Meta app, not the Facebook ones)."
        )
    return app_id, secret


# --- Connecting --------------------------------------------------------------------------
def authorization(redirect_uri: str, state: str | None = None) -> tuple[str, str]:
    """The Threads consent address to send a person to, and the state to check on return."""
    app_id, _secret = _client_credentials(ImproperlyConfigured)
    # Meta's examples list the scopes comma-separated.
    scope = ",".join(SCOPES)
    oauth = guard(OAuth2Session(app_id, redirect_uri=redirect_uri, scope=scope, state=state))
    url, state = oauth.authorization_url(authorize_url())
    return url, state


def finish(redirect_uri: str, code: str, *, timeout=None) -> tuple[Profile, dict]:
    """Code → short-lived token (requests-oauthlib) → long-lived token → who signed in."""
    app_id, secret = _client_credentials(ImproperlyConfigured)
    checker = ThreadsAdapter(_Connecting(), timeout=timeout)
    oauth = guard(OAuth2Session(app_id, redirect_uri=redirect_uri))
    oauth.register_compliance_hook("access_token_response", _bearer(checker))
    try:
        short = oauth.fetch_token(
            graph_url() + "/oauth/access_token",
            code=code,
            client_secret=secret,
            include_client_id=True,
            timeout=checker.timeout,
        )
    except (Rejected, AuthExpired, OAuth2Error) as error:
        reason = getattr(error, "message", "") or getattr(error, "description", "") or str(error)
        raise AuthExpired(
            f"Threads did not accept the sign-in ({reason}); try connecting again."
        ) from error
    except requests.RequestException as error:
        raise NotSent(UNREACHABLE) from error
    response = checker.request(
        "GET",
        graph_url() + "/access_token",
        params={
            "grant_type": "th_exchange_token",
            "client_secret": secret,
            "access_token": short["access_token"],
        },
    )
    tokens = token_dict(response.json(), previous={"user_id": short.get("user_id")})
    checker.account.tokens = tokens
    me = checker._graph("GET", "/me", params={"fields": "id,username,name"}).json()
    username = str(me["username"])
    profile = Profile(
        remote_id=str(me["id"]),
        handle=f"@{username}",
        display_name=me.get("name") or username,
        url=f"https://www.threads.com/@{username}",
        max_characters=TEXT_LIMIT,
    )
    return profile, tokens


def _bearer(checker: ThreadsAdapter):
    """Classify the token endpoint's errors, and add the ``token_type`` oauthlib wants
    (Threads answers ``{access_token, user_id}`` only)."""

    def hook(response):
        checker.check(response)
        try:
            data = response.json()
        except ValueError:
            return response
        if isinstance(data, dict) and "access_token" in data and "token_type" not in data:
            data["token_type"] = "Bearer"  # noqa: S105 (a token type, not a secret)
            data["user_id"] = str(data.get("user_id") or "")
            response._content = json.dumps(data).encode()
        return response

    return hook


class _Connecting:
    """The account-like object for calls made while connecting, before an account exists."""

    network = "threads"
    instance_url = ""
    remote_id = ""
    handle = ""
    max_characters = None

    def __init__(self):
        self.tokens = {}
