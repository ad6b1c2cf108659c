"""Conversation metrics (docs/metrics.md, "Conversation"): the formulas, and the figures
of a conversation built by hand (``conversation_data``) per story, interest, channel,
account and in all, in a constant number of queries."""

import datetime

from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

import pytest

from syndication import states
from syndication.conversation import collect, metrics
from syndication.engagement.metrics import period_bounds
from tests.conversation import conversation_data as data
from tests.factories import ChannelAccountFactory

HOUR = data.HOUR


# --- The formulas -----------------------------------------------------------------------
def test_the_median_is_the_middle_value_or_the_mean_of_the_two_middle_ones():
    assert metrics.median([]) is None
    assert metrics.median([7]) == 7
    assert metrics.median([300, 1, 20]) == 20
    assert metrics.median([40, 10, 30, 20]) == 25


def test_time_to_answer_runs_from_writing_to_answering_and_never_below_zero():
    written = datetime.datetime(2026, 3, 1, 12, 0, tzinfo=datetime.UTC)
    assert metrics.seconds_to_answer(written, written + datetime.timedelta(hours=2)) == 2 * HOUR
    # The author's server clock ran ahead of ours.
    assert metrics.seconds_to_answer(written, written - datetime.timedelta(minutes=3)) == 0


def test_figures_without_a_post_or_a_reply_say_nothing_rather_than_zero():
    nothing = metrics.ConversationFigures()
    assert not nothing.measured
    assert nothing.replies_per_post is None
    assert nothing.answered_share is None
    assert nothing.median_seconds_to_answer is None
    quiet = metrics.ConversationFigures(posts=2)
    assert quiet.measured and quiet.replies_per_post == 0
    assert quiet.answered_share is None  # no reply: nothing to answer
    busy = metrics.ConversationFigures(posts=2, replies=5, answered=2, delays=[60.0, 180.0])
    assert (busy.replies_per_post, busy.answered_share) == (2.5, 0.4)
    assert (busy.median_seconds_to_answer, busy.timed) == (120.0, 2)


@pytest.mark.parametrize(
    ("seconds", "text"),
    [
        (None, "—"),
        (0, "under a minute"),
        (59, "under a minute"),
        (45 * 60, "45 min"),
        (2 * HOUR, "2 h"),
        (3 * HOUR + 5 * 60, "3 h 5 min"),
        (50 * HOUR, "2 d 2 h"),
        (48 * HOUR, "2 d"),
    ],
)
def test_durations_read_as_people_say_them(seconds, text):
    assert metrics.duration(seconds) == text


# --- The figures of a conversation built by hand ------------------------------------------
@pytest.fixture
def collected(monkeypatch):
    """Bluesky collected as well as Mastodon, so one handle can be on two networks."""
    monkeypatch.setattr(collect, "NETWORKS", data.COLLECTED)


@pytest.fixture
def conversation(db, make_story, collected):
    return data.build(make_story)


def last_28_days():
    today = timezone.localdate()
    return period_bounds(today - datetime.timedelta(days=27), today)


def as_tuple(figures):
    return (
        figures.posts,
        figures.replies,
        figures.quotes,
        figures.people,
        figures.answered,
        sorted(figures.delays),
    )


def test_the_figures_of_each_story(conversation):
    found = metrics.load_figures(*last_28_days())

    assert as_tuple(found[conversation.kitchen.pk]) == data.KITCHEN
    assert as_tuple(found[conversation.boiler.pk]) == data.BOILER
    assert set(found) == {conversation.kitchen.pk, conversation.boiler.pk}
    kitchen = found[conversation.kitchen.pk]
    assert kitchen.replies_per_post == 2.5
    assert kitchen.answered_share == 0.6
    assert kitchen.median_seconds_to_answer == 2 * HOUR  # 30 min, 2 h, 4 h
    assert found[conversation.boiler.pk].median_seconds_to_answer is None


def test_the_figures_per_interest_count_a_person_once_across_stories(conversation):
    found = metrics.load_figures(*last_28_days(), group_by="interest")

    assert as_tuple(found[conversation.home.pk]) == data.HOME
    assert as_tuple(found[conversation.money.pk]) == data.MONEY
    assert set(found) == {conversation.home.pk, conversation.money.pk}


def test_the_figures_per_channel_and_per_account(conversation):
    per_channel = metrics.load_figures(*last_28_days(), group_by="channel")
    per_account = metrics.load_figures(*last_28_days(), group_by="account")

    assert as_tuple(per_channel["mastodon"]) == data.ON_MASTODON
    assert as_tuple(per_channel["bluesky"]) == data.ON_BLUESKY
    assert set(per_channel) == {"mastodon", "bluesky"}  # LinkedIn: not read back
    assert as_tuple(per_account[conversation.mastodon.pk]) == data.ON_MASTODON
    assert as_tuple(per_account[conversation.bluesky.pk]) == data.ON_BLUESKY


