"""Sending an edition: to every active subscriber exactly once, resumable after any crash.

How (docs/newsletter.md, "Sending", has the long version):

1. **Start.** ``start_due_editions`` (beat, every minute) moves editions whose ``send_at``
   has passed from ``scheduled`` to ``sending`` with a conditional UPDATE, so two beats
   or a person pressing "Send now" cannot start one twice. ``plan_edition`` loads the
   candidate stories (none: the edition fails with that reason, nothing is sent) and
   creates one ``Delivery`` per active subscriber in one transaction: the recipients
   are fixed when the send starts.
2. **Chunks.** The deliveries are cut into ranges of subscriber ids
   (``NEWSLETTER_CHUNK_SIZE``); ``send_chunk`` sends one range. It *claims* what is
   left of it (``pending``, or ``sending`` under a claim older than any task may run),
   stores each reader's picks (deterministic: the edition's seed and the subscriber
   id; the first rows on record stand) and renders from the stored picks.
3. **Exactly once.** Over SMTP (``smtp.CommittedSMTPBackend``) each message goes out
   up to its last line, then one conditional UPDATE marks that message ``uncertain`` —
   the decider when two workers race — then its final dot goes out, and the next
   UPDATE records it ``sent``. A process killed in between leaves at most one delivery
   ``uncertain``: listed on the edition, resent only when a person says so. Other
   backends (console, locmem) are sent, then marked: a crash in between can repeat a
   message.
4. **Settling.** Temporary refusals go back to ``pending`` and are retried after
   ``NEWSLETTER_RETRY_AFTER``, at most ``NEWSLETTER_MAX_ATTEMPTS`` times; permanent
   ones are ``failed`` with the server's words. ``sweep_editions`` (beat) re-enqueues
   ranges whose worker died and marks an edition ``sent`` when nothing is left.

A delivery's life and an edition's life are written once, below, as data; every
change goes through ``move_deliveries`` / ``move_edition``.
"""

import datetime
import hashlib
import hmac
import logging
import re
import smtplib
import time
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from django.conf import settings
from django.core import signing
from django.core.mail import get_connection
from django.core.mail.backends.smtp import EmailBackend as DjangoSMTPBackend
from django.db import connection, transaction
from django.db.models import CharField, Count, Max, Min, Q, Sum, Value
from django.db.models.functions import Cast, Concat
from django.urls import reverse
from django.utils import timezone
from django.utils.encoding import force_bytes
from django.utils.module_loading import import_string

from stories import selection
from stories.models import AudienceInterest, StoryPage

from ..engagement import metrics
from ..models import EngagementRollup
from . import clicks, subscriptions
from .models import Delivery, DeliveryPick, Edition, Subscriber, SubscriberRead
from .rendering import EditionRenderer, Email, MessageFrame, Slot, StoryCard, address
from .smtp import CommittedSMTPBackend, Outgoing, Result

logger = logging.getLogger(__name__)

State = Delivery.State
Status = Edition.Status

#: Stored with every pick, so offline evaluation knows which policy chose it.
POLICY_VERSION = str(getattr(selection, "POLICY_VERSION", "1"))
#: The picture on a story's card in the email.
IMAGE_SPEC = "width-1120"

# --- A delivery's life, written once ------------------------------------------------------
#: event → (states it may start from, state it ends in)::
#:
#:     pending ──claim──► sending ──commit──► uncertain ──ended──► sent
#:        ▲  ▲               │  │                │  ▲                 │ (the server
#:        │  └──── defer ────┘  └──► failed ◄────┼──┼─────────────────┘  refused the dot)
#:        └────────── resend (a person) ─────────┘  └── doubt (no reply to the dot)
#:     pending / sending ──skip──► skipped   (left, nothing to pick, edition cancelled)
#:
#: Over plain backends (console, locmem) ``send`` goes straight from sending to sent.
DELIVERY_MOVES: dict[str, tuple[tuple[str, ...], str]] = {
    "claim": ((State.PENDING, State.SENDING), State.SENDING),
    "commit": ((State.PENDING, State.SENDING), State.UNCERTAIN),
    "ended": ((State.UNCERTAIN,), State.SENT),
    "send": ((State.PENDING, State.SENDING), State.SENT),
    "release": ((State.SENDING,), State.PENDING),
    "defer": ((State.SENDING, State.SENT, State.UNCERTAIN), State.PENDING),
    "fail": ((State.SENDING, State.SENT, State.UNCERTAIN), State.FAILED),
    "skip": ((State.PENDING, State.SENDING), State.SKIPPED),
    "doubt": ((State.SENT, State.UNCERTAIN), State.UNCERTAIN),
    "resend": ((State.UNCERTAIN,), State.PENDING),
}
#: Deliveries still to settle: while any is left, the edition is sending.
UNSETTLED = (State.PENDING, State.SENDING)


