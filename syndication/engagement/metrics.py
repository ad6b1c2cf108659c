"""Every engagement metric, defined once. ``docs/metrics.md`` explains each in words.

The formulas are plain functions over plain numbers: no Django, no database, so the
report, the dashboard, the editor's page and story selection all compute the same thing
the same way, and tests check them in microseconds. One loader at the bottom,
``load_inputs``, reads the numbers for any set of stories from the rollups and channel
snapshots in a constant number of queries (three), grouped in the database.

What is measured is what people *did* with a story. Follower, fan and subscriber counts
are not inputs to anything here, and nothing here could hold one.
"""

from __future__ import annotations

import datetime
from dataclasses import asdict, dataclass, field, fields

FEELINGS = ("helpful", "moved", "smiled", "not_for_me")
POSITIVE_FEELINGS = ("helpful", "moved", "smiled")
#: ``link_follow`` kinds that take a reader to the *next* story rather than aside.
NEXT_STORY_KINDS = ("continues", "series")
#: Where a reader came from when a share token brought them (see the wire format).
SHARE_SOURCE = "share"
GROUPINGS = ("story", "interest", "channel", "purpose")


# --- Inputs: what happened, counted ----------------------------------------------------
@dataclass
class Inputs:
    """The raw counts behind every metric, for one story or one group of stories.

    On-site counts come from the rollups (events in the period); channel counts from
    each post's latest snapshot (posts published in the period).
    """

    views: int = 0
    engaged_reads: int = 0
    read_throughs: int = 0
    shares: int = 0
    #: ``link_follow`` events of a next-story kind (``continues``, ``series``).
    next_follows: int = 0
    #: Every ``link_follow``, whatever its kind.
    link_follows: int = 0
    #: Views that arrived carrying a share token (source ``share``).
    share_arrivals: int = 0
    posts: int = 0
    reposts: int = 0
    quotes: int = 0
    replies: int = 0
    likes: int = 0
    clicks: int = 0
    feelings: dict[str, int] = field(default_factory=dict)

    def __add__(self, other: Inputs) -> Inputs:
        summed = {
            f.name: getattr(self, f.name) + getattr(other, f.name)
            for f in fields(self)
            if f.name != "feelings"
        }
        feelings = dict(self.feelings)
        for name, count in other.feelings.items():
            feelings[name] = feelings.get(name, 0) + count
        return Inputs(**summed, feelings=feelings)

    @classmethod
    def total(cls, many) -> Inputs:
        result = cls()
        for inputs in many:
            result = result + inputs
        return result

    def as_dict(self) -> dict:
        return asdict(self)


# --- The plain metrics ----------------------------------------------------------------
def ratio(numerator: float, denominator: float) -> float | None:
    """``numerator / denominator``, or ``None`` when there is nothing to divide by."""
    return numerator / denominator if denominator else None


def engaged_read_rate(engaged_reads: int, views: int) -> float | None:
    return ratio(engaged_reads, views)


def read_through_rate(read_throughs: int, views: int) -> float | None:
    return ratio(read_throughs, views)


def link_through_rate(next_follows: int, engaged_reads: int) -> float | None:
    return ratio(next_follows, engaged_reads)


def amplification(shares: int, reposts: int, quotes: int, share_arrivals: int) -> int:
    """Everything that carried the story further: shares, reposts (a quote is a repost
    with a comment) and the visits those shares brought back."""
    return shares + reposts + quotes + share_arrivals


def amplification_per_engaged_read(inputs: Inputs) -> float | None:
    return ratio(_amplification(inputs), inputs.engaged_reads)


def amplification_per_post(inputs: Inputs) -> float | None:
    return ratio(_amplification(inputs), inputs.posts)


def conversation_rate(replies: int, posts: int) -> float | None:
    return ratio(replies, posts)


def applause(likes: int, posts: int) -> float | None:
    return ratio(likes, posts)


def feeling_mix(counts: dict[str, int]) -> dict[str, float | None]:
    """Each feeling's share of all feelings given, in ``FEELINGS`` order."""
    given = sum(counts.get(name, 0) for name in FEELINGS)
    return {name: ratio(counts.get(name, 0), given) for name in FEELINGS}


def positive_feelings(counts: dict[str, int]) -> int:
    return sum(counts.get(name, 0) for name in POSITIVE_FEELINGS)


