"""Whole reading pages for anonymous readers, cached and invalidated exactly.

Three parts, each with one job (docs/architecture.md, "Cached pages"):

* **What a page shows** (Django side). The ``serve`` of every reading page goes
  through ``serve_cached``. For an anonymous GET it lists what the rendered page
  shows as *dependency tags* (``tags_for``): ``page:<id>`` for the page and every
  page it shows (cards, links in the text, breadcrumbs), ``interest:<id>``,
  ``series:<id>``, ``image:<id>``, ``conversation:<story id>``, and the listings it
  draws from (``stories``, ``interests``, ``index:<id>``, ``interest-stories:<id>``).
  The tags travel to the WSGI layer in the request's environ; Django stores nothing.
  The RSS and Atom feeds tag themselves the same way (``tag_feed``): the listing they
  draw from and ``page:<id>`` and ``interest:<id>`` for the stories they list.
* **Serving** (WSGI, in front of Django: ``with_page_cache``, wired in ``cms.wsgi``).
  A GET or HEAD without a session cookie, for a path outside the admin, API and
  files, is looked up by scheme, host, path and the query parameters that change
  a page (``?page=``; ``?limit=`` for a feed; tracking parameters such as ``utm_*``,
  ``sh`` and ``nl`` are dropped, any other parameter skips the cache). A current copy
  is answered at once, usually in one cache round trip (the entry and its tags'
  versions together), with ``ETag``, ``Last-Modified`` and ``304 Not Modified`` for
  conditional requests, without Django's middleware, routing, privacy checks or
  database. Otherwise Django
  answers, and a response it tagged is stored with every header the middleware
  added, unless it sets a cookie, says ``private``/``no-store``/``no-cache``
  (Wagtail does for pages with view restrictions), varies on more than
  ``Cookie``/``Accept-Encoding`` or carries a CSRF token.
* **Invalidation by tag versions.** Every tag has a version (a random number) in the
  cache; a stored page keeps the versions of its tags as they were when it was
  rendered and is current only while all of them still match. ``purge_tags`` gives
  the tags new versions: one ``set_many``, no list of pages to walk, and it works
  the same on Redis, the file cache of the embedded mode and the local-memory cache
  of the tests. ``stories.signals`` says which tags each content change purges.

  A page rendered while a change commits must not be stored as current. Every purge
  also moves a *clock* key on, in the same ``set_many`` (and first, for caches where
  that is not atomic); the WSGI layer reads the clock before Django renders and
  stores the page only if the clock has not moved when it reads the tag versions.
"""

import hashlib
import logging
import re
import secrets
import time
from typing import NamedTuple
from urllib.parse import parse_qsl, urlencode

from django.conf import settings
from django.core.cache import caches
from django.utils.cache import patch_cache_control
from django.utils.http import http_date, parse_http_date_safe

logger = logging.getLogger(__name__)

#: Where ``serve_cached`` leaves a page's tags for the WSGI layer (the request's environ).
ENVIRON_TAGS = "storyloom.page_cache.tags"
#: Keys in the cache. The entry format is part of the key: change both together.
ENTRY_PREFIX = "pc1:page:"
TAG_PREFIX = "pc1:tag:"
CLOCK_KEY = "pc1:clock"

HIT, MISS, PASS = "hit", "miss", "pass"
#: What every cached page depends on: purging it (``purge_all``) empties the cache.
ALL = "all"
#: Which stories are live, newest first, across the site (the home page's latest).
STORIES = "stories"
#: The list of interests (the home page's and the story index's chips).
INTERESTS = "interests"

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


def page_tag(pk) -> str:
    return f"page:{pk}"


def index_tag(pk) -> str:
    """The live stories under one story index, newest first (its listing and hubs)."""
    return f"index:{pk}"


def interest_tag(pk) -> str:
    """One interest's name, slug and description."""
    return f"interest:{pk}"


def interest_stories_tag(pk) -> str:
    """Which live stories carry one interest, newest first (hubs, home, "More on…")."""
    return f"interest-stories:{pk}"


def series_tag(pk) -> str:
    """A series' name and which stories are in it, in order ("Next in the series")."""
    return f"series:{pk}"


def image_tag(pk) -> str:
    return f"image:{pk}"


def conversation_tag(story_id) -> str:
    """The "Join the conversation" links under one story."""
    return f"conversation:{story_id}"


class _Store:
    """The page cache's few reads and writes, on the default cache (any backend)."""

    def __init__(self, cache):
        self.cache = cache

    def get_many(self, keys) -> dict:
        return self.cache.get_many(keys)

    def set_many(self, values: dict, timeout=None) -> None:
        self.cache.set_many(values, timeout=timeout)

    def add(self, key, value) -> None:
        self.cache.add(key, value, None)

    def set(self, key, value, timeout) -> None:
        self.cache.set(key, value, timeout)