def move_deliveries(deliveries, event: str, **fields) -> int:
    """Apply ``event`` to the deliveries in ``deliveries`` (a queryset) that may take it."""
    sources, target = DELIVERY_MOVES[event]
    return deliveries.filter(state__in=sources).update(state=target, **fields)


# --- An edition's life, written once -------------------------------------------------------
EDITION_MOVES: dict[str, tuple[tuple[str, ...], str]] = {
    "schedule": ((Status.DRAFT, Status.SCHEDULED, Status.FAILED), Status.SCHEDULED),
    "start": ((Status.SCHEDULED,), Status.SENDING),
    "finish": ((Status.SENDING,), Status.SENT),
    # Uncertain deliveries sent again on a person's word: the edition goes out again.
    "reopen": ((Status.SENT,), Status.SENDING),
    "fail": ((Status.SENDING,), Status.FAILED),
    "cancel": ((Status.DRAFT, Status.SCHEDULED, Status.SENDING), Status.CANCELLED),
}
#: What a social manager may do with an edition in each state (the admin's buttons).
EDITION_ACTIONS = {
    "send": (Status.DRAFT, Status.SCHEDULED, Status.FAILED),
    "schedule": (Status.DRAFT, Status.SCHEDULED, Status.FAILED),
    "cancel": (Status.DRAFT, Status.SCHEDULED, Status.SENDING),
}
EDITABLE = (Status.DRAFT, Status.SCHEDULED, Status.FAILED)


def move_edition(edition_id: int, event: str, **fields) -> bool:
    sources, target = EDITION_MOVES[event]
    return bool(
        Edition.objects.filter(pk=edition_id, status__in=sources).update(status=target, **fields)
    )


# --- Candidates ------------------------------------------------------------------------------
class NoCandidates(ValueError):
    """The edition's window holds no live story: there is nothing to send."""


def no_candidates_message(edition) -> str:
    days = edition.window_days
    return (
        f"No live story was first published in the last {days} day{'s' if days != 1 else ''}, "
        "so there is nothing to send. Publish a story or widen the window, then try again."
    )


def candidate_stories(edition, now=None):
    """The live, public stories first published within the edition's window."""
    now = now or timezone.now()
    since = now - datetime.timedelta(days=edition.window_days)
    return (
        StoryPage.objects.live()
        .public()
        .filter(first_published_at__gte=since, first_published_at__lte=now)
    )


def check_candidates(edition, now=None) -> None:
    """``NoCandidates`` (with the words to show) when the edition has nothing to send."""
    if not candidate_stories(edition, now).exists():
        raise NoCandidates(no_candidates_message(edition))


@dataclass
class Pool:
    """Everything the selection needs that is the same for every reader of an edition.

    Loaded in a constant number of queries, whatever the number of stories.
    """

    candidates: list[selection.Candidate]
    pages: dict[int, StoryPage]
    journeys: dict[int, list[tuple[int, int]]] = field(default_factory=dict)
    interest_names: dict[int, str] = field(default_factory=dict)
    story_titles: dict[int, str] = field(default_factory=dict)
    story_interests: dict[int, tuple[int, ...]] = field(default_factory=dict)

    def __bool__(self) -> bool:
        return bool(self.candidates)


