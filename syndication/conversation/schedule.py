"""When a post's conversation is collected next: often while it is young, never after
30 days; and how long to wait after a failure. Pure functions, no Django.

A post gathers most of its replies in its first hours (Bridgy polls active accounts
every 5-30 minutes, docs/conversation.md), so the interval grows with its age.
"""

from __future__ import annotations

import datetime
import random

#: (age below, collect every): the first row that fits wins.
STEPS = (
    (datetime.timedelta(hours=2), datetime.timedelta(minutes=5)),
    (datetime.timedelta(hours=24), datetime.timedelta(minutes=30)),
    (datetime.timedelta(days=7), datetime.timedelta(hours=3)),
    (datetime.timedelta(days=30), datetime.timedelta(hours=24)),
)
#: Older than this, a post is never collected again.
WINDOW = STEPS[-1][0]
BACKOFF_BASE = datetime.timedelta(minutes=2)
BACKOFF_CAP = datetime.timedelta(hours=6)


def interval(age: datetime.timedelta) -> datetime.timedelta | None:
    """How often a post of this age is collected; None once it is past the window."""
    for below, every in STEPS:
        if age < below:
            return every
    return None


def next_due(published_at: datetime.datetime, now: datetime.datetime):
    """When to collect next after a successful run at ``now``; None: never again.

    Never past the window's end, so a post's last collection happens at 30 days.
    """
    every = interval(now - published_at)
    if every is None:
        return None
    return min(now + every, published_at + WINDOW)


def backoff(
    failures: int,
    now: datetime.datetime,
    retry_after: float | None = None,
    *,
    rng: random.Random | None = None,
) -> datetime.datetime:
    """When to try again after the ``failures``-th failure in a row: exponential with
    full jitter up to ``BACKOFF_CAP``, never sooner than the server's ``Retry-After``."""
    ceiling = min(BACKOFF_CAP, BACKOFF_BASE * (2 ** max(0, failures - 1)))
    # Jitter for spreading retries, not secrecy.
    fraction = (rng or random).uniform(0.5, 1.0)
    wait = ceiling * fraction
    if retry_after is not None and retry_after > 0:
        wait = max(wait, datetime.timedelta(seconds=min(retry_after, 7 * 24 * 3600)))
    return now + wait
