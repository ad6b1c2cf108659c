"""Which Mastodon-API server an account lives on, and what Storyloom may assume of it.

Many programs speak Mastodon's client API (Mastodon, GoToSocial, Pleroma and Akkoma,
Takahē, …) and they differ on exactly the calls the publishing engine leans on: which
OAuth scopes they know, whether ``Idempotency-Key`` makes a resend safe, whether
``GET /api/v1/statuses?id[]=`` exists, how they count a post's length and which status
code says "this token is not valid". This module turns what a server says about itself
(its NodeInfo document and its instance document) into one ``ServerProfile`` of those
answers. Unknown software gets the conservative profile: broad scopes, single reads, no
idempotency assumed, length counted the stricter of two ways.

Pure logic, no Django and no HTTP: ``syndication.channels.mastodon`` fetches the
documents, ``ChannelAccount.server_profile`` stores the result (``as_dict``), and
docs/syndication.md ("Mastodon-API servers") has the table with sources. The facts
per family come from each project's documentation and source:

* Mastodon: https://docs.joinmastodon.org/api/oauth-scopes/ (``profile`` 4.3+),
  https://docs.joinmastodon.org/methods/statuses/ (``Idempotency-Key`` kept 1 h,
  ``GET /api/v1/statuses?id[]=`` 4.3+, at most 20), https://docs.joinmastodon.org/user/posting/
  (URLs count 23), https://docs.joinmastodon.org/entities/Instance/;
* GoToSocial: https://github.com/superseriousbusiness/gotosocial
  ``internal/api/util/scopes.go``, ``internal/processing/status/common.go`` (raw runes,
  400 when too long), no idempotency (``internal/middleware/cors.go`` only lets the
  header through), no batch route (``internal/api/client/statuses/status.go``);
* Pleroma / Akkoma: https://git.pleroma.social/pleroma/pleroma ``lib/pleroma/web/plugs/
  idempotency_plug.ex`` (replays for 6 h, key not per user), ``…/status_controller.ex``
  (``ids[]``, at most 100), ``…/plugs/ensure_authenticated_plug.ex`` (403 "Invalid
  credentials."), ``…/common_api/utils.ex`` (graphemes, URLs in full);
* Takahē: https://github.com/jointakahe/takahe ``api/middleware.py`` (400 "Invalid Bearer
  token"), ``api/views/accounts.py`` (``verify_credentials`` needs the broad ``read``),
  ``api/views/statuses.py`` (``len(status)``; no ``Idempotency-Key``, no batch read).
"""

from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass, field
from urllib.parse import urlsplit, urlunsplit

import regex

#: Narrow scopes: posting and reading statuses, uploading pictures, plus who the account
#: is. Accounts connected before pictures (without ``write:media``) are told to reconnect
#: by ``syndication.pictures.check``.
SCOPES_PROFILE = "read:statuses write:statuses write:media profile"
SCOPES_READ_ACCOUNTS = "read:statuses write:statuses write:media read:accounts"
#: What every family accepts (research note, §11): asked for when granular scopes are
#: unknown or refused.
BROAD_SCOPES = "read write"

URL_LENGTH = 23
DEFAULT_LIMIT = 500
NODEINFO_SCHEMAS = (
    "http://nodeinfo.diaspora.software/ns/schema/2.1",
    "http://nodeinfo.diaspora.software/ns/schema/2.0",
)

# Mastodon's length rule: an http(s) URL counts as 23 characters whatever its length,
# and a mention counts without its domain. Trailing punctuation ends a sentence, not a link.
_URL_RE = re.compile(r"https?://[^\s<>\"]*[^\s<>\".,:;!?'()\[\]]")
_MENTION_RE = re.compile(
    r"(?<![=/\w])@([a-z0-9_]+(?:[a-z0-9_.-]+[a-z0-9_]+)?)(?:@\w+(?:[.-]+\w+)*)?", re.I
)

# How a family counts a post's length (``Counting``).
GRAPHEMES_URLS_23 = "graphemes, each URL as characters_reserved_per_url, mentions without domain"
GRAPHEMES = "graphemes, URLs in full"
CODE_POINTS = "code points (raw characters), URLs in full"
STRICTEST = "the stricter of Mastodon's rule and raw code points (software unknown)"


