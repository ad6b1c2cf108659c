"""Serving stored pages in front of Django (``with_page_cache``, wired in ``cms.wsgi``).

A GET or HEAD without a session cookie, for a path outside the admin, API and files,
is looked up by scheme, host, path and the query parameters that change a page
(``?page=``; ``?limit=`` for a feed; tracking parameters such as ``utm_*``, ``sh`` and
``nl`` are dropped, any other parameter skips the cache). A current copy is answered at
once, usually in one cache round trip (the entry and its tags' versions together), with
``ETag``, ``Last-Modified`` and ``304 Not Modified`` for conditional requests, without
Django's middleware, routing, privacy checks or database. Otherwise Django answers, and
a response it tagged (``stories.page_cache.tags``) is stored with every header the
middleware added, unless it sets a cookie, says ``private``/``no-store``/``no-cache``
(Wagtail does for pages with view restrictions), varies on more than
``Cookie``/``Accept-Encoding`` or carries a CSRF token. Whether a stored copy is
current is decided by its tags' versions and the purge clock (``stories.page_cache.store``).

Single flight: when the stored copy is not current (purged) or missing, one reader
per page takes a short lock in the cache (``SET NX PX`` on Redis) and renders it;
meanwhile the others get the previous copy, marked ``X-Cache: stale`` with its ``Age``,
as long as it has been out of date for no more than ``PAGE_CACHE_STALE_SECONDS``, or,
with no such copy, wait for the one render (``PAGE_CACHE_RENDER_WAIT_SECONDS`` at most,
then render themselves). A stale copy is only ever answered where a current one would
be (the same key: no session or private cookie), and never after a purge that allowed
none or when the render that replaces it finds the page gone or private. A render a
purge overtook is kept as a provisional copy: never a hit, but the stale copy to answer
until the next render (``Entry``).
"""

import hashlib
import logging
import secrets
import time
from typing import NamedTuple
from urllib.parse import parse_qsl, urlencode

from django.conf import settings
from django.utils.http import http_date, parse_http_date_safe

from stories.page_cache import store as page_store
from stories.page_cache.store import (
    CLOCK_KEY,
    ENTRY_PREFIX,
    LOCK_PREFIX,
    PASS_MARK,
    TAG_PREFIX,
    _Store,
    _store,
    _token,
    is_hard,
    purge_time,
    purged_at,
)
from stories.page_cache.tags import ENVIRON_TAGS

logger = logging.getLogger(__name__)

HIT, MISS, PASS, STALE = "hit", "miss", "pass", "stale"

#: Query parameters that change what a page shows; they are part of the key.
KEYED_PARAMETERS = ("page",)
#: Feeds (``syndication.feeds``) live under this path and take ``?limit=`` instead.
FEED_PATHS = ("/feeds/",)
FEED_KEYED_PARAMETERS = ("limit",)
#: Tracking parameters the page never reads (engage.js reads and strips them in the
#: browser): the same cached page answers with or without them.
IGNORED_PARAMETERS = ("sh", "nl", "fbclid", "gclid", "dclid", "msclkid", "mc_cid", "mc_eid")
IGNORED_PREFIXES = ("utm_",)
#: Paths never looked up: the admin, the API, files, the collector and the newsletter.
SKIPPED_PATHS = (
    "/admin/",
    "/django-admin/",
    "/api/",
    "/documents/",
    "/e/",
    "/newsletter/",
)
#: Cookies that make a reader's page their own (signed in, a password-protected page
#: passed, flash messages waiting). ``csrftoken`` does not: reading pages hold no form.
PRIVATE_COOKIES = ("messages",)
#: Headers that belong to one response, not to the page.
PER_RESPONSE_HEADERS = frozenset(
    {"date", "server", "x-request-id", "x-cache", "content-length", "connection"}
)
#: Headers a ``304 Not Modified`` repeats (RFC 9110, 15.4.5).
NOT_MODIFIED_HEADERS = frozenset(
    {"cache-control", "content-location", "etag", "expires", "last-modified", "vary"}
)
CSRF_MARK = b"csrfmiddlewaretoken"


#: A purge dated this close to a render's start may have come before it on another
#: machine's clock: such a render is not kept, even as a provisional copy.
CLOCK_SKEW_SECONDS = 1.0


