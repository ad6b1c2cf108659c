"""What the collector accepts, where an arrival came from, and who is a bot. No Django.

The wire format (``POST /e/``, one JSON object of at most 2,048 bytes) is checked
here field by field; a body either comes out as a clean dict or raises
``ValidationProblem`` naming the field that is wrong. ``attribution`` turns the
landing's UTM tags, referrer and share token into the rollup's source, post and
share; ``is_bot`` drops crawlers, headless browsers and link-preview fetchers.
"""

import datetime
import functools
import json
import re
from typing import NamedTuple
from urllib.parse import urlsplit

from .models import EVENT_TYPES, FEELINGS, SHARE_NETWORKS

MAX_BODY = 2048
MAX_REFERRER = 2000
MAX_UTM = 100
MAX_SOURCE = 64
MAX_DETAIL = 64  # the rollup's detail column
# A referrer's host as browsers send it: a DNS name (IDNA in its ASCII form), an IPv4
# address or an IPv6 one (urlsplit drops the brackets).
HOST = re.compile(r"[a-z0-9](?:[a-z0-9.-]{0,251}[a-z0-9])?|[0-9a-f:.]{2,45}", re.ASCII)
MAX_ENGAGED_MS = 86_400_000
MAX_ID = 2_147_483_647  # the rollup's integer columns
SHARE_WINDOW = datetime.timedelta(days=7)
LINK_KINDS = ("continues", "background", "related", "more", "series", "for_you")
#: The events that tell a newsletter subscriber's reads (``SubscriberRead``) when they
#: carry the click token the reader arrived with.
READ_EVENTS = ("engaged_read", "read_through")
UTM_KEYS = ("source", "medium", "campaign", "content")
SHARE_TOKEN = re.compile(r"[A-Za-z0-9_-]{8,32}")
# A newsletter click token (``syndication.newsletter.clicks``) as the landing carried it.
# Only its shape is checked here, so the fast path stays free of crypto and queries;
# the flusher checks the signature before it writes anything (docs/newsletter.md).
NEWSLETTER_TOKEN = re.compile(r"[A-Za-z0-9_.:~-]{1,120}")
# The event's own id, drawn by the reader's browser: a retry after a lost answer sends
# the same one, and the flusher counts an id once (docs/metrics.md).
EVENT_ID = re.compile(r"[A-Za-z0-9_-]{8,36}")

# Which fields each event type may carry besides t, s, r, u, sh, nl and i; True = required.
EVENT_FIELDS = {
    "view": {},
    "engaged_read": {"ms": True, "sd": False},
    "read_through": {"sd": False},
    "share": {"n": True},
    "link_follow": {"to": True, "k": True},
    "feeling": {"f": True},
}
COMMON_FIELDS = ("t", "s", "r", "u", "sh", "nl", "i")
ALL_FIELDS = frozenset(COMMON_FIELDS) | {"n", "to", "k", "f", "ms", "sd"}


class ValidationProblem(ValueError):
    """A body the collector refuses; ``str()`` is the JSON error: ``"<field>: <problem>"``."""

    def __init__(self, field: str, problem: str):
        self.field = field
        self.problem = problem
        super().__init__(f"{field}: {problem}")


_PLAIN_KEY = re.compile(r"[A-Za-z0-9_-]{1,40}")


def _name(key: str) -> str:
    """A client-sent key, safe and short enough to quote back in an error."""
    if _PLAIN_KEY.fullmatch(key):
        return key
    return json.dumps(key[:40]) + ("…" if len(key) > 40 else "")


def _reject_constant(name: str):
    raise ValueError(f"{name} is not JSON")


def storable(value) -> bool:
    """True when every string in ``value`` (keys too, all the way down) can be stored.

    JSON can carry what no text column holds: ``\\u0000`` (PostgreSQL refuses NUL in
    text) and lone surrogates (``\\ud800``: not UTF-8 at all). A value that passes every
    other check must still be storable, or one request could stop the flusher.
    """
    if isinstance(value, str):
        return "\x00" not in value and not _SURROGATE.search(value)
    if isinstance(value, dict):
        return all(storable(key) and storable(item) for key, item in value.items())
    if isinstance(value, list):
        return all(storable(item) for item in value)
    return True


