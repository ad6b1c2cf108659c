"""How far an edition's send has got, and the deliveries left in doubt.

``progress`` is what the admin's Progress page (and ``manage.py send_edition``) shows;
``uncertain_deliveries`` lists the deliveries whose final dot may not have gone out, and
``resend_uncertain`` sends them again when a person says so (docs/newsletter.md,
"Exactly once per subscriber").
"""

from django.db import transaction
from django.db.models import Count

from .lifecycle import chunk_ranges, move_deliveries, move_edition
from .models import Delivery, Edition
from .tasks import enqueue_chunks

State = Delivery.State
Status = Edition.Status


def progress(edition) -> dict:
    """Sent / total, what is left, uncertain ones, and failures grouped by reason: three
    queries."""
    counts = {
        row["state"]: row["n"]
        for row in Delivery.objects.filter(edition_id=edition.pk)
        .order_by()
        .values("state")
        .annotate(n=Count("pk"))
    }
    failures = list(
        Delivery.objects.filter(edition_id=edition.pk, state=State.FAILED)
        .order_by()
        .values("error")
        .annotate(count=Count("pk"))
        .order_by("-count", "error")[:20]
    )
    retrying = (
        Delivery.objects.filter(edition_id=edition.pk, state=State.PENDING)
        .exclude(error="")
        .count()
    )
    total = edition.total or sum(counts.values())
    sent = counts.get(State.SENT, 0)
    return {
        "status": edition.status,
        "status_label": edition.get_status_display(),
        "total": total,
        "sent": sent,
        "failed": counts.get(State.FAILED, 0),
        "skipped": counts.get(State.SKIPPED, 0),
        "uncertain": counts.get(State.UNCERTAIN, 0),
        "pending": counts.get(State.PENDING, 0) + counts.get(State.SENDING, 0),
        "retrying": retrying,
        "percent": round(100 * sent / total, 1) if total else 0.0,
        "failures": [{"reason": row["error"], "count": row["count"]} for row in failures],
        "error": edition.error,
        "started_at": edition.started_at.isoformat() if edition.started_at else None,
        "finished_at": edition.finished_at.isoformat() if edition.finished_at else None,
    }


def uncertain_deliveries(edition_id: int):
    """The edition's deliveries whose final dot may not have gone out, oldest first."""
    return (
        Delivery.objects.filter(edition_id=edition_id, state=State.UNCERTAIN)
        .select_related("subscriber")
        .order_by("sent_at", "pk")
    )


def resend_uncertain(edition_id: int) -> int:
    """Send the edition again to its uncertain deliveries (a person's decision: some of
    them may have had the email already). They go back to ``pending`` and a sent edition
    to ``sending``; the chunks are enqueued once this commits. Returns how many."""
    with transaction.atomic():
        edition = Edition.objects.select_for_update().get(pk=edition_id)
        if edition.status not in (Status.SENDING, Status.SENT):
            return 0
        uncertain = Delivery.objects.filter(edition_id=edition_id, state=State.UNCERTAIN)
        subscriber_ids = list(uncertain.values_list("subscriber_id", flat=True))
        moved = move_deliveries(uncertain, "resend", attempted_at=None, sent_at=None, error="")
        if not moved:
            return 0
        if edition.status == Status.SENT:
            move_edition(edition_id, "reopen", finished_at=None, error="")
        ranges = chunk_ranges(subscriber_ids)
        transaction.on_commit(lambda: enqueue_chunks(edition_id, ranges))
    return moved
