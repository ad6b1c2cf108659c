"""When to post: each account's hours of the week, learned from what its own posts drew.

What counts is what readers did, never reach: for every published post of the account,
the **engaged reads** that arrived through its link (the rollups' ``post_id``, which is
the post's ``utm_content`` marker) plus the **replies** in its latest channel metric
snapshot. Impressions, likes and follower counts play no part.

How a figure is made, for one account:

1. Each post's score is its engaged reads and replies divided by the account's average
   post; a post beyond ``MAX_RELATIVE`` times the median post counts as that much (one
   that went viral says little about its hour, and must not set everyone's average).
2. Posts are placed in their hour of the week in the site's time zone
   (``settings.TIME_ZONE``, Monday 0:00 = 0 … Sunday 23:00 = 167).
3. A slot's figure pools its own posts with their neighbours, weighted: the same hour
   on the same day 1, an hour either side 0.5, the same hour on the other days of the
   same kind (Monday to Friday, or the weekend) 0.3, an hour either side of that 0.15.
4. The pooled mean is shrunk toward 1.0 (the account's average) by empirical Bayes:
   ``lift = (Σ w·score + k) / (Σ w + k)``, with ``k`` the ratio of the spread of single
   posts to the spread between hours (method of moments), kept within ``PRIOR_STRENGTH``.
   An hour with few posts stays near average; only many good posts move it far.

Below ``MIN_POSTS`` measured posts, or when no hour has ``MIN_SLOT_POSTS`` posts behind
its figure, the answer is "not enough data yet" with the counts, never a guess. Posts
younger than ``SETTLE`` are left out: their readers are still arriving.

The estimator (``estimate``, ``best_slots``, ``suggest``, ``evaluate``) is plain Python
over ``PostOutcome`` rows; ``advice_for`` reads them from the database for any number of
accounts in three queries.
"""

from __future__ import annotations

import datetime
import statistics
import zoneinfo
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from django.conf import settings
from django.db.models import Exists, OuterRef, Q, Sum
from django.utils import timezone

from . import states
from .engagement.models import ChannelMetricSnapshot, EngagementRollup
from .models import Network, SyndicationPost

#: Measured posts an account needs before any hour is suggested.
MIN_POSTS = 20
#: Posts behind a slot's figure (its own and its pooled neighbours') to suggest it.
MIN_SLOT_POSTS = 5
#: A slot is suggested only when it beat the account's average by this much.
MIN_LIFT = 1.1
#: A single post counts at most this many times the median post.
MAX_RELATIVE = 5.0
#: Bounds of the shrinkage's prior strength ``k`` (posts' worth of "average").
PRIOR_STRENGTH = (3.0, 30.0)
#: Posts published longer ago than this are not read; younger than SETTLE not yet.
LOOKBACK = datetime.timedelta(days=180)
SETTLE = datetime.timedelta(hours=48)
#: How far ahead a suggestion starts, and how many are made.
LEAD = datetime.timedelta(minutes=15)
SUGGESTIONS = 3
HOURS = 168
WEEKDAY_NAMES = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
#: Pooling weights: (same day, other day of the same kind) × (same hour, an hour away).
DAY_WEIGHTS = (1.0, 0.3)
HOUR_WEIGHTS = (1.0, 0.5)


def site_zone() -> zoneinfo.ZoneInfo:
    return zoneinfo.ZoneInfo(settings.TIME_ZONE)


def hour_of_week(moment: datetime.datetime, zone: datetime.tzinfo) -> int:
    """Monday 0:00–1:00 is 0, Sunday 23:00–24:00 is 167, in ``zone``."""
    if timezone.is_naive(moment):
        raise ValueError("hour_of_week needs an aware datetime")
    local = moment.astimezone(zone)
    return local.weekday() * 24 + local.hour


def slot_label(slot: int) -> str:
    """``Tuesdays 8–9``."""
    day, hour = divmod(slot, 24)
    return f"{WEEKDAY_NAMES[day]}s {hour}–{hour + 1}"


def _weekend(day: int) -> bool:
    return day >= 5


def pooling_weight(slot: int, other: int) -> float:
    """How much a post in ``other`` counts towards the figure of ``slot``."""
    day, hour = divmod(slot, 24)
    other_day, other_hour = divmod(other, 24)
    if day == other_day:
        day_weight = DAY_WEIGHTS[0]
    elif _weekend(day) == _weekend(other_day):
        day_weight = DAY_WEIGHTS[1]
    else:
        return 0.0
    distance = abs(hour - other_hour)
    if distance >= len(HOUR_WEIGHTS):
        return 0.0
    return day_weight * HOUR_WEIGHTS[distance]


