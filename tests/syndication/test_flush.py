"""The flusher adds each buffered event to its rollup exactly once, whatever dies when.

A real Redis stream (skipped when Redis is not running locally; required in CI). A
"crash" is an exception raised at the chosen step: everything after it never runs,
as when the process is killed there.
"""

import datetime

from django.utils import timezone

import pytest

from syndication.engagement import buffer, events, flush, tasks
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
