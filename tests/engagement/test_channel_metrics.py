"""Collecting channel metrics over real HTTP from the Mastodon test server."""

import datetime
import logging

from django.utils import timezone

import pytest
import requests

from syndication import states
from syndication.engagement import collect
from syndication.engagement.models import ChannelMetricSnapshot
from syndication.engagement.tasks import collect_channel_metrics
from syndication.models import ChannelAccount
from tests.factories import ChannelAccountFactory, SyndicationPostFactory

pytestmark = pytest.mark.django_db


def connect(server, username):
    """A Storyloom account for a fresh user of the test server, and that user's token."""
    remote_id, token = server.create_account(username)
    account = ChannelAccountFactory(
        instance_url=server.url,
        remote_id=remote_id,
        handle=f"@{username}",
        tokens={"access_token": token},
    )
    return account, token


def status_on(server, token, text="A story worth a read."):
    response = requests.post(
        f"{server.url}/api/v1/statuses",
        data={"status": text},
        headers={"Authorization": f"Bearer {token}"},
        timeout=5,
    )
    response.raise_for_status()
    return response.json()["id"]


def published(story, account, remote_id, *, days_ago=1):
    return SyndicationPostFactory(
        story=story,
        account=account,
        state=states.PUBLISHED,
        remote_id=remote_id,
        published_at=timezone.now() - datetime.timedelta(days=days_ago),
    )


@pytest.fixture
def brand(mastodon_server):
    return connect(mastodon_server, "brand")


def test_a_run_stores_one_snapshot_per_recent_post_with_what_the_network_counts(
    mastodon_server, brand, make_story
):
    account, token = brand
    story = make_story()
    ids = [status_on(mastodon_server, token) for _ in range(3)]
    posts = [published(story, account, remote_id) for remote_id in ids]
    mastodon_server.set_counts(ids[0], reblogs=4, replies=2, favourites=9, quotes=1)
    mastodon_server.set_counts(ids[2], favourites=1)

    summary = collect.collect_channel_metrics()

    assert summary["snapshots"] == 3
    assert mastodon_server.hits["statuses_batch"] == 1  # one batched read for the account
    first = ChannelMetricSnapshot.objects.get(post=posts[0])
    assert (first.reposts, first.replies, first.likes, first.quotes) == (4, 2, 9, 1)
    assert first.clicks is None  # Mastodon does not count link clicks
    assert ChannelMetricSnapshot.objects.get(post=posts[2]).likes == 1

    mastodon_server.set_counts(ids[0], favourites=12)
    collect.collect_channel_metrics()
    series = list(ChannelMetricSnapshot.objects.filter(post=posts[0]).order_by("taken_at", "pk"))
    assert [snapshot.likes for snapshot in series] == [9, 12]


def test_counts_beyond_the_columns_are_stored_clamped_and_stop_nothing(
    mastodon_server, brand, make_story
):
    """A server answering a count no column holds (a bug, a hostile server) does not keep
    the account's posts from being measured: the count is stored as the ceiling."""
    account, token = brand
    story = make_story()
    ids = [status_on(mastodon_server, token) for _ in range(2)]
    posts = [published(story, account, remote_id) for remote_id in ids]
    mastodon_server.set_counts(ids[0], reblogs=2**70, replies=-5, favourites=3)
    mastodon_server.set_counts(ids[1], favourites=7)

    assert collect.collect_channel_metrics()["snapshots"] == 2
    first = ChannelMetricSnapshot.objects.get(post=posts[0])
    assert (first.reposts, first.replies, first.likes) == (collect.MAX_COUNT, 0, 3)
    assert ChannelMetricSnapshot.objects.get(post=posts[1]).likes == 7


