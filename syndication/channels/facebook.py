"""Facebook Pages: posts to a Page through the Graph API, as the Page.

Signing in is Facebook Login's code flow (requests-oauthlib): the person approves
Storyloom and picks the Pages it may use in Facebook's dialog; the code becomes a
short-lived user token, exchanged at once (``grant_type=fb_exchange_token``) for a
long-lived one (about 60 days), with which ``/me/accounts`` lists the Pages and gives
each its own Page token. Each Page chosen becomes one account holding its Page token;
the user token is not kept. When a Page token expires is read from ``/debug_token``
(``expires_at``, 0 for never), not assumed: Meta's own pages disagree. Page tokens
cannot be refreshed: an expired or invalidated one (error 190) means reconnecting.

Permissions asked for (``SCOPES``): ``pages_show_list``, ``pages_manage_posts``,
``pages_read_engagement``, plus ``pages_manage_engagement`` and
``pages_read_user_engagement`` for the comments of the conversation inbox. Never
``page_follows*``, ``fan_count`` or ``followers_count``: the product counts what people
did with a post, not how many people follow a Page.

Publishing: a link post is ``POST /{page-id}/feed`` with ``message`` and ``link`` (the
preview card comes from the story page's Open Graph tags). A photo post uploads each
picture first, unpublished (``POST /{page-id}/photos``, ``published=false``, with its
alt text in ``alt_text_custom``), then names them in the feed post's
``attached_media``: the upload shows nobody anything, so a lost answer to it is only
"not sent". The create asks for ``fields=id,permalink_url`` (read-after-write) so one
answer carries the post's address.

Exactly once: Graph has no idempotency key, and since v3.3 a post no longer reads back
its ``link``. So the message itself always carries the story link with its
``utm_content=<post id>`` marker (appended when the text has no link to it), and after
a lost answer ``find_published`` reads the Page's ``published_posts`` from shortly
before the create was sent and finds the post by that marker. Error 506 (the same
message as the Page's previous post) on a resend is our own earlier post, looked up
the same way.

Errors are read from Graph's body, not the HTTP status (Graph answers throttling and
expired tokens with 400 or 403): 190 → AuthExpired; 4, 17, 32, 613, 80001 → RateLimited
(``estimated_time_to_regain_access`` from ``X-Business-Use-Case-Usage`` as the wait); 1
and 2 (transient) → NotSent, or Unconfirmed on a create; 10 and 200-299 (a permission
or Page task missing) → AuthExpired, since only reconnecting can grant it; anything
else → Rejected.

Answering a comment from the conversation inbox (``pages_manage_engagement``): ``POST
/{comment-id}/comments`` as the Page, under the thread's top comment (Facebook's
comments are two levels deep). After a lost answer, the replies under that comment are
read for the Page's own with the same text.

Metrics per post (``GET /{post-id}``): reactions → likes, comments → replies, shares →
reposts. Link clicks need Page Insights (``post_clicks``), which this adapter does not
read: clicks come from our own UTM-tagged arrivals.
"""

from __future__ import annotations

import datetime
import hashlib
import hmac
import json
import re
import time
from dataclasses import dataclass
from urllib.parse import urlsplit

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

import requests
from oauthlib.oauth2 import OAuth2Error
from requests_oauthlib import OAuth2Session

from syndication.outbound import UNREACHABLE, guard

from . import meta_graph
from .base import (
    Attachment,
    AuthExpired,
    ChannelAdapter,
    ChannelError,
    MediaGone,
    MediaUpload,
    NotSent,
    PostMetrics,
    Profile,
    PublishRequest,
    Rejected,
    RemotePost,
    Unconfirmed,
    retry_after_seconds,
)
from .meta_graph import graph_error, raise_graph_error
from .text import contains_marker