def _amplification(inputs: Inputs) -> int:
    return amplification(inputs.shares, inputs.reposts, inputs.quotes, inputs.share_arrivals)


# --- Smoothing and the quality score ---------------------------------------------------
def smoothed(successes: float, trials: float, prior_mean: float, strength: float) -> float:
    """The posterior mean with ``strength`` pseudo-trials at the site's ``prior_mean``.

    ``(successes + strength × prior_mean) / (trials + strength)``: beta-binomial for a
    rate (successes ≤ trials), gamma-Poisson for a count per unit (replies per post).
    With few trials it stays near the site's mean; with many it approaches the story's
    own rate.
    """
    if trials + strength <= 0:
        return prior_mean
    return (successes + strength * prior_mean) / (trials + strength)


@dataclass(frozen=True)
class Signal:
    """One ingredient of the quality score: a count over an exposure, weighted."""

    name: str
    label: str
    weight: float
    #: Prior strength ``m``: how many units of exposure the site's mean is worth.
    strength: float
    #: A rate (beta-binomial): the count can't exceed its exposure for the score, so
    #: ten link follows from three engaged readers count as three of three. Per-unit
    #: counts (replies per post) are not capped.
    capped: bool = True

    def counts(self, inputs: Inputs) -> tuple[float, float]:
        count, exposure = SIGNAL_COUNTS[self.name](inputs)
        return (min(count, exposure) if self.capped else count), exposure


#: What a signal counts and over what: ``name → inputs → (count, exposure)``.
SIGNAL_COUNTS = {
    "engaged_read_rate": lambda i: (i.engaged_reads, i.views),
    "read_through_rate": lambda i: (i.read_throughs, i.views),
    "link_through_rate": lambda i: (i.next_follows, i.engaged_reads),
    "amplification": lambda i: (_amplification(i), i.engaged_reads),
    "conversation_rate": lambda i: (i.replies, i.posts),
    "positive_feelings": lambda i: (positive_feelings(i.feelings), sum(i.feelings.values())),
    "applause": lambda i: (i.likes, i.posts),
}

#: The quality score's ingredients. Weights add up to 1; engaged reading and what
#: readers did next weigh most, applause (likes) least. See docs/metrics.md.
SIGNALS = (
    Signal("engaged_read_rate", "Engaged-read rate", weight=0.30, strength=100),
    Signal("link_through_rate", "Link-through rate", weight=0.20, strength=50),
    Signal(
        "amplification", "Amplification per engaged read", weight=0.20, strength=50, capped=False
    ),
    Signal("read_through_rate", "Read-through rate", weight=0.10, strength=100),
    Signal("conversation_rate", "Conversation rate", weight=0.10, strength=5, capped=False),
    Signal("positive_feelings", "Positive feelings", weight=0.05, strength=20),
    Signal("applause", "Applause", weight=0.05, strength=5, capped=False),
)


@dataclass(frozen=True)
class Priors:
    """The site's mean of every signal: what a story is assumed to be until it shows."""

    means: dict[str, float]

    @classmethod
    def from_totals(cls, totals: Inputs, signals=SIGNALS) -> Priors:
        means = {}
        for signal in signals:
            count, exposure = signal.counts(totals)
            means[signal.name] = ratio(count, exposure) or 0.0
        return cls(means)


def lift(inputs: Inputs, signal: Signal, priors: Priors) -> float:
    """The story's smoothed value of ``signal`` over the site's mean (1 = average).

    When nobody on the site has the signal at all (no posts yet, no feelings), it
    cannot tell stories apart and counts as average for everyone.
    """
    mean = priors.means.get(signal.name, 0.0)
    if mean <= 0:
        return 1.0
    count, exposure = signal.counts(inputs)
    return smoothed(count, exposure, mean, signal.strength) / mean


def bounded(value: float) -> float:
    """``2ℓ / (1 + ℓ)``: 0 → 0, average (1) → 1, and never above 2, so one runaway
    signal (a post that went viral) cannot outweigh all the others."""
    return 2 * value / (1 + value) if value > 0 else 0.0


