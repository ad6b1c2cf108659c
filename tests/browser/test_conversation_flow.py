"""The conversation, end to end in a real Chromium: a reply arrives on the Mastodon test
server → a real worker collects it → the social manager sees it in the inbox with its
tone → answers → the worker publishes the answer once, as a reply on the server → the
reply is approved → an anonymous reader sees it on the story page → hidden again.

The Mastodon test server runs in this process; the worker and beat are child processes
on the server-less broker, so this runs on any machine with Chromium.
"""

import datetime
import re

from django.contrib.auth.models import Group
from django.utils import timezone

import pytest
import requests

from syndication import states
from syndication.conversation.models import Answer, ConversationItem
from syndication.models import SyndicationPost
from syndication.testing.mastodon_server import MastodonTestServer
from tests.browser.conftest import sign_in, worker_and_beat
from tests.factories import ChannelAccountFactory, SyndicationPostFactory
from tests.integration.conftest import wait_for

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]

PASSWORD = "a-long-password"
QUESTION = "Which key fits an old radiator valve? Mine is from the seventies"


def test_a_reply_is_read_answered_approved_shown_and_hidden(
    live_server, browser_page, make_story, django_user_model, tmp_path
):
    manager = django_user_model.objects.create_user("sam", "sam@example.org", PASSWORD)
    manager.groups.add(Group.objects.get(name="Social managers"))
    story = make_story(
        title="Bleeding a radiator",
        intro="Cold at the top, warm at the bottom: ten minutes with a key fixes it.",
    )
    page = browser_page
    with MastodonTestServer(usernames=("brand", "alice")) as server:
        remote_id, token = server.create_account("storyloom")
        account = ChannelAccountFactory(
            instance_url=server.url,
            remote_id=remote_id,
            handle="@storyloom",
            tokens={"access_token": token},
        )
        status = requests.post(
            f"{server.url}/api/v1/statuses",
            data={"status": f"Bleeding a radiator, in ten minutes. {live_server.url}{story.url}"},
            headers={"Authorization": f"Bearer {token}"},
            timeout=5,
        ).json()
        post = SyndicationPostFactory(
            story=story,
            account=account,
            state=states.PUBLISHED,
            remote_id=status["id"],
            remote_url=status["url"],
            published_at=timezone.now() - datetime.timedelta(minutes=20),
        )
        reply_id = server.reply(post.remote_id, QUESTION, as_user="alice")

        with worker_and_beat(
            tmp_path,
            queues="celery,publishing,ingestion",
            CONVERSATION_COLLECT_EVERY_SECONDS=1,
        ) as worker_log:
            # The worker collects the reply, with its tone.
            wait_for(
                lambda: ConversationItem.objects.filter(text__startswith="Which key").exists(),
                90,
                "the worker to collect the reply",
                worker_log,
            )
            item = ConversationItem.objects.get(text__startswith="Which key")
            assert item.tone == "question" and item.remote_ref == {"id": reply_id}

            # The social manager finds it in the inbox, with its tone.
            sign_in(page, live_server.url, "sam", PASSWORD)
            page.get_by_role("link", name=re.compile(r"Inbox \(1\)")).click()
            row = page.locator("tr", has_text="Which key fits")
            assert "question" in row.inner_text().lower()
            row.get_by_role("link", name=re.compile("Which key fits")).click()
            page.wait_for_url(f"**/admin/conversation/items/{item.pk}/")
            assert "question" in page.locator("[data-conversation-item]").inner_text().lower()

            # Answers it; the worker sends the answer once, as a reply to it.
            page.fill("textarea[name=text]", "A 5 mm square key fits most of them, Alice.")
            page.get_by_role("button", name="Send answer").click()
            page.wait_for_url(f"**/admin/conversation/items/{item.pk}/")
            answer = Answer.objects.select_related("post").get(item=item)
            wait_for(
                lambda: SyndicationPost.objects.get(pk=answer.post_id).state == states.PUBLISHED,
                90,
                "the worker to publish the answer",
                worker_log,
            )
        answers = [s for s in server.statuses if s.get("in_reply_to_id") == reply_id]
        assert len(answers) == 1
        assert answers[0]["text"].startswith("A 5 mm square key")
        page.reload()
        answers_section = page.locator("[data-answer]")
        assert "A 5 mm square key" in answers_section.inner_text()
        assert "published" in answers_section.inner_text().lower()

        # Approve it and switch the story's "What people said" on.
        page.get_by_role("button", name="Approve for the story page").click()
        page.wait_for_load_state()
        page.get_by_role("button", name="Show approved replies on this story").click()
        page.wait_for_load_state()

        # An anonymous reader sees it on the story page.
        reader = page.context.browser.new_context().new_page()
        reader.goto(f"{live_server.url}{story.url}")
        shown = reader.locator(".h-cite", has_text="Which key fits")
        assert shown.count() == 1

        # Hidden again: gone for the reader (the cached page was refreshed).
        page.goto(f"{live_server.url}/admin/conversation/items/{item.pk}/")
        page.get_by_role("button", name="Hide from the story page").click()
        page.wait_for_load_state()
        reader.reload()
        assert reader.locator(".h-cite", has_text="Which key fits").count() == 0
        assert "Which key fits" not in reader.content()
        reader.context.close()