DEFAULT_GRAPH_URL = "https://graph.facebook.com"
DEFAULT_DIALOG_URL = "https://www.facebook.com"
DEFAULT_API_VERSION = "v25.0"
SCOPES = (
    "pages_show_list",
    "pages_manage_posts",
    "pages_read_engagement",
    "pages_manage_engagement",
    "pages_read_user_engagement",
)
#: The Page task without which nothing can be posted.
POSTING_TASK = "CREATE_CONTENT"
#: Graph's limit on a Page post's message.
MESSAGE_LIMIT = 63206
#: Posts per page of ``published_posts`` (Graph's maximum) and pages read back at most.
READ_BACK = 100
READ_BACK_PAGES = 10
#: How far before ``sent_at`` the read-back starts: clocks differ.
CLOCK_SKEW = datetime.timedelta(minutes=5)
POST_FIELDS = "id,permalink_url"
METRIC_FIELDS = ",".join(
    (
        "reactions.summary(total_count).limit(0)",
        # Every comment, replies to comments included (the default counts top level only).
        "comments.filter(stream).summary(total_count).limit(0)",
        "shares",
    )
)
#: Graph's throttling codes and 341 (a Page's own posting limit).
THROTTLE_CODES = meta_graph.THROTTLE_CODES | {341}
WORDING = meta_graph.Wording(
    expired="Facebook no longer accepts this Page's token: {detail}; reconnect the Page.",
    permission=(
        "Facebook refused: {detail}. The Page's token lacks a permission or the person who "
        "connected it lost the Page task; reconnect the Page."
    ),
    throttled="Facebook rate limit reached: {detail}.",
    transient="Facebook had a temporary error: {detail}{checking}",
    refused="Facebook refused the request: {detail}.",
)
#: The post does not exist (deleted), or cannot be loaded with this token.
GONE_SUBCODES = {33}
#: A Page post's or a comment's id: ``{page or post id}_{id}``.
_COMMENT_ID = re.compile(r"\d{1,30}_\d{1,30}")


