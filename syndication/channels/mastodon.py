"""Mastodon: publishing to one account, and the calls that connect an account.

Mastodon is the friendliest network for exactly-once publishing: it honours an
``Idempotency-Key`` for an hour, so a resend after a lost answer returns the post
that exists instead of making a second one, and an account's recent statuses can be
read back to settle a post whose fate is unknown. Tokens never expire; a refused
token means the person revoked it and has to reconnect.

The module-level helpers (``normalise_instance_url``, ``instance_info``,
``register_app``, ``verify_credentials``) touch no database; ``syndication.connect``
stores what they return.
"""

from __future__ import annotations

import html
import ipaddress
import logging
import re
from dataclasses import dataclass
from urllib.parse import urlsplit

import regex
import requests

from syndication.outbound import UNREACHABLE, guard

from .base import (
    DEFAULT_TIMEOUT,
    AuthExpired,
    ChannelAdapter,
    ChannelError,
    NotAChannel,
    PostMetrics,
    Profile,
    PublishRequest,
    Rejected,
    RemotePost,
    Unconfirmed,
)

#: Posting and reading back statuses, plus who the account is. ``profile`` (Mastodon
#: 4.3+) reveals only the account's own profile, unlike ``read:accounts``.
SCOPES = "read:statuses write:statuses profile"
#: Servers older than 4.3 do not know ``profile``; they get ``read:accounts`` instead.
SCOPES_BEFORE_4_3 = "read:statuses write:statuses read:accounts"
APP_NAME = "Storyloom"
URL_LENGTH = 23
DEFAULT_LIMIT = 500
BATCH_SIZE = 20
READ_BACK = 40

# Mastodon's length rule: an http(s) URL counts as 23 characters whatever its length,
# and a mention counts without its domain. Trailing punctuation ends a sentence, not a link.
_URL_RE = re.compile(r"https?://[^\s<>\"]*[^\s<>\".,:;!?'()\[\]]")
_MENTION_RE = re.compile(
    r"(?<![=/\w])@([a-z0-9_]+(?:[a-z0-9_.-]+[a-z0-9_]+)?)(?:@\w+(?:[.-]+\w+)*)?", re.I
)
_HOST_RE = re.compile(r"(?!-)[a-z0-9-]{1,63}(?<!-)(\.(?!-)[a-z0-9-]{1,63}(?<!-))+", re.I)
_HANDLE_RE = re.compile(r"@?[\w.+-]+@(?P<host>[^@/\s]+)")

logger = logging.getLogger("syndication.channels")


def countable_length(text: str, url_length: int = URL_LENGTH) -> int:
    """How long Mastodon considers ``text``: user-perceived characters (grapheme clusters,
    as Mastodon's server counts them), URLs as ``url_length``, ``@user@domain`` as ``@user``."""
    text = _MENTION_RE.sub(r"@\1", _URL_RE.sub("x" * url_length, text))
    return len(regex.findall(r"\X", text))


def contains_marker(content: str, marker: str) -> bool:
    """True when a status's HTML carries ``marker`` whole.

    Mastodon escapes ``&`` as ``&amp;`` and cuts the visible part of a long link into
    spans, but keeps the whole address in ``href``; so the HTML is unescaped and the
    marker must not run on into more of a value (``utm_content=12`` is not in
    ``utm_content=123``).
    """
    text = html.unescape(content)
    return bool(re.search(rf"(?<![\w.~%-]){re.escape(marker)}(?![\w.~%-])", text))


# --- Connecting -----------------------------------------------------------------------
@dataclass(frozen=True)
class InstanceInfo:
    url: str
    domain: str
    title: str
    max_characters: int
    characters_reserved_per_url: int = URL_LENGTH
    version: str = ""


def scopes_for(version: str) -> str:
    numbers = [int(part) for part in re.findall(r"\d+", version)[:2]] or [0]
    return SCOPES if tuple(numbers) >= (4, 3) else SCOPES_BEFORE_4_3


def _timeout() -> float:
    from django.conf import settings

    if settings.configured:
        return float(getattr(settings, "SYNDICATION_HTTP_TIMEOUT", DEFAULT_TIMEOUT))
    return DEFAULT_TIMEOUT


def _allow_http() -> bool:
    from django.conf import settings

    return settings.configured and getattr(settings, "SYNDICATION_ALLOW_HTTP_INSTANCES", False)


def _host(url: str) -> str:
    return url.split("://", 1)[-1].rstrip("/")