def load_pool(edition, now) -> Pool:
    """Candidates with quality and evidence from the engagement metrics, series order,
    journeys (story → story follows) and interest names: eight queries."""
    pages = {
        page.pk: page
        for page in candidate_stories(edition, now)
        .select_related("series", "hero_image")
        .defer("body", "voice_findings")
        .order_by("pk")
    }
    if not pages:
        return Pool([], {})
    ids = list(pages)
    story_interests: dict[int, list[int]] = defaultdict(list)
    for story_id, interest_id in StoryPage.interests.through.objects.filter(
        storypage_id__in=ids
    ).values_list("storypage_id", "audienceinterest_id"):
        story_interests[story_id].append(interest_id)

    # Quality 0–1 (50 is the average candidate) over what readers did since the window began.
    start, end = (now - datetime.timedelta(days=edition.window_days)).date(), now.date()
    inputs = metrics.load_inputs(start, end, stories=ids)
    priors = metrics.Priors.from_totals(metrics.Inputs.total(inputs.values()))

    # A later chapter whose predecessor is older than the window still needs its id.
    wanted = {
        (page.series_id, page.series_part - 1): page.pk
        for page in pages.values()
        if page.series_id and page.series_part and page.series_part > 1
    }
    present = {(p.series_id, p.series_part) for p in pages.values() if p.series_id}
    missing = [key for key in wanted if key not in present]
    previous: dict[int, int] = {}
    if missing:
        query = Q()
        for series_id, part in missing:
            query |= Q(series_id=series_id, series_part=part)
        for pk, series_id, part in (
            StoryPage.objects.live().filter(query).values_list("pk", "series_id", "series_part")
        ):
            previous[wanted[(series_id, part)]] = pk

    candidates = []
    for pk, page in pages.items():
        story_inputs = inputs.get(pk)
        candidates.append(
            selection.Candidate(
                story_id=pk,
                interests=tuple(sorted(story_interests.get(pk, ()))),
                published_at=page.first_published_at,
                quality=(
                    metrics.quality_score(story_inputs, priors) / 100 if story_inputs else None
                ),
                evidence=float(story_inputs.engaged_reads) if story_inputs else 0.0,
                series_id=page.series_id,
                series_part=page.series_part,
                title=page.title,
                series_name=page.series.name if page.series_id else "",
                previous_story_id=previous.get(pk),
            )
        )
    journeys = load_journeys(start, end, ids)
    sources = {source for paths in journeys.values() for source, _ in paths} - set(pages)
    titles = dict(StoryPage.objects.filter(pk__in=sources).values_list("pk", "title"))
    return Pool(
        candidates=candidates,
        pages=pages,
        journeys=journeys,
        interest_names=dict(AudienceInterest.objects.values_list("pk", "name")),
        story_titles=titles,
        story_interests={pk: tuple(values) for pk, values in story_interests.items()},
    )


def load_journeys(start, end, story_ids) -> dict[int, list[tuple[int, int]]]:
    """``to story → [(from story, readers who followed)]`` from the ``link_follow``
    rollups (their detail is ``kind:to_id``, as the Reader journeys report reads them)."""
    rows = (
        EngagementRollup.objects.filter(
            event="link_follow", day__gte=start, day__lte=end, detail__contains=":"
        )
        .order_by()
        .values("story_id", "detail")
        .annotate(follows=Sum("count"))
    )
    wanted = set(story_ids)
    journeys: dict[int, list[tuple[int, int]]] = defaultdict(list)
    for row in rows:
        target = row["detail"].partition(":")[2]
        if target.isdigit() and int(target) in wanted and row["story_id"]:
            journeys[int(target)].append((row["story_id"], row["follows"]))
    return dict(journeys)


def load_readers(subscriber_ids: Sequence[int], pool: Pool) -> dict[int, selection.Reader]:
    """Each subscriber as the selection sees them: three queries for any number."""
    followed: dict[int, set[int]] = defaultdict(set)
    for subscriber_id, interest_id in Subscriber.interests.through.objects.filter(
        subscriber_id__in=subscriber_ids
    ).values_list("subscriber_id", "audienceinterest_id"):
        followed[subscriber_id].add(interest_id)
    reads = list(
        SubscriberRead.objects.filter(subscriber_id__in=subscriber_ids).values_list(
            "subscriber_id", "story_id", "engaged", "read_through"
        )
    )
    interests_of = dict(pool.story_interests)
    unknown = {story for _, story, engaged, _ in reads if engaged and story not in interests_of}
    if unknown:
        found: dict[int, list[int]] = defaultdict(list)
        for story_id, interest_id in StoryPage.interests.through.objects.filter(
            storypage_id__in=unknown
        ).values_list("storypage_id", "audienceinterest_id"):
            found[story_id].append(interest_id)
        interests_of.update(found)
    read: dict[int, set[int]] = defaultdict(set)
    read_through: dict[int, set[int]] = defaultdict(set)
    learned: dict[int, dict[int, float]] = defaultdict(dict)
    for subscriber_id, story_id, engaged, through in reads:
        if engaged or through:
            read[subscriber_id].add(story_id)
        if through:
            read_through[subscriber_id].add(story_id)
        if engaged:
            weights = learned[subscriber_id]
            for interest_id in interests_of.get(story_id, ()):
                weights[interest_id] = weights.get(interest_id, 0.0) + 1.0
    return {
        pk: selection.Reader(
            key=pk,
            followed=frozenset(followed.get(pk, ())),
            learned=learned.get(pk, {}),
            read_through=frozenset(read_through.get(pk, ())),
            read=frozenset(read.get(pk, ())),
        )
        for pk in subscriber_ids
    }


