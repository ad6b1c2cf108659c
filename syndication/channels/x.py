"""X (Twitter): posts through API v2, signed with OAuth 1.0a user context.

OAuth 1.0a rather than OAuth 2: its user tokens do not expire, so nothing needs
refreshing (OAuth 2 tokens last two hours and rotate their refresh tokens). The site's
consumer key and secret (``X_CONSUMER_KEY``/``X_CONSUMER_SECRET``) sign every request
together with the account's token and token secret; requests-oauthlib's
``OAuth1Session`` does the signing.

Length is X's weighted count (twitter-text v3): 280, most Latin-script characters count
1, CJK and emoji count 2, every link counts 23 because X wraps it in t.co.

Exactly once: X honours no idempotency key. It refuses a post whose text repeats a
recent one (403 "duplicate content"), and our text carries a marker unique to the post,
so such a refusal on a resend is checked against the account's recent posts first.

Pictures: uploaded first with API v2's ``POST /2/media/upload`` (``media_category``
``tweet_image``, one request for an image under 5 MB), their alt text set with ``POST
/2/media/metadata``, and named in the post's ``media.media_ids``. X keeps an unused
upload for a day (``expires_after_secs``); a post refused for media ids X no longer
knows uploads them again (``MediaGone``).

Costs: X charges per call (more for a post with a link), so metrics are fetched in
batches of 100, and only ``find_published`` reads the timeline.
"""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

import requests
from requests_oauthlib import OAuth1Session
from requests_oauthlib.oauth1_session import TokenMissing, TokenRequestDenied

from syndication.outbound import UNREACHABLE, guard

