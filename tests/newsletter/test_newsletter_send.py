"""Sending an edition: picks, chunks, the delivery state machine, exactly once over SMTP.

Most tests send through Django's locmem backend (claimed, sent, marked). The committed
path runs over a real socket to an aiosmtpd server in this process: kills are simulated
by raising at the moment in question, and the server's record says what arrived.
"""

import datetime
import email
import email.policy
import re
import smtplib
import socket
import threading
from contextlib import contextmanager
from urllib.parse import urlsplit

from django.core import mail
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

import pytest
from aiosmtpd.controller import Controller

from syndication.newsletter import (
    candidates,
    clicks,
    lifecycle,
    progress,
    sending,
    smtp,
    subscriptions,
)
from syndication.newsletter.models import Delivery, DeliveryPick, Edition, Subscriber
from syndication.newsletter.rendering import Email, MessageFrame
from syndication.newsletter.tasks import send_due_editions
from tests.factories import AudienceInterestFactory

pytestmark = pytest.mark.django_db

State = Delivery.State
Status = Edition.Status
HOST = "127.0.0.1"
CLICK = re.compile(r"/newsletter/c/([^/\"\s<>]+)/")


# --- A real SMTP server in this process ----------------------------------------------------------
def free_port() -> int:
    with socket.socket() as probe:
        probe.bind((HOST, 0))
        return probe.getsockname()[1]


class SMTPRecorder:
    """aiosmtpd on 127.0.0.1 keeping every message it accepts; replies can be scripted.

    ``rcpt_replies`` / ``data_replies`` map a recipient to the reply its RCPT or its
    final dot gets instead of 250. ``hold_next()`` makes the server sit on the reply to
    the next final dot (the message already recorded as accepted) until ``release()``.
    """

    def __init__(self):
        self.messages: list[email.message.EmailMessage] = []
        self.rcpt_replies: dict[str, str] = {}
        self.data_replies: dict[str, str] = {}
        self.lock = threading.Lock()
        self._hold = False
        self.held = threading.Event()
        self.held_message = None
        self._released = threading.Event()

    # aiosmtpd handler hooks
    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        reply = self.rcpt_replies.get(address)
        if reply:
            return reply
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        reply = self.data_replies.get(envelope.rcpt_tos[0])
        if reply:
            return reply
        message = email.message_from_bytes(envelope.content, policy=email.policy.default)
        with self.lock:
            self.messages.append(message)
            hold, self._hold = self._hold, False
        if hold:
            self.held_message = message
            self.held.set()
            await server.loop.run_in_executor(None, self._released.wait, 120)
        return "250 Message accepted for delivery"

    def hold_next(self) -> threading.Event:
        self.held.clear()
        self._released.clear()
        with self.lock:
            self._hold = True
        return self.held

    def release(self) -> None:
        self._released.set()

    def by_recipient(self) -> dict[str, list]:
        found: dict[str, list] = {}
        with self.lock:
            for message in self.messages:
                found.setdefault(str(message["To"]), []).append(message)
        return found

    def __enter__(self):
        self.port = free_port()
        self.controller = Controller(self, hostname=HOST, port=self.port)
        self.controller.start()
        return self

    def __exit__(self, *exc):
        self.release()
        self.controller.stop()


@pytest.fixture
def smtp_server(settings):
    with SMTPRecorder() as server:
        settings.NEWSLETTER_EMAIL_BACKEND = "syndication.newsletter.smtp.CommittedSMTPBackend"
        settings.EMAIL_HOST = HOST
        settings.EMAIL_PORT = server.port
        settings.NEWSLETTER_SMTP_TIMEOUT = 5
        yield server


def wait_until(predicate, timeout=5.0):
    deadline = timezone.now() + datetime.timedelta(seconds=timeout)
    while timezone.now() < deadline:
        if predicate():
            return True
        threading.Event().wait(0.02)
    return predicate()


# --- Building an edition -------------------------------------------------------------------
@pytest.fixture
def interests(db):
    return [AudienceInterestFactory(name=name) for name in ("Home", "Garden", "Money")]


@pytest.fixture
def stories(make_story, interests):
    made = []
    for number in range(9):
        made.append(
            make_story(
                title=f"Story <{number}> & friends",
                interests=[interests[number % 3]],
                first_published_at=timezone.now() - datetime.timedelta(days=number),
            )
        )
    return made


