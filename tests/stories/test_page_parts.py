"""Parts kept per process under the tags they show (stories.page_cache.parts)."""

import pytest

from stories import render_cache
from stories.page_cache import TaggedLRU, bump_parts, purge_all, purge_tags
from stories.page_cache.parts import PART_PREFIX
from stories.page_cache.store import _store


class Loads:
    """A loader that counts its calls and returns ``name#n``."""

    def __init__(self):
        self.calls = []

    def __call__(self, name):
        def load():
            self.calls.append(name)
            return f"{name}#{len(self.calls)}"

        return load


def tagged(*tags):
    return lambda value: set(tags)


def test_a_part_is_kept_until_a_tag_it_shows_is_bumped():
    parts, load = TaggedLRU(10), Loads()
    assert parts.get_or_load("a", load("a"), tagged("page:1", "interest-stories:2")) == "a#1"
    assert parts.get_or_load("a", load("a"), tagged("page:1")) == "a#1"
    bump_parts({"page:3", "interest-stories:9"})  # what it does not show
    assert parts.get_or_load("a", load("a"), tagged("page:1")) == "a#1"
    bump_parts({"interest-stories:2"})
    assert parts.get_or_load("a", load("a"), tagged("page:1")) == "a#2"
    assert load.calls == ["a", "a"]


@pytest.mark.parametrize(
    "change",
    [
        lambda: purge_tags(["page:1"]),  # a purge after a change commits moves parts too
        purge_all,  # "all"
        render_cache.bump_content_version,  # the structure version
        lambda: _store().delete(PART_PREFIX + "page:1"),  # a version evicted
    ],
)
def test_every_kind_of_change_reloads_a_part(change):
    parts, load = TaggedLRU(10), Loads()
    parts.get_or_load("a", load("a"), tagged("page:1"))
    change()
    assert parts.get_or_load("a", load("a"), tagged("page:1")) == "a#2"


def test_a_story_change_alone_keeps_the_parts():
    parts, load = TaggedLRU(10), Loads()
    parts.get_or_load("a", load("a"), tagged("page:1"))
    render_cache.bump_content_version(structure=False)
    assert parts.get_or_load("a", load("a"), tagged("page:1")) == "a#1"


@pytest.mark.parametrize("versions_before", [True, False])
def test_a_part_loaded_while_a_change_was_made_is_not_kept(versions_before):
    parts, load = TaggedLRU(10), Loads()
    if versions_before:
        bump_parts({"page:1", "all"})

    def changed_meanwhile():
        value = load("a")()
        bump_parts({"page:99"})  # any change, even one the part does not show
        return value

    assert parts.get_or_load("a", changed_meanwhile, tagged("page:1")) == "a#1"
    assert parts.get_or_load("a", load("a"), tagged("page:1")) == "a#2"
    assert parts.get_or_load("a", load("a"), tagged("page:1")) == "a#2"


def test_nothing_is_kept_when_tags_of_says_none():
    parts, load = TaggedLRU(10), Loads()
    assert parts.get_or_load("a", load("a"), lambda value: None) == "a#1"
    assert parts.get_or_load("a", load("a"), lambda value: None) == "a#2"


def test_the_store_is_bounded():
    parts, load = TaggedLRU(2), Loads()
    for name in "abc":
        parts.get_or_load(name, load(name), tagged("page:1"))
    assert parts.get_or_load("a", load("a"), tagged("page:1")) == "a#4"  # the oldest went
    assert parts.get_or_load("c", load("c"), tagged("page:1")) == "c#3"


def test_many_at_once_loads_only_what_is_not_kept_or_changed():
    parts, asked = TaggedLRU(10), []

    def load_many(keys):
        asked.append(sorted(keys))
        return {key: f"card {key}" for key in keys if key != 404}  # 404: not found

    def tags_of(value):
        return {f"page:{value.split()[-1]}"}

    assert parts.get_many_or_load([1, 2, 404], load_many, tags_of) == {1: "card 1", 2: "card 2"}
    bump_parts({"page:2"})
    assert parts.get_many_or_load([1, 2, 3], load_many, tags_of) == {
        1: "card 1",
        2: "card 2",
        3: "card 3",
    }
    assert parts.get_many_or_load([3, 1], load_many, tags_of) == {3: "card 3", 1: "card 1"}
    assert asked == [[1, 2, 404], [2, 3]]


def test_a_cache_that_fails_loads_every_time_and_keeps_nothing(monkeypatch):
    parts, load = TaggedLRU(10), Loads()

    def broken(*args, **kwargs):
        raise ConnectionError("cache is down")

    monkeypatch.setattr(_store(), "get_many", broken)
    monkeypatch.setattr(_store(), "set_many", broken)
    assert parts.get_or_load("a", load("a"), tagged("page:1")) == "a#1"
    assert parts.get_or_load("a", load("a"), tagged("page:1")) == "a#2"
    bump_parts({"page:1"})  # a change made while the cache is down does not fail
    monkeypatch.undo()
    assert parts.get_or_load("a", load("a"), tagged("page:1")) == "a#3"


def test_an_error_of_the_load_is_the_callers():
    parts = TaggedLRU(10)

    def failing():
        raise ValueError("bad row")

    with pytest.raises(ValueError, match="bad row"):
        parts.get_or_load("a", failing, tagged("page:1"))


@pytest.fixture
def atomic_store(monkeypatch):
    """The local-memory store, trusted as Redis is to write a purge in one command."""
    monkeypatch.setattr(type(_store()), "atomic", True)
    return _store()


def test_a_request_checks_a_part_only_when_something_was_purged_since(atomic_store, monkeypatch):
    parts, load = TaggedLRU(10), Loads()
    reads = []
    get_many = atomic_store.get_many
    monkeypatch.setattr(atomic_store, "get_many", lambda keys: reads.append(keys) or get_many(keys))
    with render_cache.request_version():
        parts.get_or_load("a", load("a"), tagged("page:1"))
    reads.clear()
    with render_cache.request_version():  # nothing purged since: no read at all
        assert parts.get_or_load("a", load("a"), tagged("page:1")) == "a#1"
    assert reads == []
    purge_tags(["page:2"])  # something else: one read, then none again
    reads.clear()  # the purge's own read
    with render_cache.request_version():
        assert parts.get_or_load("a", load("a"), tagged("page:1")) == "a#1"
    assert len(reads) == 1
    with render_cache.request_version():
        assert parts.get_or_load("a", load("a"), tagged("page:1")) == "a#1"
    assert len(reads) == 1
    with render_cache.request_version():
        bump_parts({"page:1"})  # a change made by this request shows in it
        assert parts.get_or_load("a", load("a"), tagged("page:1")) == "a#2"


def test_without_an_atomic_cache_every_use_checks_the_tags(monkeypatch):
    parts, load = TaggedLRU(10), Loads()
    reads = []
    get_many = _store().get_many
    monkeypatch.setattr(_store(), "get_many", lambda keys: reads.append(keys) or get_many(keys))
    with render_cache.request_version():
        parts.get_or_load("a", load("a"), tagged("page:1"))
    reads.clear()
    with render_cache.request_version():
        assert parts.get_or_load("a", load("a"), tagged("page:1")) == "a#1"
    assert len(reads) == 1
