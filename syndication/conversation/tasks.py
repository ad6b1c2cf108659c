"""Celery tasks of the conversation app, found by Celery's autodiscovery. Thin: the
logic lives in ``conversation.collect`` (docs/conversation.md, "Schedule")."""

from django.conf import settings

from celery import shared_task

from . import alerts, collect, publicity


@shared_task(name="syndication.conversation.tasks.collect_due_conversations", ignore_result=True)
def collect_due_conversations():
    """Beat: claim the posts whose conversation is due, one ``collect_conversation`` each."""

    def enqueue(post_id, claim):
        collect_conversation.delay(post_id, claim)

    return collect.dispatch(enqueue)


@shared_task(
    name="syndication.conversation.tasks.collect_conversation",
    # Acknowledged after the work: a copy redelivered after its worker died finds its
    # claim taken (``collect.take``) and returns; the lease lets the next dispatch retry.
    acks_late=True,
    time_limit=settings.SYNDICATION_TASK_TIME_LIMIT,
    soft_time_limit=max(1, settings.SYNDICATION_TASK_TIME_LIMIT - 5),
    ignore_result=True,
)
def collect_conversation(post_id: int, claim: str):
    result = collect.collect_post(post_id, claim)
    # An approved reply edited or deleted leaves the story page at once (committed by now).
    publicity.after_collection(result)
    alert = alerts.check_after_collection(result)
    if alert is not None:
        email_alert.delay(alert.pk)
    return result


@shared_task(
    name="syndication.conversation.tasks.email_alert",
    autoretry_for=(OSError,),
    retry_backoff=60,
    max_retries=5,
    ignore_result=True,
)
def email_alert(alert_id: int):
    """One email to the social managers about a story's conversation turning negative."""
    return alerts.email(alert_id)
