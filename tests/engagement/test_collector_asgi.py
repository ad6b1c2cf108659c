"""The collector's ASGI door (``syndication.engagement.asgi``): the same answers as the
WSGI one, the database only off the event loop, and XADDs batched per round trip.

Each test drives the application on an event loop of its own, with a real Redis
stream (skipped locally without Redis, required in CI). The tests that need the
database commit their stories (``transaction=True``): the check that needs it runs
again in a thread, on a connection of that thread's own.
"""

import asyncio
import json
import socket

from django.db.models import Sum

import pytest

from syndication.engagement import asgi, flush
from syndication.engagement.models import EngagementRollup, ShareToken
from tests.engagement.test_collector import READER

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)


@pytest.fixture(autouse=True)
def _fresh(fresh_collector, settings):
    settings.ALLOWED_HOSTS = ["localhost"]


def scope_for(path: str, method: str, headers: dict[str, str]) -> dict:
    return {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": method,
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "root_path": "",
        "headers": [(name.lower().encode(), value.encode()) for name, value in headers.items()],
        "client": ("198.51.100.4", 50000),
        "server": ("localhost", 80),
    }


async def call(app, body: bytes = b"", *, path="/e/", method="POST", chunks=1, **extra):
    """One request through ``app``: its status, headers and body."""
    headers = {
        "Host": "localhost",
        "Content-Type": "text/plain;charset=UTF-8",
        "User-Agent": READER,
        **{name.replace("_", "-"): value for name, value in extra.items()},
    }
    size = max(1, -(-len(body) // chunks))
    parts = [body[i : i + size] for i in range(0, len(body), size)] or [b""]
    messages = [
        {"type": "http.request", "body": part, "more_body": n < len(parts) - 1}
        for n, part in enumerate(parts)
    ]

    async def receive():
        return messages.pop(0) if messages else {"type": "http.disconnect"}

    sent = []

    async def send(message):
        sent.append(message)

    await app(scope_for(path, method, headers), receive, send)
    start = sent[0]
    content = b"".join(message.get("body", b"") for message in sent[1:])
    return start["status"], dict(start["headers"]), content


def handed_on_app(handed_on: list):
    async def django_app(scope, receive, send):
        handed_on.append((scope["method"], scope["path"]))
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"django"})

    return asgi.with_collector(django_app)


def event(story, **fields) -> bytes:
    return json.dumps({"t": "view", "s": story.pk, **fields}).encode()


def test_it_answers_events_like_the_wsgi_door_and_hands_everything_else_on(
    stream, settings, make_story
):
    story = make_story(title="The drip in the hallway")
    handed_on = []
    app = handed_on_app(handed_on)

    async def scenario():
        # Cold caches: the check needs the database, so it runs again in a thread.
        assert await call(app, event(story)) == (202, _headers(b""), b"")
        status, headers, content = await call(app, b'{"t": "view"}')
        assert (status, json.loads(content)) == (400, {"error": "s: required"})
        assert headers[b"content-type"] == b"application/json"
        status, _, content = await call(app, event(story), Host="evil.example")
        assert (status, json.loads(content)) == (400, {"error": "host: not allowed"})
        status, _, content = await call(app, b"x" * 5000, chunks=3)
        assert (status, json.loads(content)) == (400, {"error": "body: larger than 2048 bytes"})
        status, _, content = await call(app, event(story), Content_Type="image/png")
        assert status == 400 and json.loads(content)["error"].startswith("content-type")
        # Counted as nothing, answered as if counted.
        assert (await call(app, event(story), DNT="1"))[0] == 202
        assert (await call(app, event(story), User_Agent="curl/8.5.0"))[0] == 202

        assert (await call(app, path="/e/", method="GET"))[2] == b"django"
        assert (await call(app, event(story), path="/e/share/"))[2] == b"django"
        assert (await call(app, path="/", method="GET"))[2] == b"django"
        assert await call(app, path="/healthz", method="GET") == (
            200,
            {**_headers(b"ok"), b"content-type": b"text/plain; charset=utf-8"},
            b"ok",
        )

    asyncio.run(scenario())
    assert stream.xlen(settings.ENGAGEMENT_STREAM) == 1
    assert handed_on == [("GET", "/e/"), ("POST", "/e/share/"), ("GET", "/")]