def test_a_snapshot_the_database_refuses_is_quarantined_and_the_others_are_kept(
    mastodon_server, brand, make_story, monkeypatch
):
    from cms.models import QuarantinedMessage

    account, token = brand
    story = make_story()
    ids = [status_on(mastodon_server, token) for _ in range(3)]
    posts = [published(story, account, remote_id) for remote_id in ids]
    mastodon_server.set_counts(ids[1], favourites=5)
    # Past the clamp (switched off here), the database itself refuses one count.
    monkeypatch.setattr(collect, "_count", lambda value: value)
    mastodon_server.set_counts(ids[0], favourites=2**70)

    assert collect.collect_channel_metrics()["snapshots"] == 2
    assert set(ChannelMetricSnapshot.objects.values_list("post_id", flat=True)) == {
        posts[1].pk,
        posts[2].pk,
    }
    kept = QuarantinedMessage.objects.get(consumer=collect.QUARANTINE)
    assert str(posts[0].pk) in kept.key and kept.error


def test_posts_older_than_thirty_days_unpublished_or_without_remote_id_are_skipped(
    mastodon_server, brand, make_story
):
    account, token = brand
    story = make_story()
    recent = published(story, account, status_on(mastodon_server, token), days_ago=29)
    old = published(story, account, status_on(mastodon_server, token), days_ago=31)
    SyndicationPostFactory(story=story, account=account, state=states.SCHEDULED)
    published(story, account, "", days_ago=1)

    summary = collect.collect_channel_metrics()

    assert summary["snapshots"] == 1
    assert list(ChannelMetricSnapshot.objects.values_list("post_id", flat=True)) == [recent.pk]
    assert not ChannelMetricSnapshot.objects.filter(post=old).exists()


def test_a_429_pauses_the_account_for_retry_after_and_other_accounts_carry_on(
    mastodon_server, make_story
):
    story = make_story()
    limited, limited_token = connect(mastodon_server, "limited")
    fine, fine_token = connect(mastodon_server, "fine")
    limited_post = published(story, limited, status_on(mastodon_server, limited_token))
    fine_post = published(story, fine, status_on(mastodon_server, fine_token))
    assert limited.pk < fine.pk  # accounts are read in id order: the 429 hits "limited"
    mastodon_server.fail_next("429", route="statuses_batch")
    before = timezone.now()

    summary = collect.collect_channel_metrics()

    assert summary["paused"] == [limited.pk]
    limited.refresh_from_db()
    # The test server answers "Retry-After: 1".
    assert before < limited.paused_until <= timezone.now() + datetime.timedelta(seconds=2)
    assert not ChannelMetricSnapshot.objects.filter(post=limited_post).exists()
    assert ChannelMetricSnapshot.objects.filter(post=fine_post).count() == 1

    # While paused, the account is not asked again.
    hits = mastodon_server.hits["statuses_batch"]
    collect.collect_channel_metrics(now=limited.paused_until - datetime.timedelta(seconds=0.5))
    assert mastodon_server.hits["statuses_batch"] == hits + 1  # "fine" only
    assert not ChannelMetricSnapshot.objects.filter(post=limited_post).exists()

    # Once the pause has passed, it is.
    later = collect.collect_channel_metrics(
        now=limited.paused_until + datetime.timedelta(seconds=1)
    )
    assert later["paused"] == []
    assert ChannelMetricSnapshot.objects.filter(post=limited_post).count() == 1


def test_a_429_without_retry_after_pauses_for_the_default_backoff(make_story, monkeypatch):
    from syndication.channels.base import RateLimited
    from syndication.channels.mastodon import MastodonAdapter

    def refuse(self, remote_ids):
        raise RateLimited("Mastodon rate limit reached.", retry_after=None, status=429)

    monkeypatch.setattr(MastodonAdapter, "fetch_metrics", refuse)
    account = ChannelAccountFactory(tokens={"access_token": "t"})
    published(make_story(), account, "1")
    now = timezone.now()
    collect.collect_channel_metrics(now=now)
    account.refresh_from_db()
    assert account.paused_until == now + collect.DEFAULT_BACKOFF


def test_other_errors_are_logged_and_the_next_run_retries(
    mastodon_server, brand, make_story, caplog
):
    account, token = brand
    post = published(make_story(), account, status_on(mastodon_server, token))
    mastodon_server.fail_next("500", route="statuses_batch")

    with caplog.at_level(logging.WARNING, logger="syndication.engagement.collect"):
        summary = collect.collect_channel_metrics()

    assert summary["failed"] == [account.pk]
    assert "server error" in caplog.text
    account.refresh_from_db()
    assert account.paused_until is None
    assert account.status == ChannelAccount.Status.ACTIVE
    assert not ChannelMetricSnapshot.objects.exists()

    collect.collect_channel_metrics()
    assert ChannelMetricSnapshot.objects.filter(post=post).count() == 1


