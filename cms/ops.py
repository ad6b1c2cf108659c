"""What background tasks did: failures kept for the admin, the last run of each beat task.

Celery's signals drive both (connected by ``cms.apps.CmsConfig.ready`` in every process):

* ``task_failure`` → ``record_failure``: a ``TaskFailure`` row (or one more occurrence
  of a recent identical one), shown in *Reports → Background task failures* and counted
  on the dashboard. Retries are not failures: Celery sends ``task_retry`` for them.
* ``task_postrun`` of a task in ``CELERY_BEAT_SCHEDULE`` → ``record_run``: when it last
  ran and how it ended, kept in the shared cache for ``manage.py storyloom_status``.

Neither may break a task: anything going wrong here is logged and dropped.
https://docs.celeryq.dev/en/stable/userguide/signals.html#task-signals
"""

import datetime
import functools
import json
import logging
import re

from django.conf import settings
from django.core.cache import cache
from django.db import close_old_connections
from django.utils import timezone

from .logging import redact

logger = logging.getLogger(__name__)

#: An identical failure within this window is counted on the existing row.
SAME_FAILURE_WITHIN = datetime.timedelta(hours=1)
ARGS_LENGTH = 500
ARG_LENGTH = 80
MESSAGE_LENGTH = 2000
TRACEBACK_LENGTH = 10_000
#: Keyword arguments whose values are never written down.
SECRET_NAME = re.compile(r"pass|secret|token|key|auth|cookie|credential|signature", re.I)
LAST_RUN_KEY = "storyloom:ops:last-run:{}"
LAST_RUN_KEEP = 30 * 24 * 3600


def _cut(text: str, length: int) -> str:
    return text if len(text) <= length else text[: length - 1] + "…"


def summarize_args(args, kwargs) -> str:
    """The task's arguments, short, with secret-looking keyword values masked."""
    parts = [_cut(repr(value), ARG_LENGTH) for value in args or ()]
    for name, value in (kwargs or {}).items():
        shown = "***" if SECRET_NAME.search(str(name)) else _cut(repr(value), ARG_LENGTH)
        parts.append(f"{name}={shown}")
    return redact(_cut(", ".join(parts), ARGS_LENGTH))


def _traceback_text(einfo) -> str:
    text = getattr(einfo, "traceback", "") or ""
    if len(text) > TRACEBACK_LENGTH:
        # The end says where it broke; the start is the worker's own frames.
        text = "…" + text[-(TRACEBACK_LENGTH - 1) :]
    return redact(text)


def record_failure(
    sender=None, task_id=None, exception=None, args=None, kwargs=None, einfo=None, **extra
):
    """``task_failure`` receiver: keep the failure for the admin. Never raises."""
    from .models import TaskFailure

    name = getattr(sender, "name", None) or "unknown task"
    try:
        request = getattr(sender, "request", None)
        if not getattr(request, "is_eager", False):
            # A task that broke its database connection leaves it for us to replace.
            close_old_connections()
        now = timezone.now()
        details = {
            "task_id": task_id or "",
            "args": summarize_args(args, kwargs),
            "traceback": _traceback_text(einfo),
            "hostname": _cut(str(getattr(request, "hostname", "") or ""), 200),
            "failed_at": now,
        }
        kind = _cut(
            f"{type(exception).__module__}.{type(exception).__qualname__}".removeprefix(
                "builtins."
            ),
            200,
        )
        message = redact(_cut(str(exception), MESSAGE_LENGTH))
        same = (
            TaskFailure.objects.filter(
                task_name=name,
                exception_type=kind,
                message=message,
                failed_at__gte=now - SAME_FAILURE_WITHIN,
            )
            .order_by("-failed_at")
            .values_list("pk", "occurrences")
            .first()
        )
        if same:
            TaskFailure.objects.filter(pk=same[0]).update(occurrences=same[1] + 1, **details)
        else:
            TaskFailure.objects.create(
                task_name=name,
                exception_type=kind,
                message=message,
                first_failed_at=now,
                **details,
            )
    except Exception:
        logger.warning("could not record the failure of task %s (%s)", name, task_id, exc_info=True)


@functools.cache
def beat_task_names() -> frozenset[str]:
    return frozenset(entry["task"] for entry in settings.CELERY_BEAT_SCHEDULE.values())


def record_run(sender=None, task_id=None, task=None, state=None, **extra):
    """``task_postrun`` receiver: remember when a beat task last ran. Never raises."""
    name = getattr(task, "name", None)
    if name not in beat_task_names():
        return
    try:
        cache.set(
            LAST_RUN_KEY.format(name),
            {"at": timezone.now().isoformat(), "state": state or "", "task_id": task_id or ""},
            LAST_RUN_KEEP,
        )
    except Exception:
        logger.warning("could not record the run of task %s", name, exc_info=True)


def last_run(task_name: str) -> dict | None:
    """``{"at": datetime, "state": "SUCCESS" | "FAILURE" | …}`` of the task's last run."""
    found = cache.get(LAST_RUN_KEY.format(task_name))
    if not found:
        return None
    return {**found, "at": datetime.datetime.fromisoformat(found["at"])}


def purge_failures(now=None) -> int:
    """Delete failures last seen more than ``TASK_FAILURES_KEEP_DAYS`` ago."""
    from .models import TaskFailure

    now = now or timezone.now()
    cutoff = now - datetime.timedelta(days=settings.TASK_FAILURES_KEEP_DAYS)
    deleted, _ = TaskFailure.objects.filter(failed_at__lt=cutoff).delete()
    return deleted


def quarantine(consumer: str, messages) -> int:
    """Keep messages a consumer could not handle: ``messages`` is ``(key, payload, error)``.

    Call inside the consumer's own transaction, so a message is quarantined exactly when
    the batch it came in is recorded. ``payload`` may be anything JSON can hold; it is
    written as ASCII JSON (NUL, lone surrogates and all escaped), so what could not be
    stored as a value can be stored as its description. A message quarantined before
    (a batch replayed after a crash) is not added twice. Returns how many were given.
    """
    from .models import QuarantinedMessage

    rows = [
        QuarantinedMessage(
            consumer=_cut(consumer, 100),
            key=_cut(printable(str(key)), 200),
            payload=json.dumps(payload, ensure_ascii=True, default=repr),
            error=redact(_cut(printable(str(error)), MESSAGE_LENGTH)),
        )
        for key, payload, error in messages
    ]
    QuarantinedMessage.objects.bulk_create(rows, ignore_conflicts=True)
    return len(rows)


def printable(text: str) -> str:
    """``text`` with what a database column cannot hold (NUL, lone surrogates) escaped."""
    return text.encode("utf-8", "backslashreplace").decode("utf-8").replace("\x00", "\\x00")


def purge_quarantine(now=None) -> int:
    """Delete quarantined messages older than ``QUARANTINE_KEEP_DAYS``."""
    from .models import QuarantinedMessage

    now = now or timezone.now()
    cutoff = now - datetime.timedelta(days=settings.QUARANTINE_KEEP_DAYS)
    deleted, _ = QuarantinedMessage.objects.filter(quarantined_at__lt=cutoff).delete()
    return deleted


def recent_failures(hours: int = 24):
    from .models import TaskFailure

    since = timezone.now() - datetime.timedelta(hours=hours)
    return TaskFailure.objects.filter(failed_at__gte=since)


def connect_signals() -> None:
    from celery.signals import task_failure, task_postrun

    task_failure.connect(record_failure, weak=False, dispatch_uid="storyloom-record-failure")
    task_postrun.connect(record_run, weak=False, dispatch_uid="storyloom-record-run")
