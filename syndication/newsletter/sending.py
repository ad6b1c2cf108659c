"""Sending one chunk of an edition: to each subscriber in it exactly once, resumable
after any crash.

How (docs/newsletter.md, "Sending" and "Exactly once per subscriber", has the long
version; the edition's life around it is in ``lifecycle``):

1. **Claims.** ``send_chunk`` sends one range of subscriber ids. It *claims* what is
   left of it (``pending``, or ``sending`` under a claim older than any task may run),
   stores each reader's picks (deterministic: the edition's seed and the subscriber
   id; the first rows on record stand) and renders from the stored picks
   (``composing``).
2. **Exactly once.** Over SMTP (``smtp.CommittedSMTPBackend``) each message goes out
   up to its last line, then one conditional UPDATE marks that message ``uncertain`` —
   the decider when two workers race — then its final dot goes out, and the next
   UPDATE records it ``sent``. A process killed in between leaves at most one delivery
   ``uncertain``: listed on the edition, resent only when a person says so. Other
   backends (console, locmem) are sent, then marked: a crash in between can repeat a
   message.
3. **Settling.** Temporary refusals go back to ``pending`` and are retried after
   ``NEWSLETTER_RETRY_AFTER``, at most ``NEWSLETTER_MAX_ATTEMPTS`` times; permanent
   ones are ``failed`` with the server's words.

Every change of a delivery's state goes through ``lifecycle.move_deliveries`` or, where
the UPDATE must say which rows it won, the statements below built from
``lifecycle.DELIVERY_MOVES``.
"""

import datetime
import logging
import re
import smtplib
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass

from django.conf import settings
from django.core.mail import get_connection
from django.core.mail.backends.smtp import EmailBackend as DjangoSMTPBackend
from django.db import connection, transaction
from django.db.models import Min, Q
from django.utils import timezone
from django.utils.module_loading import import_string

from stories import selection

from .candidates import Pool, load_pool, load_readers, no_candidates_message, select_for
from .composing import Composer, message_id_sql
from .lifecycle import DELIVERY_MOVES, finish_if_done, move_deliveries
from .models import Delivery, DeliveryPick, Edition, Subscriber
from .rendering import address
from .smtp import CommittedSMTPBackend, Outgoing, Result

logger = logging.getLogger(__name__)

State = Delivery.State
Status = Edition.Status

#: Stored with every pick, so offline evaluation knows which policy chose it.
POLICY_VERSION = str(getattr(selection, "POLICY_VERSION", "1"))


# --- Sending one chunk ----------------------------------------------------------------------------
@dataclass
class ChunkReport:
    """What one ``send_chunk`` did, for logs and the task result."""

    claimed: int = 0
    sent: int = 0
    failed: int = 0
    deferred: int = 0
    skipped: int = 0
    taken: int = 0
    uncertain: int = 0
    #: Seconds after which the chunk should run again for its deferred deliveries.
    retry_after: int | None = None
    stale: bool = False

    def as_dict(self) -> dict:
        return {name: value for name, value in self.__dict__.items() if value}


def newsletter_backend():
    """The email backend newsletters go through: Django's SMTP backend becomes the
    exactly-once one; any other (console, file, locmem) is used as it is."""
    path = settings.NEWSLETTER_EMAIL_BACKEND or settings.EMAIL_BACKEND
    backend_class = import_string(path)
    if backend_class is DjangoSMTPBackend:
        backend_class = CommittedSMTPBackend
    return get_connection(f"{backend_class.__module__}.{backend_class.__qualname__}")


def claim(edition_id: int, first: int, last: int, now) -> list[Delivery]:
    """Claim the range's deliveries that are due for this worker: ``pending`` (and past
    their retry time), or ``sending`` under a claim older than any task may run. The
    claim's time tells ours from another worker's."""
    stuck = now - datetime.timedelta(seconds=settings.NEWSLETTER_STUCK_AFTER)
    due = now - datetime.timedelta(seconds=settings.NEWSLETTER_RETRY_AFTER)
    in_range = Delivery.objects.filter(
        edition_id=edition_id, subscriber_id__gte=first, subscriber_id__lte=last
    )
    claimable = (
        Q(state=State.PENDING, attempted_at__isnull=True)
        | Q(state=State.PENDING, attempted_at__lt=due)
        | Q(state=State.SENDING, attempted_at__lt=stuck)
    )
    move_deliveries(
        in_range.filter(claimable), "claim", attempted_at=now, message_id=message_id_sql()
    )
    return list(
        in_range.filter(state=State.SENDING, attempted_at=now)
        .select_related("subscriber")
        .order_by("subscriber_id")
    )


