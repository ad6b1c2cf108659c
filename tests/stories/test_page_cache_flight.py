"""Single flight on a page-cache miss (local-memory cache, threads).

After a purge one reader renders the page again; the others get the previous copy
(``X-Cache: stale``) while it has been out of date for at most
``PAGE_CACHE_STALE_SECONDS``, or wait for that one render. Django is replaced by a
small WSGI application that tags its page as a reading page would and counts its
renders, so the tests decide how long a render takes and whether it fails;
tests/integration/test_page_cache_redis.py runs the same against Redis, real
Django and real sockets.
"""

import threading
import time
from collections import Counter

from django.core.cache import cache

import pytest

from stories import page_cache
from stories.page_cache import store as page_store
from stories.page_cache.wsgi import request_key

TAGS = frozenset({"all", "page:1"})
ENVIRON = {
    "REQUEST_METHOD": "GET",
    "PATH_INFO": "/stories/a-story/",
    "QUERY_STRING": "",
    "HTTP_HOST": "localhost",
    "wsgi.url_scheme": "http",
    "SERVER_NAME": "localhost",
    "SERVER_PORT": "80",
}


class Site:
    """A reading page: every render says which one it is (``render 3``)."""

    def __init__(self, seconds=0.0):
        self.seconds = seconds
        self.renders = 0
        self.lock = threading.Lock()
        self.status = "200 OK"
        self.fail = False
        self.tagged = True

    def __call__(self, environ, start_response):
        with self.lock:
            self.renders += 1
            number = self.renders
        time.sleep(self.seconds)
        if self.fail:
            raise RuntimeError("the render failed")
        if self.tagged:
            environ[page_cache.ENVIRON_TAGS] = TAGS
        start_response(self.status, [("Content-Type", "text/html; charset=utf-8")])
        return [f"<p>render {number}</p>".encode()]


def get(app, **extra):
    """One request: ``(status, headers, body)``."""
    answer = {}

    def start_response(status, headers, exc_info=None):
        answer.update(status=status, headers=dict(headers))

    body = b"".join(app({**ENVIRON, **extra}, start_response))
    return answer["status"], answer["headers"], body.decode()


