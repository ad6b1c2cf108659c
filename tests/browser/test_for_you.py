"""A reader in a real Chromium and "For you": picking interests, the story's audience
variant that follows them, "Forget me"; and a newsletter reader's arrival and their yes.

The story pages are the same for every reader; static/newsletter/js/for-you.js fetches
the personal part (syndication/newsletter/views/for_you.py) and shows the matching variant.
"""

import json
from urllib.parse import urlsplit

import pytest

from syndication.newsletter import clicks, profiles
from syndication.newsletter.models import (
    Delivery,
    DeliveryPick,
    Edition,
    Subscriber,
    SubscriberRead,
)
from tests.factories import AudienceInterestFactory

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]

READER = (
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/131.0.0.0 Safari/537.36"
)
DEFAULT = "[data-audience-default]"
PETS_VARIANT = '[data-interest="pets"]'


@pytest.fixture
def escape(make_story):
    """A story with an audience block (a budgie by default, a cat for Pets readers), and
    more stories for picks."""
    pets = AudienceInterestFactory(name="Pets")
    food = AudienceInterestFactory(name="Food")
    for n in range(3):
        make_story(title=f"Pets, part {n}", interests=[pets])
    make_story(title="Soup for a crowd", interests=[food])
    story = make_story(
        title="The great escape",
        interests=[pets, food],
        body=[
            ("paragraph", "<p>It began with an open cage door.</p>"),
            (
                "audience",
                {
                    "default": {
                        "image": None,
                        "caption": "",
                        "text": "<p>Kiwi the budgie spent an afternoon on the curtain rail.</p>",
                    },
                    "variants": [
                        {
                            "interest": pets,
                            "content": {
                                "image": None,
                                "caption": "",
                                "text": "<p>Our cat spent an afternoon in the airing cupboard.</p>",
                            },
                        }
                    ],
                },
            ),
        ],
    )
    return story, pets


def assert_one_block_no_story_twice(page, heading):
    """The story ends with one visible list of other stories, ``heading``, and no story
    is shown twice on the page."""
    footer = page.locator(".story__next")
    headings = [
        h.inner_text()
        for h in footer.locator("h2").all()
        if h.is_visible() and h.inner_text() not in ("Continue the story", "Background")
    ]
    assert headings == [heading], headings
    titles = [t.inner_text() for t in page.locator(".card__title").all() if t.is_visible()]
    assert titles and len(titles) == len(set(titles)), titles


def reader_cookie(page):
    return next((c for c in page.context.cookies() if c["name"] == profiles.COOKIE_NAME), None)


def test_a_reader_picks_pets_sees_picks_and_the_pets_variant_then_forgets(
    live_server, browser_page, escape
):
    story, _ = escape
    page = browser_page
    page.goto(live_server.url + story.url)
    section = page.get_by_role("region", name="Stories for you")
    more = page.locator("[data-more-stories]")
    # A stranger: the page's own "More on…" block, an offer, the default version of the block.
    section.get_by_role("group", name="Pick your interests").wait_for()
    assert more.get_by_role("heading", name="More on food and pets").is_visible()
    assert_one_block_no_story_twice(page, "More on food and pets")
    assert page.locator(DEFAULT).is_visible()
    assert page.locator(PETS_VARIANT).is_hidden()
    assert reader_cookie(page) is None

    section.get_by_role("group", name="Pick your interests").get_by_label("Pets").check()
    section.get_by_role("button", name="Show me stories for these").click()
    section.get_by_role("heading", name="Picked for you").wait_for()
    labels = section.locator(".card__label").all_text_contents()
    assert labels.count("Because you follow Pets") == 3, labels
    assert "The great escape" not in section.locator(".card__title").all_text_contents()
    # The picks took the place of the page's own block: one block, not two.
    assert more.is_hidden()
    assert_one_block_no_story_twice(page, "Picked for you")
    assert page.locator(PETS_VARIANT).is_visible()
    assert page.locator(PETS_VARIANT).inner_text() == (
        "Our cat spent an afternoon in the airing cupboard."
    )
    assert page.locator(DEFAULT).is_hidden()
    cookie = reader_cookie(page)
    assert cookie["httpOnly"] and cookie["sameSite"] == "Lax"
    assert cookie["expires"] > 0  # kept (180 days), not a session cookie

    # The same (shared) page on the next visit: the cookie brings the picks back.
    page.reload()
    section.get_by_role("heading", name="Picked for you").wait_for()
    page.locator(PETS_VARIANT).wait_for(state="visible")

    assert_one_block_no_story_twice(page, "Picked for you")

    section.get_by_role("button", name="Forget me").click()
    more.get_by_role("heading", name="More on food and pets").wait_for()
    assert_one_block_no_story_twice(page, "More on food and pets")
    assert page.locator(DEFAULT).is_visible()
    assert page.locator(PETS_VARIANT).is_hidden()
    assert reader_cookie(page) is None
    assert section.get_by_role("group", name="Pick your interests").is_visible()


