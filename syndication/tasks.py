"""Celery tasks of syndication. The logic lives in ``syndication.publishing``."""

from django.conf import settings

from celery import shared_task

from . import publishing, tokens


@shared_task(name="syndication.tasks.dispatch_due_posts")
def dispatch_due_posts():
    """Beat: claim what is due and enqueue one ``publish_post`` per post."""

    return publishing.dispatch_due_posts(_enqueue)


def _enqueue(post_id, claim):
    publish_post.delay(post_id, claim)


@shared_task(name="syndication.tasks.sweep_posts")
def sweep_posts():
    """Beat: settle posts whose worker died, mark missed ones, refresh tokens ahead of time."""
    return {
        "stuck": publishing.sweep_stuck_posts(enqueue=_enqueue),
        "missed": publishing.mark_missed(),
        "tokens": tokens.refresh_expiring(),
    }


@shared_task(
    name="syndication.tasks.publish_post",
    # Acknowledge after the work, so a worker that dies mid-task leaves the message for
    # redelivery; the claim check makes a redelivered copy harmless. The hard limit stays
    # below the broker's visibility timeout and below the sweeper's stuck window, so no
    # live task is ever swept.
    acks_late=True,
    time_limit=settings.SYNDICATION_TASK_TIME_LIMIT,
    soft_time_limit=max(1, settings.SYNDICATION_TASK_TIME_LIMIT - 5),
    ignore_result=True,
)
def publish_post(post_id: int, claim: str):
    return publishing.publish_post(post_id, claim)