def select_for(edition, readers: Sequence[selection.Reader], pool: Pool, now):
    return selection.select_many(
        readers,
        pool.candidates,
        edition.k,
        seed=edition.seed,
        now=now,
        journeys=pool.journeys,
        interest_names=pool.interest_names,
        story_titles=pool.story_titles,
    )


# --- Starting an edition ------------------------------------------------------------------------
def start_due_editions(now=None, only: Sequence[int] | None = None) -> list[int]:
    """Move editions due now from scheduled to sending (each by one conditional UPDATE,
    so only one caller starts it); return the ids this call started. ``only``: just
    these editions (``manage.py send_edition`` sending one in its own process)."""
    now = now or timezone.now()
    due = Edition.objects.filter(status=Status.SCHEDULED, send_at__lte=now).order_by("send_at")
    if only is not None:
        due = due.filter(pk__in=only)
    started = []
    for edition_id in due.values_list("pk", flat=True):
        if move_edition(edition_id, "start", started_at=now, finished_at=None, error=""):
            started.append(edition_id)
    return started


def plan_edition(edition_id: int) -> list[tuple[int, int]]:
    """Fix an edition's recipients (once) and return the subscriber-id ranges to send.

    Fails the edition, sending nothing, when its window has no candidate story.
    """
    edition = Edition.objects.get(pk=edition_id)
    if edition.status != Status.SENDING:
        return []
    now = edition.started_at or timezone.now()
    if not candidate_stories(edition, now).exists():
        move_edition(
            edition_id, "fail", error=no_candidates_message(edition), finished_at=timezone.now()
        )
        return []
    with transaction.atomic():
        edition = Edition.objects.select_for_update().get(pk=edition_id)
        if edition.status != Status.SENDING:
            return []
        if not edition.total and not Delivery.objects.filter(edition_id=edition_id).exists():
            active = Subscriber.objects.filter(status=Subscriber.Status.ACTIVE).order_by("pk")
            batch: list[Delivery] = []
            for subscriber_id in active.values_list("pk", flat=True).iterator(chunk_size=5000):
                batch.append(Delivery(edition_id=edition_id, subscriber_id=subscriber_id))
                if len(batch) >= 5000:
                    Delivery.objects.bulk_create(batch, ignore_conflicts=True)
                    batch = []
            Delivery.objects.bulk_create(batch, ignore_conflicts=True)
            total = Delivery.objects.filter(edition_id=edition_id).count()
            Edition.objects.filter(pk=edition_id).update(total=total)
    finish_if_done(edition_id)
    return pending_ranges(edition_id)


def chunk_ranges(subscriber_ids: Sequence[int], size: int | None = None) -> list[tuple[int, int]]:
    """``(first, last)`` subscriber ids of consecutive runs of ``size`` sorted ids."""
    size = size or settings.NEWSLETTER_CHUNK_SIZE
    ids = sorted(subscriber_ids)
    return [(ids[i], ids[min(i + size, len(ids)) - 1]) for i in range(0, len(ids), size)]


def pending_ranges(edition_id: int, deliveries=None) -> list[tuple[int, int]]:
    deliveries = (
        deliveries
        if deliveries is not None
        else Delivery.objects.filter(edition_id=edition_id, state__in=UNSETTLED)
    )
    return chunk_ranges(list(deliveries.values_list("subscriber_id", flat=True)))


def finish_if_done(edition_id: int) -> bool:
    """Mark a sending edition sent once no delivery is left to settle."""
    if Delivery.objects.filter(edition_id=edition_id, state__in=UNSETTLED).exists():
        return False
    return move_edition(edition_id, "finish", finished_at=timezone.now(), error="")