class Entry(NamedTuple):
    """A stored page: the versions of its tags when rendered, and the response.

    ``fresh_at``: a time (seconds since the epoch) when what it shows was current.
    ``provisional``: rendered while one of its tags was purged, so never current (never
    a hit), but younger than the copy it replaced: answered stale, dated by
    ``fresh_at`` (the render's start), while the next render is made.
    """

    versions: dict
    status: str
    headers: list
    body: bytes
    etag: str
    last_modified: int
    fresh_at: float = 0.0
    provisional: bool = False


def request_key(environ) -> str | None:
    """The cache key of an anonymous page request, or None when it must go to Django."""
    path = environ.get("PATH_INFO") or "/"
    if path.startswith(_skipped_paths()):
        return None
    cookies = environ.get("HTTP_COOKIE")
    if cookies and _has_private_cookie(cookies):
        return None
    if environ.get("HTTP_AUTHORIZATION"):
        return None
    scheme = _scheme(environ)
    if scheme != "https" and settings.SECURE_SSL_REDIRECT:
        return None  # Django redirects it
    keyed = FEED_KEYED_PARAMETERS if path.startswith(FEED_PATHS) else KEYED_PARAMETERS
    query = _keyed_query(environ.get("QUERY_STRING", ""), keyed)
    if query is None:
        return None
    host = environ.get("HTTP_HOST") or f"{environ.get('SERVER_NAME')}:{environ.get('SERVER_PORT')}"
    raw = f"{scheme}://{host.lower()}{environ.get('SCRIPT_NAME', '')}{path}?{query}"
    digest = hashlib.blake2b(raw.encode("utf-8", "surrogatepass"), digest_size=16).hexdigest()
    return ENTRY_PREFIX + digest


def _skipped_paths() -> tuple[str, ...]:
    return (*SKIPPED_PATHS, settings.STATIC_URL or "/static/", settings.MEDIA_URL or "/media/")


def _has_private_cookie(header: str) -> bool:
    private = (settings.SESSION_COOKIE_NAME, *PRIVATE_COOKIES)
    for part in header.split(";"):
        name = part.split("=", 1)[0].strip()
        if name in private:
            return True
    return False


def _scheme(environ) -> str:
    """``request.scheme`` as Django works it out (``SECURE_PROXY_SSL_HEADER``)."""
    proxy = settings.SECURE_PROXY_SSL_HEADER
    if proxy:
        header, secure_value = proxy
        value = environ.get(header)
        if value is not None:
            return "https" if value.split(",", 1)[0].strip() == secure_value else "http"
    return environ.get("wsgi.url_scheme", "http")


def _keyed_query(query_string: str, keyed=KEYED_PARAMETERS) -> str | None:
    """The parameters that change the page, in order; None if one is unknown."""
    if not query_string:
        return ""
    kept = []
    for name, value in parse_qsl(query_string, keep_blank_values=True):
        if name in keyed:
            kept.append((name, value))
        elif name in IGNORED_PARAMETERS or name.startswith(IGNORED_PREFIXES):
            continue
        else:
            return None  # it may change the page (a preview mode, a filter): not cached
    return urlencode(sorted(kept))


#: Per process: the tag keys of the pages looked up lately, so that a hit needs one
#: round trip (the entry and its tags' versions in one ``get_many``), not two.
_known_tags: dict[str, tuple] = {}
KNOWN_TAGS_SIZE = 2000


def _tag_versions(store: _Store, key: str, entry: Entry, found: dict, known: tuple) -> dict:
    """The current versions of ``entry``'s tags: it is current if they are its own.

    ``found`` holds the versions of the ``known`` tag keys, read with the entry.
    """
    tag_keys = tuple(entry.versions)
    if known == tag_keys:
        return {tag: found[tag] for tag in tag_keys if tag in found}
    if len(_known_tags) >= KNOWN_TAGS_SIZE:
        _known_tags.clear()
    _known_tags[key] = tag_keys
    return store.get_many(list(tag_keys))


def _stored(value) -> Entry | None:
    """A stored entry, or None for anything else found under its key."""
    if isinstance(value, Entry) and isinstance(value.versions, dict):
        return value
    return None