def next_claim_at(edition_id: int, now=None):
    """When ``claim`` will next find something of this edition to take: now for a
    delivery never tried, a deferred one's retry time, a claim's stale time; None when no
    delivery is left to settle. The same rule as ``claim``, for callers that wait."""
    now = now or timezone.now()
    deliveries = Delivery.objects.filter(edition_id=edition_id)
    if deliveries.filter(state=State.PENDING, attempted_at__isnull=True).exists():
        return now
    found = deliveries.aggregate(
        pending=Min("attempted_at", filter=Q(state=State.PENDING)),
        sending=Min("attempted_at", filter=Q(state=State.SENDING)),
    )
    times = []
    if found["pending"]:
        times.append(found["pending"] + datetime.timedelta(seconds=settings.NEWSLETTER_RETRY_AFTER))
    if found["sending"]:
        times.append(found["sending"] + datetime.timedelta(seconds=settings.NEWSLETTER_STUCK_AFTER))
    return min(times, default=None)


def send_chunk(edition_id: int, first: int, last: int, *, backend=None) -> ChunkReport:
    """Send the edition to the subscribers with ids in ``[first, last]`` still owed it."""
    report = ChunkReport()
    edition = Edition.objects.filter(pk=edition_id).first()
    if edition is None or edition.status != Status.SENDING:
        report.stale = True
        return report
    now = timezone.now()
    claimed = claim(edition_id, first, last, now)
    report.claimed = len(claimed)
    if not claimed:
        finish_if_done(edition_id)
        return report
    unsettled = {delivery.pk for delivery in claimed}
    try:
        _send_claimed(edition, claimed, unsettled, report, backend)
    finally:
        if unsettled:
            # Whatever stopped us (an error, the soft time limit): give back what was
            # never committed, so the next run does not wait for the claim to go stale.
            try:
                move_deliveries(
                    Delivery.objects.filter(pk__in=unsettled, attempted_at=now),
                    "release",
                    attempted_at=None,
                )
            except Exception:  # the database itself may be what failed: keep its error
                logger.exception("Could not release newsletter deliveries %s", unsettled)
    if report.deferred:
        report.retry_after = settings.NEWSLETTER_RETRY_AFTER
    finish_if_done(edition_id)
    return report


def _send_claimed(edition, claimed, unsettled: set[int], report: ChunkReport, backend) -> None:
    # Subscribers who left (or paused) since the send started get nothing.
    gone = {d.pk for d in claimed if d.subscriber.status != Subscriber.Status.ACTIVE}
    if gone:
        report.skipped += move_deliveries(
            Delivery.objects.filter(pk__in=gone),
            "skip",
            error="Unsubscribed or paused before the email went out.",
        )
        unsettled.difference_update(gone)
        claimed = [d for d in claimed if d.pk not in gone]
    if not claimed:
        return

    now = edition.started_at or timezone.now()
    pool = load_pool(edition, now)
    picks = _stored_picks(edition, claimed, pool, now)
    empty = {d.pk for d in claimed if not picks.get(d.pk)}
    if empty:
        # Nothing to show them: everything was read already — or every candidate was
        # unpublished since the send began.
        reason = (
            "No story left to send: they have read every candidate already."
            if pool
            else f"Not sent: {no_candidates_message(edition)}"
        )
        report.skipped += move_deliveries(
            Delivery.objects.filter(pk__in=empty), "skip", error=reason
        )
        unsettled.difference_update(empty)
        claimed = [d for d in claimed if d.pk not in empty]
    if not claimed:
        return

    composer = Composer(edition, pool)
    backend = backend or newsletter_backend()
    if isinstance(backend, CommittedSMTPBackend):
        _send_committed(backend, composer, claimed, picks, unsettled, report)
    else:
        _send_plain(backend, composer, claimed, picks, unsettled, report)


def _stored_picks(edition, claimed, pool: Pool, now) -> dict[int, list[tuple[int, int, str]]]:
    """Each delivery's picks as stored: computed and saved first for deliveries that
    have none (a resumed chunk reproduces them; the first rows stay either way).

    What this call inserted is used as computed; what was there already — or what a
    worker racing on the same chunk stored first — is read back, so an email always
    shows the picks on record."""
    ids = [d.pk for d in claimed]
    have = set(
        DeliveryPick.objects.filter(delivery_id__in=ids)
        .values_list("delivery_id", flat=True)
        .distinct()
    )
    todo = [d for d in claimed if d.pk not in have]
    picks: dict[int, list[tuple[int, int, str]]] = defaultdict(list)
    if todo and pool:
        readers = load_readers([d.subscriber_id for d in todo], pool)
        chosen = select_for(edition, [readers[d.subscriber_id] for d in todo], pool, now)
        rows = []
        for delivery, delivery_picks in zip(todo, chosen, strict=True):
            mine = picks[delivery.pk]
            for pick in delivery_picks:
                reason = pick.reason[:200]
                mine.append((pick.slot, pick.story_id, reason))
                rows.append(
                    (
                        delivery.pk,
                        pick.slot,
                        pick.story_id,
                        float(pick.score),
                        float(pick.probability),
                        bool(pick.exploration),
                        reason,
                        POLICY_VERSION,
                    )
                )
        if insert_picks(rows) != len(rows):
            have.update(picks)  # someone else stored some of these first: theirs stand
    if have:
        for delivery_id in have:
            picks.pop(delivery_id, None)
        for delivery_id, slot, story_id, reason in (
            DeliveryPick.objects.filter(delivery_id__in=have)
            .order_by("delivery_id", "slot")
            .values_list("delivery_id", "slot", "story_id", "reason")
        ):
            picks[delivery_id].append((slot, story_id, reason))
    return picks


