"""Subscribers' reads, learned from what engagement counts through newsletter links.

The flusher announces the reads of each batch it counts (``engagement.signals
.reads_counted``) inside the batch's transaction; ``record_subscriber_reads`` turns
those that carry a newsletter click token into ``SubscriberRead`` rows in that same
transaction, so a batch counted once records its reads once (docs/newsletter.md,
"Reads through a newsletter link"). Engagement never imports the newsletter.
"""

from django.db import connection
from django.utils import timezone

from ..engagement.events import READ_EVENTS
from ..engagement.signals import reads_counted
from . import clicks
from .models import Delivery, SubscriberRead


def record_subscriber_reads(entries, story_ids=None) -> int:
    """Upsert the ``SubscriberRead`` rows that the newsletter reads among ``entries`` tell.

    An entry counts when it is an engaged read or a read-through carrying a click token
    (``nl``) whose signature holds and whose delivery still exists; the read is the
    subscriber's of that delivery, for the entry's story (among ``story_ids`` when
    given). Flags only ever turn on: a read-through after an engaged read keeps both.
    Call inside the batch's transaction. Two queries whatever the number of entries:
    the deliveries, then one ``INSERT … ON CONFLICT DO UPDATE`` for all the rows.
    Returns how many (subscriber, story) rows were written.
    """
    by_delivery: dict[tuple[int, int], list[bool]] = {}
    for fields in entries:
        if not fields or not fields.get("nl") or fields.get("t") not in READ_EVENTS:
            continue
        try:
            click = clicks.read_token(fields["nl"])
            story_id = int(fields["s"])
        except (clicks.BadClickToken, KeyError, TypeError, ValueError):
            continue  # tampered, expired or not written by the collector: nothing to say
        if story_ids is not None and story_id not in story_ids:
            continue
        flags = by_delivery.setdefault((click.delivery_id, story_id), [False, False])
        flags[0] |= fields["t"] == "engaged_read"
        flags[1] |= fields["t"] == "read_through"
    if not by_delivery:
        return 0
    subscriber_of = dict(
        Delivery.objects.filter(pk__in={delivery for delivery, _ in by_delivery}).values_list(
            "pk", "subscriber_id"
        )
    )
    reads: dict[tuple[int, int], list[bool]] = {}
    for (delivery_id, story_id), (engaged, read_through) in by_delivery.items():
        subscriber_id = subscriber_of.get(delivery_id)
        if subscriber_id is None:
            continue
        flags = reads.setdefault((subscriber_id, story_id), [False, False])
        flags[0] |= engaged
        flags[1] |= read_through
    if not reads:
        return 0
    quote = connection.ops.quote_name
    table = quote(SubscriberRead._meta.db_table)
    subscriber, story, engaged, through, at = (
        quote(name) for name in ("subscriber_id", "story_id", "engaged", "read_through", "at")
    )
    # As in ``add_to_rollups``: only our own names are formatted in, values are parameters.
    sql = (
        f"INSERT INTO {table} ({subscriber}, {story}, {engaged}, {through}, {at}) "  # noqa: S608
        "VALUES (%s, %s, %s, %s, %s) "
        f"ON CONFLICT ({subscriber}, {story}) DO UPDATE SET "
        f"{engaged} = {table}.{engaged} OR EXCLUDED.{engaged}, "
        f"{through} = {table}.{through} OR EXCLUDED.{through}"
    )
    now = connection.ops.adapt_datetimefield_value(timezone.now())
    rows = [(*key, *flags, now) for key, flags in sorted(reads.items())]
    with connection.cursor() as cursor:
        cursor.executemany(sql, rows)
    return len(rows)


def _reads_counted(sender, entries, story_ids=None, **kwargs) -> None:
    record_subscriber_reads(entries, story_ids)


def connect() -> None:
    reads_counted.connect(_reads_counted, dispatch_uid="storyloom-newsletter-reads")