def _is_current(entry: Entry, versions) -> bool:
    return versions == entry.versions and not entry.provisional


def _stale_for(entry: Entry, versions: dict, now: float) -> float | None:
    """How long ``entry`` has been out of date at most (seconds), or None when it may not
    be answered stale (a purge that allows none) or that is not known.

    Exact when every changed tag is one purge on (the earliest purge dates it); else at
    most the time since ``fresh_at``, when it was known to be current.
    """
    since = None
    dated = True
    for tag, rendered_with in entry.versions.items():
        current = versions.get(tag)
        if current == rendered_with:
            continue
        if is_hard(current):
            return None
        at = purged_at(current, rendered_with)
        if at is None:
            dated = False
        else:
            since = at if since is None else min(since, at)
    if not dated or since is None:
        since = None
    if entry.fresh_at and (since is None or entry.fresh_at < since):
        since = entry.fresh_at
    return None if since is None else max(0.0, now - since)


def _not_modified(environ, entry: Entry) -> bool:
    if_none_match = environ.get("HTTP_IF_NONE_MATCH")
    if if_none_match is not None:
        # Weak comparison, as RFC 9110 asks for GET and HEAD.
        offered = {tag.strip().removeprefix("W/") for tag in if_none_match.split(",")}
        return "*" in offered or entry.etag in offered
    if_modified_since = environ.get("HTTP_IF_MODIFIED_SINCE")
    if if_modified_since:
        since = parse_http_date_safe(if_modified_since)
        return since is not None and entry.last_modified <= since
    return False


def _answer(entry: Entry, environ, start_response, state: str, extra=()):
    if state == STALE:
        # Out of date: nobody downstream may keep it without asking again.
        age = max(0, int(page_store.wall_clock()) - entry.last_modified)
        headers = [h for h in entry.headers if h[0].lower() != "cache-control"]
        entry = entry._replace(headers=[*headers, ("Cache-Control", "public, no-cache")])
        extra = [*extra, ("Age", str(age))]
    if _not_modified(environ, entry):
        headers = [h for h in entry.headers if h[0].lower() in NOT_MODIFIED_HEADERS]
        start_response("304 Not Modified", [*headers, *extra, ("X-Cache", state)])
        return []
    start_response(entry.status, [*entry.headers, *extra, ("X-Cache", state)])
    return [] if environ.get("REQUEST_METHOD") == "HEAD" else [entry.body]


def _refusal(environ, status: str, headers, body: bytes) -> str:
    """Why a tagged response may not be shared, or "" when it may."""
    if environ.get("REQUEST_METHOD") != "GET":
        return "not a GET"
    if not status.startswith("200"):
        return "status"
    for name, value in headers:
        name = name.lower()
        if name == "set-cookie":
            return "sets a cookie"
        if name == "cache-control" and {"private", "no-store", "no-cache"} & {
            part.strip().split("=", 1)[0] for part in value.lower().split(",")
        }:
            return "private"
        if name == "vary" and {v.strip().lower() for v in value.split(",")} - {
            "cookie",
            "accept-encoding",
        }:
            return "varies"
    if CSRF_MARK in body:
        return "holds a CSRF token"
    return ""


def _cache_control() -> str:
    return (
        f"public, max-age={settings.PAGE_CACHE_MAX_AGE}, "
        f"stale-while-revalidate={settings.PAGE_CACHE_STALE_WHILE_REVALIDATE}"
    )


def _clock(store: _Store, found: dict):
    clock = found.get(CLOCK_KEY)
    if clock is None:
        store.add(CLOCK_KEY, _token())
        clock = store.get_many([CLOCK_KEY]).get(CLOCK_KEY)
        if clock is None:  # there, but unreadable: a new one
            clock = _token()
            store.set_many({CLOCK_KEY: clock})
    return clock


def _versions(store: _Store, tags, clock) -> tuple[dict | None, bool]:
    """The current versions of ``tags`` (None if one cannot be read), and whether
    anything was purged since ``clock``."""
    keys = [TAG_PREFIX + tag for tag in sorted(tags)]
    found = store.get_many([*keys, CLOCK_KEY])
    missing = [key for key in keys if key not in found]
    if missing:  # never purged (or evicted): any version will do, read back below
        store.set_many({key: _token() for key in missing})
        found = store.get_many([*keys, CLOCK_KEY])
    moved = found.get(CLOCK_KEY) != clock
    if any(key not in found for key in keys):
        return None, moved
    return {key: found[key] for key in keys}, moved


