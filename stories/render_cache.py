"""The site's *content version*: a cue that live pages or sites changed somewhere.

Publishing, unpublishing, moving or deleting a page, a site change and bulk writes
(``stories.page_cache.purge_all``) move it on (``stories.signals``). Two per-process
copies of slow-changing facts are keyed by it: the request's site with its root page
(``stories.middleware.CachedSiteMiddleware``) and the collector's set of live stories
(``syndication.engagement.buffer``).

Cached pages are not keyed by it: they are invalidated exactly, by what they show
(``stories.page_cache``).

The version lives in the shared cache, so a change made by a Celery worker (a
scheduled publish) is seen by every web process.
"""

import uuid

from django.core.cache import cache

VERSION_KEY = "storyloom:content-version"
PAGE_TIMEOUT = 24 * 60 * 60


def content_version() -> str:
    version = cache.get(VERSION_KEY)
    if version is None:
        cache.add(VERSION_KEY, uuid.uuid4().hex, None)
        version = cache.get(VERSION_KEY)
    return version


def bump_content_version(**kwargs) -> None:
    cache.set(VERSION_KEY, uuid.uuid4().hex, None)
