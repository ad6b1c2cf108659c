"""Exactly once over SMTP: the committed path over a real socket to the aiosmtpd recorder,
kills simulated before the commit, after the dots and in the window between, lost
replies, a race with another worker, 5xx and 4xx replies, and the backend's group
commit driven directly."""

import datetime
import smtplib
import socket
import threading
from contextlib import contextmanager

from django.utils import timezone

import pytest

from syndication.newsletter import clicks, progress, sending, smtp
from syndication.newsletter.models import Delivery, Edition
from syndication.newsletter.rendering import Email, MessageFrame
from tests.newsletter import editions
from tests.newsletter.editions import CLICK, edition, picks_of, send_all, start
from tests.newsletter.smtp_recorder import HOST, free_port, received, wait_until

# The stories and subscribers an edition is sent to (the SMTP recorder is the conftest's).
interests = editions.interests
stories = editions.stories
subscribers = editions.subscribers

pytestmark = pytest.mark.django_db

State = Delivery.State
Status = Edition.Status


def test_committed_send_over_a_real_socket_delivers_each_reader_their_own_picks(
    stories, subscribers, smtp_server
):
    made = edition()
    start(made)
    send_all(made)
    assert Edition.objects.get(pk=made.pk).status == Status.SENT
    assert wait_until(lambda: len(smtp_server.messages) == 6)
    stored = picks_of(made)
    for address, messages in smtp_server.by_recipient().items():
        assert len(messages) == 1, address
        [message] = messages
        delivery = Delivery.objects.get(subscriber__email=address)
        assert delivery.state == State.SENT
        assert message["Message-ID"] == delivery.message_id
        assert message["List-Unsubscribe"].startswith("<http")
        assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
        html = message.get_body(("html",)).get_content()
        slots = {clicks.read_token(t) for t in CLICK.findall(html)}
        assert {c.delivery_id for c in slots} == {delivery.pk}
        assert {c.slot for c in slots} == {row[0] for row in stored[delivery.subscriber_id]}
    assert len(smtp_server.messages) == 6


class Killed(BaseException):
    """Stands in for SIGKILL: nothing after it runs, nothing catches it."""


def test_killed_before_the_commit_the_server_discards_the_message_and_the_resume_sends_it(
    stories, subscribers, smtp_server, monkeypatch
):
    made = edition()
    [chunk] = start(made)

    def die(delivery_id, ended=()):
        raise Killed

    monkeypatch.setattr(sending, "commit_delivery", die)
    with pytest.raises(Killed):
        sending.send_chunk(made.pk, *chunk)
    monkeypatch.undo()
    # Every body reached the server, no final dot did: nothing was accepted.
    threading.Event().wait(0.3)
    assert smtp_server.messages == []
    assert not Delivery.objects.filter(state=State.SENT).exists()

    # The resume (the claims were released) sends each one once.
    sending.send_chunk(made.pk, *chunk)
    assert wait_until(lambda: len(smtp_server.messages) == 6)
    assert set(received(smtp_server, made).values()) == {1}


def test_killed_after_the_dot_left_the_server_keeps_the_message_and_the_resume_does_not_resend(
    stories, subscribers, smtp_server, monkeypatch, settings
):
    settings.NEWSLETTER_SMTP_CONNECTIONS = 2  # three groups of two
    made = edition()
    [chunk] = start(made)
    original = smtplib.SMTP.getreply
    calls = {"replies": 0}

    def reply_then_die(self):
        # Die while waiting for the answer to the first group's final dots.
        if (
            self.sock is not None
            and calls["replies"] == 0
            and Delivery.objects.filter(state=State.SENT).exists()
        ):
            calls["replies"] += 1
            raise Killed
        return original(self)

    monkeypatch.setattr(smtplib.SMTP, "getreply", reply_then_die)
    with pytest.raises(Killed):
        sending.send_chunk(made.pk, *chunk)
    monkeypatch.undo()
    committed = set(Delivery.objects.filter(state=State.SENT).values_list("pk", flat=True))
    assert len(committed) == 2
    # The dots were in the kernel's hands: the server accepted every committed message.
    assert wait_until(lambda: len(smtp_server.messages) == len(committed))

    Delivery.objects.filter(state=State.SENDING).update(
        attempted_at=timezone.now() - datetime.timedelta(days=1)
    )
    sending.send_chunk(made.pk, *chunk)
    assert wait_until(lambda: len(smtp_server.messages) == 6)
    assert set(received(smtp_server, made).values()) == {1}
    assert Delivery.objects.filter(state=State.SENT).count() == 6


