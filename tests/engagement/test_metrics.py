"""The metric definitions (pure) and the loader that counts their inputs in the database."""

import datetime

from django.utils import timezone

import pytest

from syndication import states
from syndication.engagement import metrics
from syndication.engagement.metrics import Inputs, Priors
from syndication.engagement.models import FEELINGS, ChannelMetricSnapshot, EngagementRollup
from tests.factories import (
    AudienceInterestFactory,
    BlueskyAccountFactory,
    ChannelAccountFactory,
    SyndicationPostFactory,
)


# --- The formulas ----------------------------------------------------------------------
def test_rates_are_counts_over_their_exposure():
    assert metrics.engaged_read_rate(30, 120) == 0.25
    assert metrics.read_through_rate(60, 120) == 0.5
    assert metrics.link_through_rate(3, 30) == 0.1
    assert metrics.conversation_rate(9, 3) == 3
    assert metrics.applause(10, 4) == 2.5


def test_amplification_counts_shares_reposts_quotes_and_what_shares_brought_back():
    inputs = Inputs(engaged_reads=10, posts=2, shares=3, reposts=4, quotes=1, share_arrivals=12)
    assert metrics.amplification(3, 4, 1, 12) == 20
    assert metrics.amplification_per_engaged_read(inputs) == 2.0
    assert metrics.amplification_per_post(inputs) == 10.0


def test_nothing_to_divide_by_is_none_never_an_error():
    empty = Inputs()
    assert metrics.engaged_read_rate(5, 0) is None
    assert metrics.read_through_rate(0, 0) is None
    assert metrics.link_through_rate(2, 0) is None
    assert metrics.conversation_rate(1, 0) is None
    assert metrics.applause(1, 0) is None
    assert metrics.amplification_per_engaged_read(empty) is None
    assert metrics.amplification_per_post(empty) is None
    assert metrics.feeling_mix({}) == dict.fromkeys(FEELINGS)
    found = metrics.metrics_for(empty, Priors.from_totals(empty))
    assert found.quality == 50.0
    assert found.engaged_read_rate is None


def test_feeling_mix_is_each_feelings_share_in_a_fixed_order():
    mix = metrics.feeling_mix({"helpful": 6, "moved": 2, "not_for_me": 2})
    assert list(mix) == list(FEELINGS)
    assert mix == {"helpful": 0.6, "moved": 0.2, "smiled": 0.0, "not_for_me": 0.2}


def test_the_pure_module_speaks_the_models_vocabulary():
    assert metrics.FEELINGS == FEELINGS


def test_smoothing_pulls_small_samples_to_the_site_mean():
    assert metrics.smoothed(0, 0, 0.3, 50) == 0.3
    assert metrics.smoothed(3, 3, 0.3, 50) == pytest.approx((3 + 15) / 53)
    big = metrics.smoothed(5000, 10000, 0.3, 50)
    assert big == pytest.approx(0.499, abs=0.001)
    assert metrics.smoothed(1, 0, 0.2, 0) == 0.2


def test_signal_weights_add_up_to_one_and_applause_weighs_least():
    assert sum(signal.weight for signal in metrics.SIGNALS) == pytest.approx(1.0)
    weights = {signal.name: signal.weight for signal in metrics.SIGNALS}
    assert weights["applause"] == min(weights.values())
    assert weights["engaged_read_rate"] == max(weights.values())


def story(views, rate, *, read=0.5, follow=0.2, amplify=0.3, posts=0, replies=0, likes=0):
    engaged = round(views * rate)
    return Inputs(
        views=views,
        engaged_reads=engaged,
        read_throughs=round(views * read),
        next_follows=round(engaged * follow),
        shares=round(engaged * amplify),
        posts=posts,
        replies=replies,
        likes=likes,
        feelings={"helpful": round(engaged * 0.1)},
    )


def test_a_three_view_story_with_perfect_rates_ranks_below_a_busy_good_story():
    tiny = Inputs(
        views=3,
        engaged_reads=3,
        read_throughs=3,
        next_follows=3,
        shares=3,
        share_arrivals=3,
        feelings={"helpful": 3},
    )
    busy = story(2000, 0.5, read=0.45, follow=0.25, amplify=0.3)
    others = [story(400, 0.25, read=0.2, follow=0.1, amplify=0.1) for _ in range(10)]
    ranked = metrics.rank({"tiny": tiny, "busy": busy, **dict(enumerate(others))})
    order = [key for key, _ in ranked]
    assert order[0] == "busy"
    assert order.index("tiny") > 0
    scores = dict(ranked)
    assert scores["busy"].quality > scores["tiny"].quality > scores[0].quality
    # Unsmoothed, the tiny story's rates are perfect: smoothing is what ranks it lower.
    assert scores["tiny"].engaged_read_rate == 1.0 > scores["busy"].engaged_read_rate