def together(app, readers: int) -> list:
    """``readers`` requests at the same moment, from as many threads."""
    barrier = threading.Barrier(readers)
    answers = [None] * readers

    def read(number):
        barrier.wait()
        answers[number] = get(app)

    threads = [threading.Thread(target=read, args=(n,)) for n in range(readers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    return answers


def states(answers) -> Counter:
    return Counter(headers.get("X-Cache") for _status, headers, _body in answers)


@pytest.fixture
def site():
    return Site()


@pytest.fixture
def app(site):
    return page_cache.with_page_cache(site)


@pytest.fixture
def lock_key():
    return page_store.LOCK_PREFIX + request_key(ENVIRON).removeprefix(page_store.ENTRY_PREFIX)


@pytest.fixture
def clock(monkeypatch):
    """The wall clock of purges and staleness, moved by hand."""
    now = [1_900_000_000.0]
    monkeypatch.setattr(page_store, "wall_clock", lambda: now[0])
    return now


def test_one_render_per_purge_while_the_others_get_the_previous_copy(app, site):
    site.seconds = 0.3
    assert get(app)[1]["X-Cache"] == "miss"
    for purge in range(1, 4):
        page_cache.purge_tags(["page:1"])
        answers = together(app, 16)
        assert site.renders == 1 + purge
        assert states(answers) == {"miss": 1, "stale": 15}
        for _status, headers, body in answers:
            if headers["X-Cache"] == "stale":
                assert body == f"<p>render {purge}</p>"  # the copy before this purge
                assert headers["Cache-Control"] == "public, no-cache"
                assert int(headers["Age"]) >= 0
            else:
                assert body == f"<p>render {purge + 1}</p>"
        status, headers, body = get(app)
        assert headers["X-Cache"] == "hit" and body == f"<p>render {purge + 1}</p>"


def test_with_no_copy_the_others_wait_for_the_one_render(app, site):
    site.seconds = 0.3
    answers = together(app, 16)
    assert site.renders == 1
    assert states(answers) == {"miss": 1, "hit": 15}
    assert {body for _status, _headers, body in answers} == {"<p>render 1</p>"}


def test_a_stale_copy_is_never_older_than_the_bound(app, site, settings, clock, lock_key):
    settings.PAGE_CACHE_STALE_SECONDS = 10
    settings.PAGE_CACHE_RENDER_WAIT_SECONDS = 0  # past the bound: render at once
    get(app)
    page_cache.purge_tags(["page:1"])
    cache.add(lock_key, 12345, 60)  # someone else is rendering it, for long
    clock[0] += 10
    status, headers, body = get(app)
    assert headers["X-Cache"] == "stale" and body == "<p>render 1</p>"
    clock[0] += 0.01
    status, headers, body = get(app)
    assert headers["X-Cache"] == "miss" and body == "<p>render 2</p>"
    assert site.renders == 2


def test_a_copy_several_purges_behind_is_dated_by_when_it_was_stored(
    app, site, settings, clock, lock_key
):
    settings.PAGE_CACHE_RENDER_WAIT_SECONDS = 0
    get(app)  # stored, and known current, at the clock's time
    clock[0] += 4
    page_cache.purge_tags(["page:1"])
    clock[0] += 4
    page_cache.purge_tags(["page:1", "stories"])  # only this purge's time is kept
    cache.add(lock_key, 12345, 60)
    clock[0] += 2  # 10 s since it was stored, 6 s since the first purge
    assert get(app)[1]["X-Cache"] == "stale"
    clock[0] += 0.01  # the first purge's time is lost: counted from the store
    assert get(app)[1]["X-Cache"] == "miss"


def test_a_render_overtaken_by_a_purge_stands_in_as_a_stale_copy_only(
    app, site, settings, clock, lock_key
):
    settings.PAGE_CACHE_RENDER_WAIT_SECONDS = 0
    get(app)  # stored at T
    real = site.__call__

    def purging(environ, start_response):
        clock[0] += 3
        page_cache.purge_tags(["page:1"])  # committed while this render runs, at T + 4
        return real(environ, start_response)

    page_cache.purge_tags(["page:1"])
    clock[0] += 1
    status, headers, body = get(page_cache.with_page_cache(purging))  # starts at T + 1
    assert headers["X-Cache"] == "miss" and body == "<p>render 2</p>"
    entry = cache.get(request_key(ENVIRON))
    assert entry.provisional and body.encode() == entry.body
    # Never a hit; while another reader renders, it is the stale copy, dated by its
    # render's start: at T + 11 it is 10 s old.
    cache.add(lock_key, 12345, 60)
    clock[0] += 7
    status, headers, body = get(app)
    assert headers["X-Cache"] == "stale" and body == "<p>render 2</p>"
    clock[0] += 0.01
    assert get(app)[1]["X-Cache"] == "miss"  # past the bound: it renders itself, and stores
    cache.delete(lock_key)
    status, headers, body = get(app)
    assert headers["X-Cache"] == "hit" and body == "<p>render 3</p>"
    assert get(app)[1]["X-Cache"] == "hit"


def test_a_render_overtaken_by_a_purge_allowing_no_stale_copy_is_not_kept(app, site):
    get(app)
    real = site.__call__

    def purging(environ, start_response):
        page_cache.purge_tags(["page:1"], stale=False)
        return real(environ, start_response)

    page_cache.purge_tags(["page:1"])
    get(page_cache.with_page_cache(purging))
    assert not cache.get(request_key(ENVIRON)).provisional  # the first copy, untouched


def test_a_purge_that_allows_no_stale_copy(app, site, settings, lock_key):
    settings.PAGE_CACHE_RENDER_WAIT_SECONDS = 0
    get(app)
    page_cache.purge_tags(["page:1"], stale=False)
    cache.add(lock_key, 12345, 60)
    assert get(app)[1]["X-Cache"] == "miss"


def test_a_reader_the_cache_would_not_serve_never_gets_a_stale_copy(app, site, lock_key):
    get(app)
    page_cache.purge_tags(["page:1"])
    cache.add(lock_key, 12345, 60)
    assert get(app)[1]["X-Cache"] == "stale"
    for private in ({"HTTP_COOKIE": "sessionid=abc"}, {"HTTP_COOKIE": "messages=x"}):
        status, headers, body = get(app, **private)
        assert headers.get("X-Cache") is None and body.startswith("<p>render")
    assert get(app, QUERY_STRING="mode=preview")[1].get("X-Cache") is None


def test_the_lock_is_released_when_the_render_raises(app, site, settings, lock_key):
    settings.PAGE_CACHE_RENDER_WAIT_SECONDS = 30  # a lock left behind would show
    get(app)
    page_cache.purge_tags(["page:1"])
    site.fail = True
    with pytest.raises(RuntimeError):
        get(app)
    assert cache.get(lock_key) is None
    site.fail = False
    started = time.monotonic()
    status, headers, body = get(app)
    assert headers["X-Cache"] == "miss" and time.monotonic() - started < 1


def test_a_page_gone_or_private_is_not_served_stale_after_its_render(app, site, lock_key):
    get(app)
    page_cache.purge_tags(["page:1"])
    site.status, site.tagged = "404 Not Found", False
    assert get(app)[0] == "404 Not Found"
    # Readers now go to Django at once, neither queued nor given the old copy.
    answers = together(app, 4)
    assert {status for status, _headers, _body in answers} == {"404 Not Found"}
    assert cache.get(lock_key) == page_store.PASS_MARK


def test_pages_never_stored_are_not_queued_behind_one_another(app, site, settings):
    settings.PAGE_CACHE_RENDER_WAIT_SECONDS = 30
    site.tagged, site.seconds = False, 0.3
    started = time.monotonic()
    answers = together(app, 8)
    assert len(answers) == 8 and all(a[0] == "200 OK" for a in answers)
    assert time.monotonic() - started < 0.3 * 4  # not one after the other


def poison_key(key, raw: bytes):
    """Store bytes nothing can unpickle under ``key``, as a corrupted cache would hold."""
    cache._cache[cache.make_key(key)] = raw
    cache._expire_info[cache.make_key(key)] = None


@pytest.mark.parametrize("poison", [b"\x80\x04not a pickle", b"", b"\x00" * 10])
def test_a_poison_entry_does_not_break_serving(app, site, poison):
    poison_key(request_key(ENVIRON), poison)
    status, headers, body = get(app)
    assert status == "200 OK" and headers["X-Cache"] == "miss"
    assert get(app)[1]["X-Cache"] == "hit"


def test_a_poison_tag_version_or_clock_does_not_break_serving(app, site):
    get(app)
    poison_key(page_store.TAG_PREFIX + "page:1", b"\x80\x04garbage")
    assert get(app)[1]["X-Cache"] == "miss"  # its version is unknown: not current
    assert get(app)[1]["X-Cache"] == "hit"
    poison_key(page_store.CLOCK_KEY, b"\x80\x04garbage")
    assert get(app)[1]["X-Cache"] == "hit"  # the clock is read for storing only
    page_cache.purge_tags(["page:1"])
    assert get(app)[1]["X-Cache"] == "miss"
    assert get(app)[1]["X-Cache"] == "hit"


def test_something_else_stored_under_the_key_is_ignored(app, site):
    cache.set(request_key(ENVIRON), ("not", "an", "entry"))
    assert get(app)[1]["X-Cache"] == "miss"
    assert get(app)[1]["X-Cache"] == "hit"
