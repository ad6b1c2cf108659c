"""``manage.py backfill_channel_metrics``: older posts' metrics over real HTTP, with progress."""

import datetime
import io

from django.core.management import CommandError, call_command
from django.utils import timezone

import pytest

from syndication.engagement import collect
from syndication.engagement.models import ChannelMetricSnapshot
from syndication.models import ChannelAccount
from tests.engagement.test_channel_metrics import connect, published, status_on

pytestmark = pytest.mark.django_db


def backfill(*args) -> tuple[str, str]:
    out, err = io.StringIO(), io.StringIO()
    call_command("backfill_channel_metrics", *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def days_ago(days: int) -> str:
    return (timezone.localdate() - datetime.timedelta(days=days)).isoformat()


def test_posts_older_than_beat_s_window_get_their_metrics(mastodon_server, make_story):
    account, token = connect(mastodon_server, "brand")
    story = make_story()
    old = [published(story, account, status_on(mastodon_server, token), days_ago=60)]
    old.append(published(story, account, status_on(mastodon_server, token), days_ago=45))
    older = published(story, account, status_on(mastodon_server, token), days_ago=120)
    mastodon_server.set_counts(old[0].remote_id, reblogs=5, favourites=8)

    assert collect.collect_channel_metrics()["snapshots"] == 0  # beat looks back 30 days only

    out, err = backfill("--since", days_ago(90), "--until", days_ago(40))

    assert set(ChannelMetricSnapshot.objects.values_list("post_id", flat=True)) == {
        post.pk for post in old
    }
    first = ChannelMetricSnapshot.objects.get(post=old[0])
    assert (first.reposts, first.likes) == (5, 8)
    assert not ChannelMetricSnapshot.objects.filter(post=older).exists()
    assert "2 snapshots for 2 posts on 1 accounts" in out
    last = err.strip().splitlines()[-1]
    assert last.startswith("Posts  [####################]  2/2  ")
    assert "/s  done in 0:0" in last


def test_a_rate_limited_account_is_paused_and_the_rest_skipped(mastodon_server, make_story):
    account, token = connect(mastodon_server, "brand")
    story = make_story()
    for _ in range(3):
        published(story, account, status_on(mastodon_server, token), days_ago=50)
    mastodon_server.fail_next("429", route="statuses_batch")

    out, err = backfill("--since", days_ago(60))

    assert ChannelMetricSnapshot.objects.count() == 0
    assert ChannelAccount.objects.get(pk=account.pk).paused_until > timezone.now()
    assert "Rate limited (paused): @brand" in out
    assert "3/3" in err.strip().splitlines()[-1]


def test_dates_are_checked():
    with pytest.raises(CommandError, match="is not a date"):
        backfill("--since", "last week")
    with pytest.raises(CommandError, match="--until is before --since"):
        backfill("--since", days_ago(1), "--until", days_ago(2))
