"""Project-level housekeeping tasks (found by Celery's autodiscovery: ``cms`` is an app)."""

from celery import shared_task

from . import ops


@shared_task(name="cms.tasks.purge_task_failures", ignore_result=True)
def purge_task_failures():
    """Beat: forget background task failures older than ``TASK_FAILURES_KEEP_DAYS``."""
    return ops.purge_failures()
