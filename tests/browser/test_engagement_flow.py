"""A reader in a real Chromium, from a Mastodon post to the rollups: the page view,
an engaged read, the end of the story, a share, a feeling and the next story, all
sent by static/engagement/js/engage.js to the collector and counted by the flush.

The collector runs in either of its modes: embedded (events written straight into
the rollups) and with a Redis stream that the flush task empties. An engaged read
needs max(15 s, 30 % of the reading time); ENGAGEMENT_TEST_MIN_SECONDS lowers the
15 s floor so the test does not sit still for it.
"""

import json
import os
import uuid
from contextlib import ExitStack
from urllib.parse import parse_qs, urlsplit

from django.test import override_settings

import pytest

from syndication.engagement import buffer
from syndication.engagement.events import EVENT_ID
from syndication.engagement.models import EngagementRollup, ShareToken
from syndication.engagement.tasks import flush_events
from syndication.engagement.templatetags.engagement_tags import reading_seconds
from tests.browser.conftest import CHROMIUM_ARGS
from tests.conftest import require_service
from tests.factories import AudienceInterestFactory, ImageFactory, link
from tests.integration.conftest import redis_is_up, redis_url

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]

# Headless Chromium says "HeadlessChrome", which the collector drops as a robot.
READER_AGENT = (
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/131.0.0.0 Safari/537.36"
)
MIN_SECONDS = 1
END_OF_STORY = "document.querySelector('[data-engage]').getBoundingClientRect().top"
POST_ID = 4242  # the syndication post a Mastodon arrival came through (utm_content)


@pytest.fixture(params=["embedded", "redis"])
def collector(request):
    """The collector's settings for one mode; ``flush()`` runs the beat's flush task."""
    with ExitStack() as stack:
        stack.enter_context(override_settings(ENGAGEMENT_TEST_MIN_SECONDS=MIN_SECONDS))
        stream = None
        if request.param == "redis":
            url = redis_url()
            require_service(redis_is_up(url), f"Redis at {url}")
            # A stream of its own: other test runs may share this Redis.
            stream = f"storyloom:test-events:{uuid.uuid4().hex}"
            stack.enter_context(
                override_settings(ENGAGEMENT_REDIS_URL=url, ENGAGEMENT_STREAM=stream)
            )
        else:
            stack.enter_context(override_settings(ENGAGEMENT_REDIS_URL=""))
        buffer.forget_caches()
        try:
            yield flush_events.delay
        finally:
            buffer.forget_caches()
            if stream:
                buffer.redis_client(url).delete(stream)


@pytest.fixture
def browser(chromium_path):
    # Playwright's sync API runs an event loop in this thread; the live server and the
    # test's own ORM calls are still plain synchronous code.
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=chromium_path, args=CHROMIUM_ARGS, headless=True
        )
        try:
            yield chromium
        finally:
            chromium.close()
            os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)


def new_page(browser, **options):
    # A short window, so the end of the story starts out of sight.
    context = browser.new_context(
        viewport={"width": 1280, "height": 500}, user_agent=READER_AGENT, **options
    )
    # Chromium reports a beacon's body only for an intercepted request: pass every event
    # through unchanged, so the test can read what the script sent.
    context.route("**/e/", lambda route: route.continue_())
    page = context.new_page()
    page.set_default_timeout(15_000)
    return page


def is_event(request, kind=None) -> bool:
    if request.method != "POST" or urlsplit(request.url).path != "/e/":
        return False
    return kind is None or json.loads(request.post_data or "{}").get("t") == kind


def expect_event(page, kind):
    return page.expect_request(lambda request: is_event(request, kind))


def listen(page, sent: list):
    page.on("request", lambda request: sent.append(request.url) if is_event(request) else None)


def accepted(info) -> dict:
    """The body of an event the page sent, after checking the collector took it; the
    event's own id (``i``, new for each event) is checked and left out."""
    request = info.value
    assert request.response().status == 202, request.response().text()
    body = json.loads(request.post_data)
    assert EVENT_ID.fullmatch(body.pop("i")), request.post_data
    return body


def rollups() -> dict:
    return {
        (row.story_id, row.event, row.source, row.detail, row.post_id, row.share_id): row.count
        for row in EngagementRollup.objects.all()
    }


def make_stories(make_story):
    pets = AudienceInterestFactory(name="Pets")
    second = make_story(title="Biscuit's second week", interests=[pets])
    first = make_story(title="Biscuit comes home", interests=[pets], hero_image=ImageFactory())
    link(first, second, "continues")
    return first, second