_SURROGATE = re.compile("[\ud800-\udfff]")


def decode(body: bytes) -> dict:
    """The JSON object in ``body``; ``ValidationProblem("body", …)`` for anything else."""
    if len(body) > MAX_BODY:
        raise ValidationProblem("body", f"larger than {MAX_BODY} bytes")
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        raise ValidationProblem("body", "not UTF-8") from None
    try:
        # NaN/Infinity are Python's extensions, not JSON; 2 KB of "[" nests too deep.
        data = json.loads(text, parse_constant=_reject_constant)
    except (ValueError, RecursionError):
        raise ValidationProblem("body", "not valid JSON") from None
    if not isinstance(data, dict):
        raise ValidationProblem("body", "not a JSON object")
    if not storable(data):
        raise ValidationProblem("body", "holds a NUL character or a lone surrogate")
    return data


def _int(data: dict, field: str, low: int, high: int) -> int:
    value = data[field]
    # bool is an int in Python but not in the wire format.
    if not isinstance(value, int) or isinstance(value, bool):
        raise ValidationProblem(field, "must be an integer")
    if not low <= value <= high:
        raise ValidationProblem(field, f"must be between {low} and {high}")
    return value


def _choice(data: dict, field: str, choices) -> str:
    value = data[field]
    if not isinstance(value, str) or value not in choices:
        raise ValidationProblem(field, f"must be one of {', '.join(choices)}")
    return value


def _referrer(value) -> str:
    if not isinstance(value, str):
        raise ValidationProblem("r", "must be a string")
    if len(value) > MAX_REFERRER:
        raise ValidationProblem("r", f"longer than {MAX_REFERRER} characters")
    if not value:
        return ""  # document.referrer is empty when there was none
    try:
        parts = urlsplit(value)
        host = parts.hostname
    except ValueError:
        raise ValidationProblem("r", "not a URL") from None
    if parts.scheme.lower() not in ("http", "https") or not host:
        raise ValidationProblem("r", "must be an http(s) URL")
    if not HOST.fullmatch(host):
        # The host becomes the rollup's source: only what a browser sends as one.
        raise ValidationProblem("r", "not a URL")
    return value


def _utm(value) -> dict[str, str]:
    if not isinstance(value, dict):
        raise ValidationProblem("u", "must be an object")
    for key, tag in value.items():
        if key not in UTM_KEYS:
            raise ValidationProblem(f"u.{_name(key)}", "unknown field")
        if not isinstance(tag, str):
            raise ValidationProblem(f"u.{key}", "must be a string")
        if len(tag) > MAX_UTM:
            raise ValidationProblem(f"u.{key}", f"longer than {MAX_UTM} characters")
    return dict(value)