class FacebookAdapter(ChannelAdapter):
    network = "facebook"
    label = "Facebook"
    honours_idempotency_key = False
    refreshes_tokens = False
    default_limit = MESSAGE_LIMIT
    max_media = 4
    answers_items = True
    empty_message = "Write something: a Facebook Page post needs a message."
    duplicate_message = (
        "Facebook refused this post as a duplicate of the Page's previous post (error 506); "
        "change the text to post it again."
    )

    def text_length(self, text: str) -> int:
        return len(text)

    # --- Addresses ---------------------------------------------------------------------
    @property
    def page_id(self) -> str:
        return self.account.remote_id

    def graph(self, path: str) -> str:
        return f"{graph_url()}/{api_version()}/{path.lstrip('/')}"

    # --- Publishing --------------------------------------------------------------------
    def message(self, request: PublishRequest) -> str:
        """The text as sent: it always carries the marker, so the post can be found."""
        text = request.text
        if request.marker and request.link and not contains_marker(text, request.marker):
            text = f"{text}\n\n{request.link}".strip()
        return text

    def publish(self, request: PublishRequest) -> RemotePost:
        if request.reply_ref:
            return self._answer(request)
        data = {"message": self.message(request), "fields": POST_FIELDS}
        if request.media:
            for number, picture in enumerate(request.media):
                data[f"attached_media[{number}]"] = json.dumps({"media_fbid": picture.id})
        elif request.link:
            data["link"] = request.link
        try:
            response = self._graph("POST", f"{self.page_id}/feed", data=data, creates=True)
        except Rejected as error:
            code = getattr(error, "graph_code", None)
            if code == 506:
                return self._duplicate(request, error)
            if request.media and code == 100 and "media_fbid" in error.message:
                raise MediaGone(
                    "Facebook no longer has the pictures uploaded earlier; uploading them again.",
                    status=error.status,
                    body=error.body,
                ) from error
            raise
        answer = _json(response)
        post_id = str(answer.get("id") or "")
        if not post_id:
            raise Unconfirmed(
                "Facebook accepted the post without saying its id; looking it up.",
                status=response.status_code,
            )
        return remote_post(post_id, answer.get("permalink_url", ""))

    def upload_media(self, upload: MediaUpload) -> Attachment:
        """An unpublished Page photo, for the feed post's ``attached_media``."""
        data = {"published": "false"}
        if upload.alt:
            data["alt_text_custom"] = upload.alt
        response = self._graph(
            "POST",
            f"{self.page_id}/photos",
            data=data,
            files={"source": (upload.filename, upload.data, upload.mime)},
        )
        photo_id = str(_json(response).get("id") or "")
        if not photo_id.isdigit():
            raise NotSent("Facebook answered the upload without a photo id.")
        return Attachment(id=photo_id, alt=upload.alt, width=upload.width, height=upload.height)

    def find_published(self, request: PublishRequest) -> RemotePost | None:
        """The Page's post carrying ``request``'s marker, read back newest first from
        shortly before the create was sent; None once read to there without it."""
        if request.reply_ref:
            return self._answer_under(request)
        if not request.marker:
            return None
        params = {"fields": "id,message,created_time,permalink_url", "limit": READ_BACK}
        if request.sent_at:
            params["since"] = int((request.sent_at - CLOCK_SKEW).timestamp())
        url, seen = self.graph(f"{self.page_id}/published_posts"), 0
        give_up = time.monotonic() + self.timeout
        for page in range(READ_BACK_PAGES if request.sent_at else 1):
            if page and time.monotonic() > give_up:
                break
            answer = _json(self._graph("GET", url, params=params, absolute=True))
            posts = [post for post in answer.get("data") or [] if isinstance(post, dict)]
            for post in posts:
                if contains_marker(str(post.get("message") or ""), request.marker):
                    return remote_post(str(post["id"]), post.get("permalink_url", ""))
            seen += len(posts)
            following = ((answer.get("paging") or {}).get("next")) or ""
            if not following or not request.sent_at:
                return None
            if not _same_graph(following):
                raise Unconfirmed("Facebook's next page of posts points elsewhere; not followed.")
            url, params = following, None
        raise Unconfirmed(
            f"Read back {seen} posts of the Page without reaching the time the post was "
            "sent; it cannot be settled safely by reading back."
        )

    # --- Answering a comment (the conversation inbox) ---------------------------------
    def _answer(self, request: PublishRequest) -> RemotePost:
        """A reply, as the Page, under the comment being answered (under its thread's
        top comment for a reply: Facebook's comments are two levels deep)."""
        thread = answer_thread(request.reply_ref)
        response = self._graph(
            "POST", f"{thread}/comments", data={"message": request.text}, creates=True
        )
        comment_id = str(_json(response).get("id") or "")
        if not _COMMENT_ID.fullmatch(comment_id):
            raise Unconfirmed(
                "Facebook accepted the answer without saying its id; looking it up.",
                status=response.status_code,
            )
        return comment_post(comment_id, request.reply_ref)

    def _answer_under(self, request: PublishRequest) -> RemotePost | None:
        """Our answer among the replies under the comment: the Page's, saying the same."""
        thread = answer_thread(request.reply_ref)
        params = {"fields": "id,message,from{id}", "limit": READ_BACK, "filter": "toplevel"}
        url = self.graph(f"{thread}/comments")
        for _ in range(READ_BACK_PAGES):
            answer = _json(self._graph("GET", url, params=params, absolute=True))
            for comment in answer.get("data") or []:
                if not isinstance(comment, dict):
                    continue
                author = comment.get("from") if isinstance(comment.get("from"), dict) else {}
                said = str(comment.get("message") or "").strip()
                if str(author.get("id") or "") == self.page_id and said == request.text.strip():
                    return comment_post(str(comment.get("id") or ""), request.reply_ref)
            following = (answer.get("paging") or {}).get("next") or ""
            if not following:
                return None
            if not _same_graph(following):
                raise Unconfirmed("Facebook's next page of replies points elsewhere; not followed.")
            url, params = following, None
        raise Unconfirmed(
            "Too many replies under the comment to settle the answer by reading back."
        )

    # --- Metrics -----------------------------------------------------------------------
    def fetch_metrics(self, remote_ids: list[str]) -> dict[str, PostMetrics]:
        """Reactions, comments and shares of each post; a deleted post is left out."""
        metrics = {}
        for post_id in remote_ids:
            try:
                response = self._graph("GET", post_id, params={"fields": METRIC_FIELDS})
            except Rejected as error:
                if getattr(error, "graph_subcode", None) in GONE_SUBCODES:
                    continue
                raise
            answer = _json(response)
            metrics[post_id] = PostMetrics(
                likes=_summary(answer.get("reactions")),
                replies=_summary(answer.get("comments")),
                reposts=_count((answer.get("shares") or {}).get("count")),
                clicks=None,
            )
        return metrics

    # --- HTTP --------------------------------------------------------------------------
    def _graph(self, method: str, path: str, *, creates=False, absolute=False, **kwargs):
        token = self.account.tokens.get("access_token", "")
        headers = {"Authorization": f"Bearer {token}", **kwargs.pop("headers", {})}
        proof = appsecret_proof(token)
        if proof:
            target = "params" if method == "GET" else "data"
            if target == "params" and kwargs.get("params") is None and absolute:
                # A paging.next address carries its own query, the proof usually in it.
                if "appsecret_proof=" not in path:
                    path = f"{path}{'&' if '?' in path else '?'}appsecret_proof={proof}"
            else:
                kwargs[target] = {**(kwargs.get(target) or {}), "appsecret_proof": proof}
        url = path if absolute else self.graph(path)
        return self.request(method, url, creates=creates, headers=headers, **kwargs)

    def check(self, response: requests.Response, *, creates: bool = False):
        """Graph's error body decides, not the HTTP status (``meta_graph``)."""
        if response.status_code < 400:
            return response
        error = graph_error(response)
        if error is None:
            return super().check(response, creates=creates)
        raise_graph_error(
            response,
            error,
            WORDING,
            creates=creates,
            throttle_codes=THROTTLE_CODES,
            retry_after=regain_seconds(response, self.page_id),
        )