#: ``KERNEL[slot]``: ``[(other slot, weight)]`` with a weight above 0.
KERNEL = [
    [(other, w) for other in range(HOURS) if (w := pooling_weight(slot, other)) > 0]
    for slot in range(HOURS)
]


@dataclass(frozen=True)
class PostOutcome:
    """What one published post drew: engaged reads through its link and replies."""

    post_id: int
    published_at: datetime.datetime
    engaged_reads: int
    replies: int = 0

    @property
    def engagement(self) -> int:
        return self.engaged_reads + self.replies


@dataclass(frozen=True)
class HourFigure:
    slot: int
    #: The smoothed figure: how the slot's posts did against the account's average (1.0).
    lift: float
    #: Posts published in exactly this hour of the week, and their unsmoothed mean score.
    posts: int
    raw: float | None
    #: Posts behind ``lift``: its own and its neighbours' (any weight above 0).
    pooled_posts: int

    @property
    def label(self) -> str:
        return slot_label(self.slot)


@dataclass
class Estimate:
    """One account's figures, or why there are none yet (``enough`` False)."""

    posts: int
    #: Engaged reads and replies of the average post.
    average: float
    hours: list[HourFigure] = field(default_factory=list)
    prior_strength: float | None = None
    needed: int = MIN_POSTS

    @property
    def enough(self) -> bool:
        return bool(self.hours)

    def eligible(self, min_slot_posts: int = MIN_SLOT_POSTS, min_lift: float = MIN_LIFT):
        """Slots good enough and well enough supported to suggest, best first."""
        found = [
            figure
            for figure in self.hours
            if figure.pooled_posts >= min_slot_posts and figure.lift >= min_lift
        ]
        return sorted(found, key=lambda figure: (-figure.lift, figure.slot))


def prior_strength(scores_by_group: dict) -> float:
    """Empirical-Bayes ``k`` = within-hour variance / between-hour variance.

    Measured on hours of the day on weekdays and at weekends (``day_kind_hour``), which
    hold enough posts each for a variance. The between-hour variance is the variance of
    the hours' means less what their own noise explains (method of moments); when that
    is not above zero, the hours differ no more than chance and ``k`` is the strongest
    allowed.
    """
    low, high = PRIOR_STRENGTH
    everything = [score for scores in scores_by_group.values() for score in scores]
    if len(everything) < 2:
        return high
    # The spread of single posts, robustly (the median absolute deviation, scaled to a
    # normal's standard deviation), so one outlier does not make every hour look noisy.
    middle = statistics.median(everything)
    spread = 1.4826 * statistics.median(abs(score - middle) for score in everything)
    within = spread**2 or statistics.pvariance(everything)
    groups = [scores for scores in scores_by_group.values() if len(scores) >= 2]
    if len(groups) < 2 or within <= 0:
        return high
    means = [statistics.fmean(scores) for scores in groups]
    noise = statistics.fmean(within / len(scores) for scores in groups)
    between = statistics.pvariance(means) - noise
    if between <= 0:
        return high
    return min(high, max(low, within / between))


def estimate(
    outcomes: Sequence[PostOutcome], zone: datetime.tzinfo, *, min_posts: int = MIN_POSTS
) -> Estimate:
    """Every hour of the week's figure for one account's posts (see the module's note)."""
    outcomes = list(outcomes)
    drew = [outcome.engagement for outcome in outcomes]
    # A post far beyond the usual (MAX_RELATIVE times the median) counts as that much:
    # neither its hour nor the average it sets for every other post follows one outlier.
    ceiling = MAX_RELATIVE * max(statistics.median(drew), 1) if drew else 0
    kept = [min(engagement, ceiling) for engagement in drew]
    average = statistics.fmean(kept) if kept else 0.0
    result = Estimate(posts=len(outcomes), average=average, needed=min_posts)
    if len(outcomes) < min_posts or average <= 0:
        return result
    scores_by_slot: dict[int, list[float]] = defaultdict(list)
    for outcome, engagement in zip(outcomes, kept, strict=True):
        scores_by_slot[hour_of_week(outcome.published_at, zone)].append(engagement / average)
    by_cell: dict[tuple[str, int], list[float]] = defaultdict(list)
    for slot, scores in scores_by_slot.items():
        by_cell[day_kind_hour(slot)].extend(scores)
    k = prior_strength(by_cell)
    sums = {slot: sum(scores) for slot, scores in scores_by_slot.items()}
    counts = {slot: len(scores) for slot, scores in scores_by_slot.items()}
    for slot in range(HOURS):
        weighted = weight = 0.0
        behind = 0
        for other, w in KERNEL[slot]:
            if other in counts:
                weighted += w * sums[other]
                weight += w * counts[other]
                behind += counts[other]
        own = counts.get(slot, 0)
        result.hours.append(
            HourFigure(
                slot=slot,
                lift=(weighted + k) / (weight + k),
                posts=own,
                raw=sums[slot] / own if own else None,
                pooled_posts=behind,
            )
        )
    result.prior_strength = k
    return result


