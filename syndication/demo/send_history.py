"""The demo brand's past posts and the readers they drew, by the hour they went out.

The living demo's channel is connected today, so on its own it has three posts and no
history to learn send times from. This simulates the two months before: the brand
posted three times a weekday and once a weekend day, mostly at its habitual 10:00 and
15:00, otherwise at other hours; each post's readers arrived through its link in numbers
that follow ``AUDIENCE`` (weekday mornings at 8 and evenings at 19 draw the most, the
habitual hours less than average) with noise, and a few replied.

``plan`` is the pure simulation (also the offline evaluation's synthetic history, with
``outcomes``); ``living.ensure_past_posts`` turns it into posts through the product's own
paths, as the rest of the demo does.
"""

from __future__ import annotations

import datetime
import math
import random
from dataclasses import dataclass

from syndication.sendtimes import PostOutcome

DAYS = 60
#: Weekday hours (site time) → how many readers a post then draws, against the average.
WEEKDAY_AUDIENCE = {
    7: 0.9,
    8: 2.3,
    9: 1.7,
    10: 0.85,
    11: 0.9,
    12: 1.3,
    13: 1.1,
    14: 0.8,
    15: 0.7,
    16: 0.8,
    17: 1.0,
    18: 1.2,
    19: 1.9,
    20: 1.5,
    21: 1.0,
    22: 0.6,
}
WEEKEND_AUDIENCE = {9: 1.0, 10: 1.5, 11: 1.4, 12: 1.1, 14: 0.9, 16: 0.8, 18: 0.9, 20: 0.9}
HABIT_HOURS = (10, 15)
#: Of weekday posts, the share sent at a habitual hour.
HABIT_SHARE = 0.45
#: Engaged reads a post at an average hour draws; a reply per this many engaged reads.
BASE_READS = 7.0
READS_PER_REPLY = 12.0


def audience(moment: datetime.datetime) -> float:
    """How strongly readers answer a post published at ``moment`` (local, aware)."""
    table = WEEKEND_AUDIENCE if moment.weekday() >= 5 else WEEKDAY_AUDIENCE
    return table.get(moment.hour, 0.8)


@dataclass(frozen=True)
class PlannedPost:
    published_at: datetime.datetime
    engaged_reads: int
    views: int
    replies: int


def _poisson(rng: random.Random, mean: float) -> int:
    """Knuth's method: fine for the small means here."""
    limit, product, count = math.exp(-mean), rng.random(), 0
    while product > limit:
        product *= rng.random()
        count += 1
    return count


def plan(
    today: datetime.date,
    zone: datetime.tzinfo,
    *,
    days: int = DAYS,
    seed: int = 17,
    weekday_posts: int = 3,
    weekend_posts: int = 1,
) -> list[PlannedPost]:
    """The posts of the ``days`` days before ``today`` (today not included), oldest first."""
    rng = random.Random(seed)  # noqa: S311 - a reproducible simulation, not a secret
    planned = []
    for back in range(days, 0, -1):
        day = today - datetime.timedelta(days=back)
        weekend = day.weekday() >= 5
        hours = set()
        for _ in range(weekend_posts if weekend else weekday_posts):
            if weekend:
                hour = rng.choice(sorted(WEEKEND_AUDIENCE))
            elif rng.random() < HABIT_SHARE:
                hour = rng.choice(HABIT_HOURS)
            else:
                hour = rng.choice(sorted(WEEKDAY_AUDIENCE))
            hours.add(hour)
        for hour in sorted(hours):
            minute = rng.choice((0, 5, 15, 30, 45))
            moment = datetime.datetime.combine(day, datetime.time(hour, minute), tzinfo=zone)
            # The story matters too: some draw twice as many readers as others.
            mean = BASE_READS * audience(moment) * rng.lognormvariate(0, 0.35)
            reads = _poisson(rng, mean)
            views = reads + _poisson(rng, reads * 0.6 + 1)
            replies = _poisson(rng, reads / READS_PER_REPLY)
            planned.append(PlannedPost(moment, reads, views, replies))
    return planned


def outcomes(planned: list[PlannedPost]) -> list[PostOutcome]:
    """The plan as the estimator reads it from the database (ids in order)."""
    return [
        PostOutcome(number + 1, post.published_at, post.engaged_reads, post.replies)
        for number, post in enumerate(planned)
    ]
