"""The site's *content version*: a cue that live pages or sites changed somewhere.

Publishing, unpublishing, moving or deleting a page, a site change, a change of an
interest, a series or a picture, and bulk writes (``stories.page_cache.purge_all``)
move it on (``stories.signals``). Per-process copies of slow-changing facts are keyed
by it (``per_version``): the request's site with its root page and the sites' root
paths (``stories.middleware.CachedSiteMiddleware``), routing and a story's rendered
parts (``stories.models.pages``, ``stories.reading``) and the collector's set of live
stories (``syndication.engagement.buffer``).

Cached pages are not keyed by it: they are invalidated exactly, by what they show
(``stories.page_cache``).

The version lives in the shared cache, so a change made by a Celery worker (a
scheduled publish) is seen by every web process. A reading request reads it once
(``request_version``); a change made during the request is seen by the rest of it.
"""

import contextlib
import contextvars
import threading
import time
import uuid
from collections import OrderedDict

from django.core.cache import cache

VERSION_KEY = "storyloom:content-version"
PAGE_TIMEOUT = 24 * 60 * 60

# The version read at the start of the request being handled, if any.
_request_version: contextvars.ContextVar = contextvars.ContextVar(
    "storyloom_content_version", default=None
)


def _read_version() -> str:
    version = cache.get(VERSION_KEY)
    if version is None:
        cache.add(VERSION_KEY, uuid.uuid4().hex, None)
        version = cache.get(VERSION_KEY)
    return version


def content_version() -> str:
    version = _request_version.get()
    return version if version is not None else _read_version()


@contextlib.contextmanager
def request_version():
    """Within this block (one request), ``content_version()`` reads the cache once."""
    token = _request_version.set(_read_version())
    try:
        yield
    finally:
        _request_version.reset(token)


def bump_content_version(**kwargs) -> None:
    version = uuid.uuid4().hex
    cache.set(VERSION_KEY, version, None)
    if _request_version.get() is not None:
        _request_version.set(version)


# Per-process copies, valid for one content version: (version, {key: value}), replaced
# whole when the version moves on, so a load finished late lands in the old dict.
_memo: tuple = (None, {})


def per_version(key, load):
    """``load()``'s result, kept in this process until the content version moves on.

    For a few small facts (the site, routing): what it returns is shared by every
    request of the process for that version and must not be changed by its users
    (copy it first, as routing does). Per-page copies go in a ``VersionedLRU``.
    """
    global _memo
    version = content_version()
    memo = _memo
    if memo[0] != version:
        memo = _memo = (version, {})
    try:
        return memo[1][key]
    except KeyError:
        value = memo[1][key] = load()
        return value


class VersionedLRU:
    """A bounded per-process store of values for one content version each.

    ``get_or_load(key, load)`` keys by the current version too, so a change anywhere
    (``stories.signals``) makes every earlier entry unreachable; the least recently
    used are dropped beyond ``size``.
    """

    def __init__(self, size):
        self.size = size
        self._items = OrderedDict()
        self._lock = threading.Lock()

    def get_or_load(self, key, load):
        key = (content_version(), key)
        with self._lock:
            try:
                self._items.move_to_end(key)
                return self._items[key]
            except KeyError:
                pass
        value = load()
        with self._lock:
            self._items[key] = value
            while len(self._items) > self.size:
                self._items.popitem(last=False)
        return value

    def clear(self):
        with self._lock:
            self._items.clear()


class KeptForVersion:
    """One value kept in this process while a version string stays the same.

    For lists stored in the shared cache under a version key that a change moves on
    (``syndication``'s stories with posts, conversation's shown stories): a request
    then reads only the version, not the list. Kept ``max_age`` seconds at most, so a
    change made where the version is not moved on still shows in time.
    """

    def __init__(self, max_age):
        self.max_age = max_age
        self._kept = None

    def get(self, version, load):
        kept = self._kept
        now = time.monotonic()
        if kept is not None and kept[0] == version and now - kept[1] < self.max_age:
            return kept[2]
        value = load()
        self._kept = (version, now, value)
        return value

    def clear(self):
        self._kept = None