def _may_keep_provisional(versions: dict, started: float) -> bool:
    """A render overtaken by a purge may stand in as a stale copy, unless a purge that
    allows none may have come after it started."""
    for version in versions.values():
        if is_hard(version) and (purge_time(version) or 0) >= started - CLOCK_SKEW_SECONDS:
            return False
    return True


def with_page_cache(django_app):
    """Wrap a Django WSGI application so anonymous readers get stored pages at once."""

    def render(environ, start_response, store, key, clock, lock=None):
        """Django answers; a reading page is stored. ``lock``: this reader's render lock,
        given up when the page is stored (or left marked "pass" when it may not be)."""
        try:
            return _render(environ, start_response, store, key, clock, lock)
        except BaseException:
            if lock is not None:
                _release(store, lock)
            raise

    def _render(environ, start_response, store, key, clock, lock):
        captured = []
        written = []

        def capture(status, headers, exc_info=None):
            captured[:] = [status, headers]
            return written.append

        started = page_store.wall_clock()
        result = django_app(environ, capture)
        tags = environ.get(ENVIRON_TAGS)
        status, headers = captured
        if not tags:  # not a reading page: passed on untouched (it may be streamed)
            if lock is not None:
                _release(store, lock, unstored=True, drop=key if status[:3] != "304" else None)
            start_response(status, headers)
            return result  # Django never uses write(), so ``written`` is empty
        try:
            body = b"".join([*written, *result])
        finally:
            if hasattr(result, "close"):
                result.close()

        refusal = _refusal(environ, status, headers, body)
        if refusal and lock is not None:
            # The page is gone, failed or private now: its stale copy is answered no more.
            _release(store, lock, unstored=True, drop=key)
        if refusal:
            # A page made for this reader must not be kept by browsers or proxies for
            # others either; a HEAD or an error is left as Django answered it.
            personal = refusal not in ("not a GET", "status")
            if personal and not any(
                name.lower() == "cache-control" and ("private" in value or "no-store" in value)
                for name, value in headers
            ):
                headers = [h for h in headers if h[0].lower() != "cache-control"]
                headers.append(("Cache-Control", "private, no-store"))
            start_response(status, [*headers, ("X-Cache", PASS)])
            return [body]

        now = int(time.time())
        etag = f'"{hashlib.blake2b(body, digest_size=16).hexdigest()}"'
        kept = [
            h
            for h in headers
            if h[0].lower() not in PER_RESPONSE_HEADERS
            and h[0].lower() not in ("cache-control", "etag", "last-modified", "expires")
        ]
        kept += [
            ("Cache-Control", _cache_control()),
            ("ETag", etag),
            ("Last-Modified", http_date(now)),
            ("Content-Length", str(len(body))),
        ]
        entry = Entry({}, status, kept, body, etag, now)
        try:
            checked = page_store.wall_clock()
            versions, moved = _versions(store, tags, clock)
            if versions is not None and not moved:
                kept_entry = entry._replace(versions=versions, fresh_at=checked)
                store.set(key, kept_entry, settings.PAGE_CACHE_TIMEOUT)
            elif versions is not None and _may_keep_provisional(versions, started):
                # Purged while rendered: never current, but newer than what is stored.
                kept_entry = entry._replace(versions=versions, fresh_at=started, provisional=True)
                store.set(key, kept_entry, settings.PAGE_CACHE_TIMEOUT)
        except Exception:
            logger.exception("page cache: could not store %s", environ.get("PATH_INFO"))
        if lock is not None:
            _release(store, lock)
        # This response's own headers (its request id) go to this reader only.
        own = [h for h in headers if h[0].lower() == "x-request-id"]
        return _answer(entry, environ, start_response, MISS, own)

    def application(environ, start_response):
        if environ.get("REQUEST_METHOD") not in ("GET", "HEAD") or not settings.PAGE_CACHE_ENABLED:
            return django_app(environ, start_response)
        key = request_key(environ)
        if key is None:
            return django_app(environ, start_response)
        try:
            store = _store()
            known = _known_tags.get(key, ())
            found = store.get_many([key, CLOCK_KEY, *known])
            entry = _stored(found.get(key))
            # Benchmarks only (bench/pages.py sets it): render as a first visitor would.
            forced_miss = getattr(settings, "PAGE_CACHE_FORCE_MISS_HEADER", "")
            forced_miss = forced_miss and environ.get(forced_miss)
            versions = None
            if entry is not None and not forced_miss:
                versions = _tag_versions(store, key, entry, found, known)
                if _is_current(entry, versions):
                    return _answer(entry, environ, start_response, HIT)
            clock = _clock(store, found)
            if forced_miss or environ.get("REQUEST_METHOD") != "GET":
                return render(environ, start_response, store, key, clock)  # never stored
            flight = _single_flight(environ, store, key, entry, versions, clock)
        except Exception:
            # A cache that is down must not take the site with it: Django answers.
            logger.exception("page cache: lookup failed")
            return django_app(environ, start_response)
        state, entry, clock, lock = flight
        if state in (HIT, STALE):
            return _answer(entry, environ, start_response, state)
        return render(environ, start_response, store, key, clock, lock)

    application.with_page_cache = True
    return application


