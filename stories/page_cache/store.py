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

import secrets
import time

from django.conf import settings

# The store's reads and writes (backend), named here too for serving (wsgi) and the tests.
from stories.page_cache.backend import PASS_MARK, _Store, _store  # noqa: F401
from stories.page_cache.parts import part_versions
from stories.page_cache.tags import ALL, conversation_tag
from stories.render_cache import bump_content_version

#: Keys in the cache. The entry format is part of the key: change both together.
ENTRY_PREFIX = "pc1:page:"
TAG_PREFIX = "pc1:tag:"
CLOCK_KEY = "pc1:clock"
#: One render at a time per page: ``LOCK_PREFIX`` + the entry key's digest.
LOCK_PREFIX = "pc1:lock:"
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
    """Give ``tags`` new versions: every page stored with any of them is stale at once,
    and every part kept under any of them is loaded again (``parts``).

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
    # The parts kept per process under these tags, in the same command (parts.py).
    values.update(part_versions(tags))
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