def subscriber(email_address, *followed, status=Subscriber.Status.ACTIVE):
    made = Subscriber.objects.create(email=email_address, status=status)
    made.interests.set(followed)
    return made


@pytest.fixture
def subscribers(interests):
    return [subscriber(f"reader{n}@example.com", interests[n % 3]) for n in range(6)]


def edition(**fields) -> Edition:
    fields.setdefault("title", "This week: small fixes, big relief")
    fields.setdefault("intro", "Stories chosen for you.")
    fields.setdefault("k", 4)
    return Edition.objects.create(**fields)


def start(made: Edition) -> list[tuple[int, int]]:
    """Start an edition now and plan it, as ``send_due_editions`` does."""
    Edition.objects.filter(pk=made.pk).update(status=Status.SCHEDULED, send_at=timezone.now())
    assert lifecycle.start_due_editions() == [made.pk]
    return lifecycle.plan_edition(made.pk)


def send_all(made: Edition, **kwargs) -> list[sending.ChunkReport]:
    return [sending.send_chunk(made.pk, *r, **kwargs) for r in lifecycle.pending_ranges(made.pk)]


def picks_of(made: Edition) -> dict[int, list[tuple]]:
    found: dict[int, list[tuple]] = {}
    for row in DeliveryPick.objects.filter(delivery__edition=made).values_list(
        "delivery__subscriber_id", "slot", "story_id", "reason", "probability", "exploration"
    ):
        found.setdefault(row[0], []).append(row[1:])
    return found


# --- Planning, picks, the state machine ----------------------------------------------------------
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


# --- The email ------------------------------------------------------------------------------------
def test_click_links_carry_only_a_signed_token_that_names_the_delivery_and_slot(
    stories, subscribers
):
    made = edition()
    start(made)
    send_all(made)
    for message in mail.outbox:
        delivery = Delivery.objects.get(subscriber__email=message.to[0])
        stored = {slot: story for slot, story, *_ in picks_of(made)[delivery.subscriber_id]}
        html = message.alternatives[0][0]
        tokens = CLICK.findall(html)
        assert tokens
        seen = {}
        for token in tokens:
            click = clicks.read_token(token)
            assert click.delivery_id == delivery.pk
            seen[click.slot] = token
        assert set(seen) == set(stored)
        # Text and HTML carry the same links; none carries the address.
        assert set(CLICK.findall(message.body)) == set(tokens)
        for url in re.findall(r'href="([^"]+)"', html):
            assert message.to[0] not in url
            assert "@" not in urlsplit(url).path


def test_the_email_has_unsubscribe_headers_a_message_id_titles_reasons_and_a_footer(
    stories, subscribers
):
    made = edition()
    start(made)
    send_all(made)
    message = next(m for m in mail.outbox if m.to[0] == subscribers[0].email)
    delivery = Delivery.objects.get(subscriber=subscribers[0])
    assert message.subject == made.title
    assert message.extra_headers["List-Unsubscribe"] == (
        f"<{subscriptions.unsubscribe_url(subscribers[0])}>"
    )
    assert message.extra_headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert message.extra_headers["Message-ID"] == delivery.message_id
    assert delivery.message_id == f"<edition-{made.pk}.delivery-{delivery.pk}@127.0.0.1>"
    html = message.alternatives[0][0]
    assert "Story &lt;0&gt; &amp; friends" in html or "Story &lt;3&gt; &amp; friends" in html
    assert "<0>" not in html
    assert "Change your interests" in html and "Unsubscribe" in html
    assert subscriptions.preferences_url(subscribers[0]).split("/preferences/")[0] in html
    for _, _, reason, *_ in picks_of(made)[subscribers[0].pk]:
        assert reason in message.body
    assert "Stories chosen for you." in message.body


