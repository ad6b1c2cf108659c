"""Fuzz: every public URL answers hostile requests without a 5xx, and keeps only what reads back.

Each public route of ``cms.urls`` (everything but the two admins) has a row in
``ENDPOINTS`` (``tests.fuzz_routes``): the methods it answers, the query parameters and
body fields it reads. Hypothesis sends each one requests whose path segments, query
values, bodies (form, JSON, text/plain, multipart, invalid UTF-8, the wrong content
type) and headers (Referer, User-Agent, Host, X-Forwarded-For, DNT, Accept-Language,
If-None-Match, cookies…) carry NUL bytes, lone surrogates, numbers beyond any column,
very long strings and values of the wrong type (``tests.fuzzing``). For every example:

* the status is below 500 (the test client does not raise, so a 500 is a status; the
  exception behind it is kept for the failure message);
* after a request that was taken (below 400), every row of every table a public URL
  writes reads back, with no NUL or lone surrogate in it; events buffered in Redis
  are flushed into those tables first, so an event the flusher cannot count fails too.

Each example runs in a savepoint that is rolled back, so examples do not pile up.
``test_every_public_route_is_fuzzed`` fails when a public route is added without a
row there (or an explicit exclusion). The page cache's WSGI layer, which answers
anonymous reads before Django, gets the same headers and paths in
``test_the_page_cache_layer_answers_hostile_reads``.
"""

import contextlib
import re
import traceback

from django.core.files.base import ContentFile
from django.core.handlers.wsgi import WSGIHandler
from django.core.signals import got_request_exception, request_finished, request_started
from django.db import close_old_connections, models, transaction
from django.test import Client, RequestFactory

from wagtail.documents import get_document_model
from wagtail.models import ModelLogEntry, PageLogEntry

import pytest
from hypothesis import given
from hypothesis import strategies as st

from stories import page_cache
from syndication.engagement import buffer, flush
from syndication.engagement.models import DailySalt, EngagementRollup, FlushedBatch, ShareToken
from syndication.newsletter import clicks, subscriptions
from syndication.newsletter.models import (
    Delivery,
    DeliveryPick,
    Edition,
    Subscriber,
    SubscriberRead,
)
from tests.conftest import require_service
from tests.factories import AudienceInterestFactory, ImageFactory
from tests.fuzz_routes import (
    ENDPOINTS,
    FEED_PARAMS,
    HOST,
    PAGE_PARAMS,
    PARTS,
    ReadingPaths,
    Request,
    Site,
    headers,
    public_routes,
    query,
)
from tests.fuzzing import fuzz, percent
from tests.integration.conftest import redis_is_up, redis_url

pytestmark = pytest.mark.django_db

EXAMPLES = 25

#: Tables a public URL may write (directly, or through the flusher and Wagtail's logs).
WRITTEN = (
    EngagementRollup,
    FlushedBatch,
    ShareToken,
    DailySalt,
    Subscriber,
    Subscriber.interests.through,
    SubscriberRead,
    Delivery,
    DeliveryPick,
    ModelLogEntry,
    PageLogEntry,
)


# --- The site every example runs against ------------------------------------------------


@pytest.fixture
def site(make_story, settings):
    settings.ALLOWED_HOSTS = [HOST, "testserver", ".example.org"]
    pets, food = AudienceInterestFactory(name="Pets"), AudienceInterestFactory(name="Food")
    stories = [
        make_story(title="The cat in the boiler cupboard", interests=[pets]),
        make_story(title="Soup for a cold week", interests=[food]),
        make_story(title="A dog, a bowl and a plan", interests=[pets, food]),
    ]
    image = ImageFactory()
    document = get_document_model().objects.create(
        title="Leaflet", file=ContentFile(b"leaflet", name="leaflet.txt")
    )
    pending = Subscriber.objects.create(email="new@example.org")
    active = Subscriber.objects.create(email="reader@example.org", status=Subscriber.Status.ACTIVE)
    active.interests.set([pets])
    edition = Edition.objects.create(title="This week", status=Edition.Status.SENT)
    delivery = Delivery.objects.create(
        edition=edition, subscriber=active, state=Delivery.State.SENT
    )
    DeliveryPick.objects.create(
        delivery=delivery, slot=0, story=stories[0], score=1.0, probability=1.0, reason="r"
    )
    share = ShareToken.objects.create(token="AbCdEfGh12345678", story=stories[0], network="x")
    return Site(
        story_ids=[story.pk for story in stories],
        story_paths=[story.url for story in stories],
        interest_slugs=[pets.slug, food.slug],
        interest_ids=[pets.pk, food.pk],
        image_id=image.pk,
        document_id=document.pk,
        confirm_token=subscriptions.confirm_token(pending),
        preferences_token=subscriptions.preferences_token(active),
        unsubscribe_token=subscriptions.unsubscribe_token(active),
        click_token=clicks.make_token(delivery.pk, 0),
        share_token=share.token,
    )


