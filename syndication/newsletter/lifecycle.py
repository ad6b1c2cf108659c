"""An edition's life and its deliveries' lives, written once, and what moves them.

Both state machines are data (``DELIVERY_MOVES``, ``EDITION_MOVES``); every change goes
through ``move_deliveries`` / ``move_edition``, a conditional UPDATE on the states an
event may start from, so two callers racing cannot both make it.

1. **Start.** ``start_due_editions`` (beat, every minute) moves editions whose ``send_at``
   has passed from ``scheduled`` to ``sending``, so two beats or a person pressing "Send
   now" cannot start one twice. ``plan_edition`` checks the candidate stories (none: the
   edition fails with that reason, nothing is sent) and creates one ``Delivery`` per
   active subscriber in one transaction: the recipients are fixed when the send starts.
   An edition whose title or intro reads as selling without a reason given for those
   words (``voice.sending_block``) fails the same way.
   Its deliveries are cut into ranges of subscriber ids (``NEWSLETTER_CHUNK_SIZE``), each
   sent by ``sending.send_chunk``.
2. **Finish.** ``finish_if_done`` marks an edition ``sent`` when nothing is left to
   settle; ``sweep_editions`` (beat) re-enqueues ranges whose worker died.

docs/newsletter.md, "Sending" and "Resuming", has the long version.
"""

import datetime
import logging
from collections.abc import Sequence

from django.conf import settings
from django.db import transaction
from django.db.models import Max, Q
from django.utils import timezone

from .candidates import candidate_stories, no_candidates_message
from .models import Delivery, Edition, Subscriber
from .voice import sending_block

logger = logging.getLogger(__name__)

State = Delivery.State
Status = Edition.Status

# --- A delivery's life, written once ------------------------------------------------------
#: event → (states it may start from, state it ends in)::
#:
#:     pending ──claim──► sending ──commit──► uncertain ──ended──► sent
#:        ▲  ▲               │  │                │  ▲                 │ (the server
#:        │  └──── defer ────┘  └──► failed ◄────┼──┼─────────────────┘  refused the dot)
#:        └────────── resend (a person) ─────────┘  └── doubt (no reply to the dot)
#:     pending / sending ──skip──► skipped   (left, nothing to pick, edition cancelled)
#:
#: Over plain backends (console, locmem) ``send`` goes straight from sending to sent.
DELIVERY_MOVES: dict[str, tuple[tuple[str, ...], str]] = {
    "claim": ((State.PENDING, State.SENDING), State.SENDING),
    "commit": ((State.PENDING, State.SENDING), State.UNCERTAIN),
    "ended": ((State.UNCERTAIN,), State.SENT),
    "send": ((State.PENDING, State.SENDING), State.SENT),
    "release": ((State.SENDING,), State.PENDING),
    "defer": ((State.SENDING, State.SENT, State.UNCERTAIN), State.PENDING),
    "fail": ((State.SENDING, State.SENT, State.UNCERTAIN), State.FAILED),
    "skip": ((State.PENDING, State.SENDING), State.SKIPPED),
    "doubt": ((State.SENT, State.UNCERTAIN), State.UNCERTAIN),
    "resend": ((State.UNCERTAIN,), State.PENDING),
}
#: Deliveries still to settle: while any is left, the edition is sending.
UNSETTLED = (State.PENDING, State.SENDING)


def move_deliveries(deliveries, event: str, **fields) -> int:
    """Apply ``event`` to the deliveries in ``deliveries`` (a queryset) that may take it."""
    sources, target = DELIVERY_MOVES[event]
    return deliveries.filter(state__in=sources).update(state=target, **fields)


# --- An edition's life, written once -------------------------------------------------------
EDITION_MOVES: dict[str, tuple[tuple[str, ...], str]] = {
    "schedule": ((Status.DRAFT, Status.SCHEDULED, Status.FAILED), Status.SCHEDULED),
    "start": ((Status.SCHEDULED,), Status.SENDING),
    "finish": ((Status.SENDING,), Status.SENT),
    # Uncertain deliveries sent again on a person's word: the edition goes out again.
    "reopen": ((Status.SENT,), Status.SENDING),
    "fail": ((Status.SENDING,), Status.FAILED),
    "cancel": ((Status.DRAFT, Status.SCHEDULED, Status.SENDING), Status.CANCELLED),
}
#: What a social manager may do with an edition in each state (the admin's buttons).
EDITION_ACTIONS = {
    "send": (Status.DRAFT, Status.SCHEDULED, Status.FAILED),
    "schedule": (Status.DRAFT, Status.SCHEDULED, Status.FAILED),
    "cancel": (Status.DRAFT, Status.SCHEDULED, Status.SENDING),
}
EDITABLE = (Status.DRAFT, Status.SCHEDULED, Status.FAILED)


def move_edition(edition_id: int, event: str, **fields) -> bool:
    sources, target = EDITION_MOVES[event]
    return bool(
        Edition.objects.filter(pk=edition_id, status__in=sources).update(status=target, **fields)
    )


# --- Starting an edition ------------------------------------------------------------------------
def start_due_editions(now=None, only: Sequence[int] | None = None) -> list[int]:
    """Move editions due now from scheduled to sending (each by one conditional UPDATE,
    so only one caller starts it); return the ids this call started. ``only``: just
    these editions (``manage.py send_edition`` sending one in its own process)."""
    now = now or timezone.now()
    due = Edition.objects.filter(status=Status.SCHEDULED, send_at__lte=now).order_by("send_at")
    if only is not None:
        due = due.filter(pk__in=only)
    started = []
    for edition_id in due.values_list("pk", flat=True):
        if move_edition(edition_id, "start", started_at=now, finished_at=None, error=""):
            started.append(edition_id)
    return started


