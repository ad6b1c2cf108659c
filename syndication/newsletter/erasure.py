"""Forgetting a subscriber: what deleting one erases beyond their own rows.

The ``Subscriber`` row takes its interests, reads, deliveries and picks with it
(``CASCADE``). Some records name the person without a foreign key, and are cleaned
here, on ``post_delete`` — so every way of deleting (the reader's "Delete my data", the
admin's Delete, a shell) forgets the same things, in the delete's own transaction:

* Wagtail's log entries about the subscriber (the admin's create, edit and delete rows)
  are labelled with ``str(subscriber)``, the address: they keep what was done, by whom
  and when, as "Deleted subscriber", without the address or any data;
* background task failures (``cms.TaskFailure``) whose arguments, message or traceback
  quote the address (a mail server refusing the recipient, say) have it replaced;
* the sign-up throttle's cache entry (a keyed hash of the address) is dropped.

Signed links need nothing: they carry the id and a fingerprint of the address, and stop
working with the row. docs/newsletter.md, "Privacy", lists what is kept and erased.
"""

import re

from django.contrib.contenttypes.models import ContentType
from django.core.cache import cache
from django.db.models import Q
from django.db.models.signals import post_delete

from wagtail.models import ModelLogEntry

from .models import Subscriber

DELETED = "Deleted subscriber"
#: What stands where an address was, in records kept after the subscriber went.
REDACTED = "[deleted subscriber]"
TASK_FAILURE_TEXT = ("args", "message", "traceback")


def forget(subscriber_id: int, email: str) -> None:
    """Erase what names this subscriber outside their own rows."""
    from cms.models import TaskFailure

    from .subscriptions import _throttle_key

    ModelLogEntry.objects.filter(
        content_type=ContentType.objects.get_for_model(Subscriber, for_concrete_model=False),
        object_id=str(subscriber_id),
    ).update(label=DELETED, data={})

    if email:
        quoted = Q()
        for name in TASK_FAILURE_TEXT:
            quoted |= Q(**{f"{name}__icontains": email})
        pattern = re.compile(re.escape(email), re.IGNORECASE)
        for failure in TaskFailure.objects.filter(quoted):
            for name in TASK_FAILURE_TEXT:
                setattr(failure, name, pattern.sub(REDACTED, getattr(failure, name)))
            failure.save(update_fields=TASK_FAILURE_TEXT)
        cache.delete(_throttle_key(email))


def _deleted(sender, instance, **kwargs) -> None:
    forget(instance.pk, instance.email)


def connect() -> None:
    post_delete.connect(_deleted, sender=Subscriber, dispatch_uid="storyloom-forget-subscriber")
