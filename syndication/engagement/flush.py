"""Add the buffered events up into the daily rollups, exactly once.

The collector appends one entry per event to a Redis stream. ``flush`` reads them
through a consumer group, one batch at a time:

1. read this consumer's *pending* entries first (a batch a killed flusher had read
   but not acknowledged), and only when there are none, new ones;
2. add them up per rollup key;
3. in ONE database transaction, record the batch (``FlushedBatch``, keyed by a hash
   of its entry ids), add each sum to its rollup (``count = count + n``) and record
   the newsletter subscribers' reads (``record_subscriber_reads``); if the batch is
   already recorded it was counted before and nothing is added;
4. only after the commit, acknowledge and delete the entries (one MULTI).

A flusher killed before 3 commits leaves the batch pending and unrecorded: the next
run reads the same entries and counts them. Killed between 3 and 4, it leaves the
batch pending but recorded: the next run reads the same entries, finds the batch
and only acknowledges. A Redis lock keeps two flushers from taking turns on the
same pending list. https://redis.io/docs/latest/develop/data-types/streams/
"""

import contextlib
import datetime
import hashlib
import logging
import time
from collections import Counter

from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

import redis
from redis.exceptions import LockError

from stories.models import StoryPage

from ..newsletter import clicks
from ..newsletter.models import Delivery, SubscriberRead
from .buffer import redis_client
from .events import READ_EVENTS
from .models import EngagementRollup, FlushedBatch

logger = logging.getLogger(__name__)

GROUP = "rollups"
# One consumer name for every flusher: the lock lets one run at a time, and a new
# process must see the pending entries of the one that died.
CONSUMER = "flusher"
# The lock outlives a batch comfortably and is renewed after each one; a flusher
# killed while holding it blocks the next for at most this long.
LOCK_SECONDS = 30
# One task flushes until the stream is empty or this much time has gone by.
RUN_SECONDS = 60
KEEP_BATCHES = datetime.timedelta(days=2)

RollupKey = tuple[datetime.date, int, str, str, str, int, int]


