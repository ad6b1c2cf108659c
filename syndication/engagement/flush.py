"""Add the buffered events up into the daily rollups, exactly once.

The collector appends one entry per event to a Redis stream. ``flush`` reads them
through a consumer group, one batch at a time:

1. read this consumer's *pending* entries first (a batch a killed flusher had read
   but not acknowledged), and only when there are none, new ones;
2. add them up per rollup key;
3. in ONE database transaction, record the batch (``FlushedBatch``, keyed by a hash
   of its entry ids), add each sum to its rollup (``count = count + n``) and
   announce the batch's reads (``signals.reads_counted``: the newsletter records its
   subscribers' reads); if the batch is already recorded it was counted before and
   nothing is added;
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
from typing import NamedTuple

from django.conf import settings
from django.db import DataError, IntegrityError, transaction
from django.utils import timezone

import redis
from redis.exceptions import LockError

from cms import ops
from stories.models import StoryPage

from .buffer import redis_client
from .models import FlushedBatch
from .rollups import SEEN_WINDOW, RollupKey, add_to_rollups, announce_reads, rollup_key

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

#: The name the flusher's quarantined entries go under (*Reports → Quarantined messages*).
QUARANTINE = "engagement stream"
#: What a single entry can do wrong on its way to the database: a value it refuses, a
#: row it will not take. A lost connection (``OperationalError``) is not the entry's
#: fault: it stops the run and the batch is read again next time.
ENTRY_ERRORS = (DataError, IntegrityError, ValueError, TypeError, UnicodeError, OverflowError)


def _text(value) -> str:
    return value.decode("utf-8") if isinstance(value, bytes) else str(value)


def decode_entry(fields: dict) -> dict[str, str]:
    """A stream entry's fields as text; ``UnicodeDecodeError`` for bytes that are not UTF-8."""
    return {_text(name): _text(value) for name, value in fields.items()}


def described(fields) -> dict:
    """Whatever an entry held, as JSON can keep it (for the quarantine)."""
    if not isinstance(fields, dict):
        return {"entry": repr(fields)}
    return {
        (name.decode("utf-8", "backslashreplace") if isinstance(name, bytes) else str(name)): (
            value.decode("utf-8", "backslashreplace") if isinstance(value, bytes) else str(value)
        )
        for name, value in fields.items()
    }


def batch_id(stream: str, entry_ids: list[str]) -> str:
    return hashlib.sha1("\n".join([stream, *sorted(entry_ids)]).encode()).hexdigest()  # noqa: S324


class Checked(NamedTuple):
    """A batch's entries sorted out before anything is written."""

    good: list[tuple[str, dict, RollupKey]]
    poison: list[tuple[str, dict, str]]
    repeated: int  # retries of events counted before, or twice in this batch
    gone: int  # entries deleted from the stream (nothing left to count)


def check_entries(entries, seen=frozenset()) -> Checked:
    """Sort a batch: entries to count, entries to quarantine, repeats to drop.

    ``seen`` holds the event ids (``i``) of batches committed before: an entry carrying
    one is a reader's retry of an event already counted.
    """
    good, poison, repeated, gone, ids = [], [], 0, 0, set()
    for entry_id, raw in entries:
        entry_id = _text(entry_id)
        if raw is None:
            gone += 1
            continue
        try:
            fields = decode_entry(raw)
            key = rollup_key(fields)
        except (KeyError, *ENTRY_ERRORS) as problem:
            poison.append((entry_id, described(raw), f"{type(problem).__name__}: {problem}"))
            continue
        event_id = fields.get("i")
        if event_id:
            if event_id in seen or event_id in ids:
                repeated += 1
                continue
            ids.add(event_id)
        good.append((entry_id, fields, key))
    return Checked(good, poison, repeated, gone)


def _write(counts: dict[RollupKey, int], entries, story_ids) -> None:
    add_to_rollups(counts)
    announce_reads(entries, story_ids)


def write_batch(good, story_ids) -> tuple[int, list[tuple[str, dict, str]]]:
    """Add the good entries of a batch up; inside the batch's transaction.

    First all at once. Should the database refuse the lot (an entry it cannot take got
    past every check), each entry is written again under its own savepoint: those it
    still refuses come back to be quarantined, and every other one is counted.
    Returns the events counted and the entries refused.
    """
    kept = [(entry_id, fields, key) for entry_id, fields, key in good if key[1] in story_ids]
    try:
        with transaction.atomic():
            _write(Counter(key for _, _, key in kept), [f for _, f, _ in kept], story_ids)
        return len(kept), []
    except ENTRY_ERRORS:
        logger.warning("engagement: the database refused a batch; writing it entry by entry")
    counted, refused = 0, []
    for entry_id, fields, key in kept:
        try:
            with transaction.atomic():
                _write({key: 1}, [fields], story_ids)
        except ENTRY_ERRORS as problem:
            refused.append((entry_id, fields, f"{type(problem).__name__}: {problem}"))
        else:
            counted += 1
    return counted, refused


