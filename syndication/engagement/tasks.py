"""Celery tasks of engagement: flushing the event buffer, daily housekeeping.

Not under an app's own ``tasks`` module, so Celery's autodiscovery does not find
them by itself: ``syndication/tasks.py`` imports this module.
"""

from django.conf import settings

from celery import shared_task

from . import flush, privacy, shares


@shared_task(
    name="syndication.engagement.tasks.flush_events",
    # One task flushes batch after batch until the stream is empty. Acknowledged after
    # the work: a task lost with its worker is simply sent again (flushing is idempotent).
    acks_late=True,
    ignore_result=True,
)
def flush_events():
    """Beat: add the buffered events up into the rollups (nothing to do when embedded)."""
    if not settings.ENGAGEMENT_REDIS_URL:
        return None
    return flush.flush(settings.ENGAGEMENT_BATCH_SIZE)


@shared_task(name="syndication.engagement.tasks.rotate_salts", ignore_result=True)
def rotate_salts():
    """Beat, daily: delete salts older than yesterday, batch records nobody will replay
    and share tokens whose week went by without bringing anyone."""
    return {
        "salts": privacy.rotate_salts(),
        "batches": flush.forget_old_batches(),
        "shares": shares.forget_unused_shares(),
    }
