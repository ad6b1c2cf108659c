"""The collector's fast path: check an event, attribute it, buffer it.

``receive`` is what both doors of the collector call (the WSGI dispatcher in
``syndication.engagement.wsgi`` and the Django view): it drops Do-Not-Track and
bot traffic, validates the body, checks the story ids against an in-process copy
of the live stories, attributes the arrival and appends one entry to the Redis
stream (``ENGAGEMENT_REDIS_URL``; ``syndication.engagement.flush`` adds the
entries up into the rollups). Without Redis (embedded mode) the event goes
straight into its rollup, through the same upsert the flusher uses.

A valid event costs no database query: the live story ids are kept per process
and re-read only when the site's content version moves on (``stories.render_cache``),
today's salt is kept per day, and share tokens per token.
"""

import datetime
import functools
import json
import logging
import os
import threading
import time
from collections import OrderedDict
from typing import NamedTuple

from django.conf import settings
from django.core.cache import cache
from django.db import IntegrityError, transaction
from django.http.request import split_domain_port, validate_host

import redis

from cms import ratelimit
from cms.ratelimit import client_ip
from stories.models import StoryPage
from stories.render_cache import content_version

from . import events, privacy
from .models import ShareToken
from .rollups import SEEN_WINDOW, add_to_rollups, announce_reads, rollup_key

logger = logging.getLogger(__name__)

# How often a process asks the shared cache whether the content version moved on, and
# how long any copy of the set is trusted at most: Wagtail moves the version on inside
# the publishing transaction, so a set read just before the commit can miss a story.
LIVE_CHECK_SECONDS = 2.0
LIVE_MAX_AGE = 60.0
SHARE_CACHE_SIZE = 10_000
SHARE_KNOWN_SECONDS = 600
SHARE_UNKNOWN_SECONDS = 60
ACCEPTED_TYPES = ("text/plain", "application/json")
DEBUG_HOSTS = [".localhost", "127.0.0.1", "[::1]"]  # Django's own default under DEBUG


class Outcome(NamedTuple):
    """The answer to one request: 202 (recorded or dropped), 400, 429 or 503, and why."""

    status: int
    error: str = ""
    recorded: bool = False
    retry_after: int = 0  # seconds, sent as Retry-After with a 429


ACCEPTED = Outcome(202, recorded=True)
DROPPED = Outcome(202)


# --- Redis ---------------------------------------------------------------------------

_clients: dict[tuple[str, bool], redis.Redis] = {}
_clients_lock = threading.Lock()


def redis_client(url: str | None = None, *, decode: bool = True) -> redis.Redis:
    """This process's one client (and connection pool) for ``url`` (default: the setting).

    Made once: building a client costs more than an XADD. Clients are thread-safe, and
    redis-py pools notice a fork and start afresh, so each gunicorn or Celery worker
    gets connections of its own. ``decode=False``: one that answers bytes (the flusher
    reads the stream with it, so one entry that is not UTF-8 fails alone).
    """
    url = url or settings.ENGAGEMENT_REDIS_URL
    client = _clients.get((url, decode))
    if client is None:
        with _clients_lock:
            client = _clients.get((url, decode))
            if client is None:
                client = redis.Redis.from_url(
                    url, decode_responses=decode, socket_timeout=5, socket_connect_timeout=2
                )
                _clients[(url, decode)] = client
    return client


# --- Live stories --------------------------------------------------------------------


class _LiveStories:
    version: str | None = None
    ids: frozenset = frozenset()
    checked: float = 0.0
    loaded: float = 0.0


_live = _LiveStories()
_live_lock = threading.Lock()


def live_story_ids(*, recheck: bool = False) -> frozenset:
    """The ids of the live stories, as of the site's current content version.

    Publishing or unpublishing anything moves the version on, so the set is rebuilt
    (once, then shared through the cache) after each change; a process looks at the
    version at most every ``LIVE_CHECK_SECONDS`` unless ``recheck``, and rebuilds the
    set after ``LIVE_MAX_AGE`` seconds whatever the version.
    """
    now = time.monotonic()
    if not recheck and now - _live.checked < LIVE_CHECK_SECONDS:
        return _live.ids
    with _live_lock:
        version = content_version()
        if version != _live.version or now - _live.loaded > LIVE_MAX_AGE:
            key = f"storyloom:engagement:live:{version}"
            ids = cache.get(key)
            if ids is None:
                ids = frozenset(StoryPage.objects.live().values_list("pk", flat=True))
                cache.set(key, ids, int(LIVE_MAX_AGE))
            _live.ids, _live.version, _live.loaded = ids, version, now
        _live.checked = now
        return _live.ids


