"""LinkedIn: posts through the versioned Posts API (``/rest/posts``), as a member or a page.

Signing in is OAuth 2 (authorization code) with requests-oauthlib. Members post with the
"Share on LinkedIn" and "Sign In with LinkedIn (OpenID Connect)" products (``openid
profile w_member_social``); pages need ``w_organization_social`` from the Community
Management API. Access tokens last 60 days. Refresh tokens are issued only to apps
LinkedIn approved for them, so an account without one is simply reconnected every two
months (the dashboard warns ahead of time).

Every ``/rest`` call carries ``LinkedIn-Version`` (required, there is no default) and
``X-Restli-Protocol-Version: 2.0.0``. The id of a new post comes back in the
``x-restli-id`` header, not the body.

Commentary is written in LinkedIn's "little" text format, where ``\\ | { } @ [ ] ( ) < >
# * _ ~`` are markup: unescaped, LinkedIn cuts the post at the first one and still
answers "created". We escape them everywhere except inside links (which must stay
clickable) and hashtags (``#Word`` is little's hashtag element).

Threads: a post on LinkedIn cannot reply to another post (comments are a different API
and a different thing), so ``reply_to`` is ignored and a thread's posts stand alone.

Pictures: one per post (a single-image post; several would be the ``multiImage`` post
type). Uploaded first through the Images API (``POST /rest/images?action=
initializeUpload``, then the bytes PUT to the ``uploadUrl`` it answers), the post's
``content.media`` names the image URN with its ``altText``. A post with a picture shows
the picture instead of the link's article card; the link stays in the commentary.

Exactly once: no idempotency key. LinkedIn refuses a post whose content repeats a recent
one (422 ``DUPLICATE_POST``, naming the earlier post), and our text carries a marker
unique to the post, so a resend that hits that refusal is our own earlier post.
"""

from __future__ import annotations

import re
import time
from urllib.parse import quote

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

import requests
from oauthlib.oauth2 import OAuth2Error
from requests_oauthlib import OAuth2Session

from syndication.outbound import UNREACHABLE, guard

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
)
from .text import contains_marker, find_urls

API = "https://api.linkedin.com/rest"
USERINFO_URL = "https://api.linkedin.com/v2/userinfo"
AUTHORIZE_URL = "https://www.linkedin.com/oauth/v2/authorization"
TOKEN_URL = "https://www.linkedin.com/oauth/v2/accessToken"  # noqa: S105 (an address)
DEFAULT_API_VERSION = "202510"
MEMBER_SCOPES = ("openid", "profile", "w_member_social")
ORGANIZATION_SCOPES = ("w_organization_social", "r_organization_social")
#: How many of the newest posts ``find_published`` reads back.
FIND_COUNT = 20
#: URNs per statistics call; LinkedIn documents no limit, so we stay well inside the URL.
STATISTICS_BATCH = 20

RESERVED = set("\\|{}@[]()<>#*_~")
#: little's hashtag element: "#" then letters and digits, at least one letter.
_HASHTAG = re.compile(r"(?<![\w#])#(?=[^\W_]*[^\W\d_])[^\W_]+")
_POST_URN = re.compile(r"urn:li:(?:share|ugcPost):\d+")
_IMAGE_URN = re.compile(r"urn:li:image:[\w-]+")
#: LinkedIn keeps this much alt text (Posts API, ``altText``).
ALT_LIMIT = 4086