# --- Helpers ---------------------------------------------------------------------------
def remote_post(post_id: str, permalink: str = "") -> RemotePost:
    if not (isinstance(permalink, str) and permalink.startswith("https://www.facebook.com/")):
        permalink = f"https://www.facebook.com/{post_id}"
    return RemotePost(id=post_id, url=permalink)


def answer_thread(ref: dict | None) -> str:
    """The comment an answer goes under: the thread's top comment (``thread``), else the
    comment itself; Rejected when the reference holds neither."""
    ref = ref or {}
    for name in ("thread", "id"):
        value = ref.get(name)
        if isinstance(value, str) and _COMMENT_ID.fullmatch(value):
            return value
    raise Rejected("Storyloom does not have this comment's id on Facebook; it cannot answer it.")


def comment_post(comment_id: str, ref: dict | None) -> RemotePost:
    post_id = (ref or {}).get("object")
    if isinstance(post_id, str) and _COMMENT_ID.fullmatch(post_id):
        return RemotePost(
            id=comment_id, url=f"https://www.facebook.com/{post_id}?comment_id={comment_id}"
        )
    return RemotePost(id=comment_id, url=f"https://www.facebook.com/{comment_id}")


def regain_seconds(response: requests.Response, page_id: str = "") -> float | None:
    """Seconds until Graph lets the Page (or app) call again: ``Retry-After``, else the
    largest ``estimated_time_to_regain_access`` (minutes) of the usage header."""
    waited = retry_after_seconds(response.headers)
    if waited is not None:
        return waited
    try:
        usage = json.loads(response.headers.get("X-Business-Use-Case-Usage") or "{}")
    except ValueError:
        return None
    minutes = [
        entry.get("estimated_time_to_regain_access")
        for entries in (usage.values() if isinstance(usage, dict) else ())
        if isinstance(entries, list)
        for entry in entries
        if isinstance(entry, dict)
    ]
    minutes = [m for m in minutes if isinstance(m, int | float) and m > 0]
    return float(max(minutes)) * 60 if minutes else None


def _json(response: requests.Response) -> dict:
    try:
        data = response.json()
    except ValueError:
        data = None
    if not isinstance(data, dict):
        raise NotSent("Facebook answered with something that is not Graph's JSON.")
    return data


def _summary(edge) -> int:
    summary = (edge or {}).get("summary") if isinstance(edge, dict) else None
    return _count((summary or {}).get("total_count"))


def _count(value) -> int:
    return value if isinstance(value, int) and value >= 0 else 0


def _same_graph(url: str) -> bool:
    mine, theirs = urlsplit(graph_url()), urlsplit(url)
    return (mine.scheme, mine.netloc) == (theirs.scheme, theirs.netloc)


# --- Settings ----------------------------------------------------------------------------
def _setting(name: str) -> str:
    return (getattr(settings, name, "") or "") if settings.configured else ""


def graph_url() -> str:
    return (_setting("FACEBOOK_GRAPH_URL") or DEFAULT_GRAPH_URL).rstrip("/")


def dialog_url() -> str:
    return (_setting("FACEBOOK_DIALOG_URL") or DEFAULT_DIALOG_URL).rstrip("/")


def api_version() -> str:
    return _setting("FACEBOOK_API_VERSION") or DEFAULT_API_VERSION


def appsecret_proof(token: str) -> str:
    """HMAC-SHA256 of the token with the app secret: Graph checks it when the app
    requires it, and it makes a leaked token useless without the secret."""
    secret = _setting("FACEBOOK_APP_SECRET")
    if not secret or not token:
        return ""
    return hmac.new(secret.encode(), token.encode(), hashlib.sha256).hexdigest()


def _app_credentials() -> tuple[str, str]:
    app_id, secret = _setting("FACEBOOK_APP_ID"), _setting("FACEBOOK_APP_SECRET")
    if not app_id or not secret:
        raise ImproperlyConfigured(
            "Facebook is not set up on this site: set FACEBOOK_APP_ID and "
            "FACEBOOK_APP_SECRET from the app's Settings → Basic on developers.facebook.com."
        )
    return app_id, secret