def is_live(story_id: int) -> bool:
    # A miss looks at the version again at once: the story may have gone live a moment ago.
    return story_id in live_story_ids() or story_id in live_story_ids(recheck=True)


# --- Share tokens --------------------------------------------------------------------


class ShareRow(NamedTuple):
    id: int
    created_at: datetime.datetime


_shares: OrderedDict[str, tuple[ShareRow | None, float]] = OrderedDict()
_shares_lock = threading.Lock()


def share_row(token: str) -> ShareRow | None:
    """The share token's id and age, looked up once per process and kept a while.

    Every event of a page view carries the token it arrived with; only the first
    costs a query.
    """
    now = time.monotonic()
    hit = _shares.get(token)
    if hit is not None and hit[1] > now:
        return hit[0]
    found = ShareToken.objects.filter(token=token).values_list("id", "created_at").first()
    row = ShareRow(*found) if found else None
    keep = SHARE_KNOWN_SECONDS if row else SHARE_UNKNOWN_SECONDS
    with _shares_lock:
        _shares[token] = (row, now + keep)
        _shares.move_to_end(token)
        while len(_shares) > SHARE_CACHE_SIZE:
            _shares.popitem(last=False)
    return row


def forget_caches() -> None:
    """Drop this process's live stories, share tokens and salt (tests)."""
    with _live_lock:
        _live.version, _live.ids, _live.checked, _live.loaded = None, frozenset(), 0.0, 0.0
    with _shares_lock:
        _shares.clear()
    privacy.forget_salt()


# --- Receiving -------------------------------------------------------------------------


def content_type_ok(content_type: str) -> bool:
    return content_type.split(";", 1)[0].strip().lower() in ACCEPTED_TYPES


def accept(
    body: bytes, *, content_type: str, host: str, ip: str, user_agent: str, opted_out: bool
) -> Outcome | dict:
    """Check one ``POST /e/``: the ``Outcome`` to answer at once, or the entry to record.

    ``opted_out`` is ``DNT: 1`` or ``Sec-GPC: 1``; ``host`` the validated Host header.
    Dropped and refused events come back as their ``Outcome``; an accepted one as the
    stream entry ``store`` takes. Nothing is written here, so a caller may run the
    check again (the ASGI collector does, in a thread, when it needs the database).
    """
    if opted_out or events.is_bot(user_agent):
        return DROPPED
    if not content_type_ok(content_type):
        return Outcome(400, "content-type: must be text/plain or application/json")
    try:
        event = events.parse(body)
    except events.ValidationProblem as problem:
        return Outcome(400, str(problem))
    if not is_live(event["s"]):
        return Outcome(400, "s: not a live story")
    if "to" in event and not is_live(event["to"]):
        return Outcome(400, "to: not a live story")
    share = share_row(event["sh"]) if "sh" in event else None
    came_from = events.attribution(event.get("u"), event.get("r"), share, host, event)
    site = events.bare_host(host)
    visitor = privacy.visitor_hash(ip, user_agent, site)
    # Only reads pass a newsletter click token on (the flusher turns them into the
    # subscriber's reads); every other event stays as anonymous as it arrived.
    nl = event.get("nl", "") if event["t"] in events.READ_EVENTS else ""
    entry = entry_for(
        event["t"], event["s"], came_from, visitor, nl=nl, event_id=event.get("i", "")
    )
    # The address alone, hashed like the visitor, for the per-address limit; fields that
    # start with "_" are never written to the stream.
    entry["_address"] = privacy.visitor_hash(ip, "", site)
    return entry


def receive(
    body: bytes, *, content_type: str, host: str, ip: str, user_agent: str, opted_out: bool
) -> Outcome:
    """Handle one ``POST /e/``: drop, refuse or record it (``accept``, then ``store``)."""
    checked = accept(
        body,
        content_type=content_type,
        host=host,
        ip=ip,
        user_agent=user_agent,
        opted_out=opted_out,
    )
    return checked if isinstance(checked, Outcome) else store(checked)


def record(
    kind: str, story_id: int, came_from: events.Attribution, visitor: str = "", *, nl: str = ""
) -> Outcome:
    """Buffer one accepted event (or, embedded, count it at once)."""
    return store(entry_for(kind, story_id, came_from, visitor, nl=nl))