def normalise_instance_url(text: str, *, allow_http: bool | None = None) -> str:
    """``mastodon.social``, ``https://mastodon.social/@someone`` or ``@me@mastodon.social``
    → ``https://mastodon.social``. Anything that cannot be a server address is refused."""
    raw = (text or "").strip()
    if not raw:
        raise NotAChannel("Enter the address of a Mastodon server, such as mastodon.social.")
    handle = _HANDLE_RE.fullmatch(raw)
    if handle and "://" not in raw:
        raw = handle["host"]
    if "://" not in raw:
        raw = f"https://{raw}"
    try:
        parts = urlsplit(raw)
        host, port = (parts.hostname or ""), parts.port
        host = host.encode("idna").decode("ascii").lower()
    except (ValueError, UnicodeError):
        host, port, parts = "", None, urlsplit("")
    if not host or parts.username or parts.password or " " in raw:
        raise NotAChannel(f"“{text.strip()}” is not the address of a server.")
    if parts.scheme not in ("https", "http"):
        raise NotAChannel(f"“{text.strip()}” is not a web address; Mastodon uses https://.")
    if parts.scheme == "http" and not (_allow_http() if allow_http is None else allow_http):
        raise NotAChannel("Mastodon servers are reached over https://; use the https address.")
    try:
        ip = ipaddress.ip_address(host)
    except ValueError:
        ip = None
        if host != "localhost" and not _HOST_RE.fullmatch(host):
            raise NotAChannel(f"“{text.strip()}” is not the address of a server.") from None
    netloc = f"[{host}]" if ip and ip.version == 6 else host
    return f"{parts.scheme}://{netloc}{f':{port}' if port else ''}"


def instance_info(
    url: str, session: requests.Session | None = None, timeout: float | None = None
) -> InstanceInfo:
    """What the server at ``url`` says about itself; NotAChannel unless it is Mastodon.

    Whatever went wrong on the way (an address the guard refuses, no such name, a
    closed or silent port, a bad certificate), the person reads the same ``UNREACHABLE``:
    telling them apart would let the form probe what the server can reach.
    """
    session = guard(session or requests.Session())
    timeout = timeout or _timeout()
    host = _host(url)
    headers = {"Accept": "application/json"}
    try:
        response = session.get(f"{url}/api/v2/instance", headers=headers, timeout=timeout)
        if response.status_code == 404:  # Mastodon before 4.0 has only the v1 endpoint.
            response = session.get(f"{url}/api/v1/instance", headers=headers, timeout=timeout)
    except requests.RequestException as exc:
        logger.warning("Mastodon discovery of %s failed: %r", host, exc)
        raise NotAChannel(UNREACHABLE) from exc
    code = response.status_code
    if code >= 500:
        raise NotAChannel(f"{host} had a server error (HTTP {code}); try again later.")
    if code != 200:
        raise NotAChannel(
            f"{host} is not a Mastodon server: it has no Mastodon API "
            f"(HTTP {code} for /api/v2/instance)."
        )
    try:
        data = response.json()
    except ValueError:
        kind = "a web page" if "html" in response.headers.get("Content-Type", "") else "text"
        raise NotAChannel(
            f"{host} is not a Mastodon server: it answered with {kind} where the Mastodon "
            "API should be."
        ) from None
    if (
        not isinstance(data, dict)
        or not data.get("version")
        or not (data.get("domain") or data.get("uri"))
    ):
        raise NotAChannel(
            f"{host} is not a Mastodon server: its answer does not describe a Mastodon instance."
        )
    statuses = (data.get("configuration") or {}).get("statuses") or {}
    if response.history:  # Redirected: talk to where the API really is.
        url = normalise_instance_url(response.url, allow_http=url.startswith("http:"))
    return InstanceInfo(
        url=url,
        domain=str(data.get("domain") or data.get("uri")),
        title=str(data.get("title") or host),
        max_characters=_positive(statuses.get("max_characters") or data.get("max_toot_chars"))
        or DEFAULT_LIMIT,
        characters_reserved_per_url=_positive(statuses.get("characters_reserved_per_url"))
        or URL_LENGTH,
        version=str(data["version"]),
    )


def _positive(value) -> int | None:
    try:
        number = int(value)
    except (TypeError, ValueError):
        return None
    return number if number > 0 else None


def _client(session=None, timeout=None) -> MastodonAdapter:
    """An adapter with no account: its ``request`` gives connect calls the same errors."""
    return MastodonAdapter(None, session=session, timeout=timeout or _timeout())


def register_app(instance_url: str, redirect_uri: str, scopes: str = SCOPES, session=None) -> dict:
    """Register Storyloom on the instance; the answer holds ``client_id`` and ``client_secret``."""
    client = _client(session)
    data = {"client_name": APP_NAME, "redirect_uris": redirect_uri, "scopes": scopes}
    response = client.request("POST", f"{instance_url}/api/v1/apps", data=data)
    app = client.json(response, dict)
    if not app.get("client_id") or not app.get("client_secret"):
        raise NotAChannel(f"{_host(instance_url)} registered the app but sent no credentials.")
    return app


def verify_credentials(instance_url: str, access_token: str, session=None) -> Profile:
    """Who the token belongs to. AuthExpired when the server refuses the token."""
    client = _client(session)
    response = client.request(
        "GET",
        f"{instance_url}/api/v1/accounts/verify_credentials",
        headers={"Authorization": f"Bearer {access_token}"},
    )
    account = client.json(response, dict)
    if not account.get("id") or not account.get("username"):
        raise NotAChannel(f"{_host(instance_url)} did not say which account the token is for.")
    return Profile(
        remote_id=str(account["id"]),
        handle=f"@{account['username']}",
        display_name=account.get("display_name") or account["username"],
        url=account.get("url") or "",
    )