def count_batch(stream: str, entries: list[tuple[str, dict | None]], seen=frozenset()) -> dict:
    """Add one batch to the rollups unless it was added before. Returns what happened.

    Entries that cannot be counted on their own are quarantined in the same transaction
    (``cms.ops.quarantine``); the rest are counted. ``seen``: see ``check_entries``.
    """
    ids = [_text(entry_id) for entry_id, _ in entries]
    key = batch_id(stream, ids)
    checked = check_entries(entries, seen)
    try:
        with transaction.atomic():
            if FlushedBatch.objects.filter(batch_id=key).exists():
                return {"events": 0, "duplicate": len(ids), "dropped": 0, "quarantined": 0}
            # A story deleted since its events were accepted takes its rollups with it.
            story_ids = set(
                StoryPage.objects.filter(pk__in={k[1] for _, _, k in checked.good}).values_list(
                    "pk", flat=True
                )
            )
            events_counted, refused = write_batch(checked.good, story_ids)
            poison = checked.poison + refused
            FlushedBatch.objects.create(batch_id=key, events=events_counted)
            ops.quarantine(QUARANTINE, poison)
    except IntegrityError:
        # Another flusher recorded this very batch a moment ago (only possible if the
        # lock expired under a stalled flusher); anything else is a real error.
        if FlushedBatch.objects.filter(batch_id=key).exists():
            return {"events": 0, "duplicate": len(ids), "dropped": 0, "quarantined": 0}
        raise
    if poison:
        logger.warning("engagement: %d entries quarantined in batch %s", len(poison), key)
    return {
        "events": events_counted,
        "duplicate": checked.repeated,
        "dropped": len(ids) - events_counted - checked.repeated - len(poison),
        "quarantined": len(poison),
    }


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
    they are re-read whole so the batch hashes to the same id as before. The flusher
    reads with a client that does not decode: an entry holding bytes that are not UTF-8
    is quarantined on its own instead of failing the whole read.
    """
    for start, count in (("0", None), (">", batch_size)):
        answer = client.xreadgroup(GROUP, CONSUMER, {stream: start}, count=count)
        entries = answer[0][1] if answer else []
        if entries:
            return entries
    return []


def _seen_keys(stream: str, now: float | None = None) -> tuple[str, str]:
    window = int((now or time.time()) // SEEN_WINDOW)
    return f"{stream}:seen:{window}", f"{stream}:seen:{window - 1}"


def seen_event_ids(client: redis.Redis, stream: str, entries) -> frozenset:
    """The event ids among ``entries`` that batches committed in the last windows carried."""
    wanted = set()
    for _, fields in entries:
        if fields:
            event_id = fields.get(b"i", fields.get("i"))
            if event_id:
                wanted.add(_text(event_id))
    if not wanted:
        return frozenset()
    ordered = sorted(wanted)
    with client.pipeline(transaction=False) as pipe:
        for key in _seen_keys(stream):
            pipe.smismember(key, ordered)
        answers = pipe.execute()
    return frozenset(
        event_id for answer in answers for event_id, hit in zip(ordered, answer, strict=True) if hit
    )


def acknowledge(client: redis.Redis, stream: str, ids: list[str], entries=()) -> None:
    """Acknowledge and delete the entries of a committed batch, all or nothing.

    The event ids the entries carried are remembered in the same MULTI (``SEEN_WINDOW``),
    so a reader's retry of one of them arriving later is dropped, not counted again.
    """
    event_ids = sorted(
        {
            _text(fields.get(b"i", fields.get("i")))
            for _, fields in entries
            if fields and fields.get(b"i", fields.get("i"))
        }
    )
    with client.pipeline(transaction=True) as pipe:
        if event_ids:
            current, _ = _seen_keys(stream)
            pipe.sadd(current, *event_ids)
            pipe.expire(current, 2 * SEEN_WINDOW + 60)
        pipe.xack(stream, GROUP, *ids)
        pipe.xdel(stream, *ids)
        pipe.execute()


def flush(batch_size: int | None = None, *, seconds: float = RUN_SECONDS) -> dict:
    """Flush the stream batch by batch until it is empty (or ``seconds`` have gone by).

    Returns the totals: batches, events counted, events already counted before
    (a batch re-read after a crash, or a reader's retry), events dropped (their story
    is gone), entries quarantined, and ``skipped`` when another flusher holds the lock.
    """
    batch_size = batch_size or settings.ENGAGEMENT_BATCH_SIZE
    stream = settings.ENGAGEMENT_STREAM
    client = redis_client()
    raw = redis_client(decode=False)
    totals = {
        "batches": 0,
        "events": 0,
        "duplicate": 0,
        "dropped": 0,
        "quarantined": 0,
        "skipped": False,
    }
    lock = client.lock(f"{stream}:flush-lock", timeout=LOCK_SECONDS)
    if not lock.acquire(blocking=False):
        totals["skipped"] = True
        return totals
    try:
        ensure_group(client, stream)
        ends = time.monotonic() + seconds
        while time.monotonic() < ends:
            entries = read_batch(raw, stream, batch_size)
            if not entries:
                break
            outcome = count_batch(stream, entries, seen_event_ids(client, stream, entries))
            acknowledge(client, stream, [_text(entry_id) for entry_id, _ in entries], entries)
            totals["batches"] += 1
            for name in ("events", "duplicate", "dropped", "quarantined"):
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
        # Every few seconds while anyone reads: routine, not for the terminal.
        logger.debug("engagement: flushed %s", totals)
    return totals


def forget_old_batches() -> int:
    """Delete batch records older than two days: a pending batch is re-read within minutes."""
    deleted, _ = FlushedBatch.objects.filter(flushed_at__lt=timezone.now() - KEEP_BATCHES).delete()
    return deleted
