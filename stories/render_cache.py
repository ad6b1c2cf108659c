"""The site's *content version*: a cue that live pages or sites changed somewhere.

Publishing, unpublishing, moving or deleting a page, a site change, a change of an
interest, a series or a picture, and bulk writes (``stories.page_cache.purge_all``)
move it on (``stories.signals``). Per-process copies of slow-changing facts are keyed
by it (``per_version``): routing to a story and a story's rendered parts
(``stories.models.pages``, ``stories.reading``) and the collector's set of live stories
(``syndication.engagement.buffer``).

Beside it, the *structure version* moves on with every change but those to stories,
interests, series and pictures: a site, a view restriction, any page that is not a
story (the home, the index, an interest's hub). What routing and every request need
before a page is found (the site and its root page, the sites' root paths, whether
any page is restricted, the story index) are kept by it (``per_structure``), so the
first render after a story is published does not look them up again.

Cached pages are not keyed by either: they are invalidated exactly, by what they show
(``stories.page_cache``).

The versions live in the shared cache, so a change made by a Celery worker (a
scheduled publish) is seen by every web process. A reading request reads both once, in
one round trip (``request_version``); a change made during the request is seen by the
rest of it.
"""

import contextlib
import contextvars
import secrets
import threading
import time
import uuid
from collections import OrderedDict

from django.core.cache import cache

VERSION_KEY = "storyloom:content-version"
STRUCTURE_KEY = "storyloom:structure-version"
#: Moved on with every purge (stories.page_cache.parts); read with the versions.
PART_CLOCK_KEY = "pc1:part-clock"
PAGE_TIMEOUT = 24 * 60 * 60

# The versions read at the start of the request being handled, if any: (content,
# structure, part clock).
_request_version: contextvars.ContextVar = contextvars.ContextVar(
    "storyloom_content_version", default=None
)


def _read_versions() -> tuple:
    """The versions and the part clock in one read of the shared cache (each made on
    first use, so a key evicted from the cache reads as a change)."""
    found = cache.get_many([VERSION_KEY, STRUCTURE_KEY, PART_CLOCK_KEY])
    versions = []
    for key in (VERSION_KEY, STRUCTURE_KEY, PART_CLOCK_KEY):
        version = found.get(key)
        if version is None:
            cache.add(
                key, secrets.randbits(63) if key == PART_CLOCK_KEY else uuid.uuid4().hex, None
            )
            version = cache.get(key)
        versions.append(version)
    return tuple(versions)


def content_version() -> str:
    versions = _request_version.get()
    return versions[0] if versions is not None else _read_versions()[0]


def structure_version() -> str:
    """The version of what routing and the site need: sites, view restrictions and every
    page but stories. Publishing, moving or deleting a story, and changing an interest,
    series or picture, move the content version only."""
    versions = _request_version.get()
    return versions[1] if versions is not None else _read_versions()[1]


def part_clock():
    """The clock of the parts kept by tags (``stories.page_cache.parts``): it moves on
    with every purge, so a part checked at this clock is still current."""
    versions = _request_version.get()
    return versions[2] if versions is not None else _read_versions()[2]


def note_part_clock(clock) -> None:
    """The part clock was just moved on to ``clock`` (by this request): the rest of
    the request checks its parts again."""
    kept = _request_version.get()
    if kept is not None:
        _request_version.set((kept[0], kept[1], clock))


@contextlib.contextmanager
def request_version():
    """Within this block (one request), the versions are read from the cache once."""
    token = _request_version.set(_read_versions())
    try:
        yield
    finally:
        _request_version.reset(token)


def bump_content_version(*, structure: bool = True, **kwargs) -> None:
    """Move the content version on, and the structure version too unless ``structure``
    is false (a change to stories, interests, series or pictures only)."""
    version = uuid.uuid4().hex
    values = {VERSION_KEY: version}
    if structure:
        values[STRUCTURE_KEY] = uuid.uuid4().hex
    cache.set_many(values, None)
    kept = _request_version.get()
    if kept is not None:
        _request_version.set((version, values.get(STRUCTURE_KEY, kept[1]), kept[2]))


def bump_story_version(**kwargs) -> None:
    """``bump_content_version`` for a change that leaves the structure alone."""
    bump_content_version(structure=False)


class _PerVersion:
    """``load()``'s result, kept in this process until ``version_of()`` moves on.

    For a few small facts: what it returns is shared by every request of the process
    for that version and must not be changed by its users (copy it first, as routing
    does). Per-page copies go in a ``VersionedLRU``. The copies are replaced whole when
    the version moves on, so a load finished late lands in the old dict.
    """

    def __init__(self, version_of):
        self.version_of = version_of
        self._kept = (None, {})

    def __call__(self, key, load):
        version = self.version_of()
        kept = self._kept
        if kept[0] != version:
            kept = self._kept = (version, {})
        try:
            return kept[1][key]
        except KeyError:
            value = kept[1][key] = load()
            return value


#: Kept until the content version moves on.
per_version = _PerVersion(content_version)
#: Kept until the structure version moves on: the site and its root page, the sites'
#: root paths, whether any page is restricted, the story index routing goes through. A
#: story published elsewhere leaves them kept.
per_structure = _PerVersion(structure_version)


class BoundedLRU:
    """A bounded per-process store: the least recently used entries go beyond ``size``.

    The base of the stores that say when an entry is current (``VersionedLRU`` here,
    ``stories.page_cache.parts.TaggedLRU``).
    """

    def __init__(self, size):
        self.size = size
        self._items = OrderedDict()
        self._lock = threading.Lock()

    def _kept(self, key):
        """The entry under ``key`` (now the most recently used), or None."""
        with self._lock:
            entry = self._items.get(key)
            if entry is not None:
                self._items.move_to_end(key)
            return entry

    def _keep(self, entries: dict) -> None:
        with self._lock:
            for key, entry in entries.items():
                self._items[key] = entry
                self._items.move_to_end(key)
            while len(self._items) > self.size:
                self._items.popitem(last=False)

    def clear(self):
        with self._lock:
            self._items.clear()


class VersionedLRU(BoundedLRU):
    """A bounded per-process store of values for one content version each.

    ``get_or_load(key, load)`` keys by the current version too, so a change anywhere
    (``stories.signals``) makes every earlier entry unreachable; the least recently
    used are dropped beyond ``size``. Values are kept as ``(value,)``: a loaded None
    is kept too.
    """

    def get_or_load(self, key, load):
        key = (content_version(), key)
        kept = self._kept(key)
        if kept is not None:
            return kept[0]
        value = load()
        self._keep({key: (value,)})
        return value


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