def test_the_fast_mime_message_says_what_djangos_would(stories, subscribers):
    made = Edition(title="Ça va? Grandes nouvelles — week 4", pk=1)
    mail_item = Email(
        subject=made.title,
        from_email="Storyloom Café <stories@example.com>",
        to="reader@example.com",
        text="Hello\n.leading dot\nünïcödé " + "long line " * 40 + "\n",
        html="<p>Hello</p>\n<p>" + "x" * 2000 + "</p>\n",
        headers={
            "Message-ID": "<edition-1.delivery-2@example.com>",
            "List-Unsubscribe": "<https://example.com/u/abc/>",
            "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
        },
    )
    ours = email.message_from_bytes(
        MessageFrame(made.title, mail_item.from_email).as_bytes(mail_item),
        policy=email.policy.default,
    )
    django = email.message_from_bytes(
        mail_item.django_message().message().as_bytes(linesep="\r\n"),
        policy=email.policy.default,
    )
    for header in ("Subject", "From", "To", "Message-ID", "List-Unsubscribe", "MIME-Version"):
        assert str(ours[header]) == str(django[header]), header
    assert ours.get_content_type() == django.get_content_type() == "multipart/alternative"
    # Line ends are the transport's business (SMTP sends CRLF): compare the text.
    assert [p.get_content().replace("\r\n", "\n") for p in ours.iter_parts()] == [
        p.get_content().replace("\r\n", "\n") for p in django.iter_parts()
    ]
    assert [p.get_content_type() for p in ours.iter_parts()] == ["text/plain", "text/html"]
    # UTF-8 text goes as 8bit (as Django sends it); a line too long for SMTP makes its
    # part quoted-printable; headers are ASCII and every line fits.
    assert [p["Content-Transfer-Encoding"] for p in ours.iter_parts()] == [
        "8bit",
        "quoted-printable",
    ]
    raw = MessageFrame(made.title, mail_item.from_email).as_bytes(mail_item)
    assert max(len(line) for line in raw.split(b"\r\n")) <= 998
    assert raw.split(b"\r\n\r\n")[0].isascii()
    assert b"\n" not in raw.replace(b"\r\n", b"")


def test_wire_body_ends_lines_with_crlf_doubles_leading_dots_and_keeps_the_dot_back():
    assert smtp.wire_body(b"a\n.b\r\n..c\rd") == b"a\r\n..b\r\n...c\r\nd\r\n"
    assert not smtp.wire_body(b"x\r\n").endswith(b".\r\n")


# --- Exactly once over SMTP ----------------------------------------------------------------------
def received(server, made) -> dict[str, int]:
    return {to: len(found) for to, found in server.by_recipient().items()}


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


# --- The admin ------------------------------------------------------------------------------------
def editions_url(name, *args):
    from django.urls import reverse

    return reverse(f"newsletter_editions:{name}", args=args)


def test_a_social_manager_writes_previews_and_sends_an_edition(
    client, social_manager, stories, subscribers
):
    client.force_login(social_manager)
    answer = client.post(
        editions_url("add"),
        {"title": "Spring fixes", "intro": "Hello.", "window_days": 30, "k": 3, "send_at": ""},
    )
    made = Edition.objects.get(title="Spring fixes")
    assert answer.status_code == 302
    assert answer.url == editions_url("preview", made.pk)
    assert made.status == Status.DRAFT and made.created_by == social_manager

    preview = client.get(editions_url("preview", made.pk))
    assert preview.status_code == 200
    assert subscribers[0].email in preview.content.decode()
    assert "Because you follow" in preview.content.decode()
    assert not Delivery.objects.exists()  # a preview stores nothing

    listing = client.get(editions_url("index"))
    assert "Spring fixes" in listing.content.decode()

    asked = client.get(editions_url("action", made.pk, "send"))
    assert "6 active subscribers" in asked.content.decode()
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr("django.db.transaction.on_commit", lambda callback, **kw: callback())
        sent = client.post(editions_url("action", made.pk, "send"))
    assert sent.url == editions_url("progress", made.pk)
    assert Edition.objects.get(pk=made.pk).status == Status.SENT
    assert len(mail.outbox) == 6

    data = client.get(editions_url("progress_data", made.pk)).json()
    assert (data["sent"], data["total"], data["pending"], data["failed"]) == (6, 6, 0, 0)
    page = client.get(editions_url("progress", made.pk)).content.decode()
    assert "data-edition-progress" in page and ">6</span> / <span" in page

    # Sent editions are not edited or deleted any more.
    assert client.get(editions_url("edit", made.pk)).url == editions_url("progress", made.pk)
    assert client.post(editions_url("delete", made.pk)).status_code == 302
    assert Edition.objects.filter(pk=made.pk).exists()