def validate(data: dict) -> dict:
    """The event in a decoded body, checked against the wire format.

    Whether ``s`` and ``to`` are *live* stories is for the caller (it needs the
    database); here they only have to be positive integers.
    """
    for key in data:
        if key not in ALL_FIELDS:
            raise ValidationProblem(_name(key), "unknown field")
    if "t" not in data:
        raise ValidationProblem("t", "required")
    event = _choice(data, "t", EVENT_TYPES)
    if "s" not in data:
        raise ValidationProblem("s", "required")
    clean = {"t": event, "s": _int(data, "s", 1, MAX_ID)}
    if "r" in data:
        clean["r"] = _referrer(data["r"])
    if "u" in data:
        clean["u"] = _utm(data["u"])
    if "sh" in data:
        token = data["sh"]
        if not isinstance(token, str) or not SHARE_TOKEN.fullmatch(token):
            raise ValidationProblem("sh", "must be 8 to 32 of A-Z a-z 0-9 _ -")
        clean["sh"] = token
    if "nl" in data:
        token = data["nl"]
        if not isinstance(token, str) or not NEWSLETTER_TOKEN.fullmatch(token):
            raise ValidationProblem("nl", "must be 1 to 120 of A-Z a-z 0-9 _ . : ~ -")
        clean["nl"] = token
    if "i" in data:
        event_id = data["i"]
        if not isinstance(event_id, str) or not EVENT_ID.fullmatch(event_id):
            raise ValidationProblem("i", "must be 8 to 36 of A-Z a-z 0-9 _ -")
        clean["i"] = event_id

    allowed = EVENT_FIELDS[event]
    for field in ("n", "to", "k", "f", "ms", "sd"):
        if field in data and field not in allowed:
            raise ValidationProblem(field, f"not allowed on a {event} event")
    for field, required in allowed.items():
        if required and field not in data:
            raise ValidationProblem(field, f"required on a {event} event")
    if "n" in data:
        clean["n"] = _choice(data, "n", SHARE_NETWORKS)
    if "to" in data:
        clean["to"] = _int(data, "to", 1, MAX_ID)
    if "k" in data:
        clean["k"] = _choice(data, "k", LINK_KINDS)
    if "f" in data:
        clean["f"] = _choice(data, "f", FEELINGS)
    if "ms" in data:
        clean["ms"] = _int(data, "ms", 0, MAX_ENGAGED_MS)
    if "sd" in data:
        clean["sd"] = _int(data, "sd", 0, 100)
    return clean


def parse(body: bytes) -> dict:
    """``decode`` then ``validate``: a clean event, or ``ValidationProblem``."""
    return validate(decode(body))


def detail(event: dict) -> str:
    """What narrows the event in its rollup: the network, the feeling, the followed link."""
    kind = event["t"]
    if kind == "share":
        return event["n"]
    if kind == "feeling":
        return event["f"]
    if kind == "link_follow":
        return f"{event['k']}:{event['to']}"
    return ""


# --- Attribution -----------------------------------------------------------------------

# A search engine's own host: the engine's name, then a public suffix such as com, de,
# co.uk or com.br (so google.evil.example is not one).
SEARCH_ENGINE = re.compile(
    r"(?:^|\.)(?:google|bing|yahoo|yandex|baidu|duckduckgo|ecosia|qwant|startpage|"
    r"naver|seznam|sogou|kagi|ask|aol|so|mojeek|metager|swisscows)"
    r"\.(?:(?:com?|net|org|ac|gov)\.)?[a-z]{2,3}$"
)
OTHER_SEARCH_HOSTS = frozenset({"search.brave.com", "search.aol.com", "lite.qwant.com"})
NEWSLETTER_MEDIA = ("email", "newsletter")
_SOURCE_JUNK = re.compile(r"[^a-z0-9._-]+")


class Attribution(NamedTuple):
    source: str
    post_id: int
    share_id: int
    detail: str


def bare_host(host: str) -> str:
    """``Example.com:8000`` → ``example.com``: the host part, lower-case, without a port."""
    host = host.strip().lower()
    if host.startswith("["):  # an IPv6 literal
        return host.split("]", 1)[0] + "]"
    return host.rsplit(":", 1)[0] if host.count(":") == 1 else host


def _social_source(value: str) -> str:
    return _SOURCE_JUNK.sub("", value.strip().lower())[:MAX_SOURCE] or "social"