def test_the_site_average_story_scores_fifty_and_better_rates_score_more():
    average = story(1000, 0.3, posts=2, replies=4, likes=10)
    priors = Priors.from_totals(average)
    assert metrics.quality_score(average, priors) == 50.0
    better = story(1000, 0.45, posts=2, replies=4, likes=10)
    worse = story(1000, 0.15, posts=2, replies=4, likes=10)
    assert metrics.quality_score(better, priors) > 50 > metrics.quality_score(worse, priors)


def test_one_runaway_signal_cannot_push_the_score_past_100():
    viral = Inputs(views=100, engaged_reads=50, reposts=1_000_000)
    site = viral + story(10_000, 0.3)
    score = metrics.quality_score(viral, Priors.from_totals(site))
    assert 50 < score < 100


def test_a_rate_counts_at_most_its_exposure_in_the_score():
    site = Priors.from_totals(story(10_000, 0.3))
    link_through = next(s for s in metrics.SIGNALS if s.name == "link_through_rate")
    three_of_three = Inputs(views=10, engaged_reads=3, next_follows=3)
    thirty_of_three = Inputs(views=10, engaged_reads=3, next_follows=30)
    assert metrics.link_through_rate(30, 3) == 10  # shown as it is
    assert metrics.lift(thirty_of_three, link_through, site) == metrics.lift(
        three_of_three, link_through, site
    )
    conversation = next(s for s in metrics.SIGNALS if s.name == "conversation_rate")
    assert not conversation.capped  # replies per post may well exceed one


def test_replies_and_likes_count_per_post_and_a_site_without_posts_is_neutral():
    without_posts = Priors.from_totals(story(1000, 0.3))
    assert without_posts.means["conversation_rate"] == 0
    chatty = story(1000, 0.3, posts=1, replies=50)
    assert metrics.lift(chatty, metrics.SIGNALS[4], without_posts) == 1.0
    site = Priors.from_totals(story(1000, 0.3, posts=10, replies=10))
    assert metrics.SIGNALS[4].name == "conversation_rate"
    assert metrics.lift(chatty, metrics.SIGNALS[4], site) > 1


def test_inputs_add_up_feelings_included():
    total = Inputs.total(
        [
            Inputs(views=2, feelings={"moved": 1}),
            Inputs(views=3, feelings={"moved": 2, "smiled": 1}),
        ]
    )
    assert total.views == 5
    assert total.feelings == {"moved": 3, "smiled": 1}


# --- Loading the inputs ----------------------------------------------------------------
TODAY = datetime.date(2026, 3, 20)


def rollup(story, event, count, *, day=TODAY, source="direct", detail=""):
    return EngagementRollup.objects.create(
        day=day, story=story, event=event, source=source, detail=detail, count=count
    )


def published_post(story, account=None, *, at=None, remote_id="1"):
    at = at or timezone.make_aware(datetime.datetime(2026, 3, 15, 12))
    return SyndicationPostFactory(
        story=story,
        account=account or ChannelAccountFactory(),
        state=states.PUBLISHED,
        published_at=at,
        remote_id=remote_id,
    )


def snapshot(post, hours_after, **counts):
    return ChannelMetricSnapshot.objects.create(
        post=post, taken_at=post.published_at + datetime.timedelta(hours=hours_after), **counts
    )


PERIOD = (TODAY - datetime.timedelta(days=27), TODAY)