def rollup_key(entry: dict) -> RollupKey:
    """The rollup a stream entry counts towards (day, story, event, source, detail, post, share)."""
    return (
        datetime.date.fromisoformat(entry["day"]),
        int(entry["s"]),
        entry["t"],
        entry["src"],
        entry.get("d", ""),
        int(entry.get("p", 0)),
        int(entry.get("sh", 0)),
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


def record_subscriber_reads(entries, story_ids=None) -> int:
    """Upsert the ``SubscriberRead`` rows that the newsletter reads among ``entries`` tell.

    An entry counts when it is an engaged read or a read-through carrying a click token
    (``nl``) whose signature holds and whose delivery still exists; the read is the
    subscriber's of that delivery, for the entry's story (among ``story_ids`` when
    given). Flags only ever turn on: a read-through after an engaged read keeps both.
    Call inside the batch's transaction. Two queries whatever the number of entries:
    the deliveries, then one ``INSERT … ON CONFLICT DO UPDATE`` for all the rows.
    Returns how many (subscriber, story) rows were written.
    """
    by_delivery: dict[tuple[int, int], list[bool]] = {}
    for fields in entries:
        if not fields or not fields.get("nl") or fields.get("t") not in READ_EVENTS:
            continue
        try:
            click = clicks.read_token(fields["nl"])
            story_id = int(fields["s"])
        except (clicks.BadClickToken, KeyError, TypeError, ValueError):
            continue  # tampered, expired or not written by the collector: nothing to say
        if story_ids is not None and story_id not in story_ids:
            continue
        flags = by_delivery.setdefault((click.delivery_id, story_id), [False, False])
        flags[0] |= fields["t"] == "engaged_read"
        flags[1] |= fields["t"] == "read_through"
    if not by_delivery:
        return 0
    subscriber_of = dict(
        Delivery.objects.filter(pk__in={delivery for delivery, _ in by_delivery}).values_list(
            "pk", "subscriber_id"
        )
    )
    reads: dict[tuple[int, int], list[bool]] = {}
    for (delivery_id, story_id), (engaged, read_through) in by_delivery.items():
        subscriber_id = subscriber_of.get(delivery_id)
        if subscriber_id is None:
            continue
        flags = reads.setdefault((subscriber_id, story_id), [False, False])
        flags[0] |= engaged
        flags[1] |= read_through
    if not reads:
        return 0
    quote = connection.ops.quote_name
    table = quote(SubscriberRead._meta.db_table)
    subscriber, story, engaged, through, at = (
        quote(name) for name in ("subscriber_id", "story_id", "engaged", "read_through", "at")
    )
    # As in ``add_to_rollups``: only our own names are formatted in, values are parameters.
    sql = (
        f"INSERT INTO {table} ({subscriber}, {story}, {engaged}, {through}, {at}) "  # noqa: S608
        "VALUES (%s, %s, %s, %s, %s) "
        f"ON CONFLICT ({subscriber}, {story}) DO UPDATE SET "
        f"{engaged} = {table}.{engaged} OR EXCLUDED.{engaged}, "
        f"{through} = {table}.{through} OR EXCLUDED.{through}"
    )
    now = connection.ops.adapt_datetimefield_value(timezone.now())
    rows = [(*key, *flags, now) for key, flags in sorted(reads.items())]
    with connection.cursor() as cursor:
        cursor.executemany(sql, rows)
    return len(rows)


def batch_id(stream: str, entry_ids: list[str]) -> str:
    return hashlib.sha1("\n".join([stream, *sorted(entry_ids)]).encode()).hexdigest()  # noqa: S324


def count_batch(stream: str, entries: list[tuple[str, dict | None]]) -> dict:
    """Add one batch to the rollups unless it was added before. Returns what happened."""
    ids = [entry_id for entry_id, _ in entries]
    key = batch_id(stream, ids)
    counts: Counter = Counter()
    malformed = 0
    for _, fields in entries:
        try:
            counts[rollup_key(fields)] += 1
        except (KeyError, TypeError, ValueError):
            malformed += 1  # not written by the collector; nothing to count
    try:
        with transaction.atomic():
            if FlushedBatch.objects.filter(batch_id=key).exists():
                return {"events": 0, "duplicate": len(ids), "dropped": 0}
            # A story deleted since its events were accepted takes its rollups with it.
            story_ids = {rollup[1] for rollup in counts}
            existing = set(StoryPage.objects.filter(pk__in=story_ids).values_list("pk", flat=True))
            kept = {rollup: n for rollup, n in counts.items() if rollup[1] in existing}
            events = sum(kept.values())
            FlushedBatch.objects.create(batch_id=key, events=events)
            add_to_rollups(kept)
            record_subscriber_reads((fields for _, fields in entries), existing)
    except IntegrityError:
        # Another flusher recorded this very batch a moment ago (only possible if the
        # lock expired under a stalled flusher); anything else is a real error.
        if FlushedBatch.objects.filter(batch_id=key).exists():
            return {"events": 0, "duplicate": len(ids), "dropped": 0}
        raise
    return {"events": events, "duplicate": 0, "dropped": len(ids) - events}


def ensure_group(client: redis.Redis, stream: str) -> None:
    try:
        # From the stream's start ("0"), so entries written before the group exist count.
        client.xgroup_create(stream, GROUP, id="0", mkstream=True)
    except redis.ResponseError as exc:
        if "BUSYGROUP" not in str(exc):
            raise


def read_batch(client: redis.Redis, stream: str, batch_size: int) -> list[tuple[str, dict]]:
    """This consumer's pending entries if it has any (all of them), else up to ``batch_size`` new.

    Pending entries are never more than the one batch a killed flusher had read, and
    they are re-read whole so the batch hashes to the same id as before.
    """
    for start, count in (("0", None), (">", batch_size)):
        answer = client.xreadgroup(GROUP, CONSUMER, {stream: start}, count=count)
        entries = answer[0][1] if answer else []
        if entries:
            return entries
    return []


def acknowledge(client: redis.Redis, stream: str, ids: list[str]) -> None:
    """Acknowledge and delete the entries of a committed batch, both or neither."""
    with client.pipeline(transaction=True) as pipe:
        pipe.xack(stream, GROUP, *ids)
        pipe.xdel(stream, *ids)
        pipe.execute()


def flush(batch_size: int | None = None, *, seconds: float = RUN_SECONDS) -> dict:
    """Flush the stream batch by batch until it is empty (or ``seconds`` have gone by).

    Returns the totals: batches, events counted, events already counted before
    (re-read after a crash), events dropped (their story is gone), and ``skipped``
    when another flusher holds the lock.
    """
    batch_size = batch_size or settings.ENGAGEMENT_BATCH_SIZE
    stream = settings.ENGAGEMENT_STREAM
    client = redis_client()
    totals = {"batches": 0, "events": 0, "duplicate": 0, "dropped": 0, "skipped": False}
    lock = client.lock(f"{stream}:flush-lock", timeout=LOCK_SECONDS)
    if not lock.acquire(blocking=False):
        totals["skipped"] = True
        return totals
    try:
        ensure_group(client, stream)
        ends = time.monotonic() + seconds
        while time.monotonic() < ends:
            entries = read_batch(client, stream, batch_size)
            if not entries:
                break
            outcome = count_batch(stream, entries)
            acknowledge(client, stream, [entry_id for entry_id, _ in entries])
            totals["batches"] += 1
            for name in ("events", "duplicate", "dropped"):
                totals[name] += outcome[name]
            try:
                lock.reacquire()
            except LockError:
                # Held past its timeout (a stalled batch): another flusher may be at work.
                logger.warning("engagement: the flush lock expired mid-flush; stopping")
                return totals
    finally:
        with contextlib.suppress(LockError):
            lock.release()
    if totals["batches"]:
        logger.info("engagement: flushed %s", totals)
    return totals


def forget_old_batches() -> int:
    """Delete batch records older than two days: a pending batch is re-read within minutes."""
    deleted, _ = FlushedBatch.objects.filter(flushed_at__lt=timezone.now() - KEEP_BATCHES).delete()
    return deleted
