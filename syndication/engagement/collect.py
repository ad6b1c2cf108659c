"""Channel metrics: what people did with each published post, read back from its network.

For every post published in the last ``WINDOW`` (30 days), one run asks the post's
network for its reposts, replies, likes, quotes and clicks (where the network says) and
stores one ``ChannelMetricSnapshot`` per post it heard about. Snapshots are running
totals, so the latest one is the post's count so far and the series is its trend.

Posts are read in batches per account (the Mastodon adapter asks for twenty statuses a
request). A network that says "too many requests" is left alone: the account is paused
until its ``Retry-After`` has passed (``ChannelAccount.paused_until``, which the
publishing engine honours too) and skipped for the rest of the run. Any other failure
is logged and the next run tries again. Follower counts are never asked for: the
adapters' ``PostMetrics`` has no place for them.
"""

import datetime
import logging
from collections import defaultdict

from django.conf import settings
from django.db import DataError, IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone

from cms import ops

from .. import states, tokens
from ..channels.base import AuthExpired, ChannelError, RateLimited
from ..models import ChannelAccount, SyndicationPost
from .models import ChannelMetricSnapshot

logger = logging.getLogger(__name__)

#: How long after publication a post's metrics are still collected.
WINDOW = datetime.timedelta(days=30)
#: Posts per ``fetch_metrics`` call: each batch is stored before the next is asked for,
#: so a rate limit halfway through an account keeps what was already read.
BATCH = 100
#: How long to leave an account alone after a 429 that did not say for how long.
DEFAULT_BACKOFF = datetime.timedelta(minutes=15)


def posts_to_measure(now=None):
    """Published posts in their first ``WINDOW``, on accounts that may be asked now."""
    now = now or timezone.now()
    return (
        SyndicationPost.objects.filter(
            state=states.PUBLISHED, published_at__gte=now - WINDOW, published_at__lte=now
        )
        .exclude(remote_id="")
        # Answers to replies are conversation, not the story's reach: not measured.
        .filter(reply_to_ref={})
        .filter(account__status=ChannelAccount.Status.ACTIVE)
        .filter(Q(account__paused_until__isnull=True) | Q(account__paused_until__lte=now))
        .select_related("account")
        .order_by("account_id", "published_at", "pk")
    )


def collect_channel_metrics(now=None) -> dict:
    """One run over every account; returns counts for the task's result and the logs."""
    now = now or timezone.now()
    by_account = defaultdict(list)
    accounts = {}
    for post in posts_to_measure(now):
        by_account[post.account_id].append(post)
        accounts[post.account_id] = post.account
    summary = {"accounts": len(accounts), "snapshots": 0, "paused": [], "failed": []}
    for account_id, posts in by_account.items():
        stored, outcome = collect_account(accounts[account_id], posts, now=now)
        summary["snapshots"] += stored
        if outcome == "paused":
            summary["paused"].append(account_id)
        elif outcome == "failed":
            summary["failed"].append(account_id)
    return summary


def collect_account(account: ChannelAccount, posts: list, *, now=None) -> tuple[int, str]:
    """Read and store the metrics of ``posts`` (all on ``account``): ``(stored, outcome)``.

    ``outcome`` is ``ok``, ``paused`` (rate limited: the account waits) or ``failed``
    (logged; the next run retries).
    """
    now = now or timezone.now()
    timeout = getattr(settings, "SYNDICATION_HTTP_TIMEOUT", None)
    adapter = account.adapter(timeout=timeout)
    stored = 0
    try:
        tokens.ensure_fresh(account, adapter)
        for start in range(0, len(posts), BATCH):
            batch = posts[start : start + BATCH]
            metrics = adapter.fetch_metrics([post.remote_id for post in batch])
            stored += _store(batch, metrics, timezone.now())
    except RateLimited as error:
        account.record_metrics_read(f"Rate limited: {error.message}")
        wait = (
            datetime.timedelta(seconds=error.retry_after)
            if error.retry_after is not None
            else DEFAULT_BACKOFF
        )
        until = now + max(wait, datetime.timedelta(seconds=1))
        ChannelAccount.objects.filter(pk=account.pk).update(paused_until=until)
        account.paused_until = until
        logger.warning(
            "Channel metrics: %s rate limited us; paused until %s (%s).",
            account,
            until.isoformat(),
            error.message,
        )
        return stored, "paused"
    except AuthExpired as error:
        # The same answer would stop publishing: say so on the account at once.
        account.record_metrics_read(error.message)
        account.mark_needs_reconnect(error.message)
        logger.warning("Channel metrics: %s needs reconnecting (%s).", account, error.message)
        return stored, "failed"
    except ChannelError as error:
        account.record_metrics_read(error.message)
        logger.warning("Channel metrics: reading %s failed (%s).", account, error.message)
        return stored, "failed"
    except Exception as error:
        # One account's surprise must not stop the others; the next run retries.
        account.record_metrics_read(f"Unexpected error: {type(error).__name__}")
        logger.exception("Channel metrics: reading %s failed unexpectedly.", account)
        return stored, "failed"
    # Every network's read is told to the account, so a failing one shows in the admin.
    account.record_metrics_read("")
    return stored, "ok"


#: The snapshot columns' ceiling (PositiveIntegerField): a network's answer beyond it is
#: stored as the ceiling rather than refused.
MAX_COUNT = 2_147_483_647
QUARANTINE = "channel metrics"
# SQLite raises OverflowError itself for an integer beyond 64 bits.
STORE_ERRORS = (DataError, IntegrityError, OverflowError)


def _count(value) -> int | None:
    """A network's count as the column can hold it: an int within 0..MAX_COUNT, or None."""
    if value is None or isinstance(value, bool):
        return None
    try:
        number = int(value)
    except (TypeError, ValueError, OverflowError):
        return None
    return min(max(number, 0), MAX_COUNT)


def _store(posts: list, metrics: dict, taken_at) -> int:
    """Store one snapshot per post the network answered for.

    Counts are clamped to what the columns hold. Should the database still refuse the
    lot, each snapshot is stored on its own and the ones it refuses are quarantined
    (*Reports → Quarantined messages*), so one odd answer never stops an account's
    other posts being measured.
    """
    snapshots = [
        ChannelMetricSnapshot(
            post=post,
            taken_at=taken_at,
            reposts=_count(found.reposts) or 0,
            replies=_count(found.replies) or 0,
            likes=_count(found.likes) or 0,
            quotes=_count(found.quotes) or 0,
            clicks=_count(found.clicks),
        )
        for post in posts
        if (found := metrics.get(post.remote_id)) is not None
    ]
    try:
        with transaction.atomic():
            ChannelMetricSnapshot.objects.bulk_create(snapshots)
        return len(snapshots)
    except STORE_ERRORS:
        logger.warning("Channel metrics: the database refused a batch; storing one by one")
    stored, refused = 0, []
    for snapshot in snapshots:
        try:
            with transaction.atomic():
                snapshot.save()
        except STORE_ERRORS as problem:
            refused.append(
                (
                    f"post {snapshot.post_id} at {taken_at.isoformat()}",
                    {
                        "post": snapshot.post_id,
                        "metrics": repr(metrics.get(snapshot.post.remote_id)),
                    },
                    f"{type(problem).__name__}: {problem}",
                )
            )
        else:
            stored += 1
    ops.quarantine(QUARANTINE, refused)
    return stored
