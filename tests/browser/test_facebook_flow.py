"""A social manager, in a real Chromium, with a Facebook Page (issue 17's browser test):
connect the Page through the Graph test server's consent dialog, give it a weekly posting
slot, add a story to the queue, find the post on the calendar in that slot, let a real
worker publish it when its time comes, and read its reactions, comments and shares.

The Graph test server runs in this process; the worker and beat are child processes on
the server-less broker, so this runs on any machine with Chromium.
"""

import datetime
import re

from django.contrib.auth.models import Group
from django.utils import timezone

import pytest

from syndication import states
from syndication.engagement import collect
from syndication.models import ChannelAccount, PostingSlot, SyndicationPost
from syndication.testing.facebook import FacebookTestServer
from tests.browser.conftest import sign_in, worker_and_beat
from tests.integration.conftest import wait_for

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]

PASSWORD = "a-long-password"


def test_connect_a_page_queue_a_story_see_it_on_the_calendar_publish_and_read_its_metrics(
    live_server, browser_page, make_story, django_user_model, settings, tmp_path
):
    manager = django_user_model.objects.create_user("sam", "sam@example.org", PASSWORD)
    manager.groups.add(Group.objects.get(name="Social managers"))
    story = make_story(
        title="Bleeding a radiator",
        intro="Cold at the top, warm at the bottom: ten minutes with a key fixes it.",
    )
    slot_day = timezone.localdate() + datetime.timedelta(days=2)
    page = browser_page
    with FacebookTestServer() as graph:
        facebook = {
            "FACEBOOK_GRAPH_URL": graph.url,
            "FACEBOOK_DIALOG_URL": graph.url,
            "FACEBOOK_APP_ID": graph.app_id,
            "FACEBOOK_APP_SECRET": graph.app_secret,
            "FACEBOOK_API_VERSION": "v25.0",
        }
        for name, value in facebook.items():
            setattr(settings, name, value)
        sign_in(page, live_server.url, "sam", PASSWORD)

        # Connect: our button → Facebook's dialog, where the person keeps both Pages
        # ticked → back to Storyloom, where they connect one of them.
        page.goto(f"{live_server.url}/admin/syndication/connect/")
        page.get_by_role("button", name="Continue to Facebook Page").click()
        page.wait_for_url(f"{graph.url}/v25.0/dialog/oauth**")
        assert "Which Pages may the app use?" in page.content()
        assert page.get_by_label("Storyloom Recipes").is_checked()
        page.get_by_role("button", name="Continue").click()
        # Facebook appends "#_=_" to its redirect; the browser keeps it on ours.
        page.wait_for_url("**/admin/syndication/connect/facebook/pages/**")
        page.get_by_label("Storyloom Recipes").uncheck()
        assert page.get_by_label("Storyloom Stories").is_checked()
        page.get_by_role("button", name="Connect these Pages").click()
        page.wait_for_url("**/admin/syndication/accounts/**")
        assert "Connected Storyloom Stories" in page.content()
        account = ChannelAccount.objects.get()
        stories_page = graph.page_ids[0]
        assert (account.network, account.remote_id) == ("facebook", stories_page)

        # A weekly slot, then "Add to the queue": the post takes the slot.
        page.goto(f"{live_server.url}/admin/syndication/accounts/{account.pk}/slots/")
        page.get_by_label(slot_day.strftime("%A")).fill("10:15")
        page.get_by_role("button", name="Save slots").click()
        page.wait_for_selector("text=has 1 weekly posting slot")
        assert PostingSlot.objects.filter(account=account).count() == 1
        page.goto(f"{live_server.url}/admin/syndication/compose/{story.pk}/")
        page.get_by_role("button", name="Add to the queue").click()
        page.wait_for_url("**/admin/syndication/posts/**")
        post = SyndicationPost.objects.get()
        slot = timezone.localtime(post.scheduled_at)
        assert post.state == states.SCHEDULED
        assert (slot.date(), slot.hour, slot.minute) == (slot_day, 10, 15)

        # The calendar shows it in its day and hour, on the Page.
        page.goto(f"{live_server.url}/admin/syndication/calendar/?date={slot_day}")
        cell = page.locator(f"[data-calendar-drop][data-date='{slot_day}'][data-hour='10']")
        card = cell.locator(f"[data-calendar-post='{post.pk}']")
        assert card.count() == 1
        assert "Bleeding a radiator" in card.inner_text()
        assert "Storyloom Stories" in card.inner_text()

        # Its time comes (the test moves it to now rather than wait two days), and a
        # real beat and worker publish it to the Page.
        now = timezone.now()
        SyndicationPost.objects.filter(pk=post.pk).update(scheduled_at=now, due_at=now)
        with worker_and_beat(tmp_path, **facebook) as worker_log:
            wait_for(
                lambda: SyndicationPost.objects.get(pk=post.pk).state == states.PUBLISHED,
                90,
                "the worker to publish the post",
                worker_log,
            )
        post.refresh_from_db()
        [on_page] = graph.posts
        assert on_page["id"] == post.remote_id and on_page["page_id"] == stories_page
        assert re.search(rf"utm_content={post.pk}(?!\d)", on_page["message"])
        assert "utm_source=facebook" in on_page["link"]

        # People react, comment and share; the metrics run reads it back.
        graph.set_engagement(post.remote_id, reactions={"LIKE": 4, "LOVE": 1}, shares=2)
        graph.comment(post.remote_id, "Worked a treat, thanks!")
        assert collect.collect_channel_metrics()["snapshots"] == 1
        page.goto(f"{live_server.url}/admin/syndication/posts/")
        assert "1 reply · 2 reposts · 5 likes" in page.content()
        page.goto(f"{live_server.url}/admin/syndication/calendar/?date={timezone.localdate()}")
        card = page.locator(f"[data-calendar-post='{post.pk}']")
        assert "1 reply · 2 reposts · 5 likes" in card.inner_text()
        assert graph.refused_fields == []