def is_event(request, kind) -> bool:
    if request.method != "POST" or urlsplit(request.url).path != "/e/":
        return False
    return json.loads(request.post_data or "{}").get("t") == kind


def test_a_newsletter_reader_is_asked_before_anything_is_kept(
    live_server, browser_page, escape, settings
):
    settings.ENGAGEMENT_REDIS_URL = ""  # events go straight to the database
    settings.ENGAGEMENT_TEST_MIN_SECONDS = 1
    story, pets = escape
    person = Subscriber.objects.create(email="reader@example.com", status="active")
    person.interests.set([pets])
    edition = Edition.objects.create(title="This week", status=Edition.Status.SENT)
    delivery = Delivery.objects.create(edition=edition, subscriber=person, state="sent")
    DeliveryPick.objects.create(
        delivery=delivery, slot=0, story=story, score=1, probability=1, reason="r"
    )
    # Headless Chromium says so in its user agent, and the click link takes it for a
    # link scanner (no click noted): this reader's browser says what a person's does.
    context = browser_page.context.browser.new_context(user_agent=READER)
    # Chromium reports a beacon's body only for an intercepted request.
    context.route("**/e/", lambda route: route.continue_())
    page = context.new_page()
    page.set_default_timeout(15_000)
    with page.expect_request(lambda r: is_event(r, "read_through")) as read:
        page.goto(live_server.url + clicks.click_path(delivery.pk, 0))
        page.mouse.move(600, 300)
        page.mouse.wheel(0, 6000)
    page.wait_for_url(f"**{story.url}*")
    section = page.get_by_role("region", name="Stories for you")
    section.get_by_role("heading", name="Picked for you").wait_for()
    # The link's tags and token left the address bar; the pets variant shows already.
    page.wait_for_function("!location.search")
    assert urlsplit(page.url).path == story.url
    page.locator(PETS_VARIANT).wait_for(state="visible")
    assert "Because you follow Pets" in section.locator(".card__label").all_text_contents()
    question = section.get_by_text("Keep showing stories picked for you on this device?")
    assert question.is_visible()
    assert reader_cookie(page) is None
    assert DeliveryPick.objects.get(delivery=delivery, slot=0).clicked_at is not None
    # engage.js sent the click token with the read, and it became the subscriber's.
    event = json.loads(read.value.post_data)
    assert (event["s"], event["u"]["medium"]) == (story.pk, "email")
    assert clicks.read_token(event["nl"]) == (delivery.pk, 0)
    assert read.value.response().status == 202
    assert SubscriberRead.objects.filter(subscriber=person, story=story, read_through=True).exists()

    section.get_by_role("button", name="Yes, keep them").click()
    section.get_by_role("button", name="Forget me").wait_for()
    assert reader_cookie(page) is not None
    assert profiles.from_cookie(reader_cookie(page)["value"]).followed == (pets.pk,)
    context.close()