def test_the_totals_and_the_narrowing_filters(conversation):
    everything = metrics.load_figures(*last_28_days(), group_by=None)[None]
    assert as_tuple(everything) == data.EVERYTHING
    # Replies, posts and answers add up over the stories; people need not (@ann).
    per_story = metrics.load_figures(*last_28_days()).values()
    assert sum(found.replies for found in per_story) == everything.replies
    assert sum(found.posts for found in per_story) == everything.posts
    assert sum(found.answered for found in per_story) == everything.answered

    money = metrics.load_figures(*last_28_days(), interest=conversation.money)
    assert set(money) == {conversation.kitchen.pk}
    # Narrowed to an interest and grouped by interest: that interest's row only, as the
    # engagement report's own rows are.
    narrowed = metrics.load_figures(
        *last_28_days(), group_by="interest", interest=conversation.money
    )
    assert set(narrowed) == {conversation.money.pk}
    assert as_tuple(narrowed[conversation.money.pk]) == data.MONEY
    only_bluesky = metrics.load_figures(*last_28_days(), group_by=None, networks=("bluesky",))
    assert as_tuple(only_bluesky[None]) == data.ON_BLUESKY
    nowhere = metrics.load_figures(*last_28_days(), group_by=None, networks=())
    assert not nowhere[None].measured
    mine = metrics.load_figures(*last_28_days(), stories=[conversation.boiler.pk])
    assert as_tuple(mine[conversation.boiler.pk]) == data.BOILER


def test_only_collected_networks_have_figures(db, make_story, monkeypatch):
    """Posts on a network whose conversation is not read back have nothing to measure."""
    monkeypatch.setattr(collect, "NETWORKS", ("mastodon",))
    conversation = data.build(make_story)

    found = metrics.load_figures(*last_28_days(), group_by="channel")

    assert as_tuple(found["mastodon"]) == data.ON_MASTODON
    assert set(found) == {"mastodon"}
    kitchen = metrics.load_figures(*last_28_days())[conversation.kitchen.pk]
    assert (kitchen.posts, kitchen.replies, kitchen.answered) == (1, 4, 2)


def test_a_past_period_counts_what_was_written_and_answered_by_its_end(collected, make_story):
    """Replies written, and answers published, after the period ended are not in it."""
    now = timezone.now()
    conversation = data.build(make_story, now=now)
    story = conversation.boiler
    post = story.syndication_posts.get(
        state=states.PUBLISHED,
        account=conversation.mastodon,
        published_at=now - datetime.timedelta(days=1),
    )
    data.item(post, 9, handle="@late", written=now + datetime.timedelta(days=3))
    first = post.conversation.get(author_handle="@zed")
    data.answer(first, now + datetime.timedelta(days=3))
    since, until = now - datetime.timedelta(days=2), now + datetime.timedelta(days=2)

    before = metrics.load_figures(since, until, stories=[story.pk])[story.pk]
    after = metrics.load_figures(since, until + datetime.timedelta(days=2), stories=[story.pk])

    assert (before.replies, before.people, before.answered) == (2, 2, 0)
    assert (after[story.pk].replies, after[story.pk].answered) == (3, 1)
    assert after[story.pk].delays == [pytest.approx(4 * 24 * HOUR)]


# --- Queries ------------------------------------------------------------------------------
@pytest.mark.parametrize("group_by", ["story", "interest", "channel", "account", "purpose", None])
def test_the_figures_take_three_queries_for_1_or_20_stories(collected, make_story, group_by):
    account = ChannelAccountFactory()
    now = timezone.now()

    def add_stories(count):
        for _ in range(count):
            post = data.published_post(make_story(), account, now - datetime.timedelta(days=1))
            reply = data.item(post, 1, written=now - datetime.timedelta(hours=5))
            data.item(post, 2, handle="@bob", written=now - datetime.timedelta(hours=5))
            data.answer(reply, now - datetime.timedelta(hours=1))

    counts = []
    for count in (1, 19):
        add_stories(count)
        with CaptureQueriesContext(connection) as queries:
            found = metrics.load_figures(*last_28_days(), group_by=group_by)
        counts.append(len(queries))
        assert sum(figures.answered for figures in found.values()) >= 1
    assert counts == [3, 3]
    if group_by == "story":
        assert len(found) == 20
        assert all(figures.median_seconds_to_answer == 4 * HOUR for figures in found.values())
