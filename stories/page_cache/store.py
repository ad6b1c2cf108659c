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
"""

import secrets

from django.conf import settings
from django.core.cache import caches

from stories.page_cache.tags import ALL, conversation_tag
from stories.render_cache import bump_content_version

#: Keys in the cache. The entry format is part of the key: change both together.
ENTRY_PREFIX = "pc1:page:"
TAG_PREFIX = "pc1:tag:"
CLOCK_KEY = "pc1:clock"


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
    bump_content_version()
    purge_tags([ALL])


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
