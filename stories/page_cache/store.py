"""Where cached pages and their tags' versions live, and how tags are purged.

Every tag has a version (a random number) in the cache; a stored page keeps the
versions of its tags as they were when it was rendered and is current only while all
of them still match. ``purge_tags`` gives the tags new versions: one ``set_many``, no
list of pages to walk, and it works the same on Redis, the file cache of the embedded
mode and the local-memory cache of the tests. ``stories.signals`` says which tags each
content change purges.

A page rendered while a change commits must not be stored as current. Every purge
also moves a *clock* key on, in the same ``set_many`` (and first, for caches where
that is not atomic); the WSGI layer (``stories.page_cache.wsgi``) reads the clock
before Django renders and stores the page only if the clock has not moved when it
reads the tag versions.

A version also says *when* its tag was purged and which version it replaced
(``_token``), so that a page one purge behind can be served for a few seconds while
one reader renders it again (``stories.page_cache.wsgi``, "single flight"): how long
it has been out of date is then known. A purge that must take effect at once
(``stale=False``: a view restriction) writes a version with no time, and a copy it
made stale is never served.
"""

import logging
import secrets
import time

from django.conf import settings
from django.core.cache import caches

from stories.page_cache.tags import ALL, conversation_tag
from stories.render_cache import bump_content_version

logger = logging.getLogger(__name__)

#: Keys in the cache. The entry format is part of the key: change both together.
ENTRY_PREFIX = "pc1:page:"
TAG_PREFIX = "pc1:tag:"
CLOCK_KEY = "pc1:clock"
#: One render at a time per page: ``LOCK_PREFIX`` + the entry key's digest.
LOCK_PREFIX = "pc1:lock:"
#: The lock's value while a page is known not to be stored (not a reading page, an
#: error, private): concurrent readers then go to Django at once instead of queueing.
PASS_MARK = 0

# Compare-and-delete (or compare-and-set to PASS_MARK): only the holder releases a lock.
_RELEASE_SCRIPT = """
if redis.call('get', KEYS[1]) == ARGV[1] then
  if ARGV[2] == '' then return redis.call('del', KEYS[1]) end
  return redis.call('set', KEYS[1], ARGV[2], 'PX', ARGV[3])
end
return 0
"""


class _Store:
    """The page cache's few reads and writes, on the default cache (any backend)."""

    def __init__(self, cache):
        self.cache = cache

    def get_many(self, keys) -> dict:
        """The values found; one that cannot be read (bytes no unpickling takes) is missing."""
        try:
            return self.cache.get_many(keys)
        except Exception:
            found = {}
            for key in keys:
                try:
                    value = self.cache.get(key)
                except Exception:
                    logger.warning("page cache: unreadable value under %s, ignored", key)
                    continue
                if value is not None:
                    found[key] = value
            return found

    def set_many(self, values: dict, timeout=None) -> None:
        self.cache.set_many(values, timeout=timeout)

    def add(self, key, value) -> None:
        self.cache.add(key, value, None)

    def set(self, key, value, timeout) -> None:
        self.cache.set(key, value, timeout)

    def delete(self, key) -> None:
        self.cache.delete(key)

    def lock(self, key, token: int, seconds: float) -> bool:
        """Take ``key`` for ``seconds`` unless someone holds it. Atomic on the local-memory
        cache (one process); on the file cache two processes may both take it at once."""
        return self.cache.add(key, token, seconds)

    def release(self, key, token: int, then_pass: float = 0) -> None:
        """Give ``key`` up if ``token`` still holds it; ``then_pass``: leave ``PASS_MARK``
        there for that many seconds."""
        if self.cache.get(key) == token:
            if then_pass:
                self.cache.set(key, PASS_MARK, then_pass)
            else:
                self.cache.delete(key)


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
        self.release_script = self.client.register_script(_RELEASE_SCRIPT)

    def get_many(self, keys) -> dict:
        raw = self.client.mget([self.cache.make_key(key) for key in keys])
        found = {}
        for key, value in zip(keys, raw, strict=True):
            if value is None:
                continue
            try:
                found[key] = self.loads(value)
            except Exception:
                # Bytes nothing can read: missing, so the next render writes over them.
                logger.warning("page cache: unreadable value under %s, ignored", key)
        return found

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

    def delete(self, key) -> None:
        self.client.delete(self.cache.make_key(key))

    def lock(self, key, token: int, seconds: float) -> bool:
        """``SET key token NX PX``: one holder at a time, gone by itself after ``seconds``."""
        milliseconds = max(1, int(seconds * 1000))
        return bool(self.client.set(self.cache.make_key(key), token, nx=True, px=milliseconds))

    def release(self, key, token: int, then_pass: float = 0) -> None:
        args = [token, PASS_MARK if then_pass else "", max(1, int(then_pass * 1000))]
        self.release_script(keys=[self.cache.make_key(key)], args=args)