@pytest.fixture(params=["embedded", "redis"])
def buffering(request, settings):
    """Events counted at once (embedded), or buffered in a Redis stream of this test's own
    and flushed after each example: returns what flushes the stream (or does nothing)."""
    buffer.forget_caches()
    if request.param == "embedded":
        settings.ENGAGEMENT_REDIS_URL = ""
        yield lambda: None
        buffer.forget_caches()
        return
    url = redis_url()
    require_service(redis_is_up(url), f"Redis at {url}")
    name = f"storyloom:test-public-fuzz:{request.node.name[-40:]}"
    settings.ENGAGEMENT_REDIS_URL = url
    settings.ENGAGEMENT_STREAM = name
    client = buffer.redis_client(url)
    client.delete(name, f"{name}:flush-lock")

    def drain():
        flush.flush()
        left = client.xlen(name)
        pending = client.xpending(name, flush.GROUP)["pending"] if left else 0
        assert pending == 0, f"{pending} event(s) left pending in the stream after a flush"
        client.delete(name)

    yield drain
    client.delete(name, f"{name}:flush-lock")
    buffer.forget_caches()


# --- Checks ---------------------------------------------------------------------------


def unreadable(value) -> str:
    """Why a stored value cannot be read back whole, or ""."""
    if isinstance(value, str):
        if "\x00" in value:
            return "holds a NUL"
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            return "holds a lone surrogate"
    elif isinstance(value, dict):
        return next((why for item in (*value, *value.values()) if (why := unreadable(item))), "")
    elif isinstance(value, list | tuple):
        return next((why for item in value if (why := unreadable(item))), "")
    return ""


def rows_that_do_not_read_back() -> list[str]:
    problems = []
    for model in WRITTEN:
        fields = [f for f in model._meta.concrete_fields if not isinstance(f, models.ForeignKey)]
        for row in model.objects.all():
            str(row)
            for field in fields:
                why = unreadable(field.value_from_object(row))
                if why:
                    problems.append(f"{model.__name__} {row.pk} {field.name}: {why}")
    return problems


class _Undo(Exception):
    """Rolls an example's savepoint back."""


@pytest.fixture
def raised():
    """The tracebacks of the exceptions behind this test's 500s (cleared by each sender)."""
    found = []

    def note(sender, request=None, **kwargs):
        found.append(traceback.format_exc())

    got_request_exception.connect(note)
    yield found
    got_request_exception.disconnect(note)


@pytest.fixture
def send(settings, raised):
    """Send a ``Request`` through Django with the test client; returns (response, error).

    ``error`` is the traceback of the exception behind a 500, if any.
    """
    settings.DEBUG_PROPAGATE_EXCEPTIONS = False
    client = Client(raise_request_exception=False, HTTP_HOST=HOST)

    def sender(request: Request):
        raised.clear()
        response = client.generic(
            request.method,
            request.url,
            data=request.body,
            content_type=request.content_type or "",
            **request.headers,
        )
        client.cookies.clear()
        return response, "".join(raised)

    return sender


def check(send, request: Request, flush_events=None):
    """Send one example in a savepoint (rolled back after) and make every assertion."""
    with contextlib.suppress(_Undo), transaction.atomic():
        response, error = send(request)
        assert response.status_code < 500, (
            f"{response.status_code} for {request!r}\n{error or repr(response.content[:500])}"
        )
        if response.status_code < 400:
            if flush_events is not None:
                flush_events()
            problems = rows_that_do_not_read_back()
            assert not problems, f"stored what does not read back after {request!r}: {problems}"
        raise _Undo


# --- Tests ---------------------------------------------------------------------------


def test_every_public_route_is_fuzzed():
    routes = public_routes()
    missing = routes - set(ENDPOINTS)
    assert not missing, f"public routes with no row in ENDPOINTS (or EXCLUDED_PREFIXES): {missing}"
    stale = set(ENDPOINTS) - routes
    assert not stale, f"ENDPOINTS rows for routes that no longer exist: {stale}"


def test_unreadable_values_are_found():
    """The read-back check sees a NUL or a lone surrogate anywhere in a stored value."""
    assert unreadable("a\x00b") == "holds a NUL"
    assert unreadable({"k": ["x", "\ud800"]}) == "holds a lone surrogate"
    assert unreadable({"\x00": 1}) == "holds a NUL"
    assert unreadable(["fine", 12, None, {"a": "b"}]) == ""