PICK_COLUMNS = (
    "delivery",
    "slot",
    "story",
    "score",
    "probability",
    "exploration",
    "reason",
    "policy_version",
)
#: Rows per INSERT statement (8 parameters each; SQLite allows 32,766 per statement).
PICKS_PER_INSERT = 500


def insert_picks(rows: Sequence[tuple]) -> int:
    """Store picks (tuples in ``PICK_COLUMNS`` order) and return how many were new; rows
    already there stay as they are.

    Plain tuples in as few statements as possible: ``bulk_create`` spends longer
    preparing twelve thousand model instances per chunk than selecting and sending
    their emails. PostgreSQL takes each column as one array (``unnest``), other
    databases multi-row VALUES.
    """
    if not rows:
        return 0
    quote = connection.ops.quote_name
    meta = DeliveryPick._meta
    fields = [meta.get_field(name) for name in PICK_COLUMNS]
    # Names come from the model and the backend's quoting; every value is a parameter.
    head = (
        f"INSERT INTO {quote(meta.db_table)} "
        f"({', '.join(quote(field.column) for field in fields)}) "
    )
    inserted = 0
    # One transaction: in autocommit every statement would be a disk flush of its own.
    with transaction.atomic(), connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            arrays = ", ".join(f"%s::{field.db_type(connection)}[]" for field in fields)
            cursor.execute(
                f"{head}SELECT * FROM unnest({arrays}) ON CONFLICT DO NOTHING",  # noqa: S608
                [list(column) for column in zip(*rows, strict=True)],
            )
            return cursor.rowcount
        row = f"({', '.join(['%s'] * len(fields))})"
        for start in range(0, len(rows), PICKS_PER_INSERT):
            batch = rows[start : start + PICKS_PER_INSERT]
            cursor.execute(
                f"{head}VALUES {', '.join([row] * len(batch))} ON CONFLICT DO NOTHING",
                [value for values in batch for value in values],
            )
            inserted += cursor.rowcount
    return inserted


# --- The two ways out -----------------------------------------------------------------------------
def _send_committed(backend, composer, claimed, picks, unsettled, report) -> None:
    group_size = backend.width
    ledger = DeliveryLedger(unsettled)
    try:
        for start in range(0, len(claimed), group_size):
            group = claimed[start : start + group_size]
            outgoing = []
            for delivery in group:
                mail = composer.email(delivery, picks[delivery.pk])
                outgoing.append(
                    Outgoing(
                        key=delivery.pk,
                        from_addr=composer.frame.envelope_from,
                        recipients=(address(mail.to),),
                        data=composer.frame.as_bytes(mail),
                        crlf=True,
                    )
                )
            outcomes = backend.send_committed_group(outgoing, ledger)
            by_id = {delivery.pk: delivery for delivery in group}
            for delivery_id, outcome in outcomes.items():
                unsettled.discard(delivery_id)
                _settle(by_id[delivery_id], outcome.result, outcome.reason, report)
    except BaseException:
        # Mid-DATA a QUIT would be taken for message text: drop the connections, and
        # the server discards whatever was not finished.
        backend.abandon()
        raise
    backend.close()


class DeliveryLedger:
    """``smtp.Ledger`` over the deliveries: one autocommitted UPDATE per message.

    A committed delivery leaves ``unsettled`` at once (its claim must not be released:
    its dot may be on its way)."""

    def __init__(self, unsettled: set[int]):
        self.unsettled = unsettled

    def commit(self, delivery_id: int, ended: Sequence[int]) -> bool:
        won = commit_delivery(delivery_id, ended)
        if won:
            self.unsettled.discard(delivery_id)
        return won

    def ended(self, delivery_ids: Sequence[int]) -> None:
        if delivery_ids:
            move_deliveries(Delivery.objects.filter(pk__in=delivery_ids), "ended")