class LinkedInAdapter(ChannelAdapter):
    network = "linkedin"
    label = "LinkedIn"
    honours_idempotency_key = False
    refreshes_tokens = True
    default_limit = 3000
    max_media = 1
    empty_message = "Write something: a LinkedIn post needs commentary."
    duplicate_message = "LinkedIn refused this post as a duplicate of one already on the account."

    def text_length(self, text: str) -> int:
        # LinkedIn counts UTF-16 code units, as Java does: an emoji counts 2.
        return len(text.encode("utf-16-le")) // 2

    # --- Publishing --------------------------------------------------------------------
    def post_body(self, request: PublishRequest) -> dict:
        body = {
            "author": self.account.remote_id,
            "commentary": little_text(request.text),
            "visibility": "PUBLIC",
            "distribution": {
                "feedDistribution": "MAIN_FEED",
                "targetEntities": [],
                "thirdPartyDistributionChannels": [],
            },
            "lifecycleState": "PUBLISHED",
            "isReshareDisabledByAuthor": False,
        }
        if request.media:
            picture = request.media[0]
            body["content"] = {"media": {"id": picture.id, "altText": picture.alt[:ALT_LIMIT]}}
        elif request.link:
            article = {"source": request.link, "title": request.link_title or request.link}
            if request.link_description:
                article["description"] = request.link_description
            body["content"] = {"article": article}
        return body

    def upload_media(self, upload: MediaUpload) -> Attachment:
        """``initializeUpload`` for the account (member or page), then the bytes PUT to
        the upload address LinkedIn gave (through the same guarded session)."""
        response = self._rest(
            "POST",
            "/images?action=initializeUpload",
            json={"initializeUploadRequest": {"owner": self.account.remote_id}},
        )
        try:
            value = response.json()["value"]
            upload_url, urn = str(value["uploadUrl"]), str(value["image"])
        except (ValueError, KeyError, TypeError):
            raise NotSent(
                "LinkedIn answered the upload request without an upload address.",
                status=response.status_code,
                body=response.text,
            ) from None
        if not _IMAGE_URN.fullmatch(urn) or not upload_url.startswith("https://"):
            raise NotSent("LinkedIn answered the upload request with an unusable address.")
        token = self.account.tokens.get("access_token", "")
        self.request(
            "PUT",
            upload_url,
            data=upload.data,
            headers={"Authorization": f"Bearer {token}", "Content-Type": upload.mime},
        )
        return Attachment(id=urn, alt=upload.alt, width=upload.width, height=upload.height)

    def publish(self, request: PublishRequest) -> RemotePost:
        try:
            response = self._rest("POST", "/posts", json=self.post_body(request), creates=True)
        except Rejected as error:
            body = error.body.lower()
            if request.media and "urn:li:image" in body and "duplicate" not in body:
                raise MediaGone(
                    "LinkedIn no longer has the picture uploaded earlier; uploading it again.",
                    status=error.status,
                    body=error.body,
                ) from error
            if error.status != 422 or "duplicate" not in body:
                raise
            return self._duplicate(request, error)
        urn = response.headers.get("x-restli-id", "")
        if not urn:
            raise Unconfirmed(
                "LinkedIn accepted the post without saying its id; looking it up.",
                status=response.status_code,
            )
        return remote_post(urn)

    def duplicate_named(self, request: PublishRequest, error: Rejected) -> RemotePost | None:
        """LinkedIn names the earlier post; it is ours when the post carries our marker."""
        named = _POST_URN.search(error.body)
        if named and request.marker:
            return remote_post(named.group())
        return None

    def find_published(self, request: PublishRequest) -> RemotePost | None:
        author = quote(self.account.remote_id, safe="")
        path = f"/posts?author={author}&q=author&count={FIND_COUNT}&sortBy=LAST_MODIFIED"
        try:
            response = self._rest("GET", path, headers={"X-RestLi-Method": "FINDER"})
        except Rejected as error:
            if error.status == 403:
                # Reading a member's posts needs r_member_social, which LinkedIn grants
                # only to approved partners. Nothing to look at: a resend is caught by
                # LinkedIn's duplicate check instead (see ``publish``).
                return None
            raise
        for post in response.json().get("elements", []):
            article = (post.get("content") or {}).get("article") or {}
            if contains_marker(post.get("commentary", ""), request.marker) or contains_marker(
                article.get("source", ""), request.marker
            ):
                return remote_post(post["id"])
        return None

    # --- Metrics -----------------------------------------------------------------------
    def fetch_metrics(self, remote_ids: list[str]) -> dict[str, PostMetrics]:
        if self.account.remote_id.startswith("urn:li:organization:"):
            return self._organization_metrics(remote_ids)
        return self._member_metrics(remote_ids)

    def _organization_metrics(self, urns: list[str]) -> dict[str, PostMetrics]:
        organization = quote(self.account.remote_id, safe="")
        metrics = {}
        for kind, field in (("shares", "share"), ("ugcPosts", "ugcPost")):
            wanted = [urn for urn in urns if urn.startswith(f"urn:li:{field}:")]
            for start in range(0, len(wanted), STATISTICS_BATCH):
                chunk = wanted[start : start + STATISTICS_BATCH]
                listed = ",".join(quote(urn, safe="") for urn in chunk)
                path = (
                    "/organizationalEntityShareStatistics?q=organizationalEntity"
                    f"&organizationalEntity={organization}&{kind}=List({listed})"
                )
                for element in self._rest("GET", path).json().get("elements", []):
                    urn = element.get(field)
                    totals = element.get("totalShareStatistics") or {}
                    if urn:
                        metrics[urn] = PostMetrics(
                            reposts=totals.get("shareCount") or 0,
                            replies=totals.get("commentCount") or 0,
                            likes=totals.get("likeCount") or 0,
                            clicks=totals.get("clickCount"),
                        )
        return metrics

    def _member_metrics(self, urns: list[str]) -> dict[str, PostMetrics]:
        # LinkedIn offers no analytics for members' posts over REST (no shares, no
        # clicks); social actions give likes and comments where the app may read them.
        metrics = {}
        for urn in urns:
            try:
                response = self._rest("GET", f"/socialActions/{quote(urn, safe='')}")
            except Rejected as error:
                if error.status in (403, 404):
                    continue
                raise
            data = response.json()
            metrics[urn] = PostMetrics(
                likes=(data.get("likesSummary") or {}).get("totalLikes") or 0,
                replies=(data.get("commentsSummary") or {}).get("aggregatedTotalComments") or 0,
                clicks=None,
            )
        return metrics

    # --- Tokens ------------------------------------------------------------------------
    def refresh(self, tokens: dict) -> dict:
        refresh_token = tokens.get("refresh_token")
        if not refresh_token:
            raise AuthExpired(
                "LinkedIn tokens last 60 days and LinkedIn gave this app no refresh token; "
                "reconnect the account."
            )
        client_id, client_secret = _client_credentials(NotSent)
        oauth = guard(OAuth2Session(client_id, token={**tokens, "token_type": "Bearer"}))
        oauth.register_compliance_hook("refresh_token_response", self._token_answer)
        try:
            new = oauth.refresh_token(
                TOKEN_URL,
                refresh_token=refresh_token,
                client_id=client_id,
                client_secret=client_secret,
                timeout=self.timeout,
            )
        except (Rejected, OAuth2Error) as error:
            raise AuthExpired(
                f"LinkedIn refused to refresh the token ({_describe(error)}); "
                "reconnect the account.",
                status=getattr(error, "status", None) or getattr(error, "status_code", None),
            ) from error
        except requests.RequestException as error:
            raise NotSent(UNREACHABLE) from error
        return token_dict(new, previous=tokens)

    def _token_answer(self, response):
        """Classify a token endpoint's error before oauthlib tries to parse it."""
        return self.check(response)

    # --- HTTP --------------------------------------------------------------------------
    def _rest(self, method: str, path: str, *, creates: bool = False, **kwargs):
        headers = {
            "Authorization": f"Bearer {self.account.tokens.get('access_token', '')}",
            "LinkedIn-Version": api_version(),
            "X-Restli-Protocol-Version": "2.0.0",
            **kwargs.pop("headers", {}),
        }
        return self.request(method, API + path, creates=creates, headers=headers, **kwargs)