class _RedisStore(_Store):
    """The same on Django's Redis backend, with one redis-py client kept for good.

    Django's backend builds a new client object for every call, which costs more than
    the round trip itself (about 0.15 ms with redis-py 8), and a hit makes one or two
    calls. Keys and values keep Django's formats (``make_key``, its serializer), so
    this and ``caches["default"]`` read and write the same entries.
    """

    def __init__(self, cache):
        super().__init__(cache)
        self.client = cache._cache.get_client(write=True)
        self.dumps = cache._cache._serializer.dumps
        self.loads = cache._cache._serializer.loads

    def get_many(self, keys) -> dict:
        raw = self.client.mget([self.cache.make_key(key) for key in keys])
        return {
            key: self.loads(value)
            for key, value in zip(keys, raw, strict=True)
            if value is not None
        }

    def set_many(self, values: dict, timeout=None) -> None:
        data = {self.cache.make_key(key): self.dumps(value) for key, value in values.items()}
        if timeout is None:
            self.client.mset(data)  # one command: atomic, so the clock moves with the tags
            return
        pipeline = self.client.pipeline()
        pipeline.mset(data)
        for key in data:
            pipeline.expire(key, timeout)
        pipeline.execute()

    def add(self, key, value) -> None:
        self.client.set(self.cache.make_key(key), self.dumps(value), nx=True)

    def set(self, key, value, timeout) -> None:
        self.client.set(self.cache.make_key(key), self.dumps(value), ex=timeout)


def _store() -> _Store:
    """This thread's store on the default cache (Django keeps a cache object per thread)."""
    from django.core.cache.backends.redis import RedisCache

    cache = caches["default"]
    store = cache.__dict__.get("_page_cache_store")
    if store is None:
        store = _RedisStore(cache) if isinstance(cache, RedisCache) else _Store(cache)
        cache._page_cache_store = store
    return store


def _token() -> int:
    # An int is stored as a plain number by Django's Redis backend: nothing to unpickle.
    return secrets.randbits(62)


# --- Invalidation ------------------------------------------------------------------------


def purge_tags(tags) -> None:
    """Give ``tags`` new versions: every page stored with any of them is stale at once."""
    tags = sorted(set(tags))
    if not tags:
        return
    token = _token()
    values = {CLOCK_KEY: token}  # first: see the module docstring
    values.update((TAG_PREFIX + tag, token) for tag in tags)
    _store().set_many(values)


def frontend_cache_configured() -> bool:
    return bool(getattr(settings, "WAGTAILFRONTENDCACHE", None))


def purge(tags, urls=()) -> None:
    """Purge ``tags`` here, and ``urls`` (absolute) from the CDN when one is configured."""
    purge_tags(tags)
    urls = sorted(set(urls))
    if urls and frontend_cache_configured():
        from wagtail.contrib.frontend_cache.utils import PurgeBatch

        PurgeBatch(urls).purge()


def purge_all() -> None:
    """Every cached page is stale (bulk writes that bypass publishing, a site change).

    Also moves the content version on (``stories.render_cache``): whatever changed,
    the live stories and the sites may have too.
    """
    from stories.render_cache import bump_content_version

    bump_content_version()
    purge_tags([ALL])


def purge_conversation(story_id) -> None:
    """A "Join the conversation" link was added under a story, or taken away: its page
    shows the change now.

    Called by syndication when a post goes live and when a published one is deleted or
    taken back (``stories`` never imports it).
    """
    urls = ()
    if frontend_cache_configured():
        from stories.models import StoryPage

        story = StoryPage.objects.filter(pk=story_id).first()
        url = story.get_full_url() if story is not None else None
        urls = [url] if url else ()
    purge([conversation_tag(story_id)], urls)


# --- What a page shows (Django side) -------------------------------------------------


def is_cacheable(request) -> bool:
    """An anonymous read of the public site: the same page for everyone."""
    if request.method not in ("GET", "HEAD") or getattr(request, "is_preview", False):
        return False
    user = getattr(request, "user", None)
    return not (user is not None and user.is_authenticated)


def serve_cached(page, request, render):
    """``render()`` the page, and tell the WSGI layer what it shows when it may be shared.

    Signed-in readers and previews get ``Cache-Control: private, no-store``.
    """
    response = render()
    if not is_cacheable(request):
        patch_cache_control(response, private=True, no_store=True)
    elif response.status_code == 200:
        context = getattr(response, "context_data", None) or {}
        try:
            request.META[ENVIRON_TAGS] = frozenset(tags_for(page, context))
        except Exception:
            # Unsure what the page shows: the reader gets it, nobody else does.
            logger.exception("page cache: could not tag %s", request.path)
    return response


