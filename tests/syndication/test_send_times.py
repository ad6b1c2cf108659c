"""Send times learned from an account's own readers (issue 17, item 5): the estimator on
data with a known best hour, its smoothing and minimum, the site's time zone, the reason
it gives, the database's counts, the compose form and the offline evaluation."""

import datetime
import json
import statistics
import zoneinfo
from io import StringIO

from django.core.management import call_command
from django.utils import timezone

import pytest
from bs4 import BeautifulSoup

from syndication import sendtimes, states
from syndication.demo import send_history
from syndication.engagement.models import ChannelMetricSnapshot, EngagementRollup
from syndication.sendtimes import HourFigure, PostOutcome
from tests.factories import BlueskyAccountFactory, ChannelAccountFactory, SyndicationPostFactory
from tests.syndication.conftest import make_user

LONDON = zoneinfo.ZoneInfo("Europe/London")
NEW_YORK = zoneinfo.ZoneInfo("America/New_York")
#: A Monday in winter (GMT), so local and UTC hours agree unless a test says otherwise.
MONDAY = datetime.date(2026, 1, 5)


def at(day: datetime.date, hour: int, zone=LONDON, minute: int = 0) -> datetime.datetime:
    return datetime.datetime.combine(day, datetime.time(hour, minute), tzinfo=zone)


def weekday_history(weeks: int, reads_at: dict[int, int], *, start=MONDAY, zone=LONDON):
    """One post a weekday at each hour of ``reads_at`` (hour → engaged reads), with a
    little deterministic variation so no two weeks are the same."""
    outcomes = []
    for week in range(weeks):
        for weekday in range(5):
            day = start + datetime.timedelta(weeks=week, days=weekday)
            for hour, reads in reads_at.items():
                wobble = (week * 7 + weekday * 3 + hour) % 5 - 2
                outcomes.append(
                    PostOutcome(len(outcomes) + 1, at(day, hour, zone), max(0, reads + wobble), 1)
                )
    return outcomes


# --- The estimator -------------------------------------------------------------------
def test_a_known_best_hour_is_found_and_suggested():
    # Weekday evenings at 19 draw twice the readers of mornings at 8 and lunch at 12.
    outcomes = weekday_history(6, {8: 10, 12: 10, 19: 20})
    result = sendtimes.estimate(outcomes, LONDON)
    assert result.enough and result.posts == 90
    best = result.eligible()[0]
    assert best.slot % 24 == 19 and best.slot < 5 * 24
    assert best.lift > 1.3
    # Every other hour with posts did worse than average.
    assert all(f.lift < 1 for f in result.hours if f.posts and f.slot % 24 != 19)
    now = at(MONDAY + datetime.timedelta(weeks=7), 9)
    found = sendtimes.suggest(result, "Mastodon", now, LONDON)
    assert len(found) == 3
    assert all(s.at.astimezone(LONDON).hour == 19 for s in found)
    assert [s.at for s in found] == sorted(s.at for s in found)
    assert all(s.at > now for s in found)