def note_edition_problem(edition_id: int, message: str) -> None:
    """Show a passing problem (the mail server is down) on a sending edition."""
    Edition.objects.filter(pk=edition_id, status=Status.SENDING).update(error=message)


def cancel_edition(edition_id: int) -> bool:
    """Cancel a draft, scheduled or sending edition. Messages already past their commit
    still arrive; every other one is skipped, including those a worker is streaming
    right now (their commit finds them skipped and the message is dropped)."""
    with transaction.atomic():
        if not move_edition(edition_id, "cancel", finished_at=timezone.now()):
            return False
        move_deliveries(
            Delivery.objects.filter(edition_id=edition_id),
            "skip",
            error="The edition was cancelled before this email went out.",
        )
    return True


# --- Sweeping -----------------------------------------------------------------------------------
def sweep_editions(now=None) -> list[tuple[int, int, int]]:
    """Ranges to send again for every sending edition: deliveries claimed by a worker
    that died (``sending`` for longer than any task may run), and — when the edition
    has made no progress for that long, so no task for them can still be queued —
    pending ones that are due. Unplanned editions (their planner died) are planned.
    Editions with nothing left are marked sent. Returns ``(edition, first, last)``."""
    now = now or timezone.now()
    stuck = now - datetime.timedelta(seconds=settings.NEWSLETTER_STUCK_AFTER)
    due = now - datetime.timedelta(seconds=settings.NEWSLETTER_RETRY_AFTER)
    work = []
    for edition in Edition.objects.filter(status=Status.SENDING):
        deliveries = Delivery.objects.filter(edition_id=edition.pk)
        if not edition.total and not deliveries.exists():
            if edition.started_at is None or edition.started_at < stuck:
                work += [(edition.pk, *r) for r in plan_edition(edition.pk)]
            continue
        if finish_if_done(edition.pk):
            continue
        latest = deliveries.aggregate(attempted=Max("attempted_at"), sent=Max("sent_at"))
        progress = max(
            [t for t in (edition.started_at, latest["attempted"], latest["sent"]) if t],
            default=None,
        )
        needing = Q(state=State.SENDING, attempted_at__lt=stuck)
        if progress is None or progress < stuck:
            needing |= Q(state=State.PENDING) & (
                Q(attempted_at__isnull=True) | Q(attempted_at__lt=due)
            )
        ranges = pending_ranges(edition.pk, deliveries.filter(needing))
        work += [(edition.pk, first, last) for first, last in ranges]
    return work


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
        in_range.filter(claimable), "claim", attempted_at=now, message_id=_message_id_sql()
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


class Composer:
    """Builds one edition's emails: links, footer, headers and MIME, per reader.

    Per email it signs fourteen links (twelve clicks, preferences, unsubscribe). Two
    things Django would redo for each are done once here: resolving the URL pattern
    (``url_template``) and deriving the click signer's HMAC key (``keyed_signer``).
    Tests check the links equal what ``clicks`` and ``subscriptions`` make themselves.
    """

    def __init__(self, edition, pool: Pool):
        self.edition = edition
        self.root_url = subscriptions.site_root_url()
        self.host = urlsplit(self.root_url).hostname or "localhost"
        self.renderer = EditionRenderer(
            edition, StoryCards(pool.pages, self.root_url), root_url=self.root_url
        )
        self.frame = MessageFrame(edition.title, settings.DEFAULT_FROM_EMAIL)
        self._click = url_template("newsletter:click", self.root_url)
        self._preferences = url_template("newsletter:preferences", self.root_url)
        self._unsubscribe = url_template("newsletter:unsubscribe", self.root_url)
        self._sign_click = keyed_signer(clicks._signer()).sign

    def click_url(self, delivery_id: int, slot: int) -> str:
        head, tail = self._click
        return f"{head}{self._sign_click(f'{int(delivery_id)}.{int(slot)}')}{tail}"

    def email(self, delivery: Delivery, picks: Iterable[tuple[int, int, str]]) -> Email:
        subscriber = delivery.subscriber
        slots = [
            Slot(story, self.click_url(delivery.pk, slot), reason) for slot, story, reason in picks
        ]
        head, tail = self._preferences
        preferences = f"{head}{subscriptions.preferences_token(subscriber)}{tail}"
        head, tail = self._unsubscribe
        unsubscribe = f"{head}{subscriptions.unsubscribe_token(subscriber)}{tail}"
        text, html = self.renderer.render(
            slots, preferences_url=preferences, unsubscribe_url=unsubscribe
        )
        headers = {
            "Message-ID": message_id(self.edition.pk, delivery.pk, self.host),
            # subscriptions.list_unsubscribe_headers(), without resolving the URL again.
            "List-Unsubscribe": f"<{unsubscribe}>",
            "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
        }
        return Email(
            subject=self.edition.title,
            from_email=settings.DEFAULT_FROM_EMAIL,
            to=subscriber.email,
            text=text,
            html=html,
            headers=headers,
        )


