"""Mastodon-API servers: publishing to one account, and the calls that connect an account.

Mastodon itself is the friendliest network for exactly-once publishing: it honours an
``Idempotency-Key`` for an hour, so a resend after a lost answer returns the post
that exists instead of making a second one, and an account's statuses can be read
back to settle a post whose fate is unknown. Tokens never expire; a refused token
means the person revoked it and has to reconnect.

Other servers speak the same API with differences (no idempotency, no batch reads,
other length rules, 400 or 403 for a dead token). What the account's server is and
what it supports is detected at connect (``detect_profile``) and kept on the account
(``fediverse.ServerProfile``); the adapter follows that profile, and what it learns
while working (a refused batch read) is handed back to the account to keep.

The module-level helpers (``normalise_instance_url``, ``instance_info``,
``register_app``, ``verify_credentials``) touch no database; ``syndication.connect``
stores what they return.
"""

from __future__ import annotations

import datetime
import html
import ipaddress
import logging
import re
import time
import unicodedata
from dataclasses import dataclass
from urllib.parse import urlsplit

import requests

from syndication.outbound import UNREACHABLE, guard

from . import fediverse
from .base import (
    DEFAULT_TIMEOUT,
    Attachment,
    AuthExpired,
    ChannelAdapter,
    ChannelError,
    MediaGone,
    MediaNotReady,
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

#: Posting and reading back statuses, plus who the account is. ``profile`` (Mastodon
#: 4.3+) reveals only the account's own profile, unlike ``read:accounts``.
SCOPES = fediverse.SCOPES_PROFILE
#: Servers older than 4.3 do not know ``profile``; they get ``read:accounts`` instead.
SCOPES_BEFORE_4_3 = fediverse.SCOPES_READ_ACCOUNTS
APP_NAME = "Storyloom"
URL_LENGTH = 23
DEFAULT_LIMIT = 500
BATCH_SIZE = 20
#: Statuses per page when reading an account back (Mastodon's maximum).
READ_BACK = 40
#: Pages read back at most (2,000 statuses) before saying the post cannot be settled.
READ_BACK_PAGES = 50
#: Servers' clocks and ours may disagree: read back this much before ``sent_at``.
CLOCK_SKEW = datetime.timedelta(minutes=5)

_HOST_RE = re.compile(r"(?!-)[a-z0-9-]{1,63}(?<!-)(\.(?!-)[a-z0-9-]{1,63}(?<!-))+", re.I)
_HANDLE_RE = re.compile(r"@?[\w.+-]+@(?P<host>[^@/\s]+)")
#: A mention with its domain, as people write it (the domain is not shown by servers).
_MENTION_DOMAIN = re.compile(r"(?<![\w/])@([\w.+-]*\w)@[\w-]+(?:\.[\w-]+)*")
#: A status id we send or accept: what Mastodon, GoToSocial, Akkoma and Takahē use.
_STATUS_ID = re.compile(r"[\w.-]{1,100}")

logger = logging.getLogger("syndication.channels")


def countable_length(text: str, url_length: int = URL_LENGTH) -> int:
    """How long Mastodon considers ``text``: user-perceived characters (grapheme clusters,
    as Mastodon's server counts them), URLs as ``url_length``, ``@user@domain`` as ``@user``."""
    return fediverse.mastodon_length(text, url_length)


def contains_marker(content: str, marker: str) -> bool:
    """True when a status's HTML carries ``marker`` whole.

    Mastodon escapes ``&`` as ``&amp;`` and cuts the visible part of a long link into
    spans, but keeps the whole address in ``href``; so the HTML is unescaped and the
    marker must not run on into more of a value (``utm_content=12`` is not in
    ``utm_content=123``).
    """
    text = html.unescape(content)
    return bool(re.search(rf"(?<![\w.~%-]){re.escape(marker)}(?![\w.~%-])", text))


def answered_id(reply_ref: dict) -> str:
    """The status id an answer replies to (``SyndicationPost.reply_to_ref``), checked."""
    status_id = str((reply_ref or {}).get("id") or "")
    if not _STATUS_ID.fullmatch(status_id):
        raise Rejected("The reply this answers has no usable Mastodon status id.")
    return status_id


def is_answer(status: dict, reply_ref: dict, text: str) -> bool:
    """True when ``status`` replies to ``reply_ref``'s status and says ``text``.

    The status's HTML is compared with the text sent by their words (``comparable``):
    servers render mentions without their domain, links cut into spans, Markdown or
    line breaks as markup, and none of that may hide an answer that went out.
    """
    parent = str((reply_ref or {}).get("id") or "")
    if not parent or str(status.get("in_reply_to_id") or "") != parent:
        return False
    content = status.get("content")
    return isinstance(content, str) and comparable(html_text(content)) == comparable(text)


def html_text(content: str) -> str:
    """A status's HTML as text: paragraphs and line breaks kept, tags dropped."""
    text = re.sub(r"<br\s*/?>", "\n", content, flags=re.I)
    text = re.sub(r"</p\s*>", "\n\n", text, flags=re.I)
    return html.unescape(re.sub(r"<[^>]*>", "", text))


def comparable(text: str) -> str:
    """``text`` reduced to its words, for telling whether a status says it: Unicode
    compatibility form, case folded, ``@user@domain`` as ``@user`` (as servers show a
    mention), everything but letters and digits dropped; the whitespace-separated
    text when that leaves nothing (an answer of emoji only)."""
    folded = unicodedata.normalize("NFKC", text).casefold()
    folded = _MENTION_DOMAIN.sub(r"@\1", folded)
    return " ".join(re.findall(r"\w+", folded)) or " ".join(folded.split())


# --- Connecting -----------------------------------------------------------------------
@dataclass(frozen=True)
class InstanceInfo:
    url: str
    domain: str
    title: str
    max_characters: int
    characters_reserved_per_url: int = URL_LENGTH
    version: str = ""
    #: What the server is and supports (NodeInfo plus this instance document).
    profile: fediverse.ServerProfile = fediverse.CONSERVATIVE


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
    if response.history:  # Redirected: talk to where the API really is.
        url = normalise_instance_url(response.url, allow_http=url.startswith("http:"))
    max_characters, per_url = fediverse.instance_limits(data)
    return InstanceInfo(
        url=url,
        domain=str(data.get("domain") or data.get("uri")),
        title=str(data.get("title") or host),
        max_characters=max_characters,
        characters_reserved_per_url=per_url,
        version=str(data["version"]),
        profile=detect_profile(url, data, session, timeout),
    )


def detect_profile(url: str, instance: dict, session, timeout) -> fediverse.ServerProfile:
    """The server's software from NodeInfo (``/.well-known/nodeinfo`` → its 2.x document),
    else from the instance document's version, and the capabilities that follow.

    NodeInfo is the standard way (https://nodeinfo.diaspora.software/protocol) and every
    family Storyloom knows publishes it; a server without it is judged by its instance
    document alone, and unknown software gets the conservative profile.
    """
    software, version = _nodeinfo_software(url, session, timeout)
    if not software:
        software, version = fediverse.software_from_instance(instance)
    return fediverse.profile_for(software, version, instance)


def _nodeinfo_software(url: str, session, timeout) -> tuple[str, str]:
    headers = {"Accept": "application/json"}
    try:
        response = session.get(f"{url}/.well-known/nodeinfo", headers=headers, timeout=timeout)
        href = fediverse.nodeinfo_href(_json_or_none(response), url)
        if href is None:
            return "", ""
        document = session.get(href, headers=headers, timeout=timeout)
    except requests.RequestException as exc:
        logger.warning("NodeInfo of %s could not be read: %r", _host(url), exc)
        return "", ""
    return fediverse.software_from_nodeinfo(_json_or_none(document))


def _json_or_none(response):
    if response.status_code != 200:
        return None
    try:
        return response.json()
    except ValueError:
        return None


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


class ScopeRefused(AuthExpired):
    """The token is valid but the server wants other scopes for this call (403
    ``out_of_scope_for_token``): connect again with the scopes it asks for."""


def verify_credentials(instance_url: str, access_token: str, session=None) -> Profile:
    """Who the token belongs to.

    ``verify_credentials`` is the one call every server answers for any valid token, so
    any 400, 401 or 403 here means the token is not valid for Storyloom: ScopeRefused
    when the server says it is about scopes, AuthExpired otherwise.
    """
    client = _client(session)
    try:
        response = client.request(
            "GET",
            f"{instance_url}/api/v1/accounts/verify_credentials",
            headers={"Authorization": f"Bearer {access_token}"},
        )
    except Rejected as exc:
        if exc.status in (400, 403):
            raise AuthExpired(exc.message, status=exc.status, body=exc.body) from exc
        raise
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
#: How length is counted for an account whose server is not detected yet.
MASTODON_RULE = fediverse.ServerProfile(family="mastodon", counting=fediverse.GRAPHEMES_URLS_23)


class MastodonAdapter(ChannelAdapter):
    network = "mastodon"
    label = "Mastodon"
    refreshes_tokens = False
    default_limit = DEFAULT_LIMIT
    max_media = 4
    empty_message = "The post is empty; Mastodon needs some text."
    measures_empty_text = False
    answers_items = True

    def __init__(self, account, *, server: fediverse.ServerProfile | None = None, **kwargs):
        super().__init__(account, **kwargs)
        self._server = server
        self._confirming = False

    # --- What the server supports ------------------------------------------------------
    @property
    def server(self) -> fediverse.ServerProfile:
        """The account's server as stored on the account; detected now (and handed to
        the account to keep) for an account connected before detection existed."""
        if self._server is None:
            stored = getattr(self.account, "server_profile", None)
            self._server = fediverse.ServerProfile.from_dict(stored) or self._detect()
        return self._server

    def _detect(self) -> fediverse.ServerProfile:
        if self.account is None or not getattr(self.account, "instance_url", ""):
            return fediverse.CONSERVATIVE
        try:
            info = instance_info(self.base_url, session=self.session, timeout=self.timeout)
        except ChannelError as exc:
            # Not kept: the next adapter asks again. Meanwhile assume the least.
            logger.warning("Could not tell which server %s runs: %s", self.host, exc.message)
            return fediverse.CONSERVATIVE
        self._tell_account("remember_server", info.profile)
        return info.profile

    @property
    def honours_idempotency_key(self) -> bool:
        return self.server.honours_idempotency_key

    @property
    def idempotency_seconds(self) -> int | None:
        """How long the server keeps a key; None when it keeps none."""
        return self.server.idempotency_seconds or None

    @property
    def batch_reads(self) -> bool:
        return self.server.batch_reads

    def _learn(self, note: str, **changes) -> None:
        """Something the server showed while working: kept for this adapter and told to
        the account (``ChannelAccount.remember_server``) so the next run knows it."""
        logger.warning("%s: %s", self.host, note)
        self._server = self.server.learned(note, **changes)
        self._tell_account("remember_server", self._server)

    def _tell_account(self, name: str, *args) -> None:
        hook = getattr(self.account, name, None)
        if callable(hook):
            hook(*args)

    @property
    def base_url(self) -> str:
        return self.account.instance_url.rstrip("/")

    @property
    def host(self) -> str:
        return _host(self.account.instance_url) if self.account is not None else "The server"

    def auth_headers(self) -> dict:
        token = (self.account.tokens or {}).get("access_token")
        if not token:
            raise AuthExpired("This Mastodon account has no access token; reconnect it.")
        return {"Authorization": f"Bearer {token}"}

    # --- Length ----------------------------------------------------------------------
    def _known(self) -> fediverse.ServerProfile | None:
        """The server as far as it is known without asking it (validation runs as people
        type: it must not wait on a server)."""
        stored = getattr(self.account, "server_profile", None) if self.account else None
        return self._server or fediverse.ServerProfile.from_dict(stored)

    def text_length(self, text: str) -> int:
        # Not yet detected: Mastodon's rule, which every account was checked with before.
        return fediverse.countable_length(text, self._known() or MASTODON_RULE)

    def too_long_message(self, length: int, limit: int) -> str:
        over = length - limit
        known = self._known() or MASTODON_RULE
        whose = "Mastodon's" if known.family == "mastodon" else "the server's"
        return (
            f"{over} character{'s' * (over != 1)} over {whose} {limit}-character limit "
            f"on {self.host}."
        )

    # --- Publishing and reading back ---------------------------------------------------
    def publish(self, request: PublishRequest) -> RemotePost:
        data = {"status": request.text, "visibility": "public"}
        if request.reply_to:
            data["in_reply_to_id"] = request.reply_to
        if request.reply_ref:
            data["in_reply_to_id"] = answered_id(request.reply_ref)
        if request.media:
            data["media_ids[]"] = [media.id for media in request.media]
        # Sent everywhere, counted on only where the profile says it is honoured.
        headers = {**self.auth_headers(), "Idempotency-Key": request.idempotency_key}
        try:
            response = self.request(
                "POST", f"{self.base_url}/api/v1/statuses", creates=True, data=data, headers=headers
            )
        except Rejected as error:
            raise _media_refusal(error, request) from error
        try:
            return _remote_post(self.json(response, dict), self.base_url)
        except ChannelError as exc:
            # A 2xx that is not a status (a proxy's page?) says nothing about the post.
            raise Unconfirmed(f"{exc.message} Checking whether the post was published.") from exc

    # --- Pictures ------------------------------------------------------------------------
    def upload_media(self, upload: MediaUpload) -> Attachment:
        """``POST /api/v2/media`` with the alt text as ``description`` and the focal point
        as ``focus``. 200 with a ``url``: ready; 202 (``url`` null): still processing,
        asked again with ``media_ready``. Needs ``write:media`` (or ``write``)."""
        fields = {"description": upload.alt}
        if upload.focus:
            fields["focus"] = upload.focus
        response = self.request(
            "POST",
            f"{self.base_url}/api/v2/media",
            files={"file": (upload.filename, upload.data, upload.mime)},
            data=fields,
            headers=self.auth_headers(),
        )
        media = self.json(response, dict)
        media_id, ready = str(media.get("id") or ""), bool(media.get("url"))
        if not _STATUS_ID.fullmatch(media_id):
            raise NotSent(f"{self.host} answered the upload without a usable media id.")
        size = {"width": upload.width, "height": upload.height}
        return Attachment(
            id=media_id, alt=upload.alt, ready=ready and response.status_code == 200, **size
        )

    def media_ready(self, attachment: Attachment) -> bool:
        """``GET /api/v1/media/:id``: 206 (or no ``url``) while processing, 200 when
        done; 404 when the server no longer has it."""
        url = f"{self.base_url}/api/v1/media/{attachment.id}"
        try:
            response = self.request("GET", url, headers=self.auth_headers())
        except Rejected as error:
            if error.status != 404:
                raise
            gone = f"{self.host} no longer has a picture uploaded earlier; uploading it again."
            raise MediaGone(gone, status=404, body=error.body) from error
        return response.status_code != 206 and bool(self.json(response, dict).get("url"))

    def find_published(self, request: PublishRequest) -> RemotePost | None:
        """The account's status that is ``request``'s post, or None once the account's
        statuses have been read back to before ``request.sent_at`` without it.

        A post is known by its marker (``utm_content=<id>``); an answer carries none, so
        it is known by what it replies to and what it says (``is_answer``), looked for
        first among the replies to the item it answers (one request) and then, as for
        every post, in the account's own statuses.

        Pages go newest first (``Link: rel=next``, else ``max_id``); without ``sent_at``
        one page is read. When ``READ_BACK_PAGES`` pages (or one timeout of paging) do
        not reach back that far the answer is Unconfirmed: "not found" would not be true.
        """
        if request.reply_ref:
            found = self._answer_in_context(request)
            if found is not None:
                return found
        elif not request.marker:
            return None
        url = f"{self.base_url}/api/v1/accounts/{self.account.remote_id}/statuses"
        first = {"limit": READ_BACK, "exclude_reblogs": "true"}
        params, seen = first, set()
        since = request.sent_at - CLOCK_SKEW if request.sent_at else None
        # No new page after one timeout's worth of paging, so the read-back and the
        # create after it stay within the task's time (checks.py: timeout × 3 < limit).
        give_up = time.monotonic() + self.timeout
        for page in range(READ_BACK_PAGES if since else 1):
            if page and time.monotonic() > give_up:
                break
            response = self.request("GET", url, params=params, headers=self.auth_headers())
            statuses = [s for s in self.json(response, list) if isinstance(s, dict)]
            for status in statuses:
                if self._is_ours(status, request):
                    return _remote_post(status, self.base_url)
            ids = [str(s["id"]) for s in statuses if s.get("id")]
            if not ids or ids[-1] in seen:
                return None  # the account's first status: nothing older to read
            seen.update(ids)
            oldest = _created_at(statuses[-1])
            if since is None or (oldest is not None and oldest < since):
                return None
            following = (response.links.get("next") or {}).get("url", "")
            following = fediverse.same_host_url(following, self.base_url) if following else None
            url, params = (following, None) if following else (url, {**first, "max_id": ids[-1]})
        raise Unconfirmed(
            f"Read back {len(seen)} statuses of {self.account.handle} on {self.host} "
            "without reaching the time the post was sent; it cannot be settled safely by "
            "reading back."
        )

    def _is_ours(self, status: dict, request: PublishRequest) -> bool:
        if status.get("reblog"):
            return False
        if request.reply_ref:
            return is_answer(status, request.reply_ref, request.text)
        return contains_marker(status.get("content") or "", request.marker)

    def _answer_in_context(self, request: PublishRequest) -> RemotePost | None:
        """Our answer among the replies under the item it answers
        (``GET /api/v1/statuses/:id/context``), or None: not there, or the thread could
        not be read (the item deleted since, a server without the call). None proves
        nothing; the account's own statuses decide."""
        parent = str(request.reply_ref.get("id") or "")
        if not parent or not _STATUS_ID.fullmatch(parent):
            return None
        url = f"{self.base_url}/api/v1/statuses/{parent}/context"
        try:
            context = self.json(self.request("GET", url, headers=self.auth_headers()), dict)
        except (Rejected, NotSent):
            return None
        descendants = context.get("descendants")
        for status in descendants if isinstance(descendants, list) else []:
            if not isinstance(status, dict) or not isinstance(status.get("account"), dict):
                continue
            if str(status["account"].get("id")) == str(self.account.remote_id) and (
                self._is_ours(status, request)
            ):
                return _remote_post(status, self.base_url)
        return None

    # --- Metrics ------------------------------------------------------------------------
    def fetch_metrics(self, remote_ids: list[str]) -> dict[str, PostMetrics]:
        """Counts per status id; how it went is told to the account
        (``record_metrics_read``) so a failing server shows in the admin."""
        try:
            metrics = self._fetch_metrics(remote_ids)
        except ChannelError as exc:
            self._tell_account("record_metrics_read", exc.message)
            raise
        self._tell_account("record_metrics_read", "")
        return metrics

    def _fetch_metrics(self, remote_ids: list[str]) -> dict[str, PostMetrics]:
        wanted = list(dict.fromkeys(str(remote_id) for remote_id in remote_ids if remote_id))
        metrics = {}
        size = max(1, self.server.batch_size if self.batch_reads else BATCH_SIZE)
        for start in range(0, len(wanted), size):
            for status in self._statuses(wanted[start : start + size]):
                if isinstance(status, dict) and str(status.get("id")) in wanted:
                    metrics[str(status["id"])] = _metrics(status)
        return metrics

    def refresh(self, tokens: dict) -> dict:
        raise AuthExpired("Mastodon tokens do not expire; a refused token needs a reconnect.")

    def _statuses(self, ids: list[str]) -> list:
        headers = self.auth_headers()
        if self.batch_reads:
            found = self._batch(ids, headers)
            if found is not None:
                return found
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

    def _batch(self, ids: list[str], headers: dict) -> list | None:
        """One batch read, or None when the server refused it; a refusal of any kind
        (404/405/422/501, a web page, a 200 that is not a list) is remembered."""
        params = [(self.server.batch_param, status_id) for status_id in ids]
        try:
            response = self.request(
                "GET", f"{self.base_url}/api/v1/statuses", params=params, headers=headers
            )
        except Rejected as exc:
            refusal = f"HTTP {exc.status}"
        except NotSent as exc:
            if exc.status != 501:
                raise
            refusal = "HTTP 501"
        else:
            data = _json_or_none(response)
            if fediverse.looks_like_status_list(data):
                return data
            kind = "a web page" if "html" in response.headers.get("Content-Type", "") else "no list"
            refusal = f"HTTP {response.status_code} with {kind}"
        self._learn(
            f"Batch status reads refused ({refusal}); statuses are read one at a time.",
            batch_reads=False,
        )
        return None

    # --- Answers ------------------------------------------------------------------------
    def check(self, response: requests.Response, *, creates: bool = False):
        status = response.status_code
        if status in (400, 401, 403):
            detail = self.error_detail(response)
            if fediverse.means_scope_refusal(status, detail):
                raise ScopeRefused(
                    f"{self.host} says this account did not give Storyloom permission for "
                    f"that ({detail}); reconnect the account.",
                    status=403,
                    body=response.text,
                )
            if self.account is not None and fediverse.may_mean_invalid_token(self.server, status):
                self._confirm_token(response, detail, creates=creates)
        return super().check(response, creates=creates)

    def _confirm_token(self, response, detail: str, *, creates: bool) -> None:
        """A 400 or 403 that may mean a dead token (Takahē, Pleroma), or a 401 from
        software Storyloom does not know (some answer 401 for unrelated errors), is
        confirmed with ``verify_credentials``, which any valid token passes.

        Refused there too: AuthExpired. Accepted: a 401 was about something else (the
        post may exist if it was a create); a 400 or 403 goes on as the refusal it is.
        Unconfirmed either way (verify unreachable): the status keeps its usual meaning.
        """
        status = response.status_code
        said = f"HTTP {status}: {detail}" if detail else f"HTTP {status}"
        verdict = self._token_verdict()
        if isinstance(verdict, AuthExpired):
            raise AuthExpired(
                f"{self.host} no longer accepts this account's token ({said}); "
                "reconnect the account.",
                status=status,
                body=response.text,
            ) from verdict
        if verdict is True and status == 401:
            cls = Unconfirmed if creates else Rejected
            raise cls(
                f"{self.host} answered {said} although the account's token is valid"
                + ("; checking whether the post was published." if creates else "."),
                status=status,
                body=response.text,
            )

    def _token_verdict(self) -> AuthExpired | bool | None:
        """``verify_credentials``'s refusal, True when it accepts the token, None when it
        could not be asked."""
        if self._confirming:
            return None
        self._confirming = True
        try:
            token = (self.account.tokens or {}).get("access_token", "")
            verify_credentials(self.base_url, token, session=self.session)
        except AuthExpired as exc:
            return exc
        except ChannelError:
            return None
        finally:
            self._confirming = False
        return True

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


def _media_refusal(error: Rejected, request: PublishRequest) -> Rejected:
    """A refused create that is about pictures uploaded earlier: MediaGone when the
    server no longer has them (Mastodon 4.x: 422 "Media … not found or already attached
    to another post"; a 404 naming media elsewhere), MediaNotReady while it is still
    processing them (422 "…not finished processing…"); else the refusal as it was."""
    detail = error.message.lower()
    if not request.media or ("media" not in detail and "processing" not in detail):
        return error
    if "processing" in detail:
        message = "Mastodon is still processing the pictures; trying again shortly."
        return MediaNotReady(message, status=error.status, body=error.body)
    if error.status in (404, 422) and ("not found" in detail or "already attached" in detail):
        return MediaGone(
            "Mastodon no longer has the pictures uploaded earlier (unused uploads are "
            "deleted after about a day); uploading them again.",
            status=error.status,
            body=error.body,
        )
    return error


def _remote_post(status: dict, base_url: str = "") -> RemotePost:
    if not status.get("id"):
        raise Rejected("Mastodon's answer has no post id.")
    url = status.get("url") or status.get("uri") or ""
    # Servers write their public https address even when reached over http (development);
    # on the account's own host, the address people can follow is the instance's.
    url = (fediverse.same_host_url(url, base_url) if base_url else None) or url
    return RemotePost(id=str(status["id"]), url=url)


def _created_at(status: dict) -> datetime.datetime | None:
    try:
        value = str(status.get("created_at") or "").replace("Z", "+00:00")
        moment = datetime.datetime.fromisoformat(value)
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=datetime.UTC)


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
