"""Operations records: what went wrong in the background, for the admin to show."""

from django.db import models
from django.utils import timezone


class TaskFailure(models.Model):
    """A Celery task that ended in an exception, as ``cms.ops.record_failure`` saw it.

    The same task failing with the same exception and message again within an hour adds
    to ``occurrences`` and moves ``failed_at`` on, so a beat task failing every few
    seconds while a server is down is one row, not thousands. ``args`` is a summary with
    anything that looks like a secret masked; ``traceback`` keeps its last part.
    Rows older than ``TASK_FAILURES_KEEP_DAYS`` are purged by beat.
    """

    task_name = models.CharField(max_length=200, db_index=True)
    task_id = models.CharField(max_length=64, blank=True, help_text="The latest occurrence's.")
    args = models.TextField("arguments", blank=True)
    exception_type = models.CharField(max_length=200)
    message = models.TextField(blank=True)
    traceback = models.TextField(blank=True)
    hostname = models.CharField("worker", max_length=200, blank=True)
    occurrences = models.PositiveIntegerField(default=1)
    first_failed_at = models.DateTimeField(default=timezone.now)
    failed_at = models.DateTimeField("last failed at", default=timezone.now, db_index=True)

    class Meta:
        ordering = ["-failed_at", "-pk"]
        verbose_name = "background task failure"

    def __str__(self):
        return f"{self.task_name}: {self.exception_type}"

    @property
    def summary(self) -> str:
        first_line = self.message.strip().splitlines()[0] if self.message.strip() else ""
        text = f"{self.exception_type}: {first_line}" if first_line else self.exception_type
        return text if len(text) <= 120 else text[:119] + "…"


class QuarantinedMessage(models.Model):
    """A message a queue or stream consumer could not handle on its own, kept aside.

    A consumer that meets an entry it cannot process (a value the database refuses, a
    field it cannot read) records it here with the error and goes on with the rest: one
    bad message never stops the others being counted. ``payload`` is the message as
    ASCII JSON, so whatever it held (NUL bytes, lone surrogates, invalid UTF-8) can be
    stored and read back. Listed in *Reports → Quarantined messages* and counted by
    ``storyloom_status``; rows older than ``QUARANTINE_KEEP_DAYS`` are purged by beat.
    """

    consumer = models.CharField(max_length=100, db_index=True)
    key = models.CharField(max_length=200, help_text="The message's id in its stream or queue.")
    payload = models.TextField(blank=True)
    error = models.TextField()
    quarantined_at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        ordering = ["-quarantined_at", "-pk"]
        verbose_name = "quarantined message"
        constraints = [
            models.UniqueConstraint(fields=["consumer", "key"], name="one_quarantine_per_message")
        ]

    def __str__(self):
        return f"{self.consumer}: {self.key}"

    @property
    def summary(self) -> str:
        first_line = self.error.strip().splitlines()[0] if self.error.strip() else ""
        return first_line if len(first_line) <= 120 else first_line[:119] + "…"


class DemoRecord(models.Model):
    """One piece of the demo site (``manage.py load_demo``): a row it made, or a step it
    took (``kind`` alone, no row: "history", "audience"…).

    ``manage.py remove_demo`` deletes exactly the rows recorded here, and then these
    records; what a person made on the site is never recorded, so it stays.
    """

    kind = models.CharField(max_length=64)
    content_type = models.ForeignKey(
        "contenttypes.ContentType", null=True, blank=True, on_delete=models.CASCADE
    )
    object_id = models.CharField(max_length=64, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["kind", "content_type", "object_id"], name="cms_demo_record_once"
            )
        ]
        verbose_name = "demo record"

    def __str__(self):
        return f"demo {self.kind} {self.object_id}".strip()
