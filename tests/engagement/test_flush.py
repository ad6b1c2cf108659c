"""The flusher adds each buffered event to its rollup exactly once, whatever dies when.

A real Redis stream (skipped when Redis is not running locally; required in CI). A
"crash" is an exception raised at the chosen step: everything after it never runs,
as when the process is killed there.
"""

import datetime

from django.utils import timezone

import pytest

from syndication.engagement import buffer, events, flush, rollups, tasks
from syndication.engagement.models import EngagementRollup, FlushedBatch


class Killed(Exception):
    """Stands for the process dying at this point."""


@pytest.fixture(autouse=True)
def _fresh(fresh_collector):
    """The collector's in-process caches start empty (``fresh_collector`` in conftest)."""


@pytest.fixture
def stories(make_story):
    return [make_story() for _ in range(3)]


def buffer_events(stories, rounds: int) -> int:
    """``rounds`` × a mix of events over the stories, straight into the stream."""
    sources = [
        events.Attribution("direct", 0, 0, ""),
        events.Attribution("mastodon", 17, 0, ""),
        events.Attribution("news.example.org", 0, 0, ""),
    ]
    sent = 0
    for number in range(rounds):
        for story in stories:
            came_from = sources[number % len(sources)]
            assert buffer.record("view", story.pk, came_from).recorded
            assert buffer.record("feeling", story.pk, came_from._replace(detail="smiled")).recorded
            sent += 2
    return sent


def total() -> int:
    return sum(EngagementRollup.objects.values_list("count", flat=True))


def pending(client, settings) -> int:
    return client.xpending(settings.ENGAGEMENT_STREAM, flush.GROUP)["pending"]


def test_a_flush_adds_exactly_what_was_buffered(stream, settings, stories):
    sent = buffer_events(stories, rounds=30)  # 180 events, 18 rollup keys
    outcome = flush.flush(batch_size=50)
    assert outcome == {
        "batches": 4,
        "events": sent,
        "duplicate": 0,
        "dropped": 0,
        "quarantined": 0,
        "skipped": False,
    }
    assert total() == sent
    assert EngagementRollup.objects.count() == 18
    story = stories[0]
    assert EngagementRollup.objects.get(
        story=story, event="view", source="mastodon", post_id=17
    ).count == len(range(1, 30, 3))
    assert stream.xlen(settings.ENGAGEMENT_STREAM) == 0
    assert FlushedBatch.objects.count() == 4
    assert sum(FlushedBatch.objects.values_list("events", flat=True)) == sent
    # More events later add to the same rows, not over them.
    more = buffer_events(stories, rounds=3)
    assert flush.flush()["events"] == more
    assert total() == sent + more
    assert EngagementRollup.objects.count() == 18
    assert flush.flush()["batches"] == 0


def test_a_batch_counted_but_not_acknowledged_is_not_counted_again(
    stream, settings, stories, monkeypatch
):
    """Killed after the commit, before XACK: the batch is re-read and only acknowledged."""
    sent = buffer_events(stories, rounds=10)
    acknowledge = flush.acknowledge

    def killed(*args):
        raise Killed

    monkeypatch.setattr(flush, "acknowledge", killed)
    with pytest.raises(Killed):
        flush.flush()
    assert total() == sent  # committed
    assert pending(stream, settings) == sent  # but not acknowledged
    stream.delete(f"{settings.ENGAGEMENT_STREAM}:flush-lock")  # as if its timeout ran out

    monkeypatch.setattr(flush, "acknowledge", acknowledge)
    outcome = flush.flush()
    assert (outcome["events"], outcome["duplicate"]) == (0, sent)
    assert total() == sent
    assert FlushedBatch.objects.count() == 1
    assert pending(stream, settings) == 0
    assert stream.xlen(settings.ENGAGEMENT_STREAM) == 0


