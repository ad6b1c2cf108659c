"""What ``manage.py storyloom_status`` reports: is the background work keeping up?

``gather()`` returns plain data (``--json`` prints it as it is); each part reads one
thing and reports an ``error`` instead of raising, so one unreachable server does not
hide the rest.

* queues: messages waiting in each Celery queue the settings name (default, publishing,
  ingestion, newsletters), read through kombu (Redis lists, the file-system broker's
  files, RabbitMQ alike), and on Redis the messages taken by a worker but not yet
  acknowledged;
* publishing: the oldest post that is due and not yet claimed (beat or the publishing
  workers are behind when it is old), how many are due, publishing now, need a person;
* engagement: events waiting in the stream and read but not yet counted, when the
  flusher last ran and last counted a batch, when channel metrics were last collected;
* newsletter: editions being sent, with sent, failed and total deliveries;
* failures: background task failures in the last 24 hours;
* quarantined: messages a consumer set aside (an event the database refused, say),
  in all and in the last 24 hours, per consumer.
"""

import datetime

from django.conf import settings
from django.db.models import Count, Q, Sum
from django.utils import timezone

from . import ops
from .health import TIMEOUT, reason
from .logging import redact

FLUSH_TASK = "syndication.engagement.tasks.flush_events"
METRICS_TASK = "syndication.engagement.metric_tasks.collect_channel_metrics"
DISPATCH_TASK = "syndication.tasks.dispatch_due_posts"


def queue_names() -> list[str]:
    """Every queue the settings route a task to, the default first."""
    names = [settings.CELERY_TASK_DEFAULT_QUEUE]
    names += [route["queue"] for route in settings.CELERY_TASK_ROUTES.values() if "queue" in route]
    names += [settings.SYNDICATION_QUEUE, settings.ENGAGEMENT_QUEUE, settings.NEWSLETTER_QUEUE]
    return list(dict.fromkeys(names))


def _ago(moment, now) -> dict | None:
    if moment is None:
        return None
    return {"at": moment.isoformat(), "seconds_ago": round((now - moment).total_seconds())}


def queues() -> dict:
    from kombu import Connection
    from kombu.exceptions import ChannelError

    url = settings.CELERY_BROKER_URL
    answer = {"broker": redact(url), "waiting": {}, "unacknowledged": None}
    options = {
        **settings.CELERY_BROKER_TRANSPORT_OPTIONS,
        "socket_timeout": TIMEOUT,
        "socket_connect_timeout": TIMEOUT,
    }
    try:
        with Connection(url, connect_timeout=TIMEOUT, transport_options=options) as conn:
            conn.ensure_connection(max_retries=1, interval_start=0, interval_step=0)
            for name in queue_names():
                channel = conn.channel()
                try:
                    # A passive declare counts without creating; a queue never used is 0.
                    answer["waiting"][name] = channel.queue_declare(
                        queue=name, passive=True
                    ).message_count
                except ChannelError:
                    answer["waiting"][name] = 0
                finally:
                    channel.close()
            if getattr(conn.transport, "driver_type", "") == "redis":
                channel = conn.channel()
                try:
                    answer["unacknowledged"] = channel.client.hlen(channel.unacked_key)
                finally:
                    channel.close()
    except Exception as exc:
        answer["error"] = reason(exc)
    return answer


def publishing(now) -> dict:
    from syndication import states
    from syndication.models import SyndicationPost

    due = SyndicationPost.objects.due(now)
    oldest = due.select_related("account", "story").order_by("due_at", "pk").first()
    counts = SyndicationPost.objects.aggregate(
        publishing=Count("pk", filter=Q(state=states.PUBLISHING)),
        needs_attention=Count("pk", filter=Q(state__in=states.NEEDS_ATTENTION)),
    )
    return {
        "due": due.count(),
        "oldest_due": oldest
        and {
            "id": oldest.pk,
            "story": oldest.story.title,
            "account": str(oldest.account),
            **_ago(oldest.due_at, now),
        },
        **counts,
        "last_dispatch": _run(DISPATCH_TASK, now),
    }


