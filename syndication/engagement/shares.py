"""Share tokens that expired unused: purged, so minting them costs an abuser, not us."""

from django.db.models import Exists, OuterRef
from django.utils import timezone

from .events import SHARE_WINDOW
from .models import EngagementRollup, ShareToken


def forget_unused_shares(now=None) -> int:
    """Delete share tokens past their week (``SHARE_WINDOW``) that brought nobody.

    A token that any rollup row credits (an arrival, a read, a re-share's event) or that
    a re-share names as its parent is kept: it is part of a story's sharing history.
    The look-up per token goes through the rollups' (story, day) index.
    """
    cutoff = (now or timezone.now()) - SHARE_WINDOW
    credited = EngagementRollup.objects.filter(
        story_id=OuterRef("story_id"),
        day__gte=OuterRef("created_at__date"),
        share_id=OuterRef("pk"),
    )
    unused = ShareToken.objects.filter(created_at__lt=cutoff, reshares__isnull=True).exclude(
        Exists(credited)
    )
    deleted, _ = ShareToken.objects.filter(pk__in=unused.values("pk")).delete()
    return deleted