def test_a_batch_read_but_not_committed_is_read_again_before_anything_new(
    stream, settings, stories, monkeypatch
):
    """Killed mid-transaction: nothing was counted, the entries stay pending, and the next
    run counts that same batch first, then the events that came in meanwhile."""
    first = buffer_events(stories, rounds=5)  # 30
    add_to_rollups = flush.add_to_rollups

    def killed(counts):
        add_to_rollups(counts)  # the rows are written, then the process dies uncommitted
        raise Killed

    monkeypatch.setattr(flush, "add_to_rollups", killed)
    with pytest.raises(Killed):
        flush.flush(batch_size=20)
    assert total() == 0
    assert not FlushedBatch.objects.exists()
    assert pending(stream, settings) == 20
    stream.delete(f"{settings.ENGAGEMENT_STREAM}:flush-lock")

    later = buffer_events(stories, rounds=5)  # 30 more arrive meanwhile
    monkeypatch.setattr(flush, "add_to_rollups", add_to_rollups)
    seen = []
    count_batch = flush.count_batch

    def spy(stream_name, entries, *args):
        seen.append(len(entries))
        return count_batch(stream_name, entries, *args)

    monkeypatch.setattr(flush, "count_batch", spy)
    outcome = flush.flush(batch_size=50)
    assert seen == [20, 40]  # the pending batch whole, then the rest
    assert outcome["events"] == first + later
    assert total() == first + later


def test_a_second_flusher_waits_its_turn(stream, settings, stories):
    sent = buffer_events(stories, rounds=2)
    lock = stream.lock(f"{settings.ENGAGEMENT_STREAM}:flush-lock", timeout=5)
    assert lock.acquire(blocking=False)
    try:
        assert flush.flush()["skipped"] is True
        assert total() == 0
    finally:
        lock.release()
    assert flush.flush()["events"] == sent


def test_events_of_a_deleted_story_are_dropped_without_blocking_the_rest(stream, settings, stories):
    buffer_events(stories, rounds=3)  # 6 events per story
    stories[0].delete()
    outcome = flush.flush()
    assert (outcome["events"], outcome["dropped"]) == (12, 6)
    assert total() == 12
    assert stream.xlen(settings.ENGAGEMENT_STREAM) == 0


def test_rollup_upserts_add_up(db, stories):
    day = timezone.localdate()
    key = (day, stories[0].pk, "view", "direct", "", 0, 0)
    other = (day - datetime.timedelta(days=1), stories[0].pk, "view", "direct", "", 0, 0)
    flush.add_to_rollups({key: 3})
    flush.add_to_rollups({key: 4, other: 1})
    assert EngagementRollup.objects.get(day=day).count == 7
    assert EngagementRollup.objects.get(day=other[0]).count == 1


def test_the_flush_task_flushes_and_old_batch_records_are_forgotten(stream, settings, stories):
    settings.ENGAGEMENT_BATCH_SIZE = 7
    sent = buffer_events(stories, rounds=4)
    tasks.flush_events.delay()
    assert total() == sent
    assert FlushedBatch.objects.count() == 4  # 24 events, 7 at a time
    FlushedBatch.objects.filter(pk=FlushedBatch.objects.first().pk).update(
        flushed_at=timezone.now() - datetime.timedelta(days=3)
    )
    assert flush.forget_old_batches() == 1
    assert FlushedBatch.objects.count() == 3


# --- Poison entries ------------------------------------------------------------------------


def poison_entries(story) -> dict[str, dict]:
    """Entries no collector of ours writes any more, each wrong in its own way."""
    day = timezone.localdate().isoformat()
    good = {"day": day, "t": "view", "s": str(story.pk), "src": "direct", "d": "", "p": 0}
    return {
        "nul in the source": {**good, "src": "a\x00b.example"},
        "not UTF-8": {**good, "src": b"caf\xe9"},
        "a lone surrogate's bytes": {**good, "src": b"\xed\xa0\x80.example"},
        "a source too long": {**good, "src": "x" * 500},
        "a story beyond the column": {**good, "s": "99999999999999999999"},
        "a negative post": {**good, "p": "-4"},
        "an unknown event": {**good, "t": "purchase"},
        "no day": {key: value for key, value in good.items() if key != "day"},
        "a day that is none": {**good, "day": "2026-13-45"},
        "a story that is not a number": {**good, "s": "seven"},
    }