class StoryCards(dict):
    """Story id → ``StoryCard``, built on first use (the picture's rendition included)."""

    def __init__(self, pages: dict[int, StoryPage], root_url: str):
        super().__init__()
        self.pages = pages
        self.root_url = root_url

    def __missing__(self, story_id: int) -> StoryCard:
        page = self.pages.get(story_id)
        if page is None:  # picked earlier, out of the window now: still show it
            page = StoryPage.objects.select_related("series", "hero_image").get(pk=story_id)
        card = self[story_id] = story_card(page, self.root_url)
        return card


def story_card(page: StoryPage, root_url: str) -> StoryCard:
    image_url = ""
    if page.hero_image_id:
        try:
            image_url = page.hero_image.get_rendition(IMAGE_SPEC).url
        except Exception:  # a missing or unreadable file: the email goes without it
            logger.warning("No picture for story %s in the newsletter", page.pk, exc_info=True)
        if image_url.startswith("/"):
            image_url = f"{root_url}{image_url}"
    return StoryCard(
        story_id=page.pk,
        title=page.title,
        intro=page.intro,
        url=page.get_full_url() or "",
        image_url=image_url,
        series_name=page.series.name if page.series_id else "",
        series_part=page.series_part if page.series_id else None,
    )


def url_template(name: str, root_url: str) -> tuple[str, str]:
    """The absolute address of the route ``name`` taking one token, as the parts before
    and after the token: ``reverse()`` once instead of once per email."""
    marker = "0token0"
    head, found, tail = reverse(name, args=[marker]).partition(marker)
    if not found:  # pragma: no cover - a route that quotes or rewrites its argument
        raise ValueError(f"{name} does not put its token in the path as given")
    return f"{root_url}{head}", tail


def keyed_signer(signer: signing.Signer) -> signing.Signer:
    """``signer`` with its HMAC key derived once rather than for every signature.

    ``Signer.signature`` derives the key (``salted_hmac``: a hash of salt and secret)
    anew each time; here a keyed HMAC is prepared once and copied per value. Same
    algorithm, same signatures — verification still goes through Django.
    """
    hasher = getattr(hashlib, signer.algorithm)
    key = hasher(force_bytes(signer.salt + "signer") + force_bytes(signer.key)).digest()
    keyed = hmac.new(key, digestmod=hasher)
    plain = signer.signature

    def signature(value, key=None):
        if key is not None and key != signer.key:
            return plain(value, key)
        mac = keyed.copy()
        mac.update(force_bytes(value))
        return signing.b64_encode(mac.digest()).decode()

    signer.signature = signature
    if isinstance(signer, signing.TimestampSigner):
        # The base62 timestamp changes once a second; fourteen links share it.
        stamp = {"at": None, "text": ""}

        def timestamp():
            now = int(time.time())
            if stamp["at"] != now:
                stamp["at"], stamp["text"] = now, signing.b62_encode(now)
            return stamp["text"]

        signer.timestamp = timestamp
    return signer


def message_id(edition_id: int, delivery_id: int, host: str) -> str:
    return f"<edition-{edition_id}.delivery-{delivery_id}@{host}>"


def _message_id_sql():
    host = urlsplit(subscriptions.site_root_url()).hostname or "localhost"
    return Concat(
        Value("<edition-"),
        Cast("edition_id", CharField()),
        Value(".delivery-"),
        Cast("id", CharField()),
        Value(f"@{host}>"),
        output_field=CharField(),
    )


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


# --- Uncertain deliveries -------------------------------------------------------------------------
def uncertain_deliveries(edition_id: int):
    """The edition's deliveries whose final dot may not have gone out, oldest first."""
    return (
        Delivery.objects.filter(edition_id=edition_id, state=State.UNCERTAIN)
        .select_related("subscriber")
        .order_by("sent_at", "pk")
    )