def _send_plain(backend, composer, claimed, picks, unsettled, report) -> None:
    """Claimed, sent, then marked: for backends that cannot hold a message's end back."""
    backend.open()
    try:
        for delivery in claimed:
            message = composer.email(delivery, picks[delivery.pk]).django_message(backend)
            try:
                backend.send_messages([message])
            except smtplib.SMTPRecipientsRefused as error:
                code, reason = next(iter(error.recipients.values()))
                result = Result.DEFERRED if 400 <= code < 500 else Result.REFUSED
                unsettled.discard(delivery.pk)
                _settle(delivery, result, f"{code} {reason!r}", report)
                continue
            except (OSError, smtplib.SMTPException) as error:
                unsettled.discard(delivery.pk)
                _settle(delivery, Result.DEFERRED, f"Not sent: {error}", report)
                continue
            unsettled.discard(delivery.pk)
            if mark_sent([delivery.pk]):
                report.sent += 1
            else:
                report.taken += 1
    finally:
        backend.close()


def _raw_update(assignments: str, where: str, params: list) -> set[int]:
    """``UPDATE deliveries SET … WHERE … RETURNING id``, autocommitted: the ids changed.

    Raw SQL for RETURNING (which rows this UPDATE won); names come from the model and
    the backend's quoting, every value is a parameter."""
    table = connection.ops.quote_name(Delivery._meta.db_table)
    sql = f"UPDATE {table} SET {assignments} WHERE {where} RETURNING id"  # noqa: S608
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return {row[0] for row in cursor.fetchall()}


def _placeholders(values) -> str:
    return ", ".join(["%s"] * len(values))


def commit_delivery(delivery_id: int, ended: Sequence[int] = ()) -> bool:
    """The decider, one message at a time: mark ``delivery_id`` uncertain if it is
    still pending or sending — its final dot goes out next — and, in the same
    statement, the deliveries in ``ended`` (their dots went to the kernel) sent. True
    when this call won ``delivery_id``; False: another worker committed it first, or it
    was skipped meanwhile, and its message must not be finished."""
    sources, target = DELIVERY_MOVES["commit"]
    (uncertain,), sent = DELIVERY_MOVES["ended"]
    now = connection.ops.adapt_datetimefield_value(timezone.now())
    assignments = "state = CASE WHEN id = %s THEN %s ELSE %s END, sent_at = %s, error = ''"
    where = f"(id = %s AND state IN ({_placeholders(sources)}))"
    params = [delivery_id, target, sent, now, delivery_id, *sources]
    if ended:
        where += f" OR (id IN ({_placeholders(ended)}) AND state = %s)"
        params += [*ended, uncertain]
    return delivery_id in _raw_update(assignments, where, params)


def mark_sent(delivery_ids: Sequence[int]) -> set[int]:
    """Mark these deliveries sent — those still pending or sending — and return the
    ids it changed (plain backends: after the message went)."""
    if not delivery_ids:
        return set()
    sources, target = DELIVERY_MOVES["send"]
    now = connection.ops.adapt_datetimefield_value(timezone.now())
    where = f"id IN ({_placeholders(delivery_ids)}) AND state IN ({_placeholders(sources)})"
    return _raw_update(
        "state = %s, sent_at = %s, error = ''", where, [target, now, *delivery_ids, *sources]
    )


TEMPORARY = re.compile(r"^Temporary failure \(attempt (\d+) of \d+\)")


def attempts_so_far(error: str) -> int:
    found = TEMPORARY.match(error or "")
    return int(found.group(1)) if found else 0


def _settle(delivery: Delivery, result: Result, reason: str, report: ChunkReport) -> None:
    """Record what became of one message: the outcome → delivery-event table."""
    if result is Result.ACCEPTED:
        report.sent += 1
        return
    if result is Result.TAKEN:
        report.taken += 1
        return
    row = Delivery.objects.filter(pk=delivery.pk)
    if result is Result.UNCERTAIN:
        report.uncertain += 1
        move_deliveries(
            row,
            "doubt",
            error=f"Uncertain: the final part may not have reached the mail server ({reason}).",
        )
    elif result in (Result.REFUSED, Result.BOUNCED):
        report.failed += 1
        move_deliveries(row, "fail", error=f"Refused by the mail server: {reason}", sent_at=None)
    else:  # DEFERRED, DEFERRED_AFTER_COMMIT: try again later, a bounded number of times
        attempt = attempts_so_far(delivery.error) + 1
        limit = settings.NEWSLETTER_MAX_ATTEMPTS
        if attempt >= limit:
            report.failed += 1
            move_deliveries(
                row, "fail", error=f"Gave up after {attempt} attempts: {reason}", sent_at=None
            )
        else:
            report.deferred += 1
            move_deliveries(
                row,
                "defer",
                error=f"Temporary failure (attempt {attempt} of {limit}): {reason}",
                attempted_at=timezone.now(),
                sent_at=None,
            )