def entry_for(
    kind: str,
    story_id: int,
    came_from: events.Attribution,
    visitor: str = "",
    *,
    nl: str = "",
    event_id: str = "",
) -> dict:
    """The stream entry of one accepted event.

    ``nl`` is the newsletter click token of a read, kept beside the rollup fields so
    the flusher can record the subscriber's read; the rollups never see it. ``event_id``
    is the id the reader's browser gave the event: a retry carries the same, and the
    flusher counts it once.
    """
    entry = {
        "day": privacy.today().isoformat(),
        "t": kind,
        "s": story_id,
        "src": came_from.source,
        "d": came_from.detail,
        "p": came_from.post_id,
        "sh": came_from.share_id,
        # The day's visitor hash, for counting distinct readers; never an IP or user agent.
        "v": visitor,
    }
    if nl:
        entry["nl"] = nl
    if event_id:
        entry["i"] = event_id
    return entry


def store(entry: dict) -> Outcome:
    """Append the entry to the stream, or (embedded) add it to its rollup at once."""
    if settings.ENGAGEMENT_REDIS_URL:
        try:
            reply = append(redis_client(), settings.ENGAGEMENT_STREAM, entry)
        except redis.RedisError:
            logger.exception("engagement: could not buffer an event")
            return Outcome(503, "buffer: unavailable, try again later")
        return outcome_of(reply)
    # Every counter counts the event, as in LIMITED_XADD.
    wait = max(
        (ratelimit.hit("events", key, n, LIMIT_WINDOW) for key, n in limits(entry)), default=0
    )
    return limited(wait) if wait else write_now(entry)


# --- Rate limits ---------------------------------------------------------------------

LIMIT_WINDOW = 60
# One round trip per event, as a plain XADD: count the reader and the address in
# windows of LIMIT_WINDOW seconds (a counter expires with its window) and append the
# entry only while both are within their limits. Answers {1, entry id} or {0, seconds
# until the window that is over its limit ends}.
LIMITED_XADD = """
local wait = 0
for i = 2, 3 do
  local limit = tonumber(ARGV[i - 1])
  if limit > 0 then
    local n = redis.call('INCR', KEYS[i])
    if n == 1 then redis.call('EXPIRE', KEYS[i], ARGV[3]) end
    if n > limit then wait = math.max(wait, redis.call('TTL', KEYS[i]), 1) end
  end
end
if wait > 0 then return {0, wait} end
return {1, redis.call('XADD', KEYS[1], '*', unpack(ARGV, 4))}
"""


def limits(entry: dict) -> list[tuple[str, int]]:
    """The counters an event is counted on: its reader's (address and browser), its address's.

    None for an event the server records itself (a share, counted when its token is made).
    """
    if "_address" not in entry:
        return []
    return [
        (f"reader:{entry['v']}", settings.ENGAGEMENT_EVENTS_PER_MINUTE),
        (f"address:{entry.get('_address', '')}", settings.ENGAGEMENT_EVENTS_PER_MINUTE_PER_ADDRESS),
    ]


def limited(wait: int) -> Outcome:
    return Outcome(429, "rate: too many events, try again later", retry_after=int(wait))


def outcome_of(reply) -> Outcome:
    """What Redis's answer to ``stream_command`` means for the reader."""
    if isinstance(reply, list) and int(reply[0]) == 0:
        return limited(int(reply[1]))
    return ACCEPTED


def _bulk(value) -> bytes:
    data = str(value).encode()
    return b"$%d\r\n%b\r\n" % (len(data), data)


_own = threading.local()


def _connection(client: redis.Redis) -> redis.Connection:
    """This thread's own connection to the client's Redis, outside the pool.

    Taking a connection from the pool and giving it back costs more CPU than the XADD;
    a gunicorn worker thread keeps one for good instead (a forked process makes its own).
    """
    pool = client.connection_pool
    connection = getattr(_own, "connection", None)
    if connection is None or _own.pool is not pool or connection.pid != os.getpid():
        connection = pool.connection_class(**pool.connection_kwargs)
        _own.connection, _own.pool = connection, pool
    return connection