def plan_edition(edition_id: int) -> list[tuple[int, int]]:
    """Fix an edition's recipients (once) and return the subscriber-id ranges to send.

    Fails the edition, sending nothing, when its window has no candidate story.
    """
    edition = Edition.objects.get(pk=edition_id)
    if edition.status != Status.SENDING:
        return []
    now = edition.started_at or timezone.now()
    if not candidate_stories(edition, now).exists():
        move_edition(
            edition_id, "fail", error=no_candidates_message(edition), finished_at=timezone.now()
        )
        return []
    planned = edition.total or Delivery.objects.filter(edition_id=edition_id).exists()
    selling = None if planned else sending_block(edition)
    if selling:
        # Scheduled before the brand's voice settings changed, or started in code; once
        # planned, it is going out (or going out again) and is left to finish.
        move_edition(edition_id, "fail", error=selling, finished_at=timezone.now())
        return []
    with transaction.atomic():
        edition = Edition.objects.select_for_update().get(pk=edition_id)
        if edition.status != Status.SENDING:
            return []
        if not edition.total and not Delivery.objects.filter(edition_id=edition_id).exists():
            active = Subscriber.objects.filter(status=Subscriber.Status.ACTIVE).order_by("pk")
            batch: list[Delivery] = []
            for subscriber_id in active.values_list("pk", flat=True).iterator(chunk_size=5000):
                batch.append(Delivery(edition_id=edition_id, subscriber_id=subscriber_id))
                if len(batch) >= 5000:
                    Delivery.objects.bulk_create(batch, ignore_conflicts=True)
                    batch = []
            Delivery.objects.bulk_create(batch, ignore_conflicts=True)
            total = Delivery.objects.filter(edition_id=edition_id).count()
            Edition.objects.filter(pk=edition_id).update(total=total)
    finish_if_done(edition_id)
    return pending_ranges(edition_id)


def chunk_ranges(subscriber_ids: Sequence[int], size: int | None = None) -> list[tuple[int, int]]:
    """``(first, last)`` subscriber ids of consecutive runs of ``size`` sorted ids."""
    size = size or settings.NEWSLETTER_CHUNK_SIZE
    ids = sorted(subscriber_ids)
    return [(ids[i], ids[min(i + size, len(ids)) - 1]) for i in range(0, len(ids), size)]


def pending_ranges(edition_id: int, deliveries=None) -> list[tuple[int, int]]:
    deliveries = (
        deliveries
        if deliveries is not None
        else Delivery.objects.filter(edition_id=edition_id, state__in=UNSETTLED)
    )
    return chunk_ranges(list(deliveries.values_list("subscriber_id", flat=True)))


def finish_if_done(edition_id: int) -> bool:
    """Mark a sending edition sent once no delivery is left to settle."""
    if Delivery.objects.filter(edition_id=edition_id, state__in=UNSETTLED).exists():
        return False
    finished = move_edition(edition_id, "finish", finished_at=timezone.now(), error="")
    if finished:
        sent = Delivery.objects.filter(edition_id=edition_id, state=State.SENT).count()
        logger.info("newsletter edition %s sent: %s emails", edition_id, sent)
    return finished


def note_edition_problem(edition_id: int, message: str) -> None:
    """Show a passing problem (the mail server is down) on a sending edition."""
    Edition.objects.filter(pk=edition_id, status=Status.SENDING).update(error=message)


def cancel_edition(edition_id: int) -> bool:
    """Cancel a draft, scheduled or sending edition. Messages already past their commit
    still arrive; every other one is skipped, including those a worker is streaming
    right now (their commit finds them skipped and the message is dropped)."""
    with transaction.atomic():
        if not move_edition(edition_id, "cancel", finished_at=timezone.now()):
            return False
        move_deliveries(
            Delivery.objects.filter(edition_id=edition_id),
            "skip",
            error="The edition was cancelled before this email went out.",
        )
    return True


# --- Sweeping -----------------------------------------------------------------------------------
def sweep_editions(now=None) -> list[tuple[int, int, int]]:
    """Ranges to send again for every sending edition: deliveries claimed by a worker
    that died (``sending`` for longer than any task may run), and — when the edition
    has made no progress for that long, so no task for them can still be queued —
    pending ones that are due. Unplanned editions (their planner died) are planned.
    Editions with nothing left are marked sent. Returns ``(edition, first, last)``."""
    now = now or timezone.now()
    stuck = now - datetime.timedelta(seconds=settings.NEWSLETTER_STUCK_AFTER)
    due = now - datetime.timedelta(seconds=settings.NEWSLETTER_RETRY_AFTER)
    work = []
    for edition in Edition.objects.filter(status=Status.SENDING):
        deliveries = Delivery.objects.filter(edition_id=edition.pk)
        if not edition.total and not deliveries.exists():
            if edition.started_at is None or edition.started_at < stuck:
                work += [(edition.pk, *r) for r in plan_edition(edition.pk)]
            continue
        if finish_if_done(edition.pk):
            continue
        latest = deliveries.aggregate(attempted=Max("attempted_at"), sent=Max("sent_at"))
        progress = max(
            [t for t in (edition.started_at, latest["attempted"], latest["sent"]) if t],
            default=None,
        )
        needing = Q(state=State.SENDING, attempted_at__lt=stuck)
        if progress is None or progress < stuck:
            needing |= Q(state=State.PENDING) & (
                Q(attempted_at__isnull=True) | Q(attempted_at__lt=due)
            )
        ranges = pending_ranges(edition.pk, deliveries.filter(needing))
        work += [(edition.pk, first, last) for first, last in ranges]
    return work