@dataclass(frozen=True)
class ServerProfile:
    """What one server supports, as far as the publishing engine cares."""

    #: NodeInfo ``software.name`` in lower case ("" when the server published none).
    software: str = ""
    version: str = ""
    #: The family Storyloom knows it as: mastodon, gotosocial, pleroma, takahe or unknown.
    family: str = "unknown"
    #: Scopes to ask for at ``/oauth/authorize`` and register the app with.
    scopes: str = BROAD_SCOPES
    #: The server honours granular scopes on every call Storyloom makes.
    granular_scopes: bool = False
    #: ``Idempotency-Key`` on create returns the status made the first time, for
    #: ``idempotency_seconds`` after it.
    honours_idempotency_key: bool = False
    idempotency_seconds: int = 0
    #: ``GET /api/v1/statuses`` with many ids; its parameter name and page size.
    batch_reads: bool = False
    batch_param: str = "id[]"
    batch_size: int = 20
    #: How the server counts (one of the constants above) and its limits.
    counting: str = STRICTEST
    characters_reserved_per_url: int = URL_LENGTH
    max_characters: int = DEFAULT_LIMIT
    #: Status codes a dead token can come back with (401 everywhere; Takahē says 400,
    #: Pleroma/Akkoma 403). Anything but 401 is confirmed with ``verify_credentials``.
    token_invalid_statuses: tuple[int, ...] = (400, 401, 403)
    #: Pictures, from the instance document (``configuration.media_attachments``,
    #: Akkoma's v1 ``upload_limit``/``description_limit``); 0 or empty when the server
    #: did not say, and ``syndication.pictures`` assumes conservative values.
    media_size_limit: int = 0
    media_matrix_limit: int = 0
    media_mime_types: tuple[str, ...] = ()
    media_description_limit: int = 0
    max_media_attachments: int = 0
    #: What was learned while using the server (a refused batch read, refused scopes).
    notes: tuple[str, ...] = field(default_factory=tuple)

    @property
    def label(self) -> str:
        name = self.software or "unknown software"
        return f"{name} {self.version}".strip()

    def as_dict(self) -> dict:
        data = dataclasses.asdict(self)
        data["token_invalid_statuses"] = list(self.token_invalid_statuses)
        data["notes"] = list(self.notes)
        data["media_mime_types"] = list(self.media_mime_types)
        return data

    @classmethod
    def from_dict(cls, data: dict | None) -> ServerProfile | None:
        """The stored profile, or None when nothing (or nothing readable) was stored."""
        if not data or not isinstance(data, dict) or "family" not in data:
            return None
        names = {f.name for f in dataclasses.fields(cls)}
        values = {key: value for key, value in data.items() if key in names}
        values["token_invalid_statuses"] = tuple(values.get("token_invalid_statuses") or (401,))
        values["notes"] = tuple(values.get("notes") or ())
        values["media_mime_types"] = tuple(values.get("media_mime_types") or ())
        try:
            return cls(**values)
        except TypeError:
            return None

    def learned(self, note: str, **changes) -> ServerProfile:
        """This profile with ``changes`` and ``note`` kept, saying why it changed."""
        notes = self.notes if note in self.notes else (*self.notes, note)
        return dataclasses.replace(self, notes=notes, **changes)


CONSERVATIVE = ServerProfile()


# --- Reading what a server says about itself --------------------------------------------
def nodeinfo_href(document, instance_url: str) -> str | None:
    """The NodeInfo 2.x address from ``/.well-known/nodeinfo``, on the instance's own host.

    Servers write the address with their public scheme (``https://``) even when reached
    over plain http in development, so the instance's scheme and port are kept; an
    address on another host is not followed (the instance document is enough then).
    """
    links = document.get("links") if isinstance(document, dict) else None
    if not isinstance(links, list):
        return None
    by_rel = {
        link.get("rel"): link.get("href")
        for link in links
        if isinstance(link, dict) and isinstance(link.get("href"), str)
    }
    href = next((by_rel[rel] for rel in NODEINFO_SCHEMAS if by_rel.get(rel)), None)
    if href is None:
        return None
    return same_host_url(href, instance_url)