def attribution(u, r, share, site_host: str, event: dict | None = None, now=None) -> Attribution:
    """Where an arrival came from, in the wire format's order of precedence.

    ``u`` is the landing's UTM tags (or None), ``r`` its referrer, ``share`` the row of
    the share token it carried (anything with ``id`` and ``created_at``; None when it
    carried none or an unknown one), ``site_host`` this site's host. ``event`` (optional)
    fills ``detail``. A share token wins while it is at most seven days old.
    """
    narrowed = detail(event) if event else ""
    now = now or datetime.datetime.now(datetime.UTC)
    if share is not None and now - share.created_at <= SHARE_WINDOW:
        return Attribution("share", 0, share.id, narrowed)
    u = u or {}
    medium = u.get("medium", "").strip().lower()
    if medium == "social":
        content = u.get("content", "").strip()
        post_id = int(content) if content.isascii() and content.isdigit() else 0
        return Attribution(
            _social_source(u.get("source", "")), post_id if post_id <= MAX_ID else 0, 0, narrowed
        )
    if medium in NEWSLETTER_MEDIA:
        return Attribution("newsletter", 0, 0, narrowed)
    host = ""
    if r:
        try:
            host = (urlsplit(r).hostname or "").lower()
        except ValueError:
            host = ""
    if not host:
        return Attribution("direct", 0, 0, narrowed)
    if SEARCH_ENGINE.search(host) or host in OTHER_SEARCH_HOSTS:
        return Attribution("search", 0, 0, narrowed)
    if _same_site(host, bare_host(site_host)):
        return Attribution("internal", 0, 0, narrowed)
    return Attribution(host[:MAX_SOURCE], 0, 0, narrowed)


def _same_site(host: str, site: str) -> bool:
    return host == site or host.removeprefix("www.") == site.removeprefix("www.")


# --- Bots --------------------------------------------------------------------------------

# Crawlers, monitors, HTTP libraries, headless browsers and the link-preview fetchers of
# chat apps and social networks. In-app browsers of real readers (FBAN, LinkedInApp,
# Instagram, YaBrowser, DuckDuckGo's app) are left alone on purpose. A "+http://…" in
# the user agent is the crawler convention of pointing at the bot's own page.
BOT = re.compile(
    r"bot\b|bot/|bot;|crawl|spider|slurp|archiver|fetcher|scraper|\+https?://|"
    r"headless|phantomjs|puppeteer|playwright|selenium|webdriver|lighthouse|pagespeed|"
    r"gtmetrix|pingdom|uptime|statuscake|site24x7|monitor|synthetics|preview|"
    r"facebookexternalhit|meta-externalagent|whatsapp/|slack-imgproxy|embedly|iframely|"
    r"cardyb|vkshare|http\.rb|mastodon/|pleroma|akkoma|misskey|chatgpt|claude|anthropic|"
    r"perplexity|mediapartners|apis-google|google-inspectiontool|"
    r"curl/|wget/|python|httpx|aiohttp|go-http-client|java/|okhttp|libwww|scrapy|"
    r"node-fetch|undici|axios/|postmanruntime|insomnia|guzzle|apache-httpclient|php/|"
    r"ruby|perl/|http_request|httpclient|rest-client",
    re.IGNORECASE,
)


@functools.lru_cache(maxsize=4096)
def is_bot(user_agent: str) -> bool:
    """True for an empty user agent and for anything ``BOT`` recognises.

    Kept per user agent: a site's readers share a few hundred of them, and the pattern
    costs tens of microseconds per look.
    """
    return not user_agent.strip() or BOT.search(user_agent) is not None


# --- Share tokens ------------------------------------------------------------------------

SHARE_FIELDS = frozenset({"s", "n", "parent", "r", "u"})


def validate_share(data: dict) -> dict:
    """A ``POST /e/share/`` body: story, network, the token the sharer arrived with.

    ``r`` and ``u`` (the sharer's own landing, as on every event) are optional and
    only attribute the share event that minting a token also counts.
    """
    for key in data:
        if key not in SHARE_FIELDS:
            raise ValidationProblem(_name(key), "unknown field")
    for field in ("s", "n"):
        if field not in data:
            raise ValidationProblem(field, "required")
    clean = {"s": _int(data, "s", 1, MAX_ID), "n": _choice(data, "n", SHARE_NETWORKS)}
    parent = data.get("parent")
    if parent is not None:
        if not isinstance(parent, str) or not SHARE_TOKEN.fullmatch(parent):
            raise ValidationProblem("parent", "must be 8 to 32 of A-Z a-z 0-9 _ -")
        clean["parent"] = parent
    if "r" in data:
        clean["r"] = _referrer(data["r"])
    if "u" in data:
        clean["u"] = _utm(data["u"])
    return clean
