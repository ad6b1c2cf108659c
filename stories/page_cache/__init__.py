"""Whole reading pages for anonymous readers, cached and invalidated exactly.

Three parts, each with one job (docs/architecture.md, "Cached pages"):

* ``tags``: what a page shows (Django side). Reading pages take ``CachedPageMixin`` and
  declare what they draw from (``cache_tags``); an anonymous GET leaves the page's
  *dependency tags* in the request's environ. Feeds tag themselves with ``tag_feed``.
* ``store``: invalidation by tag versions. ``purge_tags`` (and ``purge``, ``purge_all``,
  ``purge_conversation``) give tags new versions and move the purge clock on;
  a stored page is current only while its tags keep the versions it was rendered with.
* ``parts``: parts of pages kept per process under the tags they show (``TaggedLRU``),
  loaded again when a purge (or ``bump_parts``) names one of them.
* ``wsgi``: serving, in front of Django (``with_page_cache``, wired in ``cms.wsgi``):
  a current copy is answered at once with ``ETag``/``Last-Modified``/``304``; a tagged
  response Django renders is stored unless it is private to its reader.

This module is the public API; the names below are what the rest of the site uses.
"""

from stories.page_cache.parts import TaggedLRU, bump_parts
from stories.page_cache.store import (
    frontend_cache_configured,
    purge,
    purge_all,
    purge_conversation,
    purge_tags,
)
from stories.page_cache.tags import (
    ALL,
    ENVIRON_TAGS,
    INTERESTS,
    STORIES,
    CachedPageMixin,
    context_interests,
    conversation_tag,
    found_tags,
    image_tag,
    index_tag,
    interest_stories_tag,
    interest_tag,
    is_cacheable,
    page_tag,
    series_tag,
    serve_cached,
    stream_tags,
    tag_feed,
    tags_for,
)
from stories.page_cache.wsgi import HIT, MISS, PASS, STALE, with_page_cache

__all__ = [
    "ALL",
    "ENVIRON_TAGS",
    "HIT",
    "INTERESTS",
    "MISS",
    "PASS",
    "STALE",
    "STORIES",
    "CachedPageMixin",
    "TaggedLRU",
    "bump_parts",
    "context_interests",
    "conversation_tag",
    "found_tags",
    "frontend_cache_configured",
    "image_tag",
    "index_tag",
    "interest_stories_tag",
    "interest_tag",
    "is_cacheable",
    "page_tag",
    "purge",
    "purge_all",
    "purge_conversation",
    "purge_tags",
    "serve_cached",
    "series_tag",
    "stream_tags",
    "tag_feed",
    "tags_for",
    "with_page_cache",
]
