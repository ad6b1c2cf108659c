"""The living demo (``load_demo`` beyond the stories): a channel on the demo network,
posts, a conversation, 60 days of readers, subscribers and an edition; all of it once,
all of it recorded as demo data, and ``remove_demo`` taking exactly that away.

Runs on SQLite, and on PostgreSQL when DATABASE_URL names one (as CI does).
"""

import datetime
import json

from django.apps import apps
from django.contrib.auth import get_user_model
from django.core import mail
from django.core.management import call_command
from django.db.models import Sum
from django.urls import reverse
from django.utils import timezone

import pytest
import requests

from cms.models import DemoRecord
from stories.demo import marks
from stories.models import StoryPage
from syndication import sendtimes, slots, states
from syndication.conversation.models import ConversationAlert, ConversationItem, ItemKind, Tone
from syndication.demo import living
from syndication.demo.network import BRAND, LABEL, DemoNetwork
from syndication.engagement.models import ChannelMetricSnapshot, EngagementRollup, FlushedBatch
from syndication.models import ChannelAccount, SyndicationPost
from syndication.newsletter.models import Delivery, Edition, Subscriber

pytestmark = pytest.mark.django_db


def counts() -> dict[str, int]:
    return {model._meta.label: model.objects.count() for model in apps.get_models()}


def signed_in(client, username):
    client.force_login(get_user_model().objects.get(username=username))
    return client


def test_load_demo_twice_makes_a_living_site_once(tree, client):
    call_command("load_demo", verbosity=0)
    first = counts()
    call_command("load_demo", verbosity=0)
    assert counts() == first

    # The channel: connected through the connect flow, labelled as the demo network.
    account = ChannelAccount.objects.get()
    assert account.status == ChannelAccount.Status.ACTIVE
    assert LABEL in account.display_name and account.handle.startswith(f"@{BRAND}")
    assert account.tokens["access_token"]
    # Its weekly slots, once however often the demo loads: "Add to the queue" works.
    assert sorted(account.posting_slots.values_list("weekday", "time")) == sorted(living.SLOTS)
    free = slots.next_free_slot(account)
    assert free is not None and free > timezone.now()
    past = SyndicationPost.objects.filter(pk__in=marks.int_ids("past post"))
    posts = SyndicationPost.objects.filter(account=account).exclude(pk__in=past)
    assert posts.count() == len(living.POSTED)
    assert set(posts.values_list("state", flat=True)) == {states.PUBLISHED}
    assert all(posts.values_list("remote_id", flat=True))

    # The conversation: collected replies, likes and boosts; complaints raise an alert.
    tones = set(ConversationItem.objects.values_list("tone", flat=True))
    assert {Tone.COMPLAINT, Tone.QUESTION} <= tones
    assert ConversationItem.objects.filter(kind=ItemKind.LIKE).exists()
    assert ConversationAlert.objects.filter(story__slug="when-the-thunder-comes").exists()
    assert ChannelMetricSnapshot.objects.filter(post__in=posts).count() == posts.count()

    # Readers over sixty days, up to today.
    days = EngagementRollup.objects.values_list("day", flat=True)
    today = timezone.localdate()
    assert max(days) == today
    assert min(days) == today - datetime.timedelta(days=living.HISTORY_DAYS)
    assert EngagementRollup.objects.filter(event="link_follow", detail__startswith="continues:")
    assert EngagementRollup.objects.filter(source="mastodon", post_id__in=posts).exists()

    # Subscribers at example.com, one edition sent through the newsletter's sender.
    emails = sorted(Subscriber.objects.values_list("email", flat=True))
    assert len(emails) == len(living.SUBSCRIBERS)
    assert all(email.endswith("@example.com") for email in emails)
    edition = Edition.objects.get()
    assert edition.status == Edition.Status.SENT
    assert Delivery.objects.filter(edition=edition).count() == len(emails)
    sent = [m for m in mail.outbox if m.subject == living.EDITION_TITLE]
    assert sorted(address for m in sent for address in m.to) == emails

    # The storm story shows the kind words and the question, never the complaints.
    storm = StoryPage.objects.get(slug=living.POSTED[0])
    page = client.get(storm.url).content.decode()
    assert "Is the advice different for rabbits" in page
    assert "den under the table really helps" in page
    assert "useless" not in page

    # Every screen that shows what the product is for has something on it.
    signed_in(client, "socialmanager")
    screens = {
        reverse("syndication_engagement_report"): "The payslip that made no sense",
        reverse("syndication_posts:index"): "When the thunder comes",
        reverse("conversation_inbox:index"): "useless",
        reverse("syndication_accounts:index"): LABEL,
        reverse("wagtailadmin_home"): "When the thunder comes",
    }
    for url, text in screens.items():
        answer = client.get(url)
        assert answer.status_code == 200, url
        assert text in answer.content.decode(), url
    # Compose suggests send times for the brand, learned from its two months of posts.
    assert len(marks.int_ids("past post")) >= sendtimes.MIN_POSTS
    answer = client.get(reverse("syndication_admin:compose", args=[storm.pk])).content.decode()
    assert answer.count("data-send-time=") == sendtimes.SUGGESTIONS
    assert "your Mastodon posts led to" in answer
    signed_in(client, "admin")
    answer = client.get(reverse("newsletter_subscribers:index"))
    assert answer.status_code == 200 and "priya@example.com" in answer.content.decode()


