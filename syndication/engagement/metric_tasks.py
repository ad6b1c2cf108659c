"""Celery task that collects channel metrics. The logic lives in ``engagement.collect``.

Not named ``tasks.py`` (that module is the event flusher's), so Celery's autodiscovery
does not find it by itself: ``syndication.tasks`` imports it.
"""

from celery import shared_task

from . import collect


@shared_task(name="syndication.engagement.metric_tasks.collect_channel_metrics", ignore_result=True)
def collect_channel_metrics():
    """Beat, every ``ENGAGEMENT_METRICS_EVERY`` minutes: one snapshot per recent post."""
    return collect.collect_channel_metrics()
