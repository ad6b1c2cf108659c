"""Celery tasks of engagement: flushing the event buffer, collecting channel metrics,
daily housekeeping. Found by Celery's autodiscovery (engagement is an app of its own).

The task names are those the tasks had before (beat's schedule, the queues' routes and
messages already queued use them), ``…metric_tasks…`` included.
"""

from django.conf import settings

from celery import shared_task

from . import collect, flush, privacy, shares


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


@shared_task(name="syndication.engagement.metric_tasks.collect_channel_metrics", ignore_result=True)
def collect_channel_metrics():
    """Beat, every ``ENGAGEMENT_METRICS_EVERY`` minutes: one snapshot per recent post.
    The logic lives in ``engagement.collect``."""
    return collect.collect_channel_metrics()