def test_the_history_went_through_the_flushers_counting(tree):
    call_command("load_demo", verbosity=0)
    stories = list(StoryPage.objects.live().filter(pk__in=marks.int_ids("story")).order_by("pk"))
    posts = list(SyndicationPost.objects.filter(pk__in=marks.int_ids("post")))
    simulated = living.simulated_entries(stories, posts, timezone.localdate())
    past = SyndicationPost.objects.filter(pk__in=marks.int_ids("past post")).select_related(
        "account"
    )
    simulated += living.past_post_entries(list(past.order_by("published_at", "pk")))
    rolled = EngagementRollup.objects.aggregate(n=Sum("count"))["n"]
    batches = FlushedBatch.objects.filter(pk__in=marks.int_ids("history batch"))
    # Each raw event was counted once, by batches the flusher recorded as its own.
    assert rolled == len(simulated) > 5000
    assert batches.aggregate(n=Sum("events"))["n"] == rolled
    views = sum(1 for _, entry in simulated if entry["t"] == "view")
    assert EngagementRollup.objects.filter(event="view").aggregate(n=Sum("count"))["n"] == views


def test_remove_demo_leaves_an_empty_working_site_that_can_load_again(tree, client):
    call_command("load_demo", verbosity=0)
    mine = get_user_model().objects.create_superuser("owner", "owner@example.org", "pw-owner-1")
    call_command("remove_demo", verbosity=0)

    assert not StoryPage.objects.exists()
    for model in (SyndicationPost, ChannelAccount, Subscriber, Edition, EngagementRollup):
        assert not model.objects.exists(), model
    assert not ConversationItem.objects.exists() and not DemoRecord.objects.exists()
    assert list(get_user_model().objects.values_list("username", flat=True)) == ["owner"]
    assert client.get("/").status_code == 200
    client.force_login(mine)
    assert client.get(reverse("wagtailadmin_home")).status_code == 200

    call_command("load_demo", verbosity=0)
    assert StoryPage.objects.live().count() == 47
    published = SyndicationPost.objects.filter(state=states.PUBLISHED)
    assert published.count() == len(living.POSTED) + len(marks.int_ids("past post"))


def test_the_demo_network_keeps_its_state_across_restarts(tmp_path):
    path = tmp_path / "demo-network.json"
    first = DemoNetwork(path, bind=0).start()
    port = first.port
    account_id, token = first.create_account("reader")
    answer = requests.post(
        f"{first.url}/api/v1/statuses",
        data={"status": "Kept over a restart"},
        headers={"Authorization": f"Bearer {token}"},
        timeout=5,
    )
    status_id = answer.json()["id"]
    first.favourite(status_id, "maya")
    first.save()
    first.stop()

    again = DemoNetwork(path, bind=port).start()
    try:
        headers = {"Authorization": f"Bearer {token}"}
        read = requests.get(f"{again.url}/api/v1/statuses/{status_id}", headers=headers, timeout=5)
        assert read.status_code == 200
        assert read.json()["favourites_count"] == 1
        me = requests.get(
            f"{again.url}/api/v1/accounts/verify_credentials", headers=headers, timeout=5
        )
        assert me.json()["id"] == account_id
        # New ids carry on after the kept ones.
        _, other = again.create_account("another")
        assert again.account_id("another") != account_id
        assert again.title == LABEL
    finally:
        again.stop()


@pytest.mark.parametrize("kept", ['{"_accounts": {"1": ', '["not", "a", "state"]', "\x00\xff"])
def test_an_unreadable_kept_state_is_set_aside_and_the_network_starts_empty(tmp_path, kept):
    path = tmp_path / "demo-network.json"
    path.write_bytes(kept.encode("latin-1"))
    network = DemoNetwork(path, bind=0).start()
    try:
        assert network.account_id(BRAND) is not None
        assert (tmp_path / "demo-network.unreadable").read_bytes() == kept.encode("latin-1")
        assert json.loads(path.read_text())["_accounts"]
    finally:
        network.stop()
