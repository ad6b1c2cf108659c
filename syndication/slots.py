"""Posting slots: each account's weekly times, and the next one still free.

``next_free`` is plain datetime arithmetic (no Django), so it is quick to test across
time zones and summer-time changes; ``next_free_slot`` reads an account's slots and the
posts that already hold some, and ``parse_times`` reads what people type into the
slots form.
"""

import datetime
import re
from collections.abc import Iterable
from zoneinfo import ZoneInfo

#: How far ahead "Add to the queue" looks before saying every slot is taken. A year of
#: weekly slots is more than any queue holds; the bound keeps a full queue from looping.
HORIZON_DAYS = 366
#: At most this many slots a day: a posting plan, not a minute-by-minute list.
MAX_PER_DAY = 24

_TIME = re.compile(r"^([01]?\d|2[0-3])[:.h]([0-5]\d)$")


def minute(when: datetime.datetime) -> datetime.datetime:
    """``when`` in UTC to the minute: two posts in the same minute hold the same slot."""
    return when.astimezone(datetime.UTC).replace(second=0, microsecond=0)


def occurrence(day: datetime.date, at: datetime.time, zone: ZoneInfo) -> datetime.datetime:
    """``day`` at ``at`` on the clocks of ``zone``, as an instant in UTC.

    A time the clocks skip (01:30 when summer time starts at 01:00) is read with the
    offset before the change, which lands one hour later on the new clock (02:30); a
    time that happens twice (autumn) is its first occurrence: Python's ``fold=0`` rule.
    In UTC because Python never finds a time in the repeated hour equal to one in
    another zone (PEP 495), which would make "same minute" unreliable.
    """
    naive = datetime.datetime.combine(day, at.replace(tzinfo=None, second=0, microsecond=0))
    return naive.replace(tzinfo=zone).astimezone(datetime.UTC)


def next_free(
    slots: Iterable[tuple[int, datetime.time]],
    taken: Iterable[datetime.datetime],
    now: datetime.datetime,
    zone: ZoneInfo,
) -> datetime.datetime | None:
    """The first slot after ``now`` that no time in ``taken`` holds (to the minute), in UTC.

    ``slots`` are (weekday, time) pairs, Monday 0, on the clocks of ``zone``. None when
    there are no slots, or every slot within ``HORIZON_DAYS`` is taken.
    """
    by_weekday: dict[int, list[datetime.time]] = {}
    for weekday, at in slots:
        by_weekday.setdefault(weekday, []).append(at)
    if not by_weekday:
        return None
    held = {minute(when) for when in taken}
    today = now.astimezone(zone).date()
    for offset in range(HORIZON_DAYS + 1):
        day = today + datetime.timedelta(days=offset)
        for at in sorted(by_weekday.get(day.weekday(), ())):
            when = occurrence(day, at, zone)
            if when > now and minute(when) not in held:
                return when
    return None


def parse_times(text: str) -> list[datetime.time]:
    """ "8:30, 12:00 17.45" → the times, sorted, each once. ValueError says what is wrong."""
    found = set()
    for part in re.split(r"[,;\s]+", text.strip()):
        if not part:
            continue
        match = _TIME.match(part)
        if match is None:
            shown = part if len(part) <= 20 else part[:20] + "…"
            raise ValueError(f"“{shown}” is not a time; write hours and minutes, like 08:30.")
        found.add(datetime.time(int(match[1]), int(match[2])))
    if len(found) > MAX_PER_DAY:
        raise ValueError(f"At most {MAX_PER_DAY} slots a day.")
    return sorted(found)


def site_zone() -> ZoneInfo:
    from django.conf import settings

    return ZoneInfo(settings.TIME_ZONE)


def next_free_slot(account, now=None) -> datetime.datetime | None:
    """``account``'s next free posting slot after ``now``, or None (no slots, all taken).

    A slot is taken by a post of this account that is scheduled or on its way out
    (publishing, unconfirmed) in the same minute. Call it inside the transaction that
    saves the post, after locking the account (``lock_account``), so two people adding
    to the queue at once get different slots.
    """
    from django.utils import timezone

    from . import states
    from .models import PostingSlot, SyndicationPost

    now = now or timezone.now()
    slots = list(PostingSlot.objects.filter(account=account).values_list("weekday", "time"))
    if not slots:
        return None
    taken = SyndicationPost.objects.filter(
        account=account,
        state__in=(states.SCHEDULED, states.PUBLISHING, states.UNCONFIRMED),
        scheduled_at__gt=now - datetime.timedelta(minutes=1),
    ).values_list("scheduled_at", flat=True)
    return next_free(slots, taken, now, site_zone())


def lock_account(account) -> None:
    """Hold ``account``'s row until the transaction ends (PostgreSQL ``FOR UPDATE``;
    SQLite writes one at a time anyway)."""
    from .models import ChannelAccount

    list(ChannelAccount.objects.select_for_update().filter(pk=account.pk).values("pk"))


def take_next_free(account, now=None) -> datetime.datetime:
    """The time "Add to the queue" gives a new post to ``account``: its next free slot,
    with the account locked for the rest of the transaction. ValidationError, saying
    what to do, when the account has no slots or every one is taken."""
    from django.core.exceptions import ValidationError

    from .models import PostingSlot

    lock_account(account)
    when = next_free_slot(account, now)
    if when is not None:
        return when
    if not PostingSlot.objects.filter(account=account).exists():
        raise ValidationError(
            "No posting slots, so no queue: add them under Channel accounts → Posting "
            "slots, or choose a time and press Schedule."
        )
    raise ValidationError(
        f"Every posting slot of the next {HORIZON_DAYS} days is taken: choose a time and "
        "press Schedule."
    )