def test_a_reader_from_mastodon_reads_shares_feels_and_goes_on(
    live_server, browser, collector, make_story
):
    story, second = make_stories(make_story)
    page = new_page(browser, permissions=["clipboard-read", "clipboard-write"])
    tags = f"utm_source=mastodon&utm_medium=social&utm_campaign=pets&utm_content={POST_ID}"

    with expect_event(page, "view") as view:
        page.goto(f"{live_server.url}{story.url}?{tags}&keep=1#top")
    arrival = {"source": "mastodon", "medium": "social", "campaign": "pets"}
    arrival["content"] = str(POST_ID)
    assert accepted(view) == {"t": "view", "s": story.pk, "u": arrival}
    # The tags leave the address bar (a copied URL must not pass them on); the rest stays.
    page.wait_for_function("!location.search.includes('utm_')")
    assert page.url == f"{live_server.url}{story.url}?keep=1#top"
    section = page.get_by_role("region", name="Respond to this story")
    assert section.is_visible()  # the script showed it
    assert page.evaluate(END_OF_STORY) > 500  # out of sight in the 500 px window

    # Reading to the end: the end of the story comes into view, and after enough engaged
    # time (the threshold the include carries) it is an engaged read.
    goal_ms = 1000 * max(MIN_SECONDS, 0.3 * reading_seconds(story))
    with expect_event(page, "engaged_read") as engaged, expect_event(page, "read_through") as end:
        page.mouse.move(600, 300)
        page.mouse.wheel(0, 6000)
    read = accepted(engaged)
    assert read["ms"] >= goal_ms and read["sd"] >= 75 and read["u"] == arrival
    assert accepted(end)["sd"] == 100

    # Copy link: the server mints a share token and the reader copies the URL carrying it.
    with page.expect_response(lambda r: urlsplit(r.url).path == "/e/share/") as minted:
        section.get_by_role("button", name="Copy link").click()
    assert minted.value.status == 201
    shared = minted.value.json()
    assert section.get_by_role("status").filter(has_text="Link copied.").is_visible()
    copied = page.evaluate("navigator.clipboard.readText()")
    assert copied == shared["url"]
    query = parse_qs(urlsplit(copied).query)
    assert query["sh"] == [shared["token"]] and query["utm_medium"] == ["share"]
    assert query["utm_source"] == ["copy"] and query["utm_campaign"] == [story.slug]
    token = ShareToken.objects.get(token=shared["token"])
    assert (token.story_id, token.network, token.parent, token.depth) == (story.pk, "copy", None, 0)

    # Mastodon: the reader names their own server; it is remembered for next time.
    page.context.route(
        "https://example.social/**", lambda route: route.fulfill(body="Mastodon", status=200)
    )
    section.get_by_role("button", name="Mastodon").click()
    section.get_by_label("Your Mastodon server").fill("@reader@Example.social")
    with page.context.expect_page() as popup:
        section.get_by_role("button", name="Share on Mastodon").click()
    opened = urlsplit(popup.value.url)
    assert (opened.scheme, opened.netloc, opened.path) == ("https", "example.social", "/share")
    text = parse_qs(opened.query)["text"][0]
    assert text.startswith("Biscuit comes home http") and "sh=" in text
    assert ShareToken.objects.filter(story=story, network="mastodon").count() == 1
    assert page.evaluate("localStorage.getItem('storyloom:mastodon')") == "example.social"
    popup.value.close()

    # A feeling: one tap, counted once, thanked.
    with expect_event(page, "feeling") as feeling:
        section.get_by_role("button", name="Made me smile").click()
    assert accepted(feeling)["f"] == "smiled"
    assert section.get_by_role("status").filter(has_text="Thank you").is_visible()
    assert section.get_by_role("button", name="Helpful").is_disabled()

    # On to the next story: the link is counted, and the next page is still credited
    # to the Mastodon post that brought the reader (the landing is kept for the tab).
    continuation = page.get_by_role("region", name="Continue the story")
    with expect_event(page, "view") as next_view, expect_event(page, "link_follow") as follow:
        continuation.get_by_role("link", name="Biscuit's second week").click()
    assert accepted(follow) == {
        "t": "link_follow",
        "s": story.pk,
        "to": second.pk,
        "k": "continues",
        "u": arrival,
    }
    assert accepted(next_view) == {"t": "view", "s": second.pk, "u": arrival}
    page.wait_for_url(f"**{second.url}")
    page.context.close()

    collector()
    mastodon = ("mastodon", POST_ID, 0)

    def key(story_id, event, detail=""):
        source, post_id, share_id = mastodon
        return (story_id, event, source, detail, post_id, share_id)

    assert rollups() == {
        key(story.pk, "view"): 1,
        key(story.pk, "engaged_read"): 1,
        key(story.pk, "read_through"): 1,
        key(story.pk, "share", "copy"): 1,
        key(story.pk, "share", "mastodon"): 1,
        key(story.pk, "feeling", "smiled"): 1,
        key(story.pk, "link_follow", f"continues:{second.pk}"): 1,
        key(second.pk, "view"): 1,
    }