ROUTES = [route for route in ENDPOINTS if not ENDPOINTS[route].flushes]
COLLECTOR_ROUTES = [route for route in ENDPOINTS if ENDPOINTS[route].flushes]

#: Cases that fail on a known finding not fixed yet: {(route, part or "fuzz"): reason}.
#: Marked xfail(strict=False), so a fix passes; empty when every finding is fixed.
KNOWN: dict[tuple[str, str], str] = {}


def cases(routes, parts):
    return [
        pytest.param(
            route,
            part,
            id=f"{route}-{part}",
            marks=[pytest.mark.xfail(strict=False, reason=KNOWN[route, part])]
            if (route, part) in KNOWN
            else [],
        )
        for route in routes
        for part in parts
    ]


def sweep(send, requests, flush_events=None):
    """``check`` each request; fail once at the end, one line per failure (what was sent,
    what was raised) and the first failure whole."""
    failures = []
    for request in requests:
        try:
            check(send, request, flush_events)
        except AssertionError as failure:
            failures.append(str(failure))
    summary = "\n".join(
        f"- {failure.splitlines()[0][:200]} ... {_raised(failure)}" for failure in failures
    )
    assert not failures, (
        f"{len(failures)} of {len(requests)} failed:\n{summary}\n\nFirst:\n{failures[0]}"
    )


def _raised(failure: str) -> str:
    """The last exception named in a failure's traceback."""
    found = re.findall(r"^\s*([\w.]+(?:Error|Exception|Exceeded)\b.*)$", failure, re.MULTILINE)
    return found[-1][:200] if found else ""


@pytest.mark.parametrize(("route", "part"), cases(ROUTES, ["fuzz"]))
def test_a_public_route_answers_hostile_requests_below_500(route, part, site, send, settings):
    settings.ENGAGEMENT_REDIS_URL = ""  # events of a newsletter click are counted at once
    endpoint = ENDPOINTS[route]

    @fuzz(EXAMPLES)
    @given(request=endpoint.requests(site))
    def run(request):
        check(send, request)

    run()


@pytest.mark.parametrize(("route", "part"), cases(ROUTES, PARTS))
def test_a_public_route_answers_each_hostile_value_below_500(route, part, site, send, settings):
    """Every hostile value in every parameter, field, header and segment, one at a time."""
    settings.ENGAGEMENT_REDIS_URL = ""
    sweep(send, ENDPOINTS[route].sweep(site, part))


@pytest.mark.parametrize(("route", "part"), cases(COLLECTOR_ROUTES, ["fuzz"]))
def test_the_collector_counts_only_what_reads_back(route, part, site, send, buffering):
    endpoint = ENDPOINTS[route]
    sweep(send, [r for p in PARTS for r in endpoint.sweep(site, p)], buffering)

    @fuzz(EXAMPLES)
    @given(request=endpoint.requests(site))
    def run(request):
        check(send, request, buffering)

    run()


class EnvironFactory(RequestFactory):
    """A WSGI environ as a server makes it (a request would decode PATH_INFO in place)."""

    def request(self, **request):
        return self._base_environ(**request)


def test_the_page_cache_layer_answers_hostile_reads(site, settings, raised):
    """``stories.page_cache`` reads the path, query, Host, cookies and conditional headers
    before Django does: the same hostile reads, twice each (a miss, then a hit)."""
    settings.PAGE_CACHE_ENABLED = True
    application = page_cache.with_page_cache(WSGIHandler())
    factory = EnvironFactory()
    reads = st.builds(
        Request,
        st.sampled_from(["GET", "GET", "HEAD"]),
        ReadingPaths().strategy(site) | st.sampled_from(["/feeds/stories/rss/", "/sitemap.xml"]),
        query(PAGE_PARAMS | FEED_PARAMS),
        headers=headers({}),
    )

    def start_response(status, headers, exc_info=None):
        answered.append(status)

    answered = []

    @fuzz(EXAMPLES)
    @given(request=reads)
    def run(request):
        for attempt in ("miss", "hit"):
            raised.clear()
            answered.clear()
            environ = factory.generic(request.method, request.url, **request.headers)
            b"".join(application(environ, start_response))
            assert int(answered[0][:3]) < 500, (
                f"{attempt}: {answered[0]} for {request!r}\n{''.join(raised)}"
            )

    # As the test client does: the connection (and its transaction) outlives a request.
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    try:
        run()
    finally:
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)


def test_a_query_string_reaches_the_views_as_sent():
    """What these requests carry is what the views see: a NUL arrives, and a lone
    surrogate's bytes arrive as replacement characters."""
    request = RequestFactory().get("/x/?a=" + percent("a\x00b") + "&b=" + percent("\ud800"))
    assert request.GET["a"] == "a\x00b"
    assert request.GET["b"] == "\ufffd" * 3
