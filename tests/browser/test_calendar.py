"""A social manager, in a real Chromium: connect a Mastodon account (our test server's
consent flow), give it weekly posting slots, compose with "Add to the queue", find the
post on the calendar in its slot, drag it to another day, move it again with the
keyboard, and read the new time in the queue.

Issue 17's final browser test names a Facebook Page; this one runs against the Mastodon
test server, whose adapter and consent flow exist today: the calendar and the slots do
not depend on the network.
"""

import datetime

from django.contrib.auth.models import Group
from django.utils import timezone

import pytest

from cms.admin_ui import local_time
from syndication import states
from syndication.models import ChannelAccount, PostingSlot, SyndicationPost
from syndication.testing.mastodon_server import MastodonTestServer
from tests.browser.conftest import sign_in

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]

PASSWORD = "a-long-password"


def test_queue_a_post_into_a_slot_and_move_it_on_the_calendar(
    live_server, browser_page, make_story, django_user_model
):
    manager = django_user_model.objects.create_user("sam", "sam@example.org", PASSWORD)
    manager.groups.add(Group.objects.get(name="Social managers"))
    story = make_story(
        title="Bleeding a radiator",
        intro="Cold at the top, warm at the bottom: ten minutes with a key fixes it.",
    )
    # Two days ahead at 10:15 on the site's clocks: the first slot; a week later the next.
    slot_day = timezone.localdate() + datetime.timedelta(days=2)
    page = browser_page
    with MastodonTestServer(usernames=("brand",)) as server:
        sign_in(page, live_server.url, "sam", PASSWORD)
        page.goto(f"{live_server.url}/admin/syndication/connect/")
        page.fill("input[name=mastodon-instance]", server.url)
        page.get_by_role("button", name="Continue to the server").click()
        page.wait_for_url(f"{server.url}/oauth/authorize**")
        page.get_by_role("button", name="Authorize").click()
        page.wait_for_url("**/admin/syndication/accounts/**")
        account = ChannelAccount.objects.get()

        # Weekly slots, typed into the account's Posting slots screen.
        page.goto(f"{live_server.url}/admin/syndication/accounts/{account.pk}/slots/")
        page.get_by_label(slot_day.strftime("%A")).fill("10:15")
        page.get_by_role("button", name="Save slots").click()
        page.wait_for_selector("text=has 1 weekly posting slot")
        assert list(PostingSlot.objects.values_list("weekday", "time")) == [
            (slot_day.weekday(), datetime.time(10, 15))
        ]

        # Compose, and add to the queue: the post takes the slot.
        page.goto(f"{live_server.url}/admin/syndication/compose/{story.pk}/")
        page.get_by_role("button", name="Add to the queue").click()
        page.wait_for_url("**/admin/syndication/posts/**")
        assert "1 post added to the queue" in page.content()
        post = SyndicationPost.objects.get()
        slot = timezone.localtime(post.scheduled_at)
        assert post.state == states.SCHEDULED
        assert (slot.date(), slot.hour, slot.minute) == (slot_day, 10, 15)

        # The calendar's week shows it in its day and hour.
        page.get_by_role("button", name="Syndication").click()
        page.get_by_role("link", name="Calendar").click()
        page.wait_for_url("**/admin/syndication/calendar/")
        page.goto(f"{live_server.url}/admin/syndication/calendar/?date={slot_day}")
        card = page.locator(f"[data-calendar-post='{post.pk}']")
        cell = page.locator(f"[data-calendar-drop][data-date='{slot_day}'][data-hour='10']")
        assert cell.locator(f"[data-calendar-post='{post.pk}']").count() == 1
        assert "10:15" in card.inner_text() and "Bleeding a radiator" in card.inner_text()

        # Drag it to another day of the week, at 12:00 (it keeps its minutes).
        other_day = slot_day + datetime.timedelta(days=1 if slot_day.weekday() < 6 else -1)
        target = page.locator(f"[data-calendar-drop][data-date='{other_day}'][data-hour='12']")
        card.evaluate("element => element.scrollIntoView({block: 'center'})")
        card.drag_to(target)
        status = page.locator("[data-calendar-status]")
        status.filter(has_text="Moved to").wait_for()
        assert target.locator(f"[data-calendar-post='{post.pk}']").count() == 1
        post.refresh_from_db()
        moved = timezone.localtime(post.scheduled_at)
        assert (moved.date(), moved.hour, moved.minute) == (other_day, 12, 15)
        assert post.due_at == post.scheduled_at and post.state == states.SCHEDULED

        # And with the keyboard: focus its Move control, open it, type a time, submit.
        page.reload()
        page.locator(f"[data-calendar-post='{post.pk}'] summary").focus()
        page.keyboard.press("Enter")
        when = page.locator(f"#calendar-move-{post.pk}")
        when.wait_for(state="visible")
        when.focus()
        when.fill(f"{slot_day}T08:45")
        page.keyboard.press("Tab")
        page.keyboard.press("Enter")
        status.filter(has_text="Moved to").wait_for()
        early = page.locator(f"[data-calendar-drop][data-date='{slot_day}'][data-hour='08']")
        early.locator(f"[data-calendar-post='{post.pk}']").wait_for()
        post.refresh_from_db()
        final = timezone.localtime(post.scheduled_at)
        assert (final.date(), final.hour, final.minute) == (slot_day, 8, 45)

        page.goto(f"{live_server.url}/admin/syndication/calendar/?view=month&date={slot_day}")
        month_cell = page.locator(f"[data-calendar-drop][data-date='{slot_day}']")
        assert "08:45" in month_cell.locator(f"[data-calendar-post='{post.pk}']").inner_text()
        # The queue shows the new time.
        page.goto(f"{live_server.url}/admin/syndication/posts/")
        assert local_time(post.scheduled_at) in page.content()
        assert "Moved on the calendar by sam" in post.attempts.last().message