def test_the_demo_audience_best_hour_is_found_from_its_noisy_history():
    # The simulated audience answers best on weekday mornings at 8 (send_history).
    planned = send_history.plan(MONDAY, LONDON, days=180, seed=17)
    result = sendtimes.estimate(send_history.outcomes(planned), LONDON)
    top = sendtimes.best_slots(result.eligible())
    assert [(f.slot // 24 < 5, f.slot % 24) for f in top] == [(True, 8)] * 3
    # The habitual 15:00 between two dull hours did worse than average every weekday.
    afternoons = [result.hours[day * 24 + 15] for day in range(5)]
    assert all(f.lift < 1 and f.posts >= 5 for f in afternoons)


def test_one_lucky_post_does_not_win():
    outcomes = weekday_history(6, {8: 10, 12: 10, 19: 14})
    # A Wednesday at 3 in the morning that went viral once.
    lucky = PostOutcome(999, at(MONDAY + datetime.timedelta(days=2), 3), 400, 30)
    result = sendtimes.estimate([*outcomes, lucky], LONDON)
    night = result.hours[2 * 24 + 3]
    # It counts as five times the median post, not eighty times the average one.
    median = statistics.median(o.engagement for o in [*outcomes, lucky])
    assert night.posts == 1
    assert night.raw == pytest.approx(sendtimes.MAX_RELATIVE * median / result.average)
    # Shrunk far toward average, and too few posts behind it to be suggested.
    assert night.lift < 2.5 and night.pooled_posts < sendtimes.MIN_SLOT_POSTS
    assert all(f.slot % 24 == 19 for f in sendtimes.best_slots(result.eligible()))
    # A lucky post among ordinary ones at noon does not lift noon above the evenings.
    noon = PostOutcome(1000, at(MONDAY + datetime.timedelta(days=9), 12, minute=5), 400, 30)
    result = sendtimes.estimate([*outcomes, noon], LONDON)
    assert result.eligible()[0].slot % 24 == 19


def test_shrinkage_pulls_thin_hours_toward_average():
    # One good post alone at 17 on a Monday: better than average, but one post says little.
    thin = weekday_history(6, {8: 10, 12: 10}) + [
        PostOutcome(500 + n, at(MONDAY + datetime.timedelta(weeks=n), 17 + 4 * n), 30, 0)
        for n in range(2)
    ]
    result = sendtimes.estimate(thin, LONDON)
    evening = result.hours[17]
    assert evening.posts == 1 and evening.raw > 2
    assert evening.lift > 1 and evening.lift - 1 < (evening.raw - 1) / 2


def test_not_enough_data_below_the_minimum_says_how_many():
    outcomes = weekday_history(2, {8: 10, 12: 10, 19: 30})[: sendtimes.MIN_POSTS - 1]
    result = sendtimes.estimate(outcomes, LONDON)
    assert not result.enough and result.hours == []
    assert sendtimes.suggest(result, "Mastodon", at(MONDAY, 9), LONDON) == []
    advice = sendtimes.Advice(1, result, [])
    assert advice.message == (
        f"Not enough data yet: {sendtimes.MIN_POSTS - 1} measured posts, "
        f"{sendtimes.MIN_POSTS} needed before a time is suggested."
    )


def test_not_enough_posts_behind_any_hour_is_not_a_guess():
    # Twenty posts, two per weekday hour three hours apart and four at the weekend, some
    # far better than others: enough posts, but never more than two behind an hour.
    outcomes = []
    for number, hour in enumerate([0, 3, 6, 9, 12, 15, 18, 21] * 2):
        day = MONDAY + datetime.timedelta(days=number % 5, weeks=number // 8)
        outcomes.append(PostOutcome(number, at(day, hour), 30 if hour == 9 else 3, 0))
    for number, hour in enumerate([1, 7, 13, 19]):
        day = MONDAY + datetime.timedelta(days=5 + number % 2)
        outcomes.append(PostOutcome(100 + number, at(day, hour), 5, 0))
    result = sendtimes.estimate(outcomes, LONDON)
    assert result.enough and result.posts == sendtimes.MIN_POSTS
    assert max(f.pooled_posts for f in result.hours) == 2
    assert result.eligible() == []
    assert sendtimes.suggest(result, "Mastodon", at(MONDAY, 9), LONDON) == []
    assert sendtimes.Advice(1, result, []).message == (
        f"Not enough data yet: no hour has more than 2 posts behind it, "
        f"{sendtimes.MIN_SLOT_POSTS} needed."
    )
    # No readers at all: nothing to learn from, whatever the number of posts.
    silent = [PostOutcome(o.post_id, o.published_at, 0, 0) for o in outcomes]
    advice = sendtimes.Advice(1, sendtimes.estimate(silent, LONDON), [])
    assert "none of its 20 posts has drawn an engaged read" in advice.message


def test_hours_are_the_sites_local_hours_across_summer_time():
    winter = datetime.datetime(2026, 1, 6, 8, 30, tzinfo=datetime.UTC)  # GMT: 8:30
    summer = datetime.datetime(2026, 7, 7, 7, 30, tzinfo=datetime.UTC)  # BST: 8:30
    assert sendtimes.hour_of_week(winter, LONDON) == 24 + 8  # a Tuesday
    assert sendtimes.hour_of_week(summer, LONDON) == 24 + 8
    assert sendtimes.hour_of_week(winter, NEW_YORK) == 24 + 3
    with pytest.raises(ValueError):
        sendtimes.hour_of_week(datetime.datetime(2026, 1, 6, 8), LONDON)


def test_posts_counted_in_the_sites_zone_not_utc():
    # Evenings at 19 New York time are the best hour; in UTC they are midnight.
    outcomes = weekday_history(6, {8: 10, 12: 10, 19: 20}, zone=NEW_YORK)
    in_new_york = sendtimes.estimate(outcomes, NEW_YORK).eligible()[0]
    assert in_new_york.slot % 24 == 19
    in_london = sendtimes.estimate(outcomes, LONDON).eligible()[0]
    assert in_london.slot % 24 == 0


def test_suggestions_keep_the_local_hour_over_the_clock_change():
    outcomes = weekday_history(6, {8: 20, 12: 10, 19: 10})
    result = sendtimes.estimate(outcomes, LONDON)
    # Friday 27 March 2026; clocks go forward on Sunday 29 March.
    now = datetime.datetime(2026, 3, 27, 12, 0, tzinfo=datetime.UTC)
    found = sendtimes.suggest(result, "Mastodon", now, LONDON)
    assert found and all(s.at.astimezone(LONDON).hour == 8 for s in found)
    after = [s for s in found if s.at > datetime.datetime(2026, 3, 29, 1, tzinfo=datetime.UTC)]
    assert after and all(s.at.astimezone(datetime.UTC).hour == 7 for s in after)
    # The hour that does not exist that night is never offered.
    hours = [wall for _, wall in sendtimes.upcoming_hours(now, LONDON)]
    assert datetime.datetime(2026, 3, 29, 1, tzinfo=LONDON) not in hours
    assert len({h.astimezone(datetime.UTC) for h in hours}) == len(hours)


def test_the_reason_names_the_hour_the_network_the_lift_and_the_posts():
    figure = HourFigure(slot=24 + 8, lift=2.14, posts=7, raw=2.3, pooled_posts=37)
    assert sendtimes.reason_for(figure, "Mastodon") == (
        "Tuesdays 8–9: your Mastodon posts led to 2.1× the engaged reads and replies of "
        "your average, from 37 posts at or near that hour"
    )
    assert sendtimes.slot_label(167) == "Sundays 23–24"


def test_the_evaluation_beats_the_habit_on_the_demo_audience_with_counts():
    planned = send_history.plan(MONDAY, LONDON, days=180, seed=17)
    split = at(MONDAY - datetime.timedelta(days=42), 0)
    report = sendtimes.evaluate(send_history.outcomes(planned), LONDON, split)
    assert report["fit_posts"] + report["test_posts"] == len(planned)
    assert report["suggested"]["posts"] > 0 and report["habit"]["posts"] > 0
    assert report["suggested"]["hours"][0] == "weekdays 8–9"
    assert "weekdays 10–11" in report["habit"]["hours"]
    assert report["engaged_reads_per_post_ratio"] > 1.2
    json.dumps(report)


def test_the_evaluation_command_prints_a_table_and_json_last():
    out = StringIO()
    call_command("evaluate_send_times", "--synthetic", "--days", "120", "--seeds", "3", stdout=out)
    lines = out.getvalue().strip().splitlines()
    assert lines[1].split()[:2] == ["posts", "reads/post"]
    report = json.loads(lines[-1])
    assert report["runs"] == 3 and report["suggested"]["posts"] > 0
    assert report["engaged_reads_per_post_ratio"] > 1
    with pytest.raises(Exception, match="positive"):
        call_command("evaluate_send_times", "--synthetic", "--seeds", "0", stdout=StringIO())


# --- From the database, and the compose form -----------------------------------------
def published(account, when, story=None, **extra):
    fields = {"account": account, "state": states.PUBLISHED, "published_at": when}
    fields.update(scheduled_at=when, due_at=None, **extra)
    if story is not None:
        fields["story"] = story
    return SyndicationPostFactory(**fields)


def reads(post, count, event="engaged_read", day=None):
    EngagementRollup.objects.create(
        day=day or timezone.localdate(post.published_at),
        story_id=post.story_id,
        event=event,
        source="mastodon",
        post_id=post.pk,
        count=count,
    )


@pytest.mark.django_db
def test_outcomes_count_attributed_engaged_reads_and_the_latest_replies(
    make_story, django_assert_num_queries
):
    story = make_story(title="A storm")
    now = timezone.now()
    mastodon = ChannelAccountFactory(remote_id="m1")
    bluesky = BlueskyAccountFactory(remote_id="did:plc:b1")
    old = published(mastodon, now - datetime.timedelta(days=5), story)
    reads(old, 7)
    reads(old, 3, day=timezone.localdate(old.published_at) + datetime.timedelta(days=1))
    reads(old, 50, event="view")  # views are not engaged reads
    ChannelMetricSnapshot.objects.create(
        post=old, taken_at=now - datetime.timedelta(days=4), replies=1, likes=90
    )
    ChannelMetricSnapshot.objects.create(
        post=old, taken_at=now - datetime.timedelta(days=1), replies=4, likes=99
    )
    fresh = published(mastodon, now - datetime.timedelta(hours=3), story)  # still settling
    reads(fresh, 20)
    draft = SyndicationPostFactory(account=mastodon, story=story, state=states.DRAFT)
    reads(draft, 20)
    other = published(bluesky, now - datetime.timedelta(days=3), story)
    with django_assert_num_queries(3) as queries:
        found = sendtimes.outcomes_for([mastodon.pk, bluesky.pk], now)
    assert found[mastodon.pk] == [PostOutcome(old.pk, old.published_at, 10, 4)]
    assert found[bluesky.pk] == [PostOutcome(other.pk, other.published_at, 0, 0)]
    # Engaged reads and replies only: never likes, reposts, views, nor any count of people.
    sql = " ".join(query["sql"] for query in queries.captured_queries).lower()
    assert '"replies"' in sql and "engaged_read" in sql
    for never in ('"likes"', '"reposts"', "'view'", "follower", "impression"):
        assert never not in sql, never


def history(account, story, now, reads_at: dict[int, int], weeks=5):
    """Weekday posts of the past ``weeks`` at each hour of ``reads_at``, with their reads."""
    local_now = timezone.localtime(now)
    monday = local_now.date() - datetime.timedelta(days=local_now.weekday(), weeks=weeks)
    zone = sendtimes.site_zone()
    for week in range(weeks):
        for weekday in range(5):
            day = monday + datetime.timedelta(weeks=week, days=weekday)
            for hour, count in reads_at.items():
                post = published(account, at(day, hour, zone), story)
                reads(post, count + (week + weekday) % 3)


@pytest.mark.django_db
def test_compose_shows_suggestions_for_an_account_with_history(
    client, make_story, django_user_model
):
    story = make_story(title="The boiler that sang", intro="A noisy boiler.")
    learned = ChannelAccountFactory(remote_id="1", handle="@learned")
    new = BlueskyAccountFactory(remote_id="did:plc:new", handle="new.bsky.social")
    history(learned, story, timezone.now(), {8: 6, 12: 6, 19: 15})
    client.force_login(make_user(django_user_model, "sam", "Social managers", "Moderators"))

    page = client.get(f"/admin/syndication/compose/{story.pk}/")
    assert page.status_code == 200
    soup = BeautifulSoup(page.content, "html.parser")
    block = soup.select_one(f'[data-compose-account="{learned.pk}"] [data-send-times]')
    buttons = block.select("button[data-send-time]")
    assert len(buttons) == 3
    for button in buttons:
        when = datetime.datetime.strptime(button["data-send-time"], "%Y-%m-%d %H:%M")
        assert when.hour == 19 and when > timezone.localtime().replace(tzinfo=None)
        reason = soup.find(id=button["aria-describedby"]).get_text()
        assert "your Mastodon posts led to" in reason and "× the engaged reads" in reason
    unknown = soup.select_one(f'[data-compose-account="{new.pk}"] [data-send-times-unknown]')
    assert "does not know yet" in unknown.get_text()
    assert f"0 measured posts, {sendtimes.MIN_POSTS} needed" in unknown.get_text()
    assert soup.find("script", src=lambda src: src and "send_times.js" in src)


@pytest.mark.django_db
def test_compose_with_suggestions_is_refused_to_people_who_cannot_propose(
    client, make_story, django_user_model
):
    story = make_story(title="The boiler that sang")
    learned = ChannelAccountFactory(remote_id="1")
    history(learned, story, timezone.now(), {8: 6, 19: 15})
    client.force_login(make_user(django_user_model, "viewer"))
    page = client.get(f"/admin/syndication/compose/{story.pk}/")
    assert page.status_code in (302, 403)
    assert b"data-send-time" not in page.content