# --- Text --------------------------------------------------------------------------------
def little_text(text: str) -> str:
    """``text`` as "little" commentary: reserved characters escaped outside links and tags."""
    parts = []
    position = 0
    for start, end, _url in find_urls(text):
        parts.append(_escape(text[position:start]))
        parts.append(text[start:end])
        position = end
    parts.append(_escape(text[position:]))
    return "".join(parts)


def _escape(plain: str) -> str:
    parts = []
    position = 0
    for match in _HASHTAG.finditer(plain):
        parts.append(_escape_reserved(plain[position : match.start()]))
        parts.append(match.group())
        position = match.end()
    parts.append(_escape_reserved(plain[position:]))
    return "".join(parts)


def _escape_reserved(plain: str) -> str:
    return "".join("\\" + char if char in RESERVED else char for char in plain)


def remote_post(urn: str) -> RemotePost:
    return RemotePost(id=urn, url=f"https://www.linkedin.com/feed/update/{urn}/")


# --- Connecting --------------------------------------------------------------------------
def authorization(
    redirect_uri: str, state: str | None = None, *, organization: bool = False
) -> tuple[str, str]:
    """The LinkedIn sign-in address to send a person to, and the state to check on return.

    ``organization`` also asks for page posting and page statistics, which LinkedIn
    grants only to apps approved for the Community Management API.
    """
    client_id, _secret = _client_credentials(ImproperlyConfigured)
    scopes = MEMBER_SCOPES + (ORGANIZATION_SCOPES if organization else ())
    oauth = guard(
        OAuth2Session(client_id, redirect_uri=redirect_uri, scope=list(scopes), state=state)
    )
    url, state = oauth.authorization_url(AUTHORIZE_URL)
    return url, state


