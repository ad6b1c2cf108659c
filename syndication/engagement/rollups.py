"""Counting events into the daily rollups, for the flusher and the embedded collector.

``rollup_key`` checks an event again (whoever wrote it) and names the rollup it counts
towards; ``add_to_rollups`` adds counts with one statement; ``announce_reads`` tells the
listeners of ``signals.reads_counted`` (the newsletter) about the reads just counted, in
the same transaction. The flusher (``flush``) uses them for a stream batch, the
embedded collector (``buffer.write_now``) for one event.
"""

import datetime

from django.db import connection

from . import events, signals
from .events import MAX_DETAIL, MAX_SOURCE, READ_EVENTS
from .models import EVENT_TYPES, EngagementRollup

RollupKey = tuple[datetime.date, int, str, str, str, int, int]

#: Event ids (``i``) of committed batches are kept this long, in one Redis set per
#: window, to drop a reader's retry of an event whose first answer was lost. A retry
#: reaches the stream within a minute of its original, and the flusher reads the stream
#: in order, so two windows are plenty.
SEEN_WINDOW = 600


def _checked_text(entry: dict, field: str, longest: int, default: str | None = None) -> str:
    value = entry.get(field, default) if default is not None else entry[field]
    if len(value) > longest or not events.storable(value):
        raise ValueError(f"{field}: cannot be stored ({len(value)} characters)")
    return value


def _checked_int(entry: dict, field: str, low: int, default: str | None = None) -> int:
    value = int(entry.get(field, default) if default is not None else entry[field])
    if not low <= value <= events.MAX_ID:
        raise ValueError(f"{field}: {value} is out of range")
    return value


def rollup_key(entry: dict) -> RollupKey:
    """The rollup a stream entry counts towards (day, story, event, source, detail, post, share).

    Raises ``KeyError``, ``ValueError`` or ``TypeError`` for an entry the rollups could
    not hold (a missing field, an unknown event, text too long or with a NUL, a number
    beyond the columns): whoever wrote it, it is checked again here.
    """
    kind = entry["t"]
    if kind not in EVENT_TYPES:
        raise ValueError(f"t: unknown event {kind[:40]!r}")
    return (
        datetime.date.fromisoformat(entry["day"]),
        _checked_int(entry, "s", 1),
        kind,
        _checked_text(entry, "src", MAX_SOURCE),
        _checked_text(entry, "d", MAX_DETAIL, default=""),
        _checked_int(entry, "p", 0, default="0"),
        _checked_int(entry, "sh", 0, default="0"),
    )


def add_to_rollups(counts: dict[RollupKey, int]) -> None:
    """``count = count + n`` for each key, inserting the rows that don't exist yet.

    Call inside a transaction. ``bulk_create(update_conflicts=True)`` would overwrite
    the count, not add to it; ``INSERT … ON CONFLICT DO UPDATE`` adds in one statement
    on PostgreSQL and on SQLite (3.24 or newer). Keys go in sorted order so two
    writers never wait on each other's rows in opposite orders.
    """
    if not counts:
        return
    quote = connection.ops.quote_name
    table = quote(EngagementRollup._meta.db_table)
    columns = ("day", "story_id", "event", "source", "detail", "post_id", "share_id", "count")
    key_columns = ", ".join(quote(name) for name in columns[:-1])
    # Only our own table and column names are formatted in; the values are parameters.
    all_columns = ", ".join(quote(name) for name in columns)
    count = quote("count")
    sql = (
        f"INSERT INTO {table} ({all_columns}) "  # noqa: S608
        f"VALUES ({', '.join(['%s'] * len(columns))}) "
        f"ON CONFLICT ({key_columns}) DO UPDATE "
        f"SET {count} = {table}.{count} + EXCLUDED.{count}"
    )
    adapt_day = connection.ops.adapt_datefield_value
    rows = [(adapt_day(key[0]), *key[1:], n) for key, n in sorted(counts.items())]
    with connection.cursor() as cursor:
        cursor.executemany(sql, rows)


def announce_reads(entries, story_ids=None) -> None:
    """Send ``signals.reads_counted`` for the reads among ``entries`` just counted.

    Call inside the transaction that counted them: the listeners (the newsletter's
    subscriber reads) write in it, so their rows commit, or roll back, with the counts.
    """
    reads = [fields for fields in entries if fields and fields.get("t") in READ_EVENTS]
    if reads:
        signals.reads_counted.send(EngagementRollup, entries=reads, story_ids=story_ids)