def test_sending_an_edition_without_candidates_says_why_and_changes_nothing(
    client, social_manager, make_story, subscribers
):
    make_story(first_published_at=timezone.now() - datetime.timedelta(days=60))
    made = edition(window_days=7)
    client.force_login(social_manager)
    answer = client.post(editions_url("action", made.pk, "send"), follow=True)
    page = answer.content.decode()
    assert "No live story was first published in the last 7 days" in page
    assert Edition.objects.get(pk=made.pk).status == Status.DRAFT
    scheduled = client.post(
        editions_url("action", made.pk, "schedule"),
        {
            "send_at": (timezone.localtime() + datetime.timedelta(hours=2)).strftime(
                "%Y-%m-%d %H:%M"
            )
        },
        follow=True,
    )
    assert "nothing to send" in scheduled.content.decode()
    assert Edition.objects.get(pk=made.pk).status == Status.DRAFT
    assert "No live story" in client.get(editions_url("preview", made.pk)).content.decode()
    assert not Delivery.objects.exists() and mail.outbox == []


def test_scheduling_and_cancelling(client, social_manager, stories, subscribers):
    made = edition()
    client.force_login(social_manager)
    assert "Send at" in client.get(editions_url("action", made.pk, "schedule")).content.decode()
    assert client.get(editions_url("edit", made.pk)).status_code == 200
    when = timezone.localtime() + datetime.timedelta(hours=2)
    client.post(
        editions_url("action", made.pk, "schedule"), {"send_at": when.strftime("%Y-%m-%d %H:%M")}
    )
    made.refresh_from_db()
    assert made.status == Status.SCHEDULED
    assert abs((made.send_at - when).total_seconds()) < 60
    assert lifecycle.start_due_editions() == []  # not due yet
    assert (
        "Yes, cancel it" in client.get(editions_url("action", made.pk, "cancel")).content.decode()
    )
    client.post(editions_url("action", made.pk, "cancel"))
    assert Edition.objects.get(pk=made.pk).status == Status.CANCELLED
    # A cancelled edition cannot be sent.
    client.post(editions_url("action", made.pk, "send"))
    assert Edition.objects.get(pk=made.pk).status == Status.CANCELLED


def test_editors_do_not_manage_editions(client, editor, stories):
    made = edition()
    client.force_login(editor)
    for url in (
        editions_url("index"),
        editions_url("preview", made.pk),
        editions_url("progress_data", made.pk),
    ):
        assert client.get(url).status_code in (302, 403), url
    client.post(editions_url("action", made.pk, "send"))
    assert Edition.objects.get(pk=made.pk).status == Status.DRAFT


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


def test_uncertain_deliveries_are_listed_on_the_edition_and_sent_again_in_one_click(
    client, social_manager, editor, stories, subscribers, django_capture_on_commit_callbacks
):
    made = edition()
    start(made)
    send_all(made)
    doubtful = Delivery.objects.get(subscriber=subscribers[2])
    # As a worker killed between its commit and its dot leaves it.
    Delivery.objects.filter(pk=doubtful.pk).update(state=State.UNCERTAIN)
    mail.outbox.clear()
    client.force_login(social_manager)

    page = client.get(editions_url("progress", made.pk)).content.decode()
    assert 'data-field="uncertain">1</span>' in page
    assert subscribers[2].email in page
    assert f'action="{editions_url("resend", made.pk)}"' in page
    assert client.get(editions_url("progress_data", made.pk)).json()["sent"] == 5

    with django_capture_on_commit_callbacks(execute=True):
        answer = client.post(editions_url("resend", made.pk))
    assert answer.url == editions_url("progress", made.pk)
    assert [message.to for message in mail.outbox] == [[subscribers[2].email]]
    doubtful.refresh_from_db()
    assert doubtful.state == State.SENT
    assert Edition.objects.get(pk=made.pk).status == Status.SENT
    assert progress.progress(Edition.objects.get(pk=made.pk))["uncertain"] == 0

    # Only people who may send editions may send them again.
    Delivery.objects.filter(pk=doubtful.pk).update(state=State.UNCERTAIN)
    client.force_login(editor)
    client.post(editions_url("resend", made.pk))
    assert Delivery.objects.get(pk=doubtful.pk).state == State.UNCERTAIN