def quality_score(inputs: Inputs, priors: Priors, signals=SIGNALS) -> float:
    """0–100; 50 is the site's average story. See docs/metrics.md for the formula."""
    total_weight = sum(signal.weight for signal in signals)
    if total_weight <= 0:
        return 50.0
    weighted = sum(signal.weight * bounded(lift(inputs, signal, priors)) for signal in signals)
    return round(50 * weighted / total_weight, 1)


# --- Everything at once ----------------------------------------------------------------
@dataclass(frozen=True)
class Metrics:
    """Every metric of one story or group, as the admin shows them."""

    inputs: Inputs
    engaged_read_rate: float | None
    read_through_rate: float | None
    link_through_rate: float | None
    amplification: int
    amplification_per_engaged_read: float | None
    amplification_per_post: float | None
    conversation_rate: float | None
    applause: float | None
    feeling_mix: dict[str, float | None]
    quality: float


def metrics_for(inputs: Inputs, priors: Priors) -> Metrics:
    return Metrics(
        inputs=inputs,
        engaged_read_rate=engaged_read_rate(inputs.engaged_reads, inputs.views),
        read_through_rate=read_through_rate(inputs.read_throughs, inputs.views),
        link_through_rate=link_through_rate(inputs.next_follows, inputs.engaged_reads),
        amplification=_amplification(inputs),
        amplification_per_engaged_read=amplification_per_engaged_read(inputs),
        amplification_per_post=amplification_per_post(inputs),
        conversation_rate=conversation_rate(inputs.replies, inputs.posts),
        applause=applause(inputs.likes, inputs.posts),
        feeling_mix=feeling_mix(inputs.feelings),
        quality=quality_score(inputs, priors),
    )


def rank(inputs_by_key: dict, priors: Priors | None = None) -> list[tuple[object, Metrics]]:
    """``(key, metrics)`` best quality first; priors default to the given rows' totals."""
    if priors is None:
        priors = Priors.from_totals(Inputs.total(inputs_by_key.values()))
    scored = [(key, metrics_for(inputs, priors)) for key, inputs in inputs_by_key.items()]
    return sorted(
        scored, key=lambda item: (-item[1].quality, -item[1].inputs.engaged_reads, str(item[0]))
    )


# --- Loading the inputs ----------------------------------------------------------------
def period_bounds(start: datetime.date, end: datetime.date):
    """Aware datetimes for ``[start 00:00, end + 1 day 00:00)`` in the site's time zone."""
    from django.utils import timezone

    zone = timezone.get_current_timezone()
    since = datetime.datetime.combine(start, datetime.time.min, tzinfo=zone)
    until = datetime.datetime.combine(end + datetime.timedelta(days=1), datetime.time.min)
    return since, until.replace(tzinfo=zone)