def _store() -> _Store:
    """This thread's store on the default cache (Django keeps a cache object per thread)."""
    from django.core.cache.backends.redis import RedisCache

    cache = caches["default"]
    store = cache.__dict__.get("_page_cache_store")
    if store is None:
        store = _RedisStore(cache) if isinstance(cache, RedisCache) else _Store(cache)
        cache._page_cache_store = store
    return store


# A version (an int: Django's Redis backend stores it as a plain number, nothing to
# unpickle) is ``purged_ms << 97 | hard << 96 | previous << 64 | random``: the purge's
# wall-clock time in milliseconds (0: unknown), whether it allows no stale copy, 32 bits
# of the version it replaced (0: none) and 64 random bits.
_RANDOM_BITS = 64
_PREVIOUS_BITS = 32
_HARD_BIT = _RANDOM_BITS + _PREVIOUS_BITS
_TIME_SHIFT = _HARD_BIT + 1


def _fingerprint(version) -> int:
    if not isinstance(version, int) or isinstance(version, bool):
        return 0
    return (version & ((1 << _PREVIOUS_BITS) - 1)) or 1


def _token(purged_ms: int = 0, previous=None, hard: bool = False) -> int:
    """A new version; with ``purged_ms``, one that says when and what it replaced."""
    token = secrets.randbits(_RANDOM_BITS)
    if purged_ms:
        token |= _fingerprint(previous) << _RANDOM_BITS
        token |= int(hard) << _HARD_BIT
        token |= purged_ms << _TIME_SHIFT
    return token


def _is_version(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def purge_time(version) -> float | None:
    """When ``version`` was written by a purge (seconds since the epoch), if it says."""
    if not _is_version(version) or not version >> _TIME_SHIFT:
        return None
    return (version >> _TIME_SHIFT) / 1000


def is_hard(version) -> bool:
    """Whether ``version`` comes from a purge that allows no stale copy."""
    return _is_version(version) and bool(version >> _HARD_BIT & 1)


def purged_at(current, rendered_with) -> float | None:
    """When ``current`` replaced ``rendered_with`` (seconds since the epoch), or None
    when that is not known: a purge that allowed no stale copy, a version written for
    a missing tag, or more than one purge since (only the last one's time is kept)."""
    at = purge_time(current)
    if at is None or is_hard(current):
        return None
    previous = (current >> _RANDOM_BITS) & ((1 << _PREVIOUS_BITS) - 1)
    return at if previous == _fingerprint(rendered_with) else None


def wall_clock() -> float:
    """Seconds since the epoch: when a purge happened, and how stale a copy is."""
    return time.time()


def purge_tags(tags, *, stale: bool = True) -> None:
    """Give ``tags`` new versions: every page stored with any of them is stale at once.

    With ``stale`` (the default) a page one purge behind may still be served for
    ``PAGE_CACHE_STALE_SECONDS`` while one reader renders it again; ``stale=False``
    allows no such copy (a page that turned private).
    """
    tags = sorted(set(tags))
    if not tags:
        return
    store = _store()
    keys = [TAG_PREFIX + tag for tag in tags]
    purged_ms = int(wall_clock() * 1000)
    # Which versions these replace, read first. Two purges of one tag at the same moment
    # may both name the same one: the copy is then dated by the later purge.
    previous = store.get_many(keys) if stale else {}
    values = {CLOCK_KEY: _token()}  # first: see the module docstring
    for key in keys:
        values[key] = _token(purged_ms, previous.get(key), hard=not stale)
    store.set_many(values)


def frontend_cache_configured() -> bool:
    return bool(getattr(settings, "WAGTAILFRONTENDCACHE", None))


def purge(tags, urls=(), *, stale: bool = True) -> None:
    """Purge ``tags`` here, and ``urls`` (absolute) from the CDN when one is configured."""
    purge_tags(tags, stale=stale)
    urls = sorted(set(urls))
    if urls and frontend_cache_configured():
        from wagtail.contrib.frontend_cache.utils import PurgeBatch

        PurgeBatch(urls).purge()


def purge_all(*, stale: bool = True) -> None:
    """Every cached page is stale (bulk writes that bypass publishing, a site change).

    Also moves the content version on (``stories.render_cache``): whatever changed,
    the live stories and the sites may have too.
    """
    bump_content_version()
    purge_tags([ALL], stale=stale)


def purge_conversation(story_id) -> None:
    """The conversation under a story changed: its page shows the change now.

    Called by syndication when a post goes live and when a published one is deleted or
    taken back ("Join the conversation"), and by the conversation when a reply is
    approved or hidden, a story's "What people said" is turned on or off, or collection
    edits or deletes replies it shows (``stories`` imports neither).
    """
    urls = ()
    if frontend_cache_configured():
        from wagtail.models import Page

        story = Page.objects.filter(pk=story_id).first()
        url = story.get_full_url() if story is not None else None
        urls = [url] if url else ()
    purge([conversation_tag(story_id)], urls)