def _headers(content: bytes) -> dict:
    return {
        b"cache-control": b"no-store",
        b"x-content-type-options": b"nosniff",
        b"content-length": str(len(content)).encode(),
    }


def test_concurrent_events_share_round_trips_and_all_are_counted(stream, settings, make_story):
    stories = [make_story(title=f"Chapter {n}") for n in range(1, 4)]
    share = ShareToken.objects.create(token="shared-once", story=stories[0], network="mastodon")
    app = handed_on_app([])
    bodies = [event(stories[n % 3], sh="shared-once") for n in range(300)]

    async def scenario():
        assert (await call(app, bodies[0]))[0] == 202  # warms the caches
        answers = await asyncio.gather(*(call(app, body) for body in bodies[1:]))
        return [status for status, _, _ in answers], asgi.writer().batches

    statuses, batches = asyncio.run(scenario())
    assert statuses == [202] * 299
    # One XADD round trip per batch, not per event.
    assert batches < 100, batches
    assert stream.xlen(settings.ENGAGEMENT_STREAM) == 300
    flush.flush()
    assert EngagementRollup.objects.aggregate(n=Sum("count"))["n"] == 300
    assert set(EngagementRollup.objects.values_list("share_id", flat=True)) == {share.pk}


def test_a_story_published_after_the_caches_warmed_is_accepted_at_once(stream, make_story):
    first = make_story(title="Already there")
    draft = make_story(title="Just published", live=False)
    app = handed_on_app([])

    async def scenario():
        assert (await call(app, event(first)))[0] == 202
        refused = await call(app, event(draft))
        # Published now: the loop's copy of the live stories does not have it yet.
        await asyncio.to_thread(lambda: draft.save_revision().publish())
        return refused[::2], (await call(app, event(draft)))[::2]

    refused, accepted = asyncio.run(scenario())
    assert refused == (400, b'{"error": "s: not a live story"}')
    assert accepted == (202, b"")


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_redis_unreachable_is_a_503_with_nothing_buffered(stream, settings, make_story):
    story = make_story(title="The fix")
    app = handed_on_app([])
    real = settings.ENGAGEMENT_REDIS_URL

    async def attempt():
        return await call(app, event(story))

    settings.ENGAGEMENT_REDIS_URL = f"redis://127.0.0.1:{closed_port()}/0"
    status, _, content = asyncio.run(attempt())
    assert (status, json.loads(content)) == (503, {"error": "buffer: unavailable, try again later"})
    assert stream.xlen(settings.ENGAGEMENT_STREAM) == 0

    settings.ENGAGEMENT_REDIS_URL = real
    assert asyncio.run(attempt())[0] == 202
    assert stream.xlen(settings.ENGAGEMENT_STREAM) == 1


def test_a_connection_lost_mid_batch_answers_that_batch_503_and_reconnects(
    stream, settings, make_story
):
    """Redis goes away between batches: the writer's next batch fails, the one after works."""
    story = make_story(title="The fix")
    app = handed_on_app([])

    async def scenario():
        assert (await call(app, event(story)))[0] == 202
        writer = asgi.writer()
        # What a Redis restart does to the connection the writer holds.
        writer.connection._writer.transport.abort()
        lost = await asyncio.gather(*(call(app, event(story)) for _ in range(5)))
        again = await call(app, event(story))
        return [status for status, _, _ in lost], again[0]

    lost, again = asyncio.run(scenario())
    assert set(lost) == {503}
    assert again == 202
    assert stream.xlen(settings.ENGAGEMENT_STREAM) == 2


def test_a_reader_past_the_limit_is_told_to_wait_and_nothing_is_kept(stream, settings, make_story):
    settings.ENGAGEMENT_EVENTS_PER_MINUTE = 3
    story = make_story(title="Limited")
    app = asgi.with_collector(None)

    async def scenario():
        return [await call(app, event(story)) for _ in range(5)]

    answers = asyncio.run(scenario())
    assert [status for status, _, _ in answers] == [202] * 3 + [429] * 2
    assert 1 <= int(answers[-1][1][b"retry-after"]) <= 60
    assert json.loads(answers[-1][2])["error"].startswith("rate: ")
    assert stream.xlen(settings.ENGAGEMENT_STREAM) == 3