# --- Connecting --------------------------------------------------------------------------
@dataclass(frozen=True)
class PageGrant:
    """One Page the person may connect: who it is, its Page token and what it allows."""

    profile: Profile
    tokens: dict
    tasks: tuple[str, ...]
    scopes: tuple[str, ...]

    @property
    def can_post(self) -> bool:
        return POSTING_TASK in self.tasks and "pages_manage_posts" in self.scopes

    def as_dict(self) -> dict:
        return {
            "id": self.profile.remote_id,
            "name": self.profile.display_name,
            "tokens": self.tokens,
            "tasks": list(self.tasks),
            "scopes": list(self.scopes),
        }

    @classmethod
    def from_dict(cls, data: dict) -> PageGrant:
        return cls(
            profile=page_profile(data["id"], data["name"]),
            tokens=dict(data["tokens"]),
            tasks=tuple(data.get("tasks") or ()),
            scopes=tuple(data.get("scopes") or ()),
        )


def page_profile(page_id: str, name: str) -> Profile:
    return Profile(
        remote_id=str(page_id),
        handle=name or str(page_id),
        display_name=name or str(page_id),
        url=f"https://www.facebook.com/{page_id}",
    )


def authorization(redirect_uri: str, state: str | None = None) -> tuple[str, str]:
    """Facebook Login's dialog address to send a person to, and the state to check."""
    app_id, _secret = _app_credentials()
    # Graph documents the scope list comma-separated.
    oauth = guard(
        OAuth2Session(app_id, redirect_uri=redirect_uri, scope=[",".join(SCOPES)], state=state)
    )
    url, state = oauth.authorization_url(f"{dialog_url()}/{api_version()}/dialog/oauth")
    return url, state


def finish(redirect_uri: str, code: str, *, session=None, timeout=None) -> list[PageGrant]:
    """Trade the code for a long-lived user token and return the Pages it manages."""
    app_id, secret = _app_credentials()
    checker = FacebookAdapter(_Connecting(), session=session, timeout=timeout)
    oauth = guard(OAuth2Session(app_id, redirect_uri=redirect_uri))
    oauth.register_compliance_hook("access_token_response", checker.check)
    try:
        short = oauth.fetch_token(
            checker.graph("oauth/access_token"),
            code=code,
            client_secret=secret,
            include_client_id=True,
            timeout=checker.timeout,
        )
    except (ChannelError, OAuth2Error) as error:
        message = getattr(error, "message", "") or getattr(error, "description", "") or ""
        raise AuthExpired(
            f"Facebook did not accept the sign-in ({message or 'refused'}); connect again."
        ) from error
    except requests.RequestException as error:
        raise NotSent(UNREACHABLE) from error
    exchanged = checker.request(
        "GET",
        checker.graph("oauth/access_token"),
        params={
            "grant_type": "fb_exchange_token",
            "client_id": app_id,
            "client_secret": secret,
            "fb_exchange_token": short["access_token"],
        },
    )
    user_token = str(_json(exchanged).get("access_token") or "")
    if not user_token:
        raise Rejected("Facebook answered the token exchange without a token.")
    checker.account.tokens = {"access_token": user_token}
    return pages(checker)


def pages(checker: FacebookAdapter) -> list[PageGrant]:
    """The Pages the user token manages, each with its Page token and when it expires."""
    grants = []
    url, params = checker.graph("me/accounts"), {"fields": "id,name,tasks,access_token"}
    for _ in range(10):
        answer = _json(checker._graph("GET", url, params=params, absolute=True))
        for row in answer.get("data") or []:
            if not (isinstance(row, dict) and row.get("id") and row.get("access_token")):
                continue
            debug = debug_token(checker, str(row["access_token"]))
            if not debug.get("is_valid"):
                continue
            tokens = {"access_token": str(row["access_token"])}
            if debug.get("expires_at"):
                tokens["expires_at"] = float(debug["expires_at"])
            grants.append(
                PageGrant(
                    profile=page_profile(str(row["id"]), str(row.get("name") or "")),
                    tokens=tokens,
                    tasks=tuple(str(task) for task in row.get("tasks") or ()),
                    scopes=tuple(str(scope) for scope in debug.get("scopes") or ()),
                )
            )
        following = (answer.get("paging") or {}).get("next") or ""
        if not following or not _same_graph(following):
            break
        url, params = following, None
    return grants


def debug_token(checker: FacebookAdapter, token: str) -> dict:
    """``/debug_token``'s ``data`` for ``token``, asked with the app's own token."""
    app_id, secret = _app_credentials()
    response = checker.request(
        "GET",
        checker.graph("debug_token"),
        params={"input_token": token, "access_token": f"{app_id}|{secret}"},
    )
    data = _json(response).get("data")
    return data if isinstance(data, dict) else {}


class _Connecting:
    """The account-like object for calls made while connecting, before an account exists."""

    network = "facebook"
    instance_url = ""
    remote_id = ""
    handle = ""
    max_characters = None

    def __init__(self):
        self.tokens = {}