# --- Publishing -----------------------------------------------------------------------
class MastodonAdapter(ChannelAdapter):
    network = "mastodon"
    label = "Mastodon"
    honours_idempotency_key = True
    refreshes_tokens = False
    default_limit = DEFAULT_LIMIT
    max_media = 4
    empty_message = "The post is empty; Mastodon needs some text."
    measures_empty_text = False

    def __init__(self, account, **kwargs):
        super().__init__(account, **kwargs)
        # Batch reads exist since Mastodon 4.3; set to False at the first server without them.
        self.batch_reads = True

    @property
    def base_url(self) -> str:
        return self.account.instance_url.rstrip("/")

    @property
    def host(self) -> str:
        return _host(self.account.instance_url)

    def auth_headers(self) -> dict:
        token = (self.account.tokens or {}).get("access_token")
        if not token:
            raise AuthExpired("This Mastodon account has no access token; reconnect it.")
        return {"Authorization": f"Bearer {token}"}

    def text_length(self, text: str) -> int:
        return countable_length(text)

    def too_long_message(self, length: int, limit: int) -> str:
        over = length - limit
        return (
            f"{over} character{'s' * (over != 1)} over Mastodon's {limit}-character limit "
            f"on {self.host}."
        )

    def publish(self, request: PublishRequest) -> RemotePost:
        data = {"status": request.text, "visibility": "public"}
        if request.reply_to:
            data["in_reply_to_id"] = request.reply_to
        headers = {**self.auth_headers(), "Idempotency-Key": request.idempotency_key}
        response = self.request(
            "POST", f"{self.base_url}/api/v1/statuses", creates=True, data=data, headers=headers
        )
        try:
            return _remote_post(self.json(response, dict))
        except ChannelError as exc:
            # A 2xx that is not a status (a proxy's page?) says nothing about the post.
            raise Unconfirmed(f"{exc.message} Checking whether the post was published.") from exc

    def find_published(self, request: PublishRequest) -> RemotePost | None:
        if not request.marker:
            return None
        response = self.request(
            "GET",
            f"{self.base_url}/api/v1/accounts/{self.account.remote_id}/statuses",
            params={"limit": READ_BACK, "exclude_reblogs": "true"},
            headers=self.auth_headers(),
        )
        for status in self.json(response, list):
            ours = isinstance(status, dict) and not status.get("reblog")
            if ours and contains_marker(status.get("content") or "", request.marker):
                return _remote_post(status)
        return None

    def fetch_metrics(self, remote_ids: list[str]) -> dict[str, PostMetrics]:
        wanted = list(dict.fromkeys(str(remote_id) for remote_id in remote_ids if remote_id))
        metrics = {}
        for start in range(0, len(wanted), BATCH_SIZE):
            for status in self._statuses(wanted[start : start + BATCH_SIZE]):
                if isinstance(status, dict) and str(status.get("id")) in wanted:
                    metrics[str(status["id"])] = _metrics(status)
        return metrics

    def refresh(self, tokens: dict) -> dict:
        raise AuthExpired("Mastodon tokens do not expire; a refused token needs a reconnect.")

    def _statuses(self, ids: list[str]) -> list:
        headers = self.auth_headers()
        if self.batch_reads:
            try:
                params = [("id[]", status_id) for status_id in ids]
                response = self.request(
                    "GET", f"{self.base_url}/api/v1/statuses", params=params, headers=headers
                )
                return self.json(response, list)
            except Rejected as exc:
                if exc.status not in (404, 422):
                    raise
                self.batch_reads = False
        found = []
        for status_id in ids:
            try:
                response = self.request(
                    "GET", f"{self.base_url}/api/v1/statuses/{status_id}", headers=headers
                )
            except Rejected as exc:
                if exc.status == 404:  # Deleted since: nothing to count.
                    continue
                raise
            found.append(self.json(response, dict))
        return found

    def check(self, response: requests.Response, *, creates: bool = False):
        if response.status_code == 403 and "scope" in self.error_detail(response):
            raise AuthExpired(
                "Mastodon says this account did not give Storyloom permission for that; "
                "reconnect the account.",
                status=403,
                body=response.text,
            )
        return super().check(response, creates=creates)

    def json(self, response: requests.Response, kind: type):
        try:
            data = response.json()
        except ValueError:
            data = None
        if not isinstance(data, kind):
            raise Rejected(
                f"{self.label} answered with something that is not the API's JSON "
                f"(HTTP {response.status_code}).",
                status=response.status_code,
                body=response.text,
            )
        return data


def _remote_post(status: dict) -> RemotePost:
    if not status.get("id"):
        raise Rejected("Mastodon's answer has no post id.")
    return RemotePost(id=str(status["id"]), url=status.get("url") or status.get("uri") or "")


def _metrics(status: dict) -> PostMetrics:
    def count(name):
        return _positive(status.get(name)) or 0

    return PostMetrics(
        reposts=count("reblogs_count"),
        replies=count("replies_count"),
        likes=count("favourites_count"),
        quotes=count("quotes_count"),
        clicks=None,
    )