def finish(redirect_uri: str, code: str, *, session=None, timeout=None) -> tuple[Profile, dict]:
    """Trade the code LinkedIn sent back for tokens, and read who signed in."""
    client_id, client_secret = _client_credentials(ImproperlyConfigured)
    checker = LinkedInAdapter(_NoAccount(), session=session, timeout=timeout)
    oauth = guard(OAuth2Session(client_id, redirect_uri=redirect_uri))
    oauth.register_compliance_hook("access_token_response", checker._token_answer)
    try:
        token = oauth.fetch_token(
            TOKEN_URL,
            code=code,
            client_secret=client_secret,
            include_client_id=True,
            timeout=checker.timeout,
        )
    except (Rejected, OAuth2Error) as error:
        raise AuthExpired(
            f"LinkedIn did not accept the sign-in ({_describe(error)}); try connecting again.",
            status=getattr(error, "status", None),
        ) from error
    except requests.RequestException as error:
        raise NotSent(UNREACHABLE) from error
    tokens = token_dict(token)
    checker.account.tokens = tokens
    response = checker.request(
        "GET", USERINFO_URL, headers={"Authorization": f"Bearer {tokens['access_token']}"}
    )
    info = response.json()
    name = info.get("name") or " ".join(
        part for part in (info.get("given_name"), info.get("family_name")) if part
    )
    profile = Profile(
        remote_id=f"urn:li:person:{info['sub']}",
        handle=name or info["sub"],
        display_name=name or info["sub"],
        url="",
    )
    return profile, tokens


def token_dict(token: dict, previous: dict | None = None) -> dict:
    """The tokens we keep from a token endpoint's answer.

    A refresh that brings no new refresh token keeps the old one: LinkedIn's refresh
    tokens are not renewed on use.
    """
    previous = previous or {}
    now = time.time()
    tokens = {
        "access_token": token["access_token"],
        "refresh_token": token.get("refresh_token") or previous.get("refresh_token", ""),
        "expires_at": token.get("expires_at")
        or (now + float(token["expires_in"]) if token.get("expires_in") else None),
    }
    if token.get("refresh_token_expires_in"):
        tokens["refresh_token_expires_at"] = now + float(token["refresh_token_expires_in"])
    elif previous.get("refresh_token_expires_at"):
        tokens["refresh_token_expires_at"] = previous["refresh_token_expires_at"]
    if token.get("scope"):
        scope = token["scope"]
        tokens["scope"] = " ".join(scope) if isinstance(scope, list) else scope
    return {key: value for key, value in tokens.items() if value not in ("", None)}


def api_version() -> str:
    return _setting("LINKEDIN_API_VERSION") or DEFAULT_API_VERSION


def _setting(name: str) -> str:
    return (getattr(settings, name, "") or "") if settings.configured else ""


def _client_credentials(error_class) -> tuple[str, str]:
    client_id = _setting("LINKEDIN_CLIENT_ID")
    client_secret = _setting("LINKEDIN_CLIENT_SECRET")
    if not client_id or not client_secret:
        raise error_class(
            "LinkedIn is not set up on this site: set LINKEDIN_CLIENT_ID and "
            "LINKEDIN_CLIENT_SECRET from the app's Auth tab on linkedin.com/developers."
        )
    return client_id, client_secret


def _describe(error: Exception) -> str:
    if isinstance(error, ChannelError):
        return error.message
    return getattr(error, "description", "") or getattr(error, "error", "") or str(error)


class _NoAccount:
    """The account-like object for calls made while connecting, before an account exists."""

    network = "linkedin"
    instance_url = ""
    remote_id = ""
    handle = ""
    max_characters = None

    def __init__(self):
        self.tokens = {}
