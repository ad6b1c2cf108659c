"""An edition's email in a real Chromium: readable on a phone, without its pictures.

The HTML is the one a subscriber receives (sent through the real sending code to
Django's locmem backend), opened with ``page.set_content``: no server, so pictures do
not load — the email must read well without them.
"""

import datetime

from django.contrib.auth.models import Group
from django.core import mail
from django.utils import timezone

import pytest
from playwright.sync_api import expect

from syndication.newsletter import clicks, lifecycle, sending
from syndication.newsletter.models import Delivery, DeliveryPick, Edition, Subscriber
from tests.browser.conftest import sign_in
from tests.factories import AudienceInterestFactory, ImageFactory

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]

LONG_WORD = "Supercalifragilisticexpialidocious" * 3


def sent_email(make_story) -> tuple[mail.EmailMultiAlternatives, list]:
    home = AudienceInterestFactory(name="Home")
    titles = [
        "Fixing a dripping tap in ten minutes",
        f"A title with one very long word: {LONG_WORD}",
        "The neighbours who share a ladder",
        "What the plumber told us about washers",
    ]
    for number, title in enumerate(titles):
        make_story(
            title=title,
            intro="A washer costs pennies and the job takes ten minutes with the water off.",
            interests=[home],
            first_published_at=timezone.now() - datetime.timedelta(days=number),
            hero_image=ImageFactory() if number == 0 else None,
        )
    reader = Subscriber.objects.create(email="reader@example.com", status="active")
    reader.interests.set([home])
    edition = Edition.objects.create(
        title="Small fixes, big relief",
        intro="Four stories from this week.",
        k=4,
        status=Edition.Status.SCHEDULED,
        send_at=timezone.now(),
    )
    assert lifecycle.start_due_editions() == [edition.pk]
    for first, last in lifecycle.plan_edition(edition.pk):
        sending.send_chunk(edition.pk, first, last)
    [message] = mail.outbox
    picks = list(
        DeliveryPick.objects.filter(delivery=Delivery.objects.get()).select_related("story")
    )
    return message, picks


@pytest.mark.parametrize("width", [375, 1280])
def test_the_email_reads_well_on_a_phone_and_a_desktop(browser_page, make_story, width):
    message, picks = sent_email(make_story)
    html = message.alternatives[0][0]
    page = browser_page
    page.set_viewport_size({"width": width, "height": 900})
    page.set_content(html, wait_until="domcontentloaded")

    assert page.get_by_role("heading", level=1).inner_text() == "Small fixes, big relief"
    assert page.get_by_text("Four stories from this week.").is_visible()
    for pick in picks:
        link = page.get_by_role("link", name=pick.story.title, exact=True)
        assert link.is_visible(), pick.story.title
        href = link.get_attribute("href")
        click = clicks.read_token(href.rstrip("/").rsplit("/", 1)[1])
        assert (click.delivery_id, click.slot) == (pick.delivery_id, pick.slot)
        assert page.get_by_text(pick.reason).first.is_visible()
    for footer in ("Change your interests", "Unsubscribe"):
        assert page.get_by_role("link", name=footer).is_visible()

    sizes = page.evaluate(
        """() => ({
            body: parseFloat(getComputedStyle(document.body).fontSize),
            title: parseFloat(getComputedStyle(document.querySelector("h2 a")).fontSize),
            smallest: Math.min(...[...document.querySelectorAll("p, a, h1, h2")]
                .filter((node) => node.innerText.trim())
                .map((node) => parseFloat(getComputedStyle(node).fontSize))),
            scroll: document.documentElement.scrollWidth,
            inner: window.innerWidth,
            column: document.querySelector("body > div").getBoundingClientRect().width,
            image: [...document.images].map((img) => img.getBoundingClientRect().width),
        })"""
    )
    assert sizes["body"] >= 16
    assert sizes["title"] >= 18
    assert sizes["smallest"] >= 12
    # Nothing, not even a very long word, makes the page scroll sideways.
    assert sizes["scroll"] <= sizes["inner"], sizes
    # Lines stay a readable length on a wide screen; pictures never overflow the column.
    assert sizes["column"] <= 640
    assert all(image <= sizes["column"] for image in sizes["image"])


def test_the_progress_page_follows_a_send_as_it_happens(
    live_server, browser_page, make_story, django_user_model
):
    manager = django_user_model.objects.create_user("sam", "sam@example.org", "a-long-password")
    manager.groups.add(Group.objects.get(name="Social managers"))
    home = AudienceInterestFactory(name="Home")
    make_story(title="Bleeding a radiator", interests=[home])
    for number in range(3):
        Subscriber.objects.create(email=f"r{number}@example.com", status="active")
    edition = Edition.objects.create(
        title="Warm rooms", status=Edition.Status.SCHEDULED, send_at=timezone.now()
    )
    lifecycle.start_due_editions()
    lifecycle.plan_edition(edition.pk)  # planned, nothing sent yet

    page = browser_page
    sign_in(page, live_server.url, "sam", "a-long-password")
    page.goto(f"{live_server.url}/admin/newsletter/editions/{edition.pk}/progress/")
    sent = page.locator('[data-field="sent"]')
    assert sent.inner_text() == "0"
    assert page.locator('[data-field="total"]').inner_text() == "3"

    # Deliveries go out while the page is open: it catches up without a reload.
    first, *_ = Delivery.objects.order_by("pk")
    Delivery.objects.filter(pk=first.pk).update(state="failed", error="550 No such user")
    Delivery.objects.exclude(pk=first.pk).update(state="sent", sent_at=timezone.now())
    lifecycle.finish_if_done(edition.pk)
    # (expect() polls without evaluating strings, which the admin's CSP forbids.)
    expect(sent).to_have_text("2", timeout=10_000)
    expect(page.locator('[data-field="failed"]')).to_have_text("1")
    expect(page.get_by_text("550 No such user")).to_be_visible()
    expect(page.locator('[data-field="status_label"]')).to_have_text("Sent")
