"""Parts of reading pages kept per process while the tags they show keep their versions.

The page cache keeps whole pages and invalidates them by *dependency tags* (``tags``,
``store``). A page it has to render again (a story page after another story sharing
one of its interests was published) is mostly made of parts that did not change:
routing to the story, its rendered text, its links, hero and breadcrumbs. A
``TaggedLRU`` keeps such parts in the process, each under the tags it shows, so that
render re-works only what a purge named ("More on…"). A change anywhere else leaves
every part kept, which the content version (``stories.render_cache``), moved on by
every change, cannot do.

Each tag has a *part version* beside the page cache's own. The page cache's versions
move only after a change commits (a page stored before would otherwise be stored
again from the old rows); part versions move then too (``purge_tags`` writes both in
one command) and also at once, inside the change's transaction (``bump_parts``, from
``stories.signals``), as the content version does: the rest of that request, and a
test whose transaction never commits, see the change.

Checking a kept part reads its tags' versions (one ``MGET``), unless nothing was purged
since it was last checked: a *part clock* moves on with every bump and is read once per
request, with the content and structure versions (``stories.render_cache``). Where the
cache writes a purge's keys in one atomic command (Redis), a part checked at the
request's clock is current without reading its tags; the file cache of the embedded
mode writes key by key, so there every use reads them.
"""

import logging
import secrets

from stories.page_cache.backend import _store
from stories.page_cache.tags import ALL
from stories.render_cache import (
    PART_CLOCK_KEY,
    BoundedLRU,
    note_part_clock,
    part_clock,
    structure_version,
)

logger = logging.getLogger(__name__)

#: Each dependency tag's part version. ``PART_CLOCK_KEY`` moves on with every bump of
#: part versions and is read with the request's versions: a part loaded while it moved
#: is not kept; a part checked at the request's clock is current.
PART_PREFIX = "pc1:part:"


def part_versions(tags) -> dict:
    """New part versions for ``tags``, the clock first (caches that write a ``set_many``
    key by key then move the clock before any tag), for one ``set_many``. The request
    making the change checks its parts again from now on."""
    values = {PART_CLOCK_KEY: secrets.randbits(63)}
    values.update((PART_PREFIX + tag, secrets.randbits(63)) for tag in sorted(set(tags)))
    note_part_clock(values[PART_CLOCK_KEY])
    return values


def bump_parts(tags) -> None:
    """Every kept part that shows any of ``tags`` is loaded again when next used."""
    tags = set(tags)
    if not tags:
        return
    try:
        _store().set_many(part_versions(tags))
    except Exception:
        # A change must not fail because the cache is down; the purge after it commits
        # tries again (and a cache that lost its keys reads as changed: _versions).
        logger.warning("page cache: could not move the kept parts of %s on", sorted(tags))


class TaggedLRU(BoundedLRU):
    """A bounded per-process store of parts, each kept while the tags it shows keep
    their part versions and the structure version stays the same.

    ``get_or_load(key, load, tags_of)`` returns the kept value when every tag it was
    kept under still has the version it had then (one read of the shared cache), else
    ``load()``'s, kept under ``tags_of(value)`` and ``all`` (which ``purge_all`` moves
    on): the tags of what it shows, as the page cache names them. ``tags_of``
    returning None keeps nothing. ``get_many_or_load`` does the same for many keys at
    once (story cards). Kept values are shared by every request of the process: read
    only.

    A value loaded while part versions moved is not kept (the clock read before
    ``load()`` differs from the one read with the tags after it): it may hold rows
    from before a change under versions from after it. A tag without a version gets
    one first, so a version evicted from the cache reads as a change, never as
    "unchanged".
    """

    def get_or_load(self, key, load, tags_of):
        return self.get_many_or_load([key], lambda missing: {key: load()}, tags_of)[key]

    def get_many_or_load(self, keys, load_many, tags_of) -> dict:
        """{key: value} for ``keys``: the kept values still valid (one read of the shared
        cache for all of them, none when nothing was purged since they were checked),
        and ``load_many(the others)``'s, a dict by key (a key it leaves out is not
        found: left out here too), each kept under ``tags_of(value)``."""
        store = _Guarded(_store())
        version = structure_version()
        # Where the cache writes a purge's keys in one atomic command (Redis), a part
        # checked at the request's part clock is current: nothing was purged since.
        now = _part_clock() if store.atomic else None
        values, kept = {}, {}
        for key in keys:
            entry = self._kept((version, key))
            if entry is not None:
                if now is not None and entry[2] == now:
                    values[key] = entry[1]
                else:
                    kept[key] = entry
        if len(values) == len(keys):
            return values
        try:
            names = {name for entry in kept.values() for name in entry[0]}
            found = store.get_many([*names, PART_CLOCK_KEY])
        except _Unavailable:
            return load_many(list(keys))  # the shared cache is down: nothing is trusted or kept
        clock = found.get(PART_CLOCK_KEY)
        for key, entry in kept.items():
            if all(found.get(name) == wanted for name, wanted in entry[0].items()):
                values[key] = entry[1]
                entry[2] = clock  # one read (MGET): the tags as they were at this clock
        missing = [key for key in keys if key not in values]
        if not missing:
            return values
        loaded = load_many(missing)
        values.update(loaded)
        tags = {key: tags_of(value) for key, value in loaded.items()}
        tags = {key: {ALL, *shown} for key, shown in tags.items() if shown is not None}
        if not tags:
            return values
        try:
            versions = _versions(store, set().union(*tags.values()), clock)
        except _Unavailable:
            return values
        if versions is not None:
            # Checked at ``clock``: it did not move between the read before the load and
            # the tags' read after it.
            self._keep(
                {
                    (version, key): [
                        {PART_PREFIX + tag: versions[PART_PREFIX + tag] for tag in key_tags},
                        loaded[key],
                        clock,
                    ]
                    for key, key_tags in tags.items()
                }
            )
        return values


def _versions(store, tags, clock) -> dict | None:
    """{key: part version} of ``tags`` now, or None if the clock moved since ``clock``."""
    names = [PART_PREFIX + tag for tag in sorted(tags)]
    found = store.get_many([*names, PART_CLOCK_KEY])
    if found.get(PART_CLOCK_KEY) != clock:
        return None
    missing = [name for name in names if name not in found]
    if missing:
        for name in missing:
            store.add(name, secrets.randbits(63))
        again = store.get_many([*missing, PART_CLOCK_KEY])
        if again.get(PART_CLOCK_KEY) != clock or any(name not in again for name in missing):
            return None
        found.update(again)
    return {name: found[name] for name in names}


def _part_clock():
    try:
        return part_clock()
    except Exception:
        return None  # unknown: every part is checked


class _Unavailable(Exception):
    pass


class _Guarded:
    """The store's reads and writes, an error of the cache raised as ``_Unavailable``
    (and only those: an error of ``load()`` is the caller's)."""

    def __init__(self, store):
        self.store = store
        self.atomic = store.atomic

    def get_many(self, keys):
        try:
            return self.store.get_many(keys)
        except Exception as error:
            raise _Unavailable from error

    def add(self, key, value):
        try:
            self.store.add(key, value)
        except Exception as error:
            raise _Unavailable from error
