"""Single flight against a real Redis, real Django and real sockets.

The site is served by a threaded HTTP server in this process, through the same WSGI
layer gunicorn serves (``stories.page_cache.with_page_cache`` in front of Django),
with a count of what reaches Django. Sixteen readers read a story and the home page
over their own connections while the story is purged again and again: each page is
rendered once per purge (tests/stories/test_page_cache_flight.py covers the rest with
a stand-in for Django).
"""

import http.client
import threading
import time
from collections import Counter
from socketserver import ThreadingMixIn
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

from django.core.cache import caches
from django.core.wsgi import get_wsgi_application
from django.db import connections

import pytest
import redis

from stories import page_cache
from stories.page_cache import store as page_store
from stories.page_cache.wsgi import request_key
from tests.integration.test_page_cache_redis import redis_cache  # noqa: F401 (autouse)

pytestmark = [
    pytest.mark.integration,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]

PURGES = 6
PURGE_EVERY = 0.5
READERS = 16


class ThreadingServer(ThreadingMixIn, WSGIServer):
    daemon_threads = True


class QuietHandler(WSGIRequestHandler):
    def log_message(self, *args):
        pass


class Site:
    """Django behind the page cache, counting the requests that reach Django."""

    def __init__(self):
        self.django = get_wsgi_application()
        self.renders = Counter()
        self.fail_next = set()
        self.lock = threading.Lock()

    def django_app(self, environ, start_response):
        path = environ["PATH_INFO"]
        with self.lock:
            self.renders[path] += 1
            fail = path in self.fail_next
            self.fail_next.discard(path)
        try:
            if fail:
                raise RuntimeError("the render failed")
            return self.django(environ, start_response)
        finally:
            connections.close_all()  # this server thread's own connection


@pytest.fixture
def served():
    site = Site()
    server = make_server(
        "127.0.0.1",
        0,
        page_cache.with_page_cache(site.django_app),
        server_class=ThreadingServer,
        handler_class=QuietHandler,
    )
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield site, server.server_address[1]
    server.shutdown()
    server.server_close()


def fetch(port, url):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        conn.request("GET", url, headers={"Host": "localhost"})
        response = conn.getresponse()
        return response.status, dict(response.getheaders()), response.read()
    finally:
        conn.close()


def test_each_page_is_rendered_once_per_purge_under_concurrent_readers(served, make_story):
    site, port = served
    story = make_story(title="The kettle that sang")
    urls = [story.url, "/"]
    for url in urls:
        assert fetch(port, url)[1]["X-Cache"] == "miss"
    answers = Counter()
    problems = []
    stop = threading.Event()

    def reader(url):
        while not stop.is_set():
            status, headers, body = fetch(port, url)
            state = headers.get("X-Cache")
            answers[state] += 1
            if status != 200 or state not in ("hit", "stale", "miss"):
                problems.append((url, status, state))
            if state == "stale" and (
                "Age" not in headers or headers["Cache-Control"] != "public, no-cache"
            ):
                problems.append((url, "stale without Age or no-cache", headers))

    threads = [threading.Thread(target=reader, args=(urls[n % 2],)) for n in range(READERS)]
    for thread in threads:
        thread.start()
    try:
        for _ in range(PURGES):
            time.sleep(PURGE_EVERY)
            page_cache.purge_tags([page_cache.page_tag(story.pk)])
        time.sleep(1.0)
    finally:
        stop.set()
        for thread in threads:
            thread.join(30)
    assert not problems, problems[:5]
    assert answers["hit"] > 0
    for url in urls:
        assert site.renders[url] == 1 + PURGES, (url, site.renders, answers)


def test_the_lock_is_released_when_the_render_raises(served, make_story, settings):
    settings.PAGE_CACHE_RENDER_WAIT_SECONDS = 30  # a lock left behind would show
    site, port = served
    story = make_story()
    fetch(port, story.url)
    page_cache.purge_tags([page_cache.page_tag(story.pk)])
    site.fail_next.add(story.url)
    assert fetch(port, story.url)[0] == 500
    key = request_key({"PATH_INFO": story.url, "HTTP_HOST": "localhost"})
    lock_key = page_store.LOCK_PREFIX + key.removeprefix(page_store.ENTRY_PREFIX)
    assert caches["default"].get(lock_key) is None
    started = time.monotonic()
    status, headers, body = fetch(port, story.url)
    assert status == 200 and headers["X-Cache"] == "miss"
    assert time.monotonic() - started < 5


def test_a_poison_entry_does_not_break_serving(served, make_story, redis_server):
    site, port = served
    story = make_story(title="The kettle that sang")
    key = request_key({"PATH_INFO": story.url, "HTTP_HOST": "localhost"})
    client = redis.Redis.from_url(redis_server)
    client.set(caches["default"].make_key(key), b"\x80\x04\x95garbage that is no pickle")
    status, headers, body = fetch(port, story.url)
    assert status == 200 and headers["X-Cache"] == "miss" and b"The kettle that sang" in body
    status, headers, again = fetch(port, story.url)
    assert headers["X-Cache"] == "hit" and again == body