def test_a_refused_token_marks_the_account_for_reconnecting(mastodon_server, brand, make_story):
    account, token = brand
    published(make_story(), account, status_on(mastodon_server, token))
    mastodon_server.revoke(token)

    summary = collect.collect_channel_metrics()

    assert summary["failed"] == [account.pk]
    account.refresh_from_db()
    assert account.status == ChannelAccount.Status.NEEDS_RECONNECT
    assert not ChannelMetricSnapshot.objects.exists()
    # An account that needs reconnecting is not asked again.
    hits = mastodon_server.hits["statuses_batch"]
    collect.collect_channel_metrics()
    assert mastodon_server.hits["statuses_batch"] == hits


def test_many_posts_are_read_in_batches_and_each_batch_is_kept(
    mastodon_server, brand, make_story, monkeypatch
):
    account, token = brand
    story = make_story()
    posts = [published(story, account, status_on(mastodon_server, token)) for _ in range(45)]
    monkeypatch.setattr(collect, "BATCH", 20)
    summary = collect.collect_channel_metrics()
    assert summary["snapshots"] == 45
    assert mastodon_server.hits["statuses_batch"] == 3

    # Now the third batch is refused: the first two stay stored.
    ChannelMetricSnapshot.objects.all().delete()
    calls = mastodon_server.hits["statuses_batch"]
    original = collect.ChannelMetricSnapshot.objects.bulk_create
    stored_batches = []

    def bulk_create(objects, *args, **kwargs):
        stored_batches.append(len(objects))
        if len(stored_batches) == 2:
            mastodon_server.fail_next("429", route="statuses_batch")
        return original(objects, *args, **kwargs)

    monkeypatch.setattr(collect.ChannelMetricSnapshot.objects, "bulk_create", bulk_create)
    summary = collect.collect_channel_metrics()
    assert summary["paused"] == [account.pk]
    assert stored_batches == [20, 20]
    assert mastodon_server.hits["statuses_batch"] == calls + 3
    assert ChannelMetricSnapshot.objects.count() == 40
    assert not ChannelMetricSnapshot.objects.filter(post=posts[-1]).exists()


def test_the_celery_task_runs_a_collection(mastodon_server, brand, make_story):
    account, token = brand
    post = published(make_story(), account, status_on(mastodon_server, token))
    mastodon_server.set_counts(post.remote_id, reblogs=2)
    assert (
        collect_channel_metrics.name
        == "syndication.engagement.metric_tasks.collect_channel_metrics"
    )
    collect_channel_metrics.delay()
    assert ChannelMetricSnapshot.objects.get(post=post).reposts == 2


@pytest.mark.parametrize("network", ["bluesky", "linkedin", "x"])
def test_every_networks_failed_read_shows_on_the_account_until_a_read_works(
    network, make_story, monkeypatch
):
    """Not only Mastodon's adapter: the collector tells each account how its read went."""
    from syndication.channels import adapter_for
    from syndication.channels.base import ChannelError

    account = ChannelAccountFactory(network=network, tokens={"access_token": "t"})
    published(make_story(), account, "remote-1")
    adapter_class = type(adapter_for(account))
    monkeypatch.setattr(
        adapter_class,
        "fetch_metrics",
        lambda self, ids: (_ for _ in ()).throw(ChannelError("The network answered 502.")),
    )
    monkeypatch.setattr("syndication.tokens.ensure_fresh", lambda account, adapter: None)
    assert collect.collect_channel_metrics()["failed"] == [account.pk]
    account.refresh_from_db()
    assert account.metrics_error == "The network answered 502."
    assert account.metrics_read_at is not None

    monkeypatch.setattr(adapter_class, "fetch_metrics", lambda self, ids: {})
    assert collect.collect_channel_metrics()["failed"] == []
    account.refresh_from_db()
    assert account.metrics_error == ""