def resend_uncertain(edition_id: int) -> int:
    """Send the edition again to its uncertain deliveries (a person's decision: some of
    them may have had the email already). They go back to ``pending`` and a sent edition
    to ``sending``; the chunks are enqueued once this commits. Returns how many."""
    from .tasks import enqueue_chunks

    with transaction.atomic():
        edition = Edition.objects.select_for_update().get(pk=edition_id)
        if edition.status not in (Status.SENDING, Status.SENT):
            return 0
        uncertain = Delivery.objects.filter(edition_id=edition_id, state=State.UNCERTAIN)
        subscriber_ids = list(uncertain.values_list("subscriber_id", flat=True))
        moved = move_deliveries(uncertain, "resend", attempted_at=None, sent_at=None, error="")
        if not moved:
            return 0
        if edition.status == Status.SENT:
            move_edition(edition_id, "reopen", finished_at=None, error="")
        ranges = chunk_ranges(subscriber_ids)
        transaction.on_commit(lambda: enqueue_chunks(edition_id, ranges))
    return moved


# --- Progress and preview ------------------------------------------------------------------------
def progress(edition) -> dict:
    """Sent / total, what is left, uncertain ones, and failures grouped by reason: three
    queries."""
    counts = {
        row["state"]: row["n"]
        for row in Delivery.objects.filter(edition_id=edition.pk)
        .order_by()
        .values("state")
        .annotate(n=Count("pk"))
    }
    failures = list(
        Delivery.objects.filter(edition_id=edition.pk, state=State.FAILED)
        .order_by()
        .values("error")
        .annotate(count=Count("pk"))
        .order_by("-count", "error")[:20]
    )
    retrying = (
        Delivery.objects.filter(edition_id=edition.pk, state=State.PENDING)
        .exclude(error="")
        .count()
    )
    total = edition.total or sum(counts.values())
    sent = counts.get(State.SENT, 0)
    return {
        "status": edition.status,
        "status_label": edition.get_status_display(),
        "total": total,
        "sent": sent,
        "failed": counts.get(State.FAILED, 0),
        "skipped": counts.get(State.SKIPPED, 0),
        "uncertain": counts.get(State.UNCERTAIN, 0),
        "pending": counts.get(State.PENDING, 0) + counts.get(State.SENDING, 0),
        "retrying": retrying,
        "percent": round(100 * sent / total, 1) if total else 0.0,
        "failures": [{"reason": row["error"], "count": row["count"]} for row in failures],
        "error": edition.error,
        "started_at": edition.started_at.isoformat() if edition.started_at else None,
        "finished_at": edition.finished_at.isoformat() if edition.finished_at else None,
    }


@dataclass
class Preview:
    email: Email
    picks: list
    subscriber: Subscriber | None
    cards: list[StoryCard] = field(default_factory=list)


def preview(edition, subscriber: Subscriber | None = None, now=None) -> Preview:
    """What ``subscriber`` (or a reader who follows nothing yet) would get if the edition
    went out now. Stores nothing; links go straight to the stories."""
    now = now or timezone.now()
    pool = load_pool(edition, now)
    if not pool:
        raise NoCandidates(no_candidates_message(edition))
    if subscriber is not None:
        reader = load_readers([subscriber.pk], pool)[subscriber.pk]
    else:
        reader = selection.Reader(key=0)
    picks = list(select_for(edition, [reader], pool, now)[0])
    composer = Composer(edition, pool)
    cards = composer.renderer.stories
    slots = [Slot(p.story_id, cards[p.story_id].url or "#", p.reason) for p in picks]
    if subscriber is not None:
        preferences = subscriptions.preferences_url(subscriber)
        unsubscribe = subscriptions.unsubscribe_url(subscriber)
        headers = subscriptions.list_unsubscribe_headers(subscriber)
    else:
        preferences = unsubscribe = f"{composer.root_url}/newsletter/"
        headers = {}
    text, html = composer.renderer.render(
        slots, preferences_url=preferences, unsubscribe_url=unsubscribe
    )
    email = Email(
        subject=edition.title,
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=subscriber.email if subscriber else "reader@example.com",
        text=text,
        html=html,
        headers=headers,
    )
    return Preview(
        email=email, picks=picks, subscriber=subscriber, cards=[cards[p.story_id] for p in picks]
    )
