"""The page cache's few reads and writes on the default cache, one client kept for Redis.

Shared by the page store (``store``), the kept parts (``parts``) and serving (``wsgi``).
"""

import logging

from django.core.cache import caches

logger = logging.getLogger(__name__)

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

    #: Whether ``set_many`` writes all its keys in one atomic command (readers never see
    #: some of a purge's keys moved and others not).
    atomic = False

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

    atomic = True  # MSET, or MULTI/EXEC with expiry

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