@pytest.mark.django_db
def test_load_inputs_sums_each_event_and_the_latest_snapshot_per_post(make_story):
    first, second = make_story(), make_story()
    rollup(first, "view", 70)
    rollup(first, "view", 30, source="share")
    rollup(first, "view", 5, day=TODAY - datetime.timedelta(days=40))  # before the period
    rollup(first, "engaged_read", 40)
    rollup(first, "read_through", 25)
    rollup(first, "share", 4, detail="mastodon")
    rollup(first, "link_follow", 6, detail=f"continues:{second.pk}")
    rollup(first, "link_follow", 2, detail=f"series:{second.pk}")
    rollup(first, "link_follow", 9, detail=f"related:{second.pk}")
    rollup(first, "feeling", 3, detail="helpful")
    rollup(first, "feeling", 1, detail="not_for_me")
    rollup(second, "view", 11)
    post = published_post(first)
    snapshot(post, 1, reposts=1, replies=0, likes=2)
    snapshot(post, 5, reposts=3, replies=2, likes=7, quotes=1, clicks=4)
    old = published_post(first, at=timezone.make_aware(datetime.datetime(2026, 1, 1)))
    snapshot(old, 1, reposts=100)
    SyndicationPostFactory(story=first, state=states.SCHEDULED)

    found = metrics.load_inputs(*PERIOD)

    mine = found[first.pk]
    assert (mine.views, mine.share_arrivals, mine.engaged_reads, mine.read_throughs) == (
        100,
        30,
        40,
        25,
    )
    assert (mine.shares, mine.next_follows, mine.link_follows) == (4, 8, 17)
    assert mine.feelings == {"helpful": 3, "not_for_me": 1}
    assert (mine.posts, mine.reposts, mine.replies, mine.likes, mine.quotes, mine.clicks) == (
        1,
        3,
        2,
        7,
        1,
        4,
    )
    assert found[second.pk].views == 11
    assert set(found) == {first.pk, second.pk}


@pytest.mark.django_db
def test_load_inputs_groups_by_interest_channel_and_purpose(make_story):
    pets, home = AudienceInterestFactory(name="Pets"), AudienceInterestFactory(name="Home")
    both = make_story(interests=[pets, home], purpose="smile")
    only_home = make_story(interests=[home], purpose="solve")
    rollup(both, "view", 10, source="mastodon")
    rollup(both, "view", 5, source="search")
    rollup(only_home, "view", 7, source="mastodon")
    snapshot(published_post(both, BlueskyAccountFactory()), 1, replies=4)

    by_interest = metrics.load_inputs(*PERIOD, group_by="interest")
    assert by_interest[pets.pk].views == 15
    assert by_interest[home.pk].views == 22
    assert by_interest[home.pk].replies == 4

    by_channel = metrics.load_inputs(*PERIOD, group_by="channel")
    assert by_channel["mastodon"].views == 17
    assert by_channel["search"].views == 5
    assert (by_channel["bluesky"].views, by_channel["bluesky"].posts) == (0, 1)

    by_purpose = metrics.load_inputs(*PERIOD, group_by="purpose")
    assert by_purpose["smile"].views == 15
    assert by_purpose["solve"].views == 7

    pets_only = metrics.load_inputs(*PERIOD, group_by="interest", interest=pets)
    assert set(pets_only) == {pets.pk}


@pytest.mark.django_db
def test_load_inputs_narrows_by_channel_purpose_and_story(make_story):
    one, two = make_story(purpose="ease"), make_story(purpose="solve")
    rollup(one, "view", 10, source="mastodon")
    rollup(one, "view", 4, source="blog.example")
    rollup(two, "view", 3, source="mastodon")
    snapshot(published_post(one), 1, likes=5)

    mastodon = metrics.load_inputs(*PERIOD, channel="mastodon")
    assert (mastodon[one.pk].views, mastodon[one.pk].likes) == (10, 5)
    other = metrics.load_inputs(*PERIOD, channel="other")
    assert set(other) == {one.pk}
    assert (other[one.pk].views, other[one.pk].likes) == (4, 0)
    assert set(metrics.load_inputs(*PERIOD, purpose="solve")) == {two.pk}
    totals = metrics.load_inputs(*PERIOD, group_by=None, stories=[two.pk])
    assert totals[None].views == 3
    with pytest.raises(ValueError, match="group_by"):
        metrics.load_inputs(*PERIOD, group_by="follower")


@pytest.mark.django_db
def test_load_inputs_takes_three_queries_however_many_stories(
    make_story, django_assert_num_queries
):
    account = ChannelAccountFactory()
    for number in range(12):
        story = make_story()
        rollup(story, "view", 10 + number)
        rollup(story, "engaged_read", number)
        snapshot(published_post(story, account, remote_id=str(number)), 1, likes=number)
        snapshot(published_post(story, account, remote_id=f"b{number}"), 2, likes=1)
    with django_assert_num_queries(3):
        found = metrics.load_inputs(*PERIOD)
    assert len(found) == 12
    assert sum(inputs.posts for inputs in found.values()) == 24
    for group_by in ("interest", "channel", "purpose", None):
        with django_assert_num_queries(3):
            metrics.load_inputs(*PERIOD, group_by=group_by)