def load_inputs(
    start: datetime.date,
    end: datetime.date,
    *,
    group_by: str | None = "story",
    stories=None,
    interest=None,
    purpose: str = "",
    channel: str = "",
) -> dict[object, Inputs]:
    """The inputs of every story (or group) with anything to count in ``[start, end]``.

    Three queries whatever the number of stories, each summed per group in the
    database: the rollups, each post's latest snapshot, the published posts.

    ``group_by``: ``story`` (keys are story ids), ``interest`` (interest ids),
    ``channel`` (arrival sources, and networks for channel metrics), ``purpose``, or
    ``None`` for one row of totals under the key ``None``. ``stories`` (ids or a
    queryset), ``interest``, ``purpose`` and ``channel`` narrow what is counted;
    ``channel="other"`` is every source that is not one of ``KNOWN_SOURCES``.
    """
    # Django is imported here rather than at the top so that the formulas above stay
    # importable, and testable, without a configured project.
    from django.db.models import Count, Exists, OuterRef, Q, Sum
    from django.db.models.functions import Coalesce

    from syndication import states
    from syndication.models import SyndicationPost

    from .models import ChannelMetricSnapshot, EngagementRollup

    if group_by not in (*GROUPINGS, None):
        raise ValueError(f"group_by must be one of {GROUPINGS} or None, not {group_by!r}")
    since, until = period_bounds(start, end)

    def about_stories(prefix: str = "") -> Q:
        query = Q()
        if stories is not None:
            query &= Q(**{f"{prefix}story__in": stories})
        if interest is not None:
            query &= Q(**{f"{prefix}story__interests": interest})
        if purpose:
            query &= Q(**{f"{prefix}story__purpose": purpose})
        return query

    def key(prefix: str, network: str) -> str | None:
        paths = {"story": "story_id", "interest": "story__interests", "purpose": "story__purpose"}
        if group_by == "channel":
            return network
        return f"{prefix}{paths[group_by]}" if group_by else None

    # 1. What readers did on the site, from the rollups.
    def total(condition: Q):
        return Coalesce(Sum("count", filter=condition), 0)

    next_story = Q()
    for kind in NEXT_STORY_KINDS:
        next_story |= Q(detail__startswith=f"{kind}:")
    event_sums = {
        "views": total(Q(event="view")),
        "engaged_reads": total(Q(event="engaged_read")),
        "read_throughs": total(Q(event="read_through")),
        "shares": total(Q(event="share")),
        "next_follows": total(Q(event="link_follow") & next_story),
        "link_follows": total(Q(event="link_follow")),
        "share_arrivals": total(Q(event="view", source=SHARE_SOURCE)),
        **{f"feeling_{name}": total(Q(event="feeling", detail=name)) for name in FEELINGS},
    }
    rollups = EngagementRollup.objects.filter(about_stories(), day__gte=start, day__lte=end)

    # 2. What people did with the posts published in the period: each post's latest
    #    snapshot taken before the period ended (snapshots are running totals).
    # Answers to replies in the conversation are not posts of a story: not counted.
    published = Q(
        state=states.PUBLISHED, published_at__gte=since, published_at__lt=until, reply_to_ref={}
    )
    posts = SyndicationPost.objects.filter(published, about_stories())
    later = Q(taken_at__gt=OuterRef("taken_at"))
    later |= Q(taken_at=OuterRef("taken_at"), pk__gt=OuterRef("pk"))
    newer = ChannelMetricSnapshot.objects.filter(
        later, post_id=OuterRef("post_id"), taken_at__lt=until
    )
    snapshots = ChannelMetricSnapshot.objects.filter(
        about_stories("post__"),
        ~Exists(newer),
        post__state=states.PUBLISHED,
        post__published_at__gte=since,
        post__published_at__lt=until,
        post__reply_to_ref={},
        taken_at__lt=until,
    )
    snapshot_sums = {
        name: Coalesce(Sum(name), 0) for name in ("reposts", "quotes", "replies", "likes", "clicks")
    }

    if channel:
        rollups = rollups.filter(
            ~Q(source__in=KNOWN_SOURCES) if channel == OTHER_SOURCES else Q(source=channel)
        )
        if channel in CHANNEL_NETWORKS:
            posts = posts.filter(account__network=channel)
            snapshots = snapshots.filter(post__account__network=channel)
        else:
            posts, snapshots = posts.none(), snapshots.none()

    results: dict[object, Inputs] = {}
    queries = (
        (rollups, key("", "source"), event_sums),
        (snapshots, key("post__", "post__account__network"), snapshot_sums),
        (posts, key("", "account__network"), {"posts": Count("pk")}),
    )
    for queryset, group, sums in queries:
        if group is None:
            rows = [{"group": None, **queryset.aggregate(**sums)}]
        else:
            rows = queryset.order_by().values(group).annotate(**sums)
            rows = [{"group": row.pop(group), **row} for row in map(dict, rows)]
        for row in rows:
            group_key = row.pop("group")
            if group_key is None and group is not None:
                continue  # a story with no interest, when grouping by interest
            _add(results.setdefault(group_key, Inputs()), row)
    if group_by is None:
        results.setdefault(None, Inputs())
    return results


def _add(inputs: Inputs, row: dict) -> None:
    for name, value in row.items():
        if name.startswith("feeling_"):
            if value:
                feeling = name.removeprefix("feeling_")
                inputs.feelings[feeling] = inputs.feelings.get(feeling, 0) + value
        else:
            setattr(inputs, name, getattr(inputs, name) + (value or 0))


#: Networks posts go to: as a channel, they have both arrivals and channel metrics.
CHANNEL_NETWORKS = ("mastodon", "bluesky", "linkedin", "x", "facebook", "threads")
#: Arrival sources with a name of their own; any other source is another site's host.
KNOWN_SOURCES = ("direct", "internal", "search", "newsletter", SHARE_SOURCE, *CHANNEL_NETWORKS)
OTHER_SOURCES = "other"
