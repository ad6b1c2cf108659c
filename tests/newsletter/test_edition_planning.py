"""Planning and sending an edition: who gets it, the picks stored for each reader (the
same when a chunk runs again), chunks and claims, the delivery state machine,
cancelling, the sweeper, and the database work per email."""

import datetime

from django.core import mail
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

import pytest

from syndication.newsletter import candidates, lifecycle, sending, subscriptions
from syndication.newsletter.models import Delivery, DeliveryPick, Edition, Subscriber
from syndication.newsletter.tasks import send_due_editions
from tests.newsletter import editions
from tests.newsletter.editions import edition, picks_of, send_all, start, subscriber

# The stories and subscribers an edition is sent to (the SMTP recorder is the conftest's).
interests = editions.interests
stories = editions.stories
subscribers = editions.subscribers

pytestmark = pytest.mark.django_db

State = Delivery.State
Status = Edition.Status


def test_an_edition_goes_to_every_active_subscriber_once_with_stored_picks(
    stories, subscribers, interests
):
    subscriber("waiting@example.com", interests[0], status=Subscriber.Status.PENDING)
    subscriber("paused@example.com", interests[0], status=Subscriber.Status.PAUSED)
    subscriber("left@example.com", interests[0], status=Subscriber.Status.UNSUBSCRIBED)
    made = edition()
    start(made)
    made.refresh_from_db()
    assert made.status == Status.SENDING
    assert made.total == 6
    assert set(Delivery.objects.values_list("subscriber__email", flat=True)) == {
        s.email for s in subscribers
    }

    send_all(made)

    made.refresh_from_db()
    assert made.status == Status.SENT
    assert made.finished_at is not None
    assert sorted(m.to[0] for m in mail.outbox) == sorted(s.email for s in subscribers)
    assert Delivery.objects.filter(state=State.SENT).count() == 6
    stored = picks_of(made)
    assert set(stored) == {s.pk for s in subscribers}
    for rows in stored.values():
        assert [slot for slot, *_ in rows] == list(range(len(rows)))
        assert len(rows) == made.k
        for _, _, reason, probability, exploration in rows:
            assert reason
            assert 0 < probability <= 1
            assert exploration == (probability < 1)


def test_picks_are_the_same_when_a_chunk_is_computed_again(stories, subscribers):
    made = edition()
    start(made)
    send_all(made)
    first = picks_of(made)
    # Forget the picks and send state, then run the very same chunks again.
    DeliveryPick.objects.all().delete()
    Delivery.objects.update(state=State.PENDING, sent_at=None, attempted_at=None)
    Edition.objects.filter(pk=made.pk).update(status=Status.SENDING)
    send_all(made)
    assert picks_of(made) == first


def test_the_reader_gets_the_stories_they_follow_and_not_what_they_read_through(stories, interests):
    reader = subscriber("gardener@example.com", interests[1])
    garden = [s for s in stories if interests[1] in s.interests.all()]
    reader.reads.create(story=garden[0], engaged=True, read_through=True)
    made = edition(k=3)
    start(made)
    send_all(made)
    picked = [story for _, story, *_ in picks_of(made)[reader.pk]]
    assert garden[0].pk not in picked
    assert set(picked) & {s.pk for s in garden[1:]}
    [message] = mail.outbox
    html = message.alternatives[0][0]
    assert "Because you follow Garden" in html


def test_rerunning_a_finished_chunk_sends_nothing(stories, subscribers):
    made = edition()
    [chunk] = start(made)
    sending.send_chunk(made.pk, *chunk)
    assert len(mail.outbox) == 6
    Edition.objects.filter(pk=made.pk).update(status=Status.SENDING)  # as if still sending
    report = sending.send_chunk(made.pk, *chunk)
    assert report.claimed == 0
    assert len(mail.outbox) == 6


def test_a_delivery_already_sent_is_not_sent_again(stories, subscribers):
    made = edition()
    [chunk] = start(made)
    done = Delivery.objects.get(subscriber=subscribers[2])
    Delivery.objects.filter(pk=done.pk).update(state=State.SENT, sent_at=timezone.now())
    sending.send_chunk(made.pk, *chunk)
    assert subscribers[2].email not in [m.to[0] for m in mail.outbox]
    assert len(mail.outbox) == 5


def test_a_claim_held_by_a_live_worker_is_left_alone_and_a_stale_one_is_taken_over(
    stories, subscribers, settings
):
    made = edition()
    [chunk] = start(made)
    now = timezone.now()
    live, dead = subscribers[0], subscribers[1]
    Delivery.objects.filter(subscriber=live).update(state=State.SENDING, attempted_at=now)
    stale = now - datetime.timedelta(seconds=settings.NEWSLETTER_STUCK_AFTER + 1)
    Delivery.objects.filter(subscriber=dead).update(state=State.SENDING, attempted_at=stale)
    sending.send_chunk(made.pk, *chunk)
    recipients = [m.to[0] for m in mail.outbox]
    assert live.email not in recipients
    assert dead.email in recipients
    assert Delivery.objects.get(subscriber=live).state == State.SENDING
    assert Edition.objects.get(pk=made.pk).status == Status.SENDING  # one still out there


