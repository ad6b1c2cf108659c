"""``manage.py send_edition <id> --now | --watch``: send a newsletter edition from a shell.

Nothing here sends mail itself. ``--now`` takes the edition through the admin's "Send
now" (``candidates.check_candidates``, ``voice.sending_block``, then
``move_edition(…, "schedule")``) and starts it the way beat does (``start_due_editions``'
conditional UPDATE, then ``plan_edition``); the chunks are the workers' own task,
``tasks.send_chunk``. Where there is no worker to
wait for — eager tasks, or the embedded file-system broker — the chunks run here, one
after the other, and the bar moves after each. Otherwise ``send_due_editions`` is
enqueued, as the admin's button does, and the command follows the workers like
``--watch``. docs/newsletter.md, "From the command line".
"""

import time

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from cms.celery import app
from cms.progress import progress
from syndication.newsletter import candidates, lifecycle, sending, tasks, voice
from syndication.newsletter import progress as newsletter_progress
from syndication.newsletter.models import Edition

Status = Edition.Status
#: Where an edition's send has ended, one way or another.
FINISHED = (Status.SENT, Status.FAILED, Status.CANCELLED)


def pause(seconds: float) -> None:
    """Wait between two looks at the database (tests replace it)."""
    time.sleep(seconds)


def sends_in_process() -> bool:
    """Whether this process should send the chunks itself: tasks run eagerly, or they go
    to the embedded file-system broker, whose worker may not be running."""
    broker = str(app.conf.broker_url or "")
    return bool(app.conf.task_always_eager) or broker.startswith("filesystem")


def when(moment) -> str:
    return timezone.localtime(moment).strftime("%Y-%m-%d %H:%M") if moment else "an unknown time"


