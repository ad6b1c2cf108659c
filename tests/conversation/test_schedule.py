"""When a post's conversation is collected: by its age, and after failures."""

import datetime
import random

from syndication.conversation import schedule

HOUR = datetime.timedelta(hours=1)
T0 = datetime.datetime(2026, 12, 1, 12, 0, tzinfo=datetime.UTC)


def test_young_posts_are_collected_often_old_ones_rarely_and_none_after_thirty_days():
    assert schedule.interval(datetime.timedelta(minutes=10)) == datetime.timedelta(minutes=5)
    assert schedule.interval(5 * HOUR) == datetime.timedelta(minutes=30)
    assert schedule.interval(3 * 24 * HOUR) == 3 * HOUR
    assert schedule.interval(10 * 24 * HOUR) == 24 * HOUR
    assert schedule.interval(30 * 24 * HOUR) is None
    assert schedule.interval(400 * 24 * HOUR) is None


def test_the_next_run_follows_the_age_and_never_passes_the_window():
    assert schedule.next_due(T0, T0 + HOUR) == T0 + HOUR + datetime.timedelta(minutes=5)
    assert schedule.next_due(T0, T0 + 8 * 24 * HOUR) == T0 + 9 * 24 * HOUR
    # Half a day before the window ends: the last run is at the end, not a day later.
    almost = T0 + schedule.WINDOW - 12 * HOUR
    assert schedule.next_due(T0, almost) == T0 + schedule.WINDOW
    assert schedule.next_due(T0, T0 + schedule.WINDOW) is None


def test_backoff_grows_with_failures_up_to_its_cap():
    rng = random.Random(1)  # noqa: S311
    waits = [schedule.backoff(n, T0, rng=rng) - T0 for n in range(1, 12)]
    assert waits[0] <= schedule.BACKOFF_BASE
    assert waits[4] > schedule.BACKOFF_BASE * 4  # 2 min × 16 × at least a half
    assert all(wait <= schedule.BACKOFF_CAP for wait in waits)
    assert waits[-1] >= schedule.BACKOFF_CAP / 2


def test_backoff_never_comes_before_retry_after():
    assert schedule.backoff(1, T0, retry_after=3600) - T0 >= HOUR
    # A silly Retry-After is capped at a week rather than never.
    assert schedule.backoff(1, T0, retry_after=10**12) - T0 == datetime.timedelta(days=7)


def test_a_lease_shorter_than_the_task_time_limit_is_a_system_error(settings):
    from syndication.conversation.checks import collection_lease

    assert collection_lease(None) == []
    settings.CONVERSATION_LEASE = settings.SYNDICATION_TASK_TIME_LIMIT
    assert [error.id for error in collection_lease(None)] == ["conversation.E001"]