def _single_flight(environ, store: _Store, key: str, entry, versions, clock):
    """One render per page per purge: what this reader of a page that is not current does.

    Returns ``(state, entry, clock, lock)``: ``HIT`` or ``STALE`` with the entry to
    answer, or ``MISS`` to render (holding ``lock``, or None after waiting too long or
    for a page that is never stored), with the purge clock read before that render.
    """
    lock_key = LOCK_PREFIX + key.removeprefix(ENTRY_PREFIX)
    token = secrets.randbits(62) | 1  # never PASS_MARK
    bound = settings.PAGE_CACHE_STALE_SECONDS
    wait_until = time.monotonic() + settings.PAGE_CACHE_RENDER_WAIT_SECONDS
    delay = 0.002
    while True:
        if store.lock(lock_key, token, settings.PAGE_CACHE_RENDER_LOCK_SECONDS):
            lock = (lock_key, token)
            try:
                # The reader before may have stored it between our read and our lock.
                entry, versions, clock = _look_again(store, key, entry)
            except BaseException:
                _release(store, lock)
                raise
            if entry is not None and _is_current(entry, versions):
                _release(store, lock)
                return HIT, entry, clock, None
            return MISS, entry, clock, lock
        if entry is not None and versions is not None:
            stale_for = _stale_for(entry, versions, page_store.wall_clock())
            if stale_for is not None and stale_for <= bound:
                return STALE, entry, clock, None
        if time.monotonic() >= wait_until:
            logger.warning(
                "page cache: waited too long for %s, rendering", environ.get("PATH_INFO")
            )
            return MISS, entry, clock, None
        time.sleep(delay)
        delay = min(delay * 2, 0.025)
        if store.get_many([lock_key]).get(lock_key) == PASS_MARK:
            return MISS, entry, _clock(store, store.get_many([CLOCK_KEY])), None
        entry, versions, clock = _look_again(store, key, entry)
        if entry is not None and _is_current(entry, versions):
            return HIT, entry, clock, None


def _look_again(store: _Store, key: str, entry) -> tuple:
    """The entry under ``key``, its tags' versions and the clock, read together."""
    tag_keys = list(entry.versions) if entry is not None else list(_known_tags.get(key, ()))
    found = store.get_many([key, CLOCK_KEY, *tag_keys])
    entry = _stored(found.get(key))
    versions = None
    if entry is not None:
        versions = _tag_versions(store, key, entry, found, tuple(tag_keys))
    return entry, versions, _clock(store, found)


def _release(store: _Store, lock, unstored=False, drop=None) -> None:
    """Give the render lock up. ``unstored``: the page was not stored, so for a while
    readers go to Django at once; ``drop``: its stale copy goes too."""
    try:
        if drop is not None:
            store.delete(drop)
        pass_seconds = settings.PAGE_CACHE_RENDER_LOCK_SECONDS if unstored else 0
        store.release(*lock, then_pass=pass_seconds)
    except Exception:
        logger.exception("page cache: could not release the render lock")