def same_host_url(url: str, instance_url: str) -> str | None:
    """``url`` moved onto ``instance_url``'s scheme and port when it names the same host."""
    try:
        parts, base = urlsplit(url), urlsplit(instance_url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            return None
        if parts.hostname.lower() != (base.hostname or "").lower():
            return None
    except ValueError:
        return None
    return urlunsplit((base.scheme, base.netloc, parts.path, parts.query, ""))


def software_from_nodeinfo(document) -> tuple[str, str]:
    """NodeInfo ``software.name`` (lower case) and ``software.version``, or ``("", "")``."""
    software = document.get("software") if isinstance(document, dict) else None
    if not isinstance(software, dict):
        return "", ""
    name = str(software.get("name") or "").strip().lower()
    return name[:60], str(software.get("version") or "").strip()[:60]


def software_from_instance(instance: dict) -> tuple[str, str]:
    """A guess from the instance document when NodeInfo is missing: most non-Mastodon
    servers write "3.5.3 (compatible; GoToSocial 0.16.0)" or "takahe/0.11.0"."""
    version = str(instance.get("version") or "")
    compatible = re.search(r"\(compatible;\s*([\w.+-]+)[\s/]+([\w.+-]+)", version)
    if compatible:
        return compatible[1].lower(), compatible[2]
    slash = re.fullmatch(r"([a-z][\w.-]*)/([\w.+-]+)", version.strip(), re.I)
    if slash:
        return slash[1].lower(), slash[2]
    if "mastodon" in str(instance.get("source_url") or "").lower():
        return "mastodon", version
    return "", version


def version_tuple(version: str) -> tuple[int, ...]:
    numbers = re.match(r"\s*v?(\d+)(?:\.(\d+))?(?:\.(\d+))?", version or "")
    if not numbers:
        return ()
    return tuple(int(part) for part in numbers.groups() if part is not None)


def instance_limits(instance: dict) -> tuple[int, int]:
    """``(max_characters, characters_reserved_per_url)`` from a v2 or v1 instance document."""
    configuration = instance.get("configuration") if isinstance(instance, dict) else None
    statuses = (configuration or {}).get("statuses") or {}
    limit = _positive(statuses.get("max_characters")) or _positive(instance.get("max_toot_chars"))
    per_url = _positive(statuses.get("characters_reserved_per_url"))
    return limit or DEFAULT_LIMIT, per_url or URL_LENGTH


def media_limits(instance: dict) -> dict:
    """What the instance document says about pictures, as ``ServerProfile`` fields.

    v2 (and v1 3.4.2+): ``configuration.media_attachments`` (``image_size_limit``,
    ``image_matrix_limit``, ``supported_mime_types``, ``description_limit`` 4.4+) and
    ``configuration.statuses.max_media_attachments``; Akkoma's v1 document has none of
    it but ``upload_limit`` and ``description_limit`` at the top.
    """
    if not isinstance(instance, dict):
        return {}
    configuration = instance.get("configuration")
    configuration = configuration if isinstance(configuration, dict) else {}
    media = configuration.get("media_attachments")
    media = media if isinstance(media, dict) else {}
    statuses = configuration.get("statuses")
    statuses = statuses if isinstance(statuses, dict) else {}
    types = media.get("supported_mime_types")
    types = [t for t in types if isinstance(t, str)][:100] if isinstance(types, list) else []
    found = {
        "media_size_limit": _positive(media.get("image_size_limit"))
        or _positive(instance.get("upload_limit")),
        "media_matrix_limit": _positive(media.get("image_matrix_limit")),
        "media_mime_types": tuple(t.strip().lower()[:100] for t in types),
        "media_description_limit": _positive(media.get("description_limit"))
        or _positive(instance.get("description_limit")),
        "max_media_attachments": _positive(statuses.get("max_media_attachments")),
    }
    return {key: value for key, value in found.items() if value}


def _positive(value) -> int | None:
    try:
        number = int(value)
    except (TypeError, ValueError):
        return None
    return number if number > 0 else None


# --- From software to capabilities ------------------------------------------------------
FAMILIES = {
    "mastodon": "mastodon",
    "hometown": "mastodon",
    "glitchsoc": "mastodon",
    "gotosocial": "gotosocial",
    "pleroma": "pleroma",
    "akkoma": "pleroma",
    "takahe": "takahe",
}


def profile_for(software: str, version: str, instance: dict | None = None) -> ServerProfile:
    """The capability profile of ``software`` at ``version`` with its instance document."""
    instance = instance or {}
    limit, per_url = instance_limits(instance)
    family = FAMILIES.get(software, "unknown")
    base = ServerProfile(
        software=software,
        version=version,
        family=family,
        max_characters=limit,
        characters_reserved_per_url=per_url,
        **media_limits(instance),
    )
    if family == "mastodon":
        # Forks keep the name with their own version; api_versions (4.3+) is the truth.
        api = (instance.get("api_versions") or {}).get("mastodon") if instance else None
        at_least_4_3 = bool(api) or version_tuple(version) >= (4, 3)
        return dataclasses.replace(
            base,
            scopes=SCOPES_PROFILE if at_least_4_3 else SCOPES_READ_ACCOUNTS,
            granular_scopes=True,
            honours_idempotency_key=True,
            idempotency_seconds=3600,
            batch_reads=at_least_4_3,
            counting=GRAPHEMES_URLS_23,
            token_invalid_statuses=(401,),
        )
    if family == "gotosocial":
        return dataclasses.replace(
            base,
            scopes=SCOPES_READ_ACCOUNTS,
            granular_scopes=True,
            counting=CODE_POINTS,
            token_invalid_statuses=(401,),
        )
    if family == "pleroma":
        return dataclasses.replace(
            base,
            scopes=SCOPES_READ_ACCOUNTS,
            granular_scopes=True,
            # Replays the first answer for 6 h; the key is global, Storyloom's are UUIDs.
            honours_idempotency_key=True,
            idempotency_seconds=6 * 3600,
            batch_reads=True,
            batch_param="ids[]",
            batch_size=100,
            counting=GRAPHEMES,
            token_invalid_statuses=(401, 403),
        )
    if family == "takahe":
        return dataclasses.replace(
            base,
            scopes=BROAD_SCOPES,
            counting=CODE_POINTS,
            token_invalid_statuses=(400, 401),
        )
    return base


# --- Counting a post's length the server's way -------------------------------------------
def countable_length(text: str, profile: ServerProfile = CONSERVATIVE) -> int:
    """How long ``profile``'s server considers ``text``, in the unit its limit is in."""
    if profile.counting == GRAPHEMES_URLS_23:
        return mastodon_length(text, profile.characters_reserved_per_url)
    if profile.counting == GRAPHEMES:
        return len(regex.findall(r"\X", text))
    if profile.counting == CODE_POINTS:
        return len(text)
    return max(mastodon_length(text, profile.characters_reserved_per_url), len(text))


def mastodon_length(text: str, url_length: int = URL_LENGTH) -> int:
    """Mastodon's rule: graphemes, each URL as ``url_length``, ``@user@domain`` as ``@user``."""
    text = _MENTION_RE.sub(r"@\1", _URL_RE.sub("x" * url_length, text))
    return len(regex.findall(r"\X", text))


# --- Answers ------------------------------------------------------------------------------
def means_scope_refusal(status: int, detail: str) -> bool:
    """A 403 about scopes (Mastodon/Takahē ``out_of_scope_for_token``, GoToSocial's
    "insufficient scope", Pleroma's "Insufficient permissions")."""
    text = (detail or "").lower()
    return status == 403 and any(word in text for word in ("scope", "insufficient permission"))


def may_mean_invalid_token(profile: ServerProfile, status: int) -> bool:
    """A status that needs ``verify_credentials`` to say whether the token is dead:
    400/403 where the family uses them for that, and a 401 from unknown software
    (Sharkey's Mastodon layer answered 401 for any upstream error)."""
    if status == 401:
        return profile.family == "unknown"
    return status in profile.token_invalid_statuses


def looks_like_status_list(data) -> bool:
    """A batch read's answer is a list of statuses; anything else is a refusal."""
    return isinstance(data, list) and all(isinstance(item, dict) for item in data)