@pytest.mark.parametrize("collector", ["embedded"], indirect=True)
def test_an_arrival_through_a_share_is_credited_to_it_and_a_reshare_names_its_parent(
    live_server, browser, collector, make_story
):
    story, _ = make_stories(make_story)
    sharer = new_page(browser, permissions=["clipboard-read", "clipboard-write"])
    with expect_event(sharer, "view"):
        sharer.goto(f"{live_server.url}{story.url}")
    with sharer.expect_response(lambda r: urlsplit(r.url).path == "/e/share/") as minted:
        sharer.get_by_role("button", name="Copy link").click()
    first = ShareToken.objects.get(token=minted.value.json()["token"])
    sharer.get_by_text("Link copied.").wait_for()
    copied = urlsplit(sharer.evaluate("navigator.clipboard.readText()"))
    sharer.context.close()

    # A friend opens the copied link (the site's own address, on the test server's port)
    # in a browser of their own.
    friend = new_page(browser, permissions=["clipboard-read", "clipboard-write"])
    with expect_event(friend, "view") as view:
        friend.goto(f"{live_server.url}{copied.path}?{copied.query}")
    assert accepted(view)["sh"] == first.token
    friend.wait_for_function("!location.search")
    with friend.expect_response(lambda r: urlsplit(r.url).path == "/e/share/") as reshared:
        friend.get_by_role("button", name="Copy link").click()
    second = ShareToken.objects.get(token=reshared.value.json()["token"])
    assert (second.parent_id, second.depth) == (first.pk, 1)
    friend.context.close()

    collector()
    counted = rollups()
    assert counted[(story.pk, "view", "share", "", 0, first.pk)] == 1
    assert counted[(story.pk, "share", "share", "copy", 0, first.pk)] == 1
    assert counted[(story.pk, "view", "direct", "", 0, 0)] == 1


def test_readers_who_ask_not_to_be_tracked_send_nothing(live_server, browser, make_story):
    story, second = make_stories(make_story)
    with override_settings(ENGAGEMENT_REDIS_URL=""):
        # DNT on every request (the page is the shared cached copy): whatever the script
        # sends carries the header, and the collector keeps none of it.
        quiet = new_page(browser, extra_http_headers={"DNT": "1"})
        quiet.goto(f"{live_server.url}{story.url}?utm_source=mastodon&utm_medium=social")
        assert quiet.get_by_role("heading", level=1).inner_text() == "Biscuit comes home"
        quiet.mouse.wheel(0, 6000)
        quiet.wait_for_timeout(1500)
        quiet.context.close()
        sent = []

        # Global Privacy Control in the browser only (a page from the shared cache still
        # has the script): the script itself stays silent and shows no buttons.
        private = new_page(browser)
        private.add_init_script(
            "Object.defineProperty(Navigator.prototype, 'globalPrivacyControl', {get: () => true})"
        )
        listen(private, sent)
        with private.expect_response(lambda r: r.url.endswith("/engage.js")):
            private.goto(f"{live_server.url}{second.url}?utm_source=mastodon&utm_medium=social")
        private.mouse.wheel(0, 6000)
        private.wait_for_timeout(2500)  # engaged-time ticks are one second apart
        assert private.locator("[data-engage]").is_hidden()
        # Nothing rewrote the address either: the script stopped before doing anything.
        assert "utm_source=mastodon" in private.url
        private.context.close()

    assert sent == []
    assert not EngagementRollup.objects.exists()


def test_an_event_whose_answer_was_lost_is_sent_again_and_counted_once(
    live_server, browser, collector, make_story
):
    """The collector takes the view, but the reader's browser is told 503 (the answer lost
    to a Redis restart, say): the script sends the same event again, with the same id,
    and the flush counts it once."""
    story, _ = make_stories(make_story)
    page = new_page(browser)
    bodies = []

    def answer_lost_once(route):
        bodies.append(json.loads(route.request.post_data))
        response = route.fetch()  # the collector records it...
        if len(bodies) == 1:
            assert response.status == 202
            route.fulfill(
                status=503, headers={"Retry-After": "1"}, body=""
            )  # ...the reader hears 503
        else:
            route.fulfill(response=response)

    page.context.unroute("**/e/")
    page.route("**/e/", answer_lost_once)
    page.goto(f"{live_server.url}{story.url}")
    deadline = 10_000
    while len(bodies) < 2 and deadline > 0:
        page.wait_for_timeout(250)
        deadline -= 250
    views = [body for body in bodies if body["t"] == "view"]
    assert len(views) == 2, bodies
    assert views[0]["i"] == views[1]["i"]
    page.context.close()

    collector()
    counted = {
        (row.story_id, row.event): row.count
        for row in EngagementRollup.objects.filter(event="view")
    }
    assert counted == {(story.pk, "view"): 1}
