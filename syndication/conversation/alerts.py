"""A story whose conversation turns negative raises an alert (docs/conversation.md, "Alerts").

``CONVERSATION_ALERT_COMPLAINTS`` complaints (replies and quotes read as complaints by
``tone``) written within ``CONVERSATION_ALERT_WINDOW_MINUTES`` of each other, about one
story, across all its posts and networks, raise one ``ConversationAlert``. It shows on
the dashboard and at the top of the inbox until a social manager acknowledges it, and
one email goes to the people who may acknowledge it.

* **When**: after each collection that added or changed a complaint
  (``check_after_collection`` from the collection task), so the check costs nothing
  while a story is quiet.
* **One open alert per story**, held by a partial unique constraint: two workers finding
  the same burst at once make one alert; the loser's IntegrityError is the answer.
  While an alert is open, further complaints update its count and window.
* **Acknowledged complaints do not fire again**: only complaints written after the
  last acknowledged alert's window count towards a new one.
* **The email goes out once**: the task takes ``emailed_at`` in a conditional UPDATE
  before sending and gives it back if sending fails, so a retry may send it then.
"""

from __future__ import annotations

import datetime
import logging

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.mail import EmailMultiAlternatives
from django.db import IntegrityError, transaction
from django.db.models import Max
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.http import urlencode

from syndication.models import SyndicationPost

from .models import ConversationAlert, ConversationItem, ItemKind, Tone

logger = logging.getLogger(__name__)

#: How far back complaints are read when looking for a burst.
LOOKBACK = datetime.timedelta(hours=24)
#: Who is told: people who may acknowledge an alert.
ACKNOWLEDGE = "conversation.change_conversationalert"


def threshold() -> int:
    return max(1, int(settings.CONVERSATION_ALERT_COMPLAINTS))


def window() -> datetime.timedelta:
    return datetime.timedelta(minutes=max(1, int(settings.CONVERSATION_ALERT_WINDOW_MINUTES)))


def burst(times: list[datetime.datetime], count: int, span: datetime.timedelta):
    """The first ``count`` consecutive times (sorted) within ``span``, as ``(start, end)``
    of the whole run that follows it while it stays within ``span`` of its start; else None."""
    for i in range(len(times) - count + 1):
        if times[i + count - 1] - times[i] <= span:
            end = i + count - 1
            while end + 1 < len(times) and times[end + 1] - times[i] <= span:
                end += 1
            return times[i], times[end]
    return None


def complaints(story_id: int, since: datetime.datetime):
    """The visible complaints about one story written after ``since``, oldest first."""
    return ConversationItem.objects.visible().filter(
        post__story_id=story_id,
        kind__in=(ItemKind.REPLY, ItemKind.QUOTE),
        tone=Tone.COMPLAINT,
        created_at__gt=since,
    )


def check_story(story_id: int, now=None) -> ConversationAlert | None:
    """Raise (or grow) the story's alert if its complaints make a burst; return the new
    alert when one was raised now (the caller queues its email: ``tasks.email_alert``),
    else None."""
    now = now or timezone.now()
    opened = ConversationAlert.objects.filter(story_id=story_id, acknowledged_at__isnull=True)
    current = opened.first()
    if current is not None:
        # Grow the open alert with what came since it was raised.
        found = complaints(story_id, current.window_start - datetime.timedelta(microseconds=1))
        latest = found.aggregate(latest=Max("created_at"))["latest"]
        count = found.count()
        if count != current.complaints and latest:
            opened.filter(pk=current.pk).update(
                complaints=count, window_end=max(latest, current.window_end)
            )
        return None
    since = now - LOOKBACK
    last_end = ConversationAlert.objects.filter(
        story_id=story_id, acknowledged_at__isnull=False
    ).aggregate(last=Max("window_end"))["last"]
    if last_end and last_end > since:
        since = last_end
    times = sorted(complaints(story_id, since).values_list("created_at", flat=True))
    found = burst(times, threshold(), window())
    if found is None:
        return None
    start, end = found
    count = sum(1 for at in times if start <= at <= end)
    try:
        with transaction.atomic():
            alert = ConversationAlert.objects.create(
                story_id=story_id, window_start=start, window_end=end, complaints=count
            )
    except IntegrityError:
        return None  # another worker raised it a moment ago
    logger.info(
        "Conversation: %s complaints about story %s within %s; alert %s raised.",
        count,
        story_id,
        window(),
        alert.pk,
    )
    return alert


def check_after_collection(result: dict, now=None) -> ConversationAlert | None:
    """After a collection run (``collect.collect_post``'s result): check the post's story
    when the run added or changed a complaint (a quiet run costs no query)."""
    if not result.get("complaints"):
        return None
    story_id = (
        SyndicationPost.objects.filter(pk=result.get("post")).values_list("story_id", flat=True)
    ).first()
    return None if story_id is None else check_story(story_id, now)


def acknowledge(alert: ConversationAlert, user) -> bool:
    """Close an open alert; False if someone already had."""
    return bool(
        ConversationAlert.objects.filter(pk=alert.pk, acknowledged_at__isnull=True).update(
            acknowledged_at=timezone.now(), acknowledged_by=user
        )
    )


def recipients() -> list[str]:
    """The addresses of active people who may acknowledge alerts (social managers and
    superusers), each once."""
    users = get_user_model().objects.with_perm(
        ACKNOWLEDGE, include_superusers=True, backend="django.contrib.auth.backends.ModelBackend"
    )
    return sorted(set(users.filter(is_active=True).values_list("email", flat=True)) - {""})


def inbox_url(alert: ConversationAlert, absolute: bool = False) -> str:
    url = (
        reverse("conversation_inbox:index")
        + "?"
        + urlencode({"story": alert.story_id, "tone": Tone.COMPLAINT})
    )
    return settings.WAGTAILADMIN_BASE_URL.rstrip("/") + url if absolute else url


def email(alert_id: int) -> str:
    """Send the alert's email once; return what happened, in one word."""
    taken = ConversationAlert.objects.filter(pk=alert_id, emailed_at__isnull=True).update(
        emailed_at=timezone.now()
    )
    if not taken:
        return "already sent"
    alert = ConversationAlert.objects.select_related("story").get(pk=alert_id)
    to = recipients()
    if not to:
        return "nobody to tell"
    context = {"alert": alert, "story": alert.story, "inbox_url": inbox_url(alert, True)}
    message = EmailMultiAlternatives(
        subject=f"Complaints are building up on “{alert.story.title}”",
        body=render_to_string("conversation/email/alert.txt", context),
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=to,
    )
    try:
        message.send()
    except Exception:
        # Give the email back so a retry may send it.
        ConversationAlert.objects.filter(pk=alert_id).update(emailed_at=None)
        raise
    return "sent"