def best_slots(figures: Iterable[HourFigure], count: int = SUGGESTIONS) -> list[HourFigure]:
    """The first ``count`` of ``figures`` (best first), skipping a slot next to one taken
    (an hour either side on the same day): three suggestions, three different times."""
    chosen: list[HourFigure] = []
    for figure in figures:
        if any(abs(figure.slot - taken.slot) <= 1 for taken in chosen):
            continue
        chosen.append(figure)
        if len(chosen) == count:
            break
    return chosen


@dataclass(frozen=True)
class Suggestion:
    at: datetime.datetime
    figure: HourFigure
    reason: str


def reason_for(figure: HourFigure, network_label: str) -> str:
    """``Tuesdays 8–9: your Mastodon posts led to 2.1× the engaged reads and replies of
    your average, from 37 posts at or near that hour``."""
    noun = "post" if figure.pooled_posts == 1 else "posts"
    return (
        f"{figure.label}: your {network_label} posts led to {figure.lift:.1f}× the engaged "
        f"reads and replies of your average, from {figure.pooled_posts} {noun} at or near "
        "that hour"
    )


def upcoming_hours(now: datetime.datetime, zone: datetime.tzinfo):
    """``(slot, aware start)`` of each whole hour of the coming week in ``zone``, from the
    first that starts at least ``LEAD`` after ``now``. A wall-clock hour that does not
    exist (the spring-forward gap) is skipped; a repeated one is offered once."""
    local = (now + LEAD).astimezone(zone)
    start = local.replace(minute=0, second=0, microsecond=0, tzinfo=None)
    if start < local.replace(tzinfo=None):
        start += datetime.timedelta(hours=1)
    for step in range(HOURS):
        wall = start + datetime.timedelta(hours=step)
        aware = wall.replace(tzinfo=zone)
        if aware.astimezone(datetime.UTC).astimezone(zone).replace(tzinfo=None) != wall:
            continue
        yield wall.weekday() * 24 + wall.hour, aware


def suggest(
    result: Estimate,
    network_label: str,
    now: datetime.datetime,
    zone: datetime.tzinfo,
    count: int = SUGGESTIONS,
) -> list[Suggestion]:
    """The coming week's times in the ``count`` best slots, soonest first."""
    chosen = best_slots(result.eligible(), count)
    starts = {}
    for slot, at in upcoming_hours(now, zone):
        starts.setdefault(slot, at)
    found = [
        Suggestion(at=starts[f.slot], figure=f, reason=reason_for(f, network_label))
        for f in chosen
        if f.slot in starts
    ]
    return sorted(found, key=lambda suggestion: suggestion.at)


@dataclass
class Advice:
    """What compose shows for one account: suggestions, or a message saying why none."""

    account_id: int
    estimate: Estimate
    suggestions: list[Suggestion]

    @property
    def message(self) -> str:
        if self.suggestions:
            return ""
        if self.estimate.posts < self.estimate.needed:
            return (
                f"Not enough data yet: {self.estimate.posts} measured "
                f"{'post' if self.estimate.posts == 1 else 'posts'}, "
                f"{self.estimate.needed} needed before a time is suggested."
            )
        if self.estimate.average <= 0:
            return (
                f"Not enough data yet: none of its {self.estimate.posts} posts has drawn "
                "an engaged read or a reply."
            )
        best = max((figure.pooled_posts for figure in self.estimate.hours), default=0)
        if best < MIN_SLOT_POSTS:
            return (
                f"Not enough data yet: no hour has more than {best} posts behind it, "
                f"{MIN_SLOT_POSTS} needed."
            )
        return (
            f"No hour stands out yet: across {self.estimate.posts} posts none did "
            f"{MIN_LIFT:.1f}× better than your average."
        )


