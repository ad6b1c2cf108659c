"""The candidate pool: what the selection chooses from, and each reader as it sees them.

The stories an edition may offer (live, public, first published within its window),
loaded once per chunk with what every reader shares — quality and evidence from the
engagement metrics, series order, reader journeys, interest names — in a constant number
of queries; then the readers (followed interests, reads, interests learned from engaged
reads) in three. ``select_for`` hands both to ``stories.selection``.
"""

import datetime
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field

from django.db.models import Q, Sum
from django.utils import timezone

from stories import selection
from stories.models import AudienceInterest, StoryPage

from ..engagement import metrics
from ..engagement.models import EngagementRollup
from .models import Subscriber, SubscriberRead


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