def xadd_command(stream: str, entry: dict) -> bytes:
    """The command that appends ``entry`` to ``stream``, in Redis's wire format.

    ``XADD stream * field value …``; while rate limits are on, ``LIMITED_XADD`` with the
    entry's counters. Fields whose name starts with "_" are not written.
    """
    fields = [(field, value) for field, value in entry.items() if not field.startswith("_")]
    counters = limits(entry)
    if any(limit > 0 for _, limit in counters):
        parts = [_bulk("EVAL"), _bulk(LIMITED_XADD), _bulk(3), _bulk(stream)]
        parts += [_bulk(f"{stream}:limit:{key}") for key, _ in counters]
        parts += [*(_bulk(limit) for _, limit in counters), _bulk(LIMIT_WINDOW)]
    else:
        parts = [_bulk("XADD"), _bulk(stream), _bulk("*")]
    for field, value in fields:
        parts += (_bulk(field), _bulk(value))
    return b"*%d\r\n%b" % (len(parts), b"".join(parts))


def append(client: redis.Redis, stream: str, entry: dict) -> str:
    """``xadd_command``, written out by hand on this thread's connection.

    The same command as ``client.xadd`` for a fraction of its CPU time: redis-py's
    general command path (argument encoding, the pool, retries, observability) costs
    more than the round trip itself, and this is the one command every event pays for.
    A connection that fails while sending is retried once afresh (nothing reached
    Redis); one that fails while reading the answer is not (the entry may be in).
    """
    command = xadd_command(stream, entry)
    for attempt in (1, 2):
        connection = _connection(client)
        try:
            connection.send_packed_command([command], check_health=False)
        except (redis.ConnectionError, redis.TimeoutError):
            connection.disconnect()
            if attempt == 2:
                raise
            continue
        try:
            return connection.read_response()
        except (redis.ConnectionError, redis.TimeoutError):
            connection.disconnect()
            raise
    raise AssertionError("unreachable")


def write_now(entry: dict) -> Outcome:
    """Embedded mode: add the event to its rollup in its own small transaction.

    An event id written a moment ago (a reader's retry after a lost answer) is taken
    and not counted again; the ids are kept in the cache as long as the flusher keeps
    them (``rollups.SEEN_WINDOW``).
    """
    seen = f"storyloom:engagement:seen:{entry['i']}" if entry.get("i") else None
    if seen and cache.get(seen):
        return ACCEPTED
    try:
        with transaction.atomic():
            add_to_rollups({rollup_key(entry): 1})
            if "nl" in entry:  # a read through a newsletter link
                announce_reads([entry])
    except IntegrityError:
        # The story was deleted a moment ago; its rollups went with it.
        return DROPPED
    if seen:
        cache.set(seen, 1, 2 * SEEN_WINDOW)
    return ACCEPTED


# --- Request details (a WSGI environ or Django's request.META) --------------------------


def opted_out(meta) -> bool:
    """``DNT: 1`` or ``Sec-GPC: 1``: the reader asked not to be counted."""
    return meta.get("HTTP_DNT", "").strip() == "1" or meta.get("HTTP_SEC_GPC", "").strip() == "1"


@functools.lru_cache(maxsize=64)
def _host_allowed(host: str, allowed: tuple[str, ...]) -> bool:
    domain, _port = split_domain_port(host)
    return bool(domain) and validate_host(domain, allowed)


def allowed_host(meta) -> str | None:
    """The Host header if Django would accept it (``ALLOWED_HOSTS``), else None.

    The collector's doors in front of Django check it themselves, as Django would.
    """
    host = meta.get("HTTP_HOST") or meta.get("SERVER_NAME", "")
    allowed = settings.ALLOWED_HOSTS or (DEBUG_HOSTS if settings.DEBUG else [])
    return host if _host_allowed(host, tuple(allowed)) else None


def answer(outcome: Outcome) -> tuple[list[tuple[str, str]], bytes]:
    """The headers and body of the collector's answer (a JSON error, or nothing)."""
    headers = [("Cache-Control", "no-store"), ("X-Content-Type-Options", "nosniff")]
    if outcome.retry_after:
        headers.append(("Retry-After", str(outcome.retry_after)))
    if outcome.error:
        content = json.dumps({"error": outcome.error}).encode()
        headers.append(("Content-Type", "application/json"))
    else:
        content = b""
    headers.append(("Content-Length", str(len(content))))
    return headers, content


def request_details(meta) -> dict:
    """The keyword arguments of ``accept`` and ``receive`` but the body and host."""
    return {
        "content_type": meta.get("CONTENT_TYPE", ""),
        "ip": client_ip(meta),
        "user_agent": meta.get("HTTP_USER_AGENT", ""),
        "opted_out": opted_out(meta),
    }


def receive_request(meta, body: bytes, host: str) -> Outcome:
    """``receive`` for one request's headers."""
    return receive(body, host=host, **request_details(meta))
