"""A social manager, in a real Chromium: connect Mastodon through OAuth, schedule a story,
a real worker publishes it, and the story page shows where the conversation is.

The Mastodon test server runs in this process; the worker and beat are child processes
on the server-less broker, so this runs on any machine with Chromium.
"""

import re

from django.contrib.auth.models import Group

import pytest

from syndication import states
from syndication.models import ChannelAccount, SyndicationPost
from syndication.testing.mastodon_server import MastodonTestServer
from tests.browser.conftest import sign_in, worker_and_beat
from tests.integration.conftest import wait_for

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]

PASSWORD = "a-long-password"


def test_connect_schedule_publish_and_join_the_conversation(
    live_server, browser_page, make_story, django_user_model, tmp_path
):
    manager = django_user_model.objects.create_user("sam", "sam@example.org", PASSWORD)
    manager.groups.add(Group.objects.get(name="Social managers"))
    story = make_story(
        title="Bleeding a radiator",
        intro="Cold at the top, warm at the bottom: ten minutes with a key fixes it.",
    )
    page = browser_page
    with MastodonTestServer(usernames=("brand",)) as server:
        sign_in(page, live_server.url, "sam", PASSWORD)

        # Connect: our form → the server's consent page → back to Storyloom.
        page.goto(f"{live_server.url}/admin/syndication/connect/")
        page.fill("input[name=mastodon-instance]", server.url)
        page.get_by_role("button", name="Continue to the server").click()
        page.wait_for_url(f"{server.url}/oauth/authorize**")
        assert "Authorize" in page.content() and "@brand" in page.content()
        page.get_by_role("button", name="Authorize").click()
        page.wait_for_url("**/admin/syndication/accounts/**")
        assert "Connected" in page.content()
        account = ChannelAccount.objects.get()
        assert account.handle.lstrip("@") == "brand" and account.max_characters == 500

        # Schedule: pick the story, keep the pre-filled text, schedule for now.
        page.goto(f"{live_server.url}/admin/syndication/compose/?q=radiator")
        page.get_by_role("link", name="Syndicate").first.click()
        page.wait_for_url(f"**/admin/syndication/compose/{story.pk}/")
        text = page.locator(f"textarea[name=text_{account.pk}]")
        assert "Cold at the top" in text.input_value()
        count = page.locator("[data-compose-count]").first
        text.fill(text.input_value() + " Worth a cup of tea.")
        page.wait_for_function(
            "el => /\\d+\\s*\\/\\s*500/.test(el.textContent)", arg=count.element_handle()
        )
        page.get_by_role("button", name="Schedule").click()
        page.wait_for_url("**/admin/syndication/posts/**")
        post = SyndicationPost.objects.get()
        assert post.state == states.SCHEDULED

        # Publish: a real beat and worker on the server-less broker.
        with worker_and_beat(tmp_path) as worker_log:
            wait_for(
                lambda: SyndicationPost.objects.get(pk=post.pk).state == states.PUBLISHED,
                90,
                "the worker to publish the post",
                worker_log,
            )
        post.refresh_from_db()
        [status] = server.statuses
        assert status["id"] == post.remote_id
        assert "Worth a cup of tea." in status["text"]
        assert re.search(rf"utm_content={post.pk}(?!\d)", status["text"])

        # Readers see where the conversation is, and can follow it.
        page.goto(f"{live_server.url}{story.url}")
        link = page.get_by_role("link", name=re.compile("Mastodon"))
        assert link.get_attribute("href") == post.remote_url
        link.click()
        page.wait_for_url(post.remote_url)
        assert "Worth a cup of tea." in page.content()