def _run(task_name, now) -> dict | None:
    try:
        found = ops.last_run(task_name)
    except Exception as exc:
        return {"error": reason(exc)}
    return found and {**_ago(found["at"], now), "state": found["state"]}


def engagement(now) -> dict:
    from syndication.engagement.models import ChannelMetricSnapshot, FlushedBatch

    answer = {"stream": None}
    if settings.ENGAGEMENT_REDIS_URL:
        import redis

        from syndication.engagement.flush import GROUP

        stream = settings.ENGAGEMENT_STREAM
        answer["stream"] = {"name": stream}
        try:
            client = redis.Redis.from_url(
                settings.ENGAGEMENT_REDIS_URL,
                socket_timeout=TIMEOUT,
                socket_connect_timeout=TIMEOUT,
            )
            answer["stream"]["length"] = client.xlen(stream)
            try:
                answer["stream"]["pending"] = client.xpending(stream, GROUP)["pending"]
            except redis.ResponseError:  # no group yet: nothing was ever flushed
                answer["stream"]["pending"] = 0
        except Exception as exc:
            answer["stream"]["error"] = reason(exc)
    batch = FlushedBatch.objects.order_by("-flushed_at").first()
    snapshot = ChannelMetricSnapshot.objects.order_by("-taken_at").values("taken_at").first()
    answer.update(
        {
            "last_flush_run": _run(FLUSH_TASK, now),
            "last_batch": batch and {**_ago(batch.flushed_at, now), "events": batch.events},
            "last_metrics_run": _run(METRICS_TASK, now),
            "last_snapshot": snapshot and _ago(snapshot["taken_at"], now),
        }
    )
    return answer


def newsletter() -> dict:
    from syndication.newsletter.models import Delivery, Edition

    editions = Edition.objects.filter(status=Edition.Status.SENDING).annotate(
        sent=Count("deliveries", filter=Q(deliveries__state=Delivery.State.SENT)),
        failed=Count("deliveries", filter=Q(deliveries__state=Delivery.State.FAILED)),
        deliveries_made=Count("deliveries"),
    )
    return {
        "sending": [
            {
                "id": edition.pk,
                "title": edition.title,
                "sent": edition.sent,
                "failed": edition.failed,
                "total": edition.total or edition.deliveries_made,
                "started_at": edition.started_at and edition.started_at.isoformat(),
            }
            for edition in editions.order_by("started_at", "pk")
        ]
    }


def failures(now) -> dict:
    recent = ops.recent_failures(hours=24)
    latest = recent.first()
    return {
        "last_24h": recent.count(),
        "occurrences": recent.aggregate(n=Sum("occurrences"))["n"] or 0,
        "latest": latest
        and {"task": latest.task_name, "error": latest.summary, **_ago(latest.failed_at, now)},
    }


def quarantined(now) -> dict:
    """Messages consumers set aside, per consumer: in all, in the last 24 hours, the latest."""
    from .models import QuarantinedMessage

    since = now - datetime.timedelta(hours=24)
    per_consumer = QuarantinedMessage.objects.values("consumer").annotate(
        total=Count("pk"), last_24h=Count("pk", filter=Q(quarantined_at__gte=since))
    )
    latest = QuarantinedMessage.objects.first()
    return {
        "total": sum(row["total"] for row in per_consumer),
        "last_24h": sum(row["last_24h"] for row in per_consumer),
        "by_consumer": {
            row["consumer"]: {"total": row["total"], "last_24h": row["last_24h"]}
            for row in per_consumer.order_by("consumer")
        },
        "latest": latest
        and {
            "consumer": latest.consumer,
            "error": latest.summary,
            **_ago(latest.quarantined_at, now),
        },
    }


def _safely(part, *args) -> dict:
    try:
        return part(*args)
    except Exception as exc:
        return {"error": reason(exc)}


def gather(now: datetime.datetime | None = None) -> dict:
    now = now or timezone.now()
    return {
        "at": now.isoformat(),
        "queues": _safely(queues),
        "publishing": _safely(publishing, now),
        "engagement": _safely(engagement, now),
        "newsletter": _safely(newsletter),
        "task_failures": _safely(failures, now),
        "quarantined": _safely(quarantined, now),
    }