from .base import (
    Attachment,
    AuthExpired,
    ChannelAdapter,
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
from .text import contains_marker, x_weighted_length

API = "https://api.x.com/2"
REQUEST_TOKEN_URL = "https://api.x.com/oauth/request_token"  # noqa: S105 (an address)
AUTHORIZE_URL = "https://api.x.com/oauth/authorize"
ACCESS_TOKEN_URL = "https://api.x.com/oauth/access_token"  # noqa: S105 (an address)
MEDIA_UPLOAD_URL = f"{API}/media/upload"
MEDIA_METADATA_URL = f"{API}/media/metadata"
#: X keeps this much alt text (media metadata).
ALT_LIMIT = 1000
#: ``GET /2/tweets`` takes at most 100 ids.
LOOKUP_LIMIT = 100
#: How many of the account's newest posts ``find_published`` reads back.
FIND_COUNT = 20
PUBLIC_FIELDS = "public_metrics"
ALL_FIELDS = "public_metrics,non_public_metrics"


class XAdapter(ChannelAdapter):
    network = "x"
    label = "X"
    honours_idempotency_key = False
    refreshes_tokens = False
    default_limit = 280
    empty_message = "Write something: a post on X cannot be empty."
    duplicate_message = (
        "X refused this post because the account already has a post with the same "
        "text; change the text to post it again."
    )

    def __init__(self, account, *, session: requests.Session | None = None, timeout=None):
        self.configured = session is not None or all(_consumer())
        if session is None and self.configured:
            session = user_session(account.tokens)
        super().__init__(account, session=session, timeout=timeout)

    def text_length(self, text: str) -> int:
        return x_weighted_length(text)

    def too_long_message(self, length: int, limit: int) -> str:
        return (
            f"Posts on X can be {limit} characters long (links count 23, emoji "
            f"and CJK characters 2); this one counts {length}."
        )

    # --- Publishing --------------------------------------------------------------------
    def publish(self, request: PublishRequest) -> RemotePost:
        body = {"text": request.text}
        if request.reply_to:
            body["reply"] = {"in_reply_to_tweet_id": request.reply_to}
        if request.media:
            body["media"] = {"media_ids": [media.id for media in request.media]}
        try:
            response = self.request("POST", f"{API}/tweets", json=body, creates=True)
        except Rejected as error:
            if error.status == 403 and "duplicate" in error.body.lower():
                return self._duplicate(request, error)
            if request.media and error.status == 400 and "media" in error.body.lower():
                raise MediaGone(
                    "X no longer knows the pictures uploaded earlier (unused uploads expire "
                    "after a day); uploading them again.",
                    status=error.status,
                    body=error.body,
                ) from error
            raise
        try:
            post_id = response.json()["data"]["id"]
        except (ValueError, KeyError, TypeError):
            raise Unconfirmed(
                "X accepted the post without saying its id; looking it up.",
                status=response.status_code,
                body=response.text,
            ) from None
        return self.remote_post(post_id)

    def upload_media(self, upload: MediaUpload) -> Attachment:
        """``POST /2/media/upload`` (multipart ``media``), then the alt text."""
        response = self.request(
            "POST",
            MEDIA_UPLOAD_URL,
            files={"media": (upload.filename, upload.data, upload.mime)},
            data={"media_category": "tweet_image", "media_type": upload.mime},
        )
        try:
            media_id = str(response.json()["data"]["id"])
        except (ValueError, KeyError, TypeError):
            raise NotSent(
                "X answered the upload without a media id.",
                status=response.status_code,
                body=response.text,
            ) from None
        if upload.alt:
            alt = {"alt_text": {"text": upload.alt[:ALT_LIMIT]}}
            self.request("POST", MEDIA_METADATA_URL, json={"id": media_id, "metadata": alt})
        return Attachment(id=media_id, alt=upload.alt, width=upload.width, height=upload.height)

    def find_published(self, request: PublishRequest) -> RemotePost | None:
        response = self.request(
            "GET",
            f"{API}/users/{self.account.remote_id}/tweets",
            params={"max_results": FIND_COUNT, "tweet.fields": "entities,created_at"},
        )
        for post in response.json().get("data", []):
            links = ((post.get("entities") or {}).get("urls")) or []
            texts = [post.get("text", "")] + [link.get("expanded_url", "") for link in links]
            if any(contains_marker(text, request.marker) for text in texts):
                return self.remote_post(post["id"])
        return None

    def remote_post(self, post_id: str) -> RemotePost:
        who = self.account.handle or "i"
        return RemotePost(id=str(post_id), url=f"https://x.com/{who}/status/{post_id}")

    # --- Metrics -----------------------------------------------------------------------
    def fetch_metrics(self, remote_ids: list[str]) -> dict[str, PostMetrics]:
        metrics = {}
        for start in range(0, len(remote_ids), LOOKUP_LIMIT):
            chunk = list(remote_ids[start : start + LOOKUP_LIMIT])
            for post in self._lookup(chunk):
                public = post.get("public_metrics") or {}
                private = post.get("non_public_metrics") or {}
                metrics[post["id"]] = PostMetrics(
                    reposts=public.get("retweet_count") or 0,
                    replies=public.get("reply_count") or 0,
                    likes=public.get("like_count") or 0,
                    quotes=public.get("quote_count") or 0,
                    clicks=private.get("url_link_clicks"),
                )
        return metrics

    def _lookup(self, ids: list[str]) -> list[dict]:
        """Posts with their counters; link clicks where X still gives them.

        ``non_public_metrics`` exist only for the last 30 days of the account's own
        posts. For older ones X answers with a field authorisation error (in the body of
        a 200, or as a refusal); those are asked for again with public counters only.
        """
        try:
            payload = self._tweets(ids, ALL_FIELDS)
        except Rejected as error:
            if error.status not in (400, 403):
                raise
            payload, refused = {}, True
        else:
            refused = any("non_public_metrics" in str(item) for item in payload.get("errors", []))
        posts = {post["id"]: post for post in payload.get("data", [])}
        missing = [post_id for post_id in ids if post_id not in posts]
        if refused and missing:
            for post in self._tweets(missing, PUBLIC_FIELDS).get("data", []):
                posts[post["id"]] = post
        return list(posts.values())

    def _tweets(self, ids: list[str], fields: str) -> dict:
        response = self.request(
            "GET", f"{API}/tweets", params={"ids": ",".join(ids), "tweet.fields": fields}
        )
        return response.json()

    # --- HTTP --------------------------------------------------------------------------
    def request(self, method: str, url: str, *, creates: bool = False, **kwargs):
        if not self.configured:
            raise NotSent(_NOT_SET_UP)
        return super().request(method, url, creates=creates, **kwargs)


# --- Connecting --------------------------------------------------------------------------
def user_session(tokens: dict) -> OAuth1Session:
    """A session that signs every request as the account (OAuth 1.0a user context)."""
    key, secret = _consumer()
    return guard(
        OAuth1Session(
            key,
            client_secret=secret,
            resource_owner_key=tokens.get("oauth_token"),
            resource_owner_secret=tokens.get("oauth_token_secret"),
        )
    )


def request_token(callback_uri: str, *, timeout=None) -> tuple[str, dict]:
    """Start connecting: the X address to send a person to, and what ``finish`` needs.

    Keep the returned dict (in the person's session, say) until X sends them back to
    ``callback_uri`` with ``oauth_verifier``.
    """
    key, secret = _configured_consumer()
    oauth = guard(OAuth1Session(key, client_secret=secret, callback_uri=callback_uri))
    token = _fetch(oauth.fetch_request_token, REQUEST_TOKEN_URL, timeout, step="request")
    flow = {
        "resource_owner_key": token["oauth_token"],
        "resource_owner_secret": token["oauth_token_secret"],
    }
    return oauth.authorization_url(AUTHORIZE_URL), flow


def finish(flow: dict, oauth_verifier: str, *, timeout=None) -> tuple[Profile, dict]:
    """Trade the verifier for the account's tokens and read who signed in."""
    key, secret = _configured_consumer()
    oauth = guard(
        OAuth1Session(
            key,
            client_secret=secret,
            resource_owner_key=flow["resource_owner_key"],
            resource_owner_secret=flow["resource_owner_secret"],
            verifier=oauth_verifier,
        )
    )
    token = _fetch(oauth.fetch_access_token, ACCESS_TOKEN_URL, timeout, step="access")
    tokens = {name: token[name] for name in ("oauth_token", "oauth_token_secret")}
    account = _Connecting(tokens)
    adapter = XAdapter(account, timeout=timeout)
    me = adapter.request("GET", f"{API}/users/me").json()["data"]
    profile = Profile(
        remote_id=str(me["id"]),
        handle=me["username"],
        display_name=me.get("name") or me["username"],
        url=f"https://x.com/{me['username']}",
    )
    return profile, tokens


def _fetch(call, url: str, timeout, *, step: str) -> dict:
    """Run one OAuth 1.0a token step, in the adapters' error vocabulary."""
    checker = XAdapter(_Connecting({}), session=requests.Session(), timeout=timeout)
    try:
        return call(url, timeout=checker.timeout)
    except (TokenRequestDenied, TokenMissing) as error:
        response = error.response
        try:
            checker.check(response)
        except (AuthExpired, Rejected) as refused:
            if step == "request":
                raise Rejected(
                    "X refused this site's API keys (X_CONSUMER_KEY/X_CONSUMER_SECRET): "
                    f"{refused.message}",
                    status=refused.status,
                    body=refused.body,
                ) from error
            raise AuthExpired(
                "X did not accept the sign-in (it may have taken too long); try connecting again.",
                status=refused.status,
                body=refused.body,
            ) from error
        raise Rejected("X answered the sign-in step without a token.") from error
    except requests.Timeout as error:
        raise NotSent("X did not answer the sign-in step in time.") from error
    except requests.RequestException as error:
        raise NotSent(UNREACHABLE) from error


_NOT_SET_UP = (
    "X is not set up on this site: set X_CONSUMER_KEY and X_CONSUMER_SECRET from the "
    "app's Keys and tokens page in the X developer console."
)


def _consumer() -> tuple[str, str]:
    if not settings.configured:
        return "", ""
    return (
        getattr(settings, "X_CONSUMER_KEY", "") or "",
        getattr(settings, "X_CONSUMER_SECRET", "") or "",
    )


def _configured_consumer() -> tuple[str, str]:
    key, secret = _consumer()
    if not key or not secret:
        raise ImproperlyConfigured(_NOT_SET_UP)
    return key, secret


class _Connecting:
    """The account-like object for calls made while connecting, before an account exists."""

    network = "x"
    instance_url = ""
    remote_id = ""
    handle = ""
    max_characters = None

    def __init__(self, tokens: dict):
        self.tokens = tokens