# --- From the database -----------------------------------------------------------------
def outcomes_for(account_ids: Iterable[int], now=None) -> dict[int, list[PostOutcome]]:
    """Each account's measured posts, in three queries whatever their number."""
    now = now or timezone.now()
    account_ids = list(account_ids)
    posts = SyndicationPost.objects.filter(
        account_id__in=account_ids,
        state=states.PUBLISHED,
        reply_to_ref={},
        published_at__gte=now - LOOKBACK,
        published_at__lte=now - SETTLE,
    )
    rows = list(
        posts.order_by("published_at", "pk").values_list("pk", "account_id", "published_at")
    )
    reads = dict(
        EngagementRollup.objects.filter(
            event="engaged_read", post_id__in=posts.values("pk"), post_id__gt=0
        )
        .order_by()
        .values("post_id")
        .annotate(n=Sum("count"))
        .values_list("post_id", "n")
    )
    later = Q(taken_at__gt=OuterRef("taken_at")) | Q(
        taken_at=OuterRef("taken_at"), pk__gt=OuterRef("pk")
    )
    newer = ChannelMetricSnapshot.objects.filter(later, post_id=OuterRef("post_id"))
    replies = dict(
        ChannelMetricSnapshot.objects.filter(post__in=posts.values("pk"))
        .filter(~Exists(newer))
        .values_list("post_id", "replies")
    )
    found: dict[int, list[PostOutcome]] = {account_id: [] for account_id in account_ids}
    for pk, account_id, published_at in rows:
        found[account_id].append(
            PostOutcome(pk, published_at, reads.get(pk, 0) or 0, replies.get(pk, 0) or 0)
        )
    return found


def advice_for(accounts, now=None) -> dict[int, Advice]:
    """``{account pk: Advice}`` for compose: three queries for all the accounts."""
    now = now or timezone.now()
    zone = site_zone()
    accounts = list(accounts)
    outcomes = outcomes_for([account.pk for account in accounts], now)
    labels = dict(Network.choices)
    advice = {}
    for account in accounts:
        result = estimate(outcomes[account.pk], zone)
        label = labels.get(account.network, account.network)
        advice[account.pk] = Advice(account.pk, result, suggest(result, label, now, zone))
    return advice


# --- Offline evaluation ----------------------------------------------------------------
def day_kind_hour(slot: int) -> tuple[str, int]:
    """The evaluation's cell: ``("weekday", 8)`` for any weekday's 8–9."""
    day, hour = divmod(slot, 24)
    return ("weekend" if _weekend(day) else "weekday", hour)


def _summary(outcomes: list[PostOutcome]) -> dict:
    count = len(outcomes)
    reads = sum(outcome.engaged_reads for outcome in outcomes)
    engagement = sum(outcome.engagement for outcome in outcomes)
    return {
        "posts": count,
        "engaged_reads": reads,
        "engagement": engagement,
        "engaged_reads_per_post": round(reads / count, 3) if count else None,
        "engagement_per_post": round(engagement / count, 3) if count else None,
    }


def cell_label(cell: tuple[str, int]) -> str:
    kind, hour = cell
    return f"{kind}s {hour}–{hour + 1}"


def evaluate(
    outcomes: Sequence[PostOutcome],
    zone: datetime.tzinfo,
    split_at: datetime.datetime,
    *,
    count: int = SUGGESTIONS,
) -> dict:
    """Fit on the posts before ``split_at``, score on the ones after.

    Both sides are compared at the grain the estimator pools at, an hour of the day on
    weekdays or at the weekend (a later fortnight rarely repeats an exact hour of the
    week often enough to count): the suggested hours are the ``count`` best such cells
    of the fit's suggestable slots, the habit the ``count`` cells the account posted in
    most during the fit period. Returns each group's later posts, engaged reads per post
    and engaged reads and replies per post.
    """
    fit = [outcome for outcome in outcomes if outcome.published_at < split_at]
    later = [outcome for outcome in outcomes if outcome.published_at >= split_at]
    result = estimate(fit, zone)
    report = {
        "fit_posts": len(fit),
        "test_posts": len(later),
        "split_at": split_at.isoformat(),
        "prior_strength": result.prior_strength and round(result.prior_strength, 2),
    }
    suggested: list[tuple[str, int]] = []
    for figure in result.eligible():
        kind, hour = day_kind_hour(figure.slot)
        # As ``best_slots`` does: an hour next to one taken is not another suggestion.
        if all(kind != taken or abs(hour - near) > 1 for taken, near in suggested):
            suggested.append((kind, hour))
    suggested = suggested[:count]
    frequent = Counter(day_kind_hour(hour_of_week(o.published_at, zone)) for o in fit)
    habit = [cell for cell, _ in sorted(frequent.items(), key=lambda item: (-item[1], item[0]))]
    for name, cells in (("suggested", suggested), ("habit", habit[:count])):
        matched = [
            outcome
            for outcome in later
            if day_kind_hour(hour_of_week(outcome.published_at, zone)) in cells
        ]
        report[name] = {"hours": [cell_label(cell) for cell in cells], **_summary(matched)}
    report["all"] = _summary(later)
    mine, theirs = report["suggested"], report["habit"]
    for measure in ("engaged_reads_per_post", "engagement_per_post"):
        ratio = None
        if mine[measure] is not None and theirs[measure]:
            ratio = round(mine[measure] / theirs[measure], 3)
        report[f"{measure}_ratio"] = ratio
    return report
