"""``manage.py send_edition``: an edition sent or followed from a shell, with a progress bar.

Mail goes over a real socket to the aiosmtpd recorder of smtp_recorder.py, through
the exactly-once SMTP backend the workers use. Tasks are eager here, so ``--now`` sends
in this process; ``--watch`` follows chunks sent "by a worker" between two looks.
"""

import io
import re
import time

from django.core.management import CommandError, call_command

import pytest

from syndication.newsletter import candidates, lifecycle, sending
from syndication.newsletter.management.commands import send_edition
from syndication.newsletter.models import Delivery, Edition
from tests.newsletter import editions
from tests.newsletter.editions import edition, start
from tests.newsletter.smtp_recorder import HOST, SMTPRecorder, free_port, received, wait_until

# The stories and subscribers of the newsletter's own tests (the SMTP recorder is the
# conftest's).
interests = editions.interests
stories = editions.stories
subscribers = editions.subscribers

pytestmark = pytest.mark.django_db

State = Delivery.State
Status = Edition.Status


def run(*args) -> tuple[str, str]:
    out, err = io.StringIO(), io.StringIO()
    call_command("send_edition", *[str(a) for a in args], stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def counts_drawn(err: str, total: int) -> list[int]:
    """The "sent" figure of each progress line, in order."""
    return [int(n) for n in re.findall(rf"\b(\d+)/{total}\b", err)]


@pytest.fixture
def chunks_of_two(settings):
    settings.NEWSLETTER_CHUNK_SIZE = 2  # six subscribers: three chunks


def test_now_sends_in_this_process_and_the_bar_moves_after_each_chunk(
    stories, subscribers, smtp_server, chunks_of_two
):
    made = edition()
    out, err = run(made.pk, "--now")

    made.refresh_from_db()
    assert made.status == Status.SENT and made.total == 6
    assert wait_until(lambda: len(smtp_server.messages) == 6)
    assert set(received(smtp_server, made).values()) == {1}  # one email each
    lines = err.splitlines()
    assert counts_drawn(err, 6) == [0, 2, 4, 6]  # at the start, after each chunk, at the end
    assert all(line.startswith("Emails  [") for line in lines)
    assert "ETA" in lines[0] and "/s" in lines[0]
    assert "done in" in lines[-1] and "[####################]" in lines[-1]
    assert "6 of 6 emails sent, 0 failed, 0 skipped" in out


def test_an_unknown_id_is_a_clear_error():
    with pytest.raises(CommandError, match="No newsletter edition has the id 4040"):
        run(4040, "--now")
    with pytest.raises(CommandError, match="No newsletter edition has the id 4040"):
        run(4040, "--watch")


def test_one_of_now_or_watch_is_required(stories):
    made = edition()
    with pytest.raises(CommandError, match="one of the arguments --now --watch is required"):
        run(made.pk)


def test_an_edition_already_sent_is_refused_and_nothing_goes_out_again(
    stories, subscribers, smtp_server
):
    made = edition()
    run(made.pk, "--now")
    assert wait_until(lambda: len(smtp_server.messages) == 6)

    with pytest.raises(CommandError, match="was already sent .*: nothing to do"):
        run(made.pk, "--now")
    # Watching a sent edition just says how it went.
    out, _ = run(made.pk, "--watch")
    assert "was sent" in out and "6 of 6 emails sent" in out
    time.sleep(0.2)
    assert len(smtp_server.messages) == 6
    assert Delivery.objects.filter(edition=made).count() == 6


def test_an_edition_without_candidate_stories_is_refused_and_stays_a_draft(
    subscribers, smtp_server
):
    made = edition(window_days=3)
    message = candidates.no_candidates_message(made)
    with pytest.raises(CommandError, match=re.escape(message)):
        run(made.pk, "--now")
    made.refresh_from_db()
    assert made.status == Status.DRAFT and not Delivery.objects.exists()
    assert smtp_server.messages == []


@pytest.mark.parametrize(
    ("status", "words"),
    [
        (Status.DRAFT, "is a draft: nothing is being sent"),
        (Status.FAILED, "failed: nothing is being sent"),
        (Status.CANCELLED, "was cancelled: nothing is being sent"),
    ],
)
def test_watch_refuses_an_edition_nobody_is_sending(stories, status, words):
    made = edition(status=status)
    with pytest.raises(CommandError, match=words):
        run(made.pk, "--watch")


def test_a_cancelled_edition_is_not_sent(stories, subscribers):
    made = edition(status=Status.CANCELLED)
    with pytest.raises(CommandError, match="is cancelled: it cannot be sent"):
        run(made.pk, "--now")
    assert not Delivery.objects.exists()


def test_watch_follows_the_workers_until_the_edition_is_sent(
    stories, subscribers, smtp_server, chunks_of_two, monkeypatch
):
    made = edition()
    chunks = start(made)  # started and planned as beat does: the workers' job now
    assert len(chunks) == 3
    looks = []

    def a_worker_sends_a_chunk_meanwhile(seconds):
        looks.append(seconds)
        sending.send_chunk(made.pk, *chunks.pop(0))

    monkeypatch.setattr(send_edition, "pause", a_worker_sends_a_chunk_meanwhile)
    out, err = run(made.pk, "--watch", "--interval", "0.5")

    assert looks == [0.5, 0.5, 0.5]
    assert counts_drawn(err, 6) == [0, 2, 4, 6]
    assert "done in" in err.splitlines()[-1]
    assert "6 of 6 emails sent" in out
    assert wait_until(lambda: len(smtp_server.messages) == 6)


def test_now_with_workers_enqueues_what_the_admins_button_does_and_follows_it(
    stories, subscribers, smtp_server, monkeypatch
):
    # A real broker: the command only enqueues send_due_editions (the eager test
    # settings then run it at once, as a quick worker would) and follows.
    monkeypatch.setattr(send_edition, "sends_in_process", lambda: False)
    made = edition()
    out, err = run(made.pk, "--now")
    assert "is going out now; following the workers" in out
    assert "6 of 6 emails sent" in out and counts_drawn(err, 6)[-1] == 6
    assert wait_until(lambda: len(smtp_server.messages) == 6)

    started = edition()
    lifecycle.move_edition(started.pk, "schedule", send_at=started.created_at)
    lifecycle.start_due_editions(only=[started.pk])
    with pytest.raises(CommandError, match="is being sent already: follow it with"):
        run(started.pk, "--now")


def test_deferred_emails_are_sent_again_here_once_due(
    stories, subscribers, smtp_server, settings, monkeypatch
):
    settings.NEWSLETTER_RETRY_AFTER = 1
    busy = subscribers[2].email
    smtp_server.data_replies[busy] = "451 4.3.0 Mailbox busy, try later"
    waited = []

    def server_recovers(seconds):
        smtp_server.data_replies.clear()
        waited.append(seconds)
        time.sleep(seconds)

    monkeypatch.setattr(send_edition, "pause", server_recovers)
    made = edition()
    out, _ = run(made.pk, "--now", "--interval", "0.3")

    assert waited  # it waited for the retry to be due rather than hammering the server
    assert made.__class__.objects.get(pk=made.pk).status == Status.SENT
    assert wait_until(lambda: len(smtp_server.messages) == 6)
    assert set(received(smtp_server, made).values()) == {1}
    assert "6 of 6 emails sent, 0 failed" in out


def test_refusals_are_reported_by_reason(stories, subscribers, smtp_server):
    smtp_server.rcpt_replies[subscribers[1].email] = "550 5.1.1 No such user here"
    made = edition()
    out, err = run(made.pk, "--now")
    assert "5 of 6 emails sent, 1 failed, 0 skipped" in out
    assert "1 × Refused by the mail server: 550" in out and "No such user here" in out
    assert counts_drawn(err, 6)[-1] == 5


def test_an_unreachable_mail_server_stops_with_the_edition_resumable(
    stories, subscribers, settings
):
    settings.NEWSLETTER_EMAIL_BACKEND = "syndication.newsletter.smtp.CommittedSMTPBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = HOST, free_port()  # nothing listens there
    settings.NEWSLETTER_SMTP_TIMEOUT = 2
    made = edition()
    with pytest.raises(CommandError, match="could not be reached .* is still sending: 0 of 6"):
        run(made.pk, "--now")
    made.refresh_from_db()
    assert made.status == Status.SENDING
    assert set(Delivery.objects.values_list("state", flat=True)) == {State.PENDING}

    # The server is back: running it again resumes the same edition, same recipients.
    with SMTPRecorder() as server:
        settings.EMAIL_PORT = server.port
        out, _ = run(made.pk, "--now")
        assert wait_until(lambda: len(server.messages) == 6)
        assert set(received(server, made).values()) == {1}
    assert "6 of 6 emails sent" in out
    assert Delivery.objects.filter(edition=made).count() == 6


def test_now_starts_only_this_edition(stories, subscribers, smtp_server):
    due_too = edition(title="Another one, due as well")
    lifecycle.move_edition(due_too.pk, "schedule", send_at=due_too.created_at)
    made = edition()
    run(made.pk, "--now")
    assert wait_until(lambda: len(smtp_server.messages) == 6)
    # Beat starts the other one, with its chunks; this process sent only its own.
    due_too.refresh_from_db()
    assert due_too.status == Status.SCHEDULED and not due_too.deliveries.exists()
    assert {str(m["Subject"]) for m in smtp_server.messages} == {made.title}


def test_watch_waits_for_a_scheduled_edition_to_start(
    stories, subscribers, smtp_server, monkeypatch
):
    made = edition()
    lifecycle.move_edition(made.pk, "schedule", send_at=made.created_at)
    looks = []

    def beat_then_a_worker(seconds):
        looks.append(seconds)
        if len(looks) == 1:
            return  # not started yet
        if len(looks) == 2:
            start_and_plan = lifecycle.start_due_editions(only=[made.pk])
            assert start_and_plan == [made.pk]
            lifecycle.plan_edition(made.pk)
            return
        for chunk in lifecycle.pending_ranges(made.pk):
            sending.send_chunk(made.pk, *chunk)

    monkeypatch.setattr(send_edition, "pause", beat_then_a_worker)
    out, err = run(made.pk, "--watch")
    assert "is scheduled for" in out and "waiting for it to start" in out
    assert len(looks) == 3
    assert counts_drawn(err, 6) == [0, 6]  # the total appears once the send starts
    assert "6 of 6 emails sent" in out