def tag_feed(request, items, interest=None) -> None:
    """Let the WSGI layer store a feed (RSS or Atom) of ``items`` for anonymous readers.

    Called by ``syndication.feeds`` with the stories it lists, once they are loaded. A
    feed depends on the listing it is cut from (``stories``, or with ``interest`` that
    interest's ``interest-stories:`` and its name and description), on each story it
    lists (``page:<id>``: title, intro, address, dates; so editing a listed story purges
    it, editing another does not) and on the names of their interests (the categories:
    ``interest:<id>`` from the prefetched interests, else every interest). No query.
    """
    if not is_cacheable(request):
        return
    tags = {ALL}
    if interest is None:
        tags.add(STORIES)
    else:
        tags.update({interest_tag(interest.pk), interest_stories_tag(interest.pk)})
    for item in items:
        tags.add(page_tag(item.pk))
        prefetched = getattr(item, "_prefetched_objects_cache", {})
        if "interests" in prefetched:
            tags.update(interest_tag(i.pk) for i in prefetched["interests"])
        else:
            tags.add(INTERESTS)
    request.META[ENVIRON_TAGS] = frozenset(tags)


def tags_for(page, context) -> set[str]:
    """The dependency tags of ``page`` rendered with ``context``.

    Pages, interests, series and pictures are found wherever the context holds them
    (cards, sections, paginated listings, breadcrumbs) and in a story's text. Only
    what the page loads anyway is looked at (querysets are never evaluated here; the
    text's chosen stories and pictures are the ones its rendering uses), so this adds
    no query. What a listing draws from is added by the kind of page.
    """
    from stories.models import HomePage, StoryIndexPage, StoryPage

    found = _Found()
    found.visit(context)
    found.visit(page)
    tags = {ALL, page_tag(page.pk), *found.tags}
    interests = [i for i in _as_list(context.get("interests")) if hasattr(i, "slug")]
    if isinstance(page, StoryPage):
        tags.add(conversation_tag(page.pk))
        if page.series_id:
            tags.add(series_tag(page.series_id))
        # "More on…" tops up from the newest stories sharing the story's interests.
        tags.update(interest_stories_tag(i.pk) for i in interests)
        found.visit_stream(page.body)
        tags.update(found.tags)
    elif isinstance(page, StoryIndexPage):
        tags.add(index_tag(page.pk))
        interest = context.get("interest")
        if interest is not None:
            tags.add(interest_stories_tag(interest.pk))
        if "interests" in context:
            tags.add(INTERESTS)
    elif isinstance(page, HomePage):
        tags.update({STORIES, INTERESTS})
        tags.update(interest_stories_tag(i.pk) for i in interests)
    return tags


def _as_list(value):
    if value is None:
        return []
    if hasattr(value, "_result_cache"):  # a queryset: only what it already holds
        return value._result_cache or []
    return list(value) if isinstance(value, list | tuple) else []


class _Found:
    """Tags for the pages, interests, series and pictures found in a page's context."""

    MAX_DEPTH = 6

    def __init__(self):
        from django.core.paginator import Page as PaginatorPage

        from wagtail.images import get_image_model
        from wagtail.models import Page

        from stories.models import AudienceInterest, StorySeries

        self.kinds = (
            (Page, self._page),
            (AudienceInterest, lambda obj: self.tags.add(interest_tag(obj.pk))),
            (StorySeries, lambda obj: self.tags.add(series_tag(obj.pk))),
            (get_image_model(), lambda obj: self.tags.add(image_tag(obj.pk))),
            (PaginatorPage, lambda obj: self.visit(obj.object_list)),
        )
        self.tags: set[str] = set()
        self.seen: set[int] = set()
        self.held: list = []  # keeps what ``seen`` names alive, so no id is reused

    def visit(self, value, depth=0):
        if depth > self.MAX_DEPTH or value is None or isinstance(value, str | bytes | int):
            return
        if id(value) in self.seen:
            return
        self.seen.add(id(value))
        self.held.append(value)
        if isinstance(value, dict):
            for item in value.values():
                self.visit(item, depth + 1)
            return
        if isinstance(value, list | tuple | set | frozenset):
            for item in value:
                self.visit(item, depth + 1)
            return
        if hasattr(value, "_result_cache"):  # a queryset: never evaluated here
            for item in value._result_cache or ():
                self.visit(item, depth + 1)
            return
        for kind, add in self.kinds:
            if isinstance(value, kind):
                add(value)
                return

    def _page(self, page):
        self.tags.add(page_tag(page.pk))
        if getattr(page, "hero_image_id", None):
            self.tags.add(image_tag(page.hero_image_id))
        # Prefetched relations (a card's interests) were loaded with the page.
        for related in getattr(page, "_prefetched_objects_cache", {}).values():
            self.visit(related)

    def visit_stream(self, stream, depth=0):
        """Pages, pictures and interests chosen in a StreamField, and rich-text page links."""
        from wagtail.blocks import StreamValue, StructValue
        from wagtail.blocks.list_block import ListValue
        from wagtail.rich_text import RichText

        if depth > self.MAX_DEPTH:
            return
        if isinstance(stream, StreamValue):
            for child in stream:
                self.visit_stream(child.value, depth + 1)
        elif isinstance(stream, StructValue):
            for value in stream.values():
                self.visit_stream(value, depth + 1)
        elif isinstance(stream, ListValue | list | tuple):
            for value in stream:
                self.visit_stream(value, depth + 1)
        elif isinstance(stream, RichText):
            self.tags.update(page_tag(pk) for pk in _rich_text_page_ids(stream.source))
        else:
            self.visit(stream, depth + 1)