class Command(BaseCommand):
    help = (
        "Send a newsletter edition defined in the admin (--now), or follow one the workers "
        "are sending (--watch), with a progress bar: sent / total, rate and ETA."
    )

    def add_arguments(self, parser):
        parser.add_argument("edition_id", type=int, help="The edition's id (see the admin).")
        action = parser.add_mutually_exclusive_group(required=True)
        action.add_argument(
            "--now",
            action="store_true",
            help="Start it now, as the admin's Send now does, and follow it to the end.",
        )
        action.add_argument(
            "--watch", action="store_true", help="Only follow an edition being sent."
        )
        parser.add_argument(
            "--interval",
            type=float,
            default=1.0,
            help="Seconds between two looks at the progress (default 1).",
        )

    def handle(self, *args, edition_id, now=False, watch=False, interval=1.0, **options):
        if interval <= 0:
            raise CommandError("--interval must be more than 0 seconds.")
        edition = Edition.objects.filter(pk=edition_id).first()
        if edition is None:
            raise CommandError(
                f"No newsletter edition has the id {edition_id}: see Newsletter → Editions."
            )
        self.interval = interval
        if watch:
            self.check_watchable(edition)
        else:
            in_process = sends_in_process()
            self.start(edition, in_process)
            if in_process:
                self.send_here(edition)
                return
        self.follow(edition)

    # --- Starting ---------------------------------------------------------------------

    def start(self, edition, in_process: bool) -> None:
        """Send now, exactly as the admin's button: refuse what it refuses."""
        if edition.status == Status.SENT:
            raise CommandError(
                f"“{edition}” was already sent ({when(edition.finished_at)}): nothing to do."
            )
        if edition.status == Status.SENDING:
            if in_process:  # resumed here; the claims share the chunks out with any worker
                return
            raise CommandError(
                f"“{edition}” is being sent already: follow it with "
                f"`manage.py send_edition {edition.pk} --watch`."
            )
        if edition.status not in lifecycle.EDITION_ACTIONS["send"]:
            raise CommandError(
                f"“{edition}” is {edition.get_status_display().lower()}: it cannot be sent. "
                "Make a new edition in the admin."
            )
        try:
            candidates.check_candidates(edition)
        except candidates.NoCandidates as error:
            raise CommandError(f"“{edition}” was not sent: {error}") from None
        selling = voice.sending_block(edition)
        if selling:
            # The admin asks for a reason; a shell is no place to give one.
            raise CommandError(
                f"“{edition}” was not sent: {selling} Give the reason with Send now in the admin."
            )
        if not lifecycle.move_edition(edition.pk, "schedule", send_at=timezone.now(), error=""):
            raise CommandError(f"“{edition}” changed meanwhile; nothing done.")
        if in_process:
            # Beat's own start, for this edition only (if beat won the race, it started
            # it: the claims share the chunks out).
            lifecycle.start_due_editions(only=[edition.pk])
        else:
            tasks.send_due_editions.delay()
            self.stdout.write(f"“{edition}” is going out now; following the workers.")

    def check_watchable(self, edition) -> None:
        if edition.status in (Status.DRAFT, Status.FAILED):
            what = "is a draft" if edition.status == Status.DRAFT else "failed"
            reason = f" ({edition.error})" if edition.error else ""
            raise CommandError(
                f"“{edition}” {what}{reason}: nothing is being sent. Send it with "
                f"`manage.py send_edition {edition.pk} --now`."
            )
        if edition.status == Status.CANCELLED:
            raise CommandError(f"“{edition}” was cancelled: nothing is being sent.")
        if edition.status == Status.SCHEDULED:
            self.stdout.write(
                f"“{edition}” is scheduled for {when(edition.send_at)}; waiting for it to start."
            )

    # --- Sending here ---------------------------------------------------------------

    def send_here(self, edition) -> None:
        """Run the edition's chunks in this process until no delivery is left to settle.

        Planning first, as ``send_due_editions`` does (it fixes the recipients once; on
        a resumed edition it only says what is left). Deliveries a mail server deferred
        are tried again once due (``next_claim_at``), as the workers' re-enqueued chunks
        would be.
        """
        lifecycle.plan_edition(edition.pk)
        state = self.state(edition)
        with self.bar(state) as bar:
            try:
                while state["status"] == Status.SENDING:
                    due = sending.next_claim_at(edition.pk)
                    if due is None:  # nothing left to settle: done once marked so
                        lifecycle.finish_if_done(edition.pk)
                    elif due <= timezone.now():
                        for first, last in lifecycle.pending_ranges(edition.pk):
                            self.send_chunk(edition, first, last, bar)
                    else:  # deferred deliveries wait for their retry time
                        pause(self.interval)
                    state = self.state(edition)
                    bar.update(state["sent"], state["total"] or None)
            except KeyboardInterrupt:
                state = self.state(edition)
                raise CommandError(
                    f"Interrupted: “{edition}” is still sending ({state['sent']:,} of "
                    f"{state['total']:,} sent). What was not committed was given back; run "
                    "this again, or let beat's sweeper resume it."
                ) from None
            self.finish(edition, state, bar)

    def send_chunk(self, edition, first: int, last: int, bar) -> None:
        """One chunk, through the workers' own task (its handling of the soft time limit
        and of an unreachable server included), run here; then the bar moves."""
        result = tasks.send_chunk.apply(args=(edition.pk, first, last), throw=True)
        state = self.state(edition)
        bar.update(state["sent"], state["total"] or None)
        unreachable = (result.result or {}).get("unreachable")
        if unreachable:
            raise CommandError(
                f"The mail server could not be reached ({unreachable}). “{edition}” is "
                f"still sending: {state['sent']:,} of {state['total']:,} went out. Run this "
                "again when the server is back, or let beat's sweeper resume it."
            )

    # --- Following -------------------------------------------------------------------

    def follow(self, edition) -> None:
        """Show the progress of an edition the workers send, until it ends."""
        state = self.state(edition)
        with self.bar(state) as bar:
            try:
                while state["status"] not in FINISHED:
                    pause(self.interval)
                    state = self.state(edition)
                    bar.update(state["sent"], state["total"] or None)
            except KeyboardInterrupt:
                raise CommandError(
                    f"Stopped watching; “{edition}” goes on being sent by the workers."
                ) from None
            self.finish(edition, state, bar)

    # --- Reporting -------------------------------------------------------------------

    def state(self, edition) -> dict:
        edition.refresh_from_db()
        return newsletter_progress.progress(edition)

    def bar(self, state):
        """Sent / total, drawn at once (a known total appears when the send starts)."""
        return progress(
            total=state["total"] or None,
            label="Emails",
            stream=self.stderr,
            initial=state["sent"],
            every=max(10.0, self.interval),
        )

    def finish(self, edition, state, bar) -> None:
        bar.close(failed=state["status"] != Status.SENT)
        counts = (
            f"{state['sent']:,} of {state['total']:,} emails sent, "
            f"{state['failed']:,} failed, {state['skipped']:,} skipped"
        )
        if state["status"] == Status.FAILED:
            raise CommandError(f"“{edition}” failed: {edition.error or 'see the admin'}")
        if state["status"] == Status.CANCELLED:
            raise CommandError(f"“{edition}” was cancelled: {counts}.")
        self.stdout.write(
            self.style.SUCCESS(f"“{edition}” was sent ({when(edition.finished_at)}): {counts}.")
        )
        for failure in state["failures"][:5]:
            self.stdout.write(self.style.WARNING(f"  {failure['count']:,} × {failure['reason']}"))
        if state.get("uncertain"):
            self.stdout.write(
                self.style.WARNING(
                    f"  {state['uncertain']:,} uncertain (their final part may not have gone "
                    "out): see the edition's progress page in the admin to send them again."
                )
            )
