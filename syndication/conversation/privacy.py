"""Forgetting a person who asks (docs/conversation.md, "Forgetting someone").

A social manager forgets the author of an item when they ask to be erased (GDPR art. 17)
or object (art. 21): every item of theirs on that network becomes a tombstone at once
(text, names and addresses erased, approval taken back), story pages that showed one of
them are purged, and a keyed hash of network and handle (``models.author_key``) is kept
so that collection never stores anything of theirs again (``collect.store`` drops it).
"""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.utils import timezone

from . import publicity
from .collect import ERASED
from .models import ConversationItem, ForgottenAuthor, author_key


class Refused(ValueError):
    """Nothing to forget by; ``str()`` says why."""


def forget(item: ConversationItem, user, *, reason: str = "") -> int:
    """Forget the author of ``item`` on its network; return how many items were erased."""
    if not user.has_perm("conversation.moderate_conversationitem"):
        raise PermissionDenied("You may not erase what people said.")
    network, handle = item.network, item.author_handle
    if not handle:
        raise Refused("Nothing says who wrote it any more: it was erased already.")
    now = timezone.now()
    with transaction.atomic():
        ForgottenAuthor.objects.get_or_create(
            network=network,
            author_key=author_key(network, handle),
            defaults={"reason": reason[:200], "forgotten_by": user},
        )
        theirs = ConversationItem.objects.filter(
            network=network, author_handle__iexact=handle, deleted=False
        )
        shown = set(theirs.filter(approved=True).values_list("post__story_id", flat=True))
        erased = theirs.update(deleted=True, deleted_at=now, updated_at=now, **ERASED)
        for story_id in shown:
            publicity.refresh_story_page(story_id)
    return erased