def test_poison_entries_are_quarantined_and_the_rest_of_their_batch_is_counted(
    stream, settings, stories, admin_client
):
    from cms import status
    from cms.models import QuarantinedMessage

    sent = buffer_events(stories, rounds=5)  # 30
    poison = poison_entries(stories[0])
    for fields in poison.values():
        stream.xadd(settings.ENGAGEMENT_STREAM, fields)
    sent += buffer_events(stories, rounds=5)

    outcome = flush.flush(batch_size=25)
    assert outcome["events"] == sent == total()
    assert outcome["quarantined"] == len(poison)
    assert stream.xlen(settings.ENGAGEMENT_STREAM) == 0  # nothing left to stall on
    kept = list(QuarantinedMessage.objects.filter(consumer=flush.QUARANTINE))
    assert len(kept) == len(poison)
    assert all(row.error and row.payload for row in kept)
    # What could not be stored as a value is stored as its description, and reads back.
    assert any("a\\u0000b.example" in row.payload for row in kept)
    assert any("caf\\\\xe9" in row.payload for row in kept)

    # Visible in the admin, with the error, and counted by storyloom_status.
    listing = admin_client.get("/admin/reports/quarantined-messages/")
    assert listing.status_code == 200
    assert listing.content.decode().count(flush.QUARANTINE) >= len(poison)
    detail = admin_client.get(f"/admin/reports/quarantined-messages/inspect/{kept[0].pk}/")
    assert kept[0].error.split(":")[0] in detail.content.decode()
    report = status.gather()["quarantined"]
    assert report["total"] == report["last_24h"] == len(poison)
    assert report["by_consumer"][flush.QUARANTINE]["total"] == len(poison)

    # A flush after that counts what comes next as usual.
    more = buffer_events(stories, rounds=1)
    assert flush.flush()["events"] == more
    assert total() == sent + more


def test_an_entry_the_database_refuses_is_quarantined_alone(stream, settings, stories, monkeypatch):
    """Past every check (here: the checks switched off), the database itself refuses one
    entry; the batch is written again entry by entry and only that one is set aside."""
    from django.db import connection

    from cms.models import QuarantinedMessage

    if connection.vendor != "postgresql":
        pytest.skip("SQLite stores NUL and over-long text; PostgreSQL refuses both")
    monkeypatch.setattr(
        rollups,
        "_checked_text",
        lambda entry, field, longest, default=None: (
            entry.get(field, default) if default is not None else entry[field]
        ),
    )
    sent = buffer_events(stories, rounds=3)
    stream.xadd(settings.ENGAGEMENT_STREAM, poison_entries(stories[0])["nul in the source"])
    stream.xadd(settings.ENGAGEMENT_STREAM, poison_entries(stories[0])["a source too long"])
    outcome = flush.flush(batch_size=100)
    assert (outcome["events"], outcome["quarantined"]) == (sent, 2)
    assert total() == sent
    errors = QuarantinedMessage.objects.values_list("error", flat=True)
    assert all(error.startswith("DataError") for error in errors), list(errors)


def test_a_retried_event_is_counted_once(stream, settings, stories):
    """The same event id in one batch, and again in a later batch: one count."""
    came_from = events.Attribution("direct", 0, 0, "")

    def send(event_id):
        entry = buffer.entry_for("view", stories[0].pk, came_from, event_id=event_id)
        assert buffer.store(entry).recorded

    send("first-event-id")
    send("first-event-id")  # the reader's retry, in the same batch
    send("other-event-id")
    assert flush.flush()["events"] == 2
    send("first-event-id")  # a late retry, in a batch of its own
    outcome = flush.flush()
    assert (outcome["events"], outcome["duplicate"]) == (0, 1)
    assert total() == 2


def test_a_retried_event_is_counted_once_when_written_directly(db, settings, stories):
    settings.ENGAGEMENT_REDIS_URL = ""
    came_from = events.Attribution("direct", 0, 0, "")
    for _ in range(3):
        entry = buffer.entry_for("view", stories[0].pk, came_from, event_id="embedded-id-1")
        assert buffer.store(entry).recorded
    assert total() == 1