def test_a_subscriber_who_leaves_during_the_send_is_skipped(stories, subscribers):
    made = edition()
    [chunk] = start(made)
    subscriptions.unsubscribe(subscribers[0])
    sending.send_chunk(made.pk, *chunk)
    delivery = Delivery.objects.get(subscriber=subscribers[0])
    assert delivery.state == State.SKIPPED
    assert "Unsubscribed" in delivery.error
    assert len(mail.outbox) == 5
    assert Edition.objects.get(pk=made.pk).status == Status.SENT


def test_chunks_cover_every_subscriber_once(stories, interests, settings):
    settings.NEWSLETTER_CHUNK_SIZE = 4
    for n in range(10):
        subscriber(f"many{n}@example.com", interests[n % 3])
    made = edition()
    ranges = start(made)
    assert len(ranges) == 3
    covered = []
    for first, last in ranges:
        covered += list(
            Delivery.objects.filter(subscriber_id__gte=first, subscriber_id__lte=last).values_list(
                "subscriber_id", flat=True
            )
        )
    assert sorted(covered) == sorted(Delivery.objects.values_list("subscriber_id", flat=True))
    for first, last in ranges:
        sending.send_chunk(made.pk, first, last)
    assert len(mail.outbox) == 10
    assert Edition.objects.get(pk=made.pk).status == Status.SENT


def test_database_work_per_email_is_one_update_the_rest_is_per_chunk(stories, interests, settings):
    def queries_for(count: int) -> int:
        Subscriber.objects.all().delete()
        for n in range(count):
            subscriber(f"q{count}-{n}@example.com", interests[n % 3])
        made = edition()
        [chunk] = start(made)
        with CaptureQueriesContext(connection) as captured:
            sending.send_chunk(made.pk, *chunk)
        assert len(mail.outbox) == count
        mail.outbox.clear()
        return len(captured.captured_queries)

    small, large = queries_for(5), queries_for(25)
    # One conditional UPDATE per email (the commit); everything else is per chunk.
    assert large - small == 20


def test_no_candidate_stories_fails_the_edition_with_a_clear_reason_and_sends_nothing(
    make_story, subscribers
):
    make_story(first_published_at=timezone.now() - datetime.timedelta(days=90))
    made = edition(window_days=30)
    with pytest.raises(candidates.NoCandidates, match="last 30 days"):
        candidates.check_candidates(made)
    assert start(made) == []
    made.refresh_from_db()
    assert made.status == Status.FAILED
    assert "No live story was first published in the last 30 days" in made.error
    assert not Delivery.objects.exists()
    assert mail.outbox == []


def test_send_due_editions_starts_an_edition_once(stories, subscribers):
    made = edition(status=Status.SCHEDULED, send_at=timezone.now() - datetime.timedelta(minutes=1))
    later = edition(status=Status.SCHEDULED, send_at=timezone.now() + datetime.timedelta(hours=1))
    result = send_due_editions()  # eager: the chunks run here too
    assert result["started"] == [made.pk]
    assert send_due_editions()["started"] == []
    assert Edition.objects.get(pk=made.pk).status == Status.SENT
    assert Edition.objects.get(pk=later.pk).status == Status.SCHEDULED
    assert len(mail.outbox) == 6


def test_cancelling_a_sending_edition_skips_everyone_not_yet_sent(stories, subscribers):
    made = edition()
    [chunk] = start(made)
    assert lifecycle.cancel_edition(made.pk)
    report = sending.send_chunk(made.pk, *chunk)
    assert report.stale
    assert mail.outbox == []
    assert set(Delivery.objects.values_list("state", flat=True)) == {State.SKIPPED}


def test_the_sweeper_sends_again_what_a_dead_worker_claimed_and_finishes_the_edition(
    stories, subscribers, settings
):
    made = edition()
    [chunk] = start(made)
    # A worker claimed the chunk long ago and died.
    long_ago = timezone.now() - datetime.timedelta(seconds=settings.NEWSLETTER_STUCK_AFTER + 5)
    Delivery.objects.update(state=State.SENDING, attempted_at=long_ago)
    Edition.objects.filter(pk=made.pk).update(started_at=long_ago)
    work = lifecycle.sweep_editions()
    assert work == [(made.pk, *chunk)]
    sending.send_chunk(*work[0])
    assert len(mail.outbox) == 6
    assert lifecycle.sweep_editions() == []
    assert Edition.objects.get(pk=made.pk).status == Status.SENT


def test_the_sweeper_leaves_queued_chunks_alone_while_the_edition_makes_progress(
    stories, subscribers
):
    made = edition()
    start(made)  # planned just now, chunks queued, nothing sent yet
    assert lifecycle.sweep_editions() == []


def test_when_another_worker_stored_picks_first_the_email_shows_the_stored_ones(
    stories, subscribers, monkeypatch
):
    made = edition(k=2)
    [chunk] = start(made)
    racer = Delivery.objects.get(subscriber=subscribers[0])
    other_story = stories[-1]
    real_insert = sending.insert_picks

    def another_worker_first(rows):
        # Between our look and our insert, a worker on the same chunk stored its own.
        real_insert([(racer.pk, 0, other_story.pk, 0.5, 1.0, False, "Stored first", "1")])
        return real_insert(rows)

    monkeypatch.setattr(sending, "insert_picks", another_worker_first)
    sending.send_chunk(made.pk, *chunk)
    message = next(m for m in mail.outbox if m.to[0] == subscribers[0].email)
    stored = picks_of(made)[subscribers[0].pk]
    assert stored[0][1] == other_story.pk and stored[0][2] == "Stored first"
    assert "Stored first" in message.body
    assert other_story.title in message.body
