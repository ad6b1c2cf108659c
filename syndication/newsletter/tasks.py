"""Celery tasks of the newsletter. The logic lives in ``syndication.newsletter.lifecycle``
(starting and sweeping editions) and ``syndication.newsletter.sending`` (a chunk).
Found by Celery's autodiscovery (the newsletter is an app of its own).
"""

import logging
import smtplib

from django.conf import settings
from django.db import transaction

from celery import shared_task
from celery.exceptions import SoftTimeLimitExceeded

from . import lifecycle, sending, subscriptions

logger = logging.getLogger(__name__)

#: A mail server that refuses a sign-up's email is asked again this often, this many times.
REQUEST_RETRY_AFTER = 60
REQUEST_RETRIES = 5


def enqueue_chunks(edition_id: int, ranges) -> int:
    for first, last in ranges:
        send_chunk.delay(edition_id, first, last)
    return len(ranges)


def queue_request(kind: str, email: str, interests=()) -> None:
    """Answer a reader's sign-up or "email me a link" in the background, once the
    request's transaction commits (``subscriptions.store_request`` keeps it meanwhile)."""
    key = subscriptions.store_request(kind, email, interests)
    transaction.on_commit(lambda: answer_request.delay(key))


@shared_task(bind=True, name="syndication.newsletter.tasks.answer_request", ignore_result=True)
def answer_request(self, key: str):
    """A reader's sign-up or "email me a link", stored under ``key`` by the form
    (``queue_request``): look the address up and send the email or not.
    A mail server that refuses is asked again later, ``REQUEST_RETRIES`` times."""
    attempt = self.request.retries
    while True:
        try:
            subscriptions.answer_request(key)
        except subscriptions.MailNotSent as error:
            if attempt >= REQUEST_RETRIES:
                subscriptions.forget_request(key)
                raise
            if not self.request.is_eager:
                countdown = REQUEST_RETRY_AFTER * 2**attempt
                raise self.retry(exc=error, countdown=countdown) from error
            attempt += 1  # eagerly (tests, no broker) a countdown means nothing: again now
        else:
            return


@shared_task(name="syndication.newsletter.tasks.forget_unconfirmed", ignore_result=True)
def forget_unconfirmed():
    """Beat, daily: delete sign-ups never confirmed whose confirmation link has expired."""
    return subscriptions.forget_unconfirmed()


@shared_task(name="syndication.newsletter.tasks.send_due_editions", ignore_result=True)
def send_due_editions():
    """Beat (and "Send now"): start the editions that are due and enqueue their chunks."""
    started = lifecycle.start_due_editions()
    chunks = 0
    for edition_id in started:
        chunks += enqueue_chunks(edition_id, lifecycle.plan_edition(edition_id))
    return {"started": started, "chunks": chunks}


@shared_task(name="syndication.newsletter.tasks.sweep_editions", ignore_result=True)
def sweep_editions():
    """Beat: re-enqueue chunks whose worker died, finish editions with nothing left."""
    work = lifecycle.sweep_editions()
    for edition_id, first, last in work:
        send_chunk.delay(edition_id, first, last)
    return {"chunks": len(work)}


@shared_task(
    bind=True,
    name="syndication.newsletter.tasks.send_chunk",
    # Acknowledged after the work: a worker that dies mid-chunk leaves the message, and
    # the claims make a redelivered copy harmless. The hard limit stays below the
    # sweeper's stuck window (NEWSLETTER_STUCK_AFTER), so no live chunk is ever swept,
    # and below the broker's visibility timeout (CELERY_BROKER_TRANSPORT_OPTIONS).
    acks_late=True,
    ignore_result=True,
    time_limit=settings.NEWSLETTER_TASK_TIME_LIMIT,
    soft_time_limit=max(1, settings.NEWSLETTER_TASK_TIME_LIMIT - 10),
)
def send_chunk(self, edition_id: int, first_subscriber_id: int, last_subscriber_id: int):
    """Send the edition to subscribers ``first…last`` still owed it (routed to
    ``NEWSLETTER_QUEUE``)."""
    args = (edition_id, first_subscriber_id, last_subscriber_id)
    try:
        report = sending.send_chunk(*args)
    except SoftTimeLimitExceeded:
        # What was not committed has been released: carry on in a fresh task.
        logger.warning("Newsletter chunk %s ran out of time; continuing in a new task", args)
        send_chunk.delay(*args)
        return {"continued": True}
    except (OSError, smtplib.SMTPException) as error:
        # The mail server cannot be reached at all: nothing was committed. Say so where
        # people look, and try again later.
        logger.warning("Newsletter chunk %s: mail server unreachable: %s", args, error)
        lifecycle.note_edition_problem(
            edition_id, f"The mail server could not be reached ({error}); trying again."
        )
        if not self.request.is_eager:  # eagerly, a countdown would be a tight loop
            send_chunk.apply_async(args, countdown=settings.NEWSLETTER_RETRY_AFTER)
        return {"unreachable": str(error)}
    if report.retry_after:
        send_chunk.apply_async(args, countdown=report.retry_after)
    return report.as_dict()
