"""Project-level housekeeping tasks (found by Celery's autodiscovery: ``cms`` is an app)."""

from celery import shared_task

from . import ops


@shared_task(name="cms.tasks.purge_task_failures", ignore_result=True)
def purge_task_failures():
    """Beat: forget task failures and quarantined messages past their keeping time.

    ``TASK_FAILURES_KEEP_DAYS`` and ``QUARANTINE_KEEP_DAYS``; one task for both, as
    both are the operations records of ``cms``.
    """
    return {"failures": ops.purge_failures(), "quarantined": ops.purge_quarantine()}