RICH_TEXT_PAGE_LINK = re.compile(r'<a[^>]*\blinktype="page"[^>]*\bid="(\d+)"')


def _rich_text_page_ids(source: str) -> list[str]:
    return RICH_TEXT_PAGE_LINK.findall(source or "")


# --- Serving (WSGI, before Django) -------------------------------------------------------


class Entry(NamedTuple):
    """A stored page: the versions of its tags when rendered, and the response."""

    versions: dict
    status: str
    headers: list
    body: bytes
    etag: str
    last_modified: int


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


def _current(store: _Store, key: str, entry: Entry, found: dict, known: tuple) -> bool:
    """Whether every tag of ``entry`` still has the version it was rendered with.

    ``found`` holds the versions of the ``known`` tag keys, read with the entry.
    """
    tag_keys = tuple(entry.versions)
    if known == tag_keys:
        return all(found.get(tag) == version for tag, version in entry.versions.items())
    if len(_known_tags) >= KNOWN_TAGS_SIZE:
        _known_tags.clear()
    _known_tags[key] = tag_keys
    return store.get_many(list(tag_keys)) == entry.versions


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
    return clock


def _versions(store: _Store, tags, clock) -> dict | None:
    """The current versions of ``tags``, or None if anything was purged since ``clock``."""
    keys = [TAG_PREFIX + tag for tag in sorted(tags)]
    found = store.get_many([*keys, CLOCK_KEY])
    missing = [key for key in keys if key not in found]
    if missing:  # never purged (or evicted): any version will do, read back below
        store.set_many({key: _token() for key in missing})
        found = store.get_many([*keys, CLOCK_KEY])
    if found.get(CLOCK_KEY) != clock or any(key not in found for key in keys):
        return None
    return {key: found[key] for key in keys}


def with_page_cache(django_app):
    """Wrap a Django WSGI application so anonymous readers get stored pages at once."""

    def render(environ, start_response, store, key, clock):
        captured = []
        written = []

        def capture(status, headers, exc_info=None):
            captured[:] = [status, headers]
            return written.append

        result = django_app(environ, capture)
        tags = environ.get(ENVIRON_TAGS)
        status, headers = captured
        if not tags:  # not a reading page: passed on untouched (it may be streamed)
            start_response(status, headers)
            return result  # Django never uses write(), so ``written`` is empty
        try:
            body = b"".join([*written, *result])
        finally:
            if hasattr(result, "close"):
                result.close()

        refusal = _refusal(environ, status, headers, body)
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
            versions = _versions(store, tags, clock)
            if versions is not None:
                store.set(key, entry._replace(versions=versions), settings.PAGE_CACHE_TIMEOUT)
        except Exception:
            logger.exception("page cache: could not store %s", environ.get("PATH_INFO"))
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
            entry = found.get(key)
            # Benchmarks only (bench/pages.py sets it): render as a first visitor would.
            forced_miss = getattr(settings, "PAGE_CACHE_FORCE_MISS_HEADER", "")
            forced_miss = forced_miss and environ.get(forced_miss)
            if entry is not None and not forced_miss and _current(store, key, entry, found, known):
                return _answer(entry, environ, start_response, HIT)
            clock = _clock(store, found)
        except Exception:
            # A cache that is down must not take the site with it: Django answers.
            logger.exception("page cache: lookup failed")
            return django_app(environ, start_response)
        return render(environ, start_response, store, key, clock)

    application.with_page_cache = True
    return application