def test_a_crash_between_commit_and_dot_leaves_one_delivery_uncertain_never_sent(
    stories, subscribers, smtp_server, monkeypatch
):
    """The window exactly-once cannot close (docs/newsletter.md, "What is left"): the
    database committed a message, the process died before its dot was recorded. Only
    that one message is in doubt, it says so, and it is never counted as sent."""
    made = edition()
    [chunk] = start(made)
    real_commit = sending.commit_delivery
    calls = []

    def third_commit_then_die(delivery_id, ended=()):
        won = real_commit(delivery_id, ended)
        calls.append(delivery_id)
        if len(calls) == 3:
            raise Killed
        return won

    monkeypatch.setattr(sending, "commit_delivery", third_commit_then_die)
    with pytest.raises(Killed):
        sending.send_chunk(made.pk, *chunk)
    monkeypatch.undo()
    # The two before it were ended and recorded; the third's dot never left.
    assert wait_until(lambda: len(smtp_server.messages) == 2)
    threading.Event().wait(0.3)
    states = dict(Delivery.objects.values_list("pk", "state"))
    assert [states[pk] for pk in calls] == [State.SENT, State.SENT, State.UNCERTAIN]
    assert sorted(states.values()).count(State.UNCERTAIN) == 1
    for delivery in Delivery.objects.filter(state=State.SENT).select_related("subscriber"):
        assert len(smtp_server.by_recipient()[delivery.subscriber.email]) == 1

    # The resume sends the rest and leaves the uncertain one to a person.
    Delivery.objects.filter(state=State.SENDING).update(
        attempted_at=timezone.now() - datetime.timedelta(days=1)
    )
    sending.send_chunk(made.pk, *chunk)
    assert wait_until(lambda: len(smtp_server.messages) == 5)
    made.refresh_from_db()
    assert made.status == Status.SENT
    report = progress.progress(made)
    assert (report["sent"], report["uncertain"], report["pending"]) == (5, 1, 0)
    [doubtful] = progress.uncertain_deliveries(made.pk)
    assert doubtful.pk == calls[2]
    assert doubtful.subscriber.email not in received(smtp_server, made)


def test_a_lost_reply_to_the_dot_is_uncertain_not_sent(
    stories, subscribers, smtp_server, monkeypatch
):
    made = edition()
    [chunk] = start(made)
    original = smtplib.SMTP.getreply
    lost = {"count": 0}

    def lose_the_first_reply_after_a_dot(self):
        if lost["count"] == 0 and Delivery.objects.filter(state=State.SENT).exists():
            lost["count"] += 1
            raise smtplib.SMTPServerDisconnected("Connection unexpectedly closed")
        return original(self)

    monkeypatch.setattr(smtplib.SMTP, "getreply", lose_the_first_reply_after_a_dot)
    report = sending.send_chunk(made.pk, *chunk)
    assert (report.sent, report.uncertain) == (5, 1)
    [doubtful] = Delivery.objects.filter(state=State.UNCERTAIN)
    assert doubtful.error.startswith("Uncertain: the final part may not have reached")
    assert progress.progress(Edition.objects.get(pk=made.pk))["sent"] == 5


def test_another_worker_having_sent_it_the_message_is_dropped_unfinished(
    stories, subscribers, smtp_server, monkeypatch
):
    made = edition()
    [chunk] = start(made)
    first = Delivery.objects.get(subscriber=subscribers[0])
    real_commit = sending.commit_delivery

    def another_worker_first(delivery_id, ended=()):
        # Another worker commits this delivery while ours streams it.
        Delivery.objects.filter(pk=first.pk).update(state=State.SENT, sent_at=timezone.now())
        return real_commit(delivery_id, ended)

    monkeypatch.setattr(sending, "commit_delivery", another_worker_first)
    report = sending.send_chunk(made.pk, *chunk)
    assert report.taken == 1
    assert wait_until(lambda: len(smtp_server.messages) == 5)
    threading.Event().wait(0.2)
    assert subscribers[0].email not in received(smtp_server, made)


def test_a_permanent_refusal_after_the_dot_fails_the_delivery_with_the_servers_reason(
    stories, subscribers, smtp_server
):
    smtp_server.data_replies[subscribers[1].email] = "554 5.7.1 Message refused: policy"
    smtp_server.rcpt_replies[subscribers[2].email] = "550 5.1.1 No such user here"
    made = edition()
    start(made)
    send_all(made)
    bounced = Delivery.objects.get(subscriber=subscribers[1])
    unknown = Delivery.objects.get(subscriber=subscribers[2])
    assert bounced.state == unknown.state == State.FAILED
    assert "554 5.7.1 Message refused: policy" in bounced.error
    assert "550 5.1.1 No such user here" in unknown.error
    assert bounced.sent_at is None
    assert Edition.objects.get(pk=made.pk).status == Status.SENT
    report = progress.progress(Edition.objects.get(pk=made.pk))
    assert report["sent"] == 4 and report["failed"] == 2
    assert {f["reason"] for f in report["failures"]} == {bounced.error, unknown.error}


def test_a_temporary_refusal_is_retried_later_then_given_up_after_the_limit(
    stories, subscribers, smtp_server, settings
):
    settings.NEWSLETTER_MAX_ATTEMPTS = 2
    busy = subscribers[3].email
    smtp_server.data_replies[busy] = "451 4.3.0 Mailbox busy, try later"
    made = edition()
    [chunk] = start(made)
    report = sending.send_chunk(made.pk, *chunk)
    assert report.deferred == 1
    assert report.retry_after == settings.NEWSLETTER_RETRY_AFTER
    delivery = Delivery.objects.get(subscriber__email=busy)
    assert delivery.state == State.PENDING
    assert delivery.error.startswith("Temporary failure (attempt 1 of 2): 451")
    assert Edition.objects.get(pk=made.pk).status == Status.SENDING
    # Too early: the retry waits.
    assert sending.send_chunk(made.pk, *chunk).claimed == 0
    # Later, the second attempt is the last.
    Delivery.objects.filter(pk=delivery.pk).update(
        attempted_at=timezone.now() - datetime.timedelta(seconds=settings.NEWSLETTER_RETRY_AFTER)
    )
    sending.send_chunk(made.pk, *chunk)
    delivery.refresh_from_db()
    assert delivery.state == State.FAILED
    assert delivery.error.startswith("Gave up after 2 attempts: 451 4.3.0 Mailbox busy")
    assert Edition.objects.get(pk=made.pk).status == Status.SENT
    assert busy not in received(smtp_server, made)


def test_an_unreachable_mail_server_releases_the_claims(stories, subscribers, settings):
    settings.NEWSLETTER_EMAIL_BACKEND = "syndication.newsletter.smtp.CommittedSMTPBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = HOST, free_port()
    settings.NEWSLETTER_SMTP_TIMEOUT = 2
    made = edition()
    [chunk] = start(made)
    with pytest.raises(OSError):
        sending.send_chunk(made.pk, *chunk)
    assert set(Delivery.objects.values_list("state", flat=True)) == {State.PENDING}
    assert not Delivery.objects.filter(attempted_at__isnull=False).exists()


# --- Group commit, directly -----------------------------------------------------------------------
@contextmanager
def backend(server, width=3):
    made = smtp.CommittedSMTPBackend(host=HOST, port=server.port, connections=width, timeout=5)
    try:
        yield made
    finally:
        made.close()


def outgoing(key, to):
    frame = MessageFrame("Hello", "Storyloom <stories@example.com>")
    item = Email("Hello", "Storyloom <stories@example.com>", to, f".{key}\n", f"<p>{key}</p>")
    return smtp.Outgoing(key, frame.envelope_from, (to,), frame.as_bytes(item))


class RecordingLedger:
    def __init__(self, server, refuse=()):
        self.server = server
        self.refuse = set(refuse)
        self.calls = []

    def commit(self, key, ended):
        self.calls.append(("commit", key, list(ended)))
        threading.Event().wait(0.2)
        # Nothing of this message was accepted before its commit.
        assert f"g{key}@example.com" not in self.server.by_recipient()
        return key not in self.refuse

    def ended(self, keys):
        self.calls.append(("ended", list(keys)))


def test_each_message_of_a_group_has_its_own_commit_and_only_what_it_won_is_finished(
    smtp_server,
):
    with backend(smtp_server) as line:
        items = [outgoing(n, f"g{n}@example.com") for n in range(3)]
        ledger = RecordingLedger(smtp_server, refuse={1})
        outcomes = line.send_committed_group(items, ledger)
    # One message per commit; each commit also records the dot that went out before it.
    assert ledger.calls == [
        ("commit", 0, []),
        ("commit", 1, [0]),
        ("commit", 2, []),
        ("ended", [2]),
    ]
    assert outcomes[0].result is outcomes[2].result is smtp.Result.ACCEPTED
    assert outcomes[1].result is smtp.Result.TAKEN
    assert wait_until(lambda: len(smtp_server.messages) == 2)
    assert sorted(str(m["To"]) for m in smtp_server.messages) == [
        "g0@example.com",
        "g2@example.com",
    ]
    # A leading dot survived the dot-stuffing.
    assert smtp_server.messages[0].get_body(("plain",)).get_content().startswith(".0")


def test_send_committed_takes_a_django_message(smtp_server):
    from django.core.mail import EmailMessage

    with backend(smtp_server, width=1) as line:
        outcome = line.send_committed(
            EmailMessage("Hi", "Body", "a@example.com", ["b@example.com"]), lambda: True
        )
        refused = line.send_committed(
            EmailMessage("Hi", "Body", "a@example.com", ["c@example.com"]), lambda: False
        )
    assert outcome.result is smtp.Result.ACCEPTED
    assert refused.result is smtp.Result.TAKEN
    assert wait_until(lambda: len(smtp_server.messages) == 1)
    assert str(smtp_server.messages[0]["To"]) == "b@example.com"


def test_a_connection_the_server_closed_between_messages_is_replaced_at_no_cost(smtp_server):
    def won(keys):
        return set(keys)

    with backend(smtp_server, width=1) as line:
        first = line.send_committed_group([outgoing(1, "one@example.com")], won)
        # The connection ends after that message (servers limit messages per connection).
        line._lines[0].sock.shutdown(socket.SHUT_RDWR)
        second = line.send_committed_group([outgoing(2, "two@example.com")], won)
    assert first[1].result is second[2].result is smtp.Result.ACCEPTED
    assert wait_until(lambda: len(smtp_server.messages) == 2)
