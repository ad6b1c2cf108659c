"""What the engagement screens show, shaped from the database in a constant number of queries.

The admin views (``engagement.views``) only render what these functions return. Every
count is summed in the database (``metrics.load_inputs``, grouped queries here); Python
only merges and orders the already-aggregated rows, one per story or group.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field

from django.db.models import Sum
from django.urls import reverse
from django.utils import timezone
from django.utils.http import urlencode

from stories.models import AudienceInterest, StoryPage

from . import figures, metrics
from .models import FEELINGS, EngagementRollup

DEFAULT_DAYS = 28
FEELING_LABELS = {
    "helpful": "Helpful",
    "moved": "Moved",
    "smiled": "Smiled",
    "not_for_me": "Not for me",
}
SOURCE_LABELS = {
    "direct": "Direct (no referrer)",
    "internal": "This site",
    "search": "Search engines",
    "newsletter": "Newsletter",
    metrics.SHARE_SOURCE: "Reader shares",
    "mastodon": "Mastodon",
    "bluesky": "Bluesky",
    "linkedin": "LinkedIn",
    "x": "X",
    "facebook": "Facebook",
    "threads": "Threads",
    metrics.OTHER_SOURCES: "Other sites",
}
LINK_KIND_LABELS = {
    "continues": "Continue the story",
    "series": "Next in the series",
    "background": "Background",
    "related": "Related",
    "more": "More stories",
    "for_you": "Picked for you",
}


def default_period(today: datetime.date | None = None, days: int = DEFAULT_DAYS):
    """The last ``days`` days, today included."""
    today = today or timezone.localdate()
    return today - datetime.timedelta(days=days - 1), today


def days_between(start: datetime.date, end: datetime.date) -> list[datetime.date]:
    return [start + datetime.timedelta(days=n) for n in range((end - start).days + 1)]


def percent(value: float | None) -> str:
    return "—" if value is None else f"{value:.0%}"


def decimal(value: float | None) -> str:
    return "—" if value is None else f"{value:.2f}"


# --- Report rows -----------------------------------------------------------------------
@dataclass
class Row:
    """One line of the report: a story, an interest, a channel or a purpose."""

    key: object
    label: str
    url: str
    metrics: metrics.Metrics
    pk: object = None
    #: Figures other apps add (``figures.ReportFigures``), by name; ``None``: nothing to
    #: measure.
    extras: dict = field(default_factory=dict)

    def __getattr__(self, name):
        # Columns and CSV fields name inputs (views), metrics (quality) and the figures
        # other apps add (replies answered) directly.
        if name in ("metrics", "key", "extras"):
            raise AttributeError(name)
        if name in self.extras:
            return self.extras[name]
        found = self.metrics
        if hasattr(found, name):
            return getattr(found, name)
        if hasattr(found.inputs, name):
            return getattr(found.inputs, name)
        if name.startswith("feeling_") and name.removeprefix("feeling_") in FEELINGS:
            share = found.feeling_mix[name.removeprefix("feeling_")]
            return None if share is None else round(share, 3)
        raise AttributeError(name)

    # Shown in the table: rates as percentages, per-post figures with two decimals.
    @property
    def engaged_read_rate_display(self):
        return percent(self.metrics.engaged_read_rate)

    @property
    def read_through_rate_display(self):
        return percent(self.metrics.read_through_rate)

    @property
    def link_through_rate_display(self):
        return percent(self.metrics.link_through_rate)

    @property
    def amplification_per_engaged_read_display(self):
        return decimal(self.metrics.amplification_per_engaged_read)

    @property
    def amplification_per_post_display(self):
        return decimal(self.metrics.amplification_per_post)

    @property
    def conversation_rate_display(self):
        return decimal(self.metrics.conversation_rate)

    @property
    def applause_display(self):
        return decimal(self.metrics.applause)

    @property
    def positive_feelings_display(self):
        """The share of feelings given that were good ones (helpful, moved, smiled)."""
        given = sum(self.metrics.inputs.feelings.values())
        good = metrics.positive_feelings(self.metrics.inputs.feelings)
        return f"{good / given:.0%}" if given else "—"

    @property
    def feeling_mix_display(self):
        mix = self.metrics.feeling_mix
        given = [(FEELING_LABELS[name], share) for name, share in mix.items() if share]
        return " · ".join(f"{label} {share:.0%}" for label, share in given) or "—"

    def rounded(self, name: str):
        value = getattr(self, name)
        return round(value, 4) if isinstance(value, float) else value


@dataclass
class Report:
    start: datetime.date
    end: datetime.date
    group_by: str
    rows: list[Row] = field(default_factory=list)
    priors: metrics.Priors | None = None
    #: What other apps add (the conversation), with a value for each row.
    figures: list[figures.ReportFigures] = field(default_factory=list)


def report(
    start: datetime.date,
    end: datetime.date,
    *,
    group_by: str = "story",
    interest=None,
    purpose: str = "",
    channel: str = "",
) -> Report:
    """Every row of the engagement report, unordered, with the site's priors.

    Queries: three for the rows, one for their labels, three more for the site's
    totals when a filter narrows the rows (the priors are always the whole site's), and
    what the apps that add figures take (a constant number each: ``figures``).
    """
    narrowed = bool(interest or purpose or channel) or group_by != "story"
    inputs = metrics.load_inputs(
        start, end, group_by=group_by, interest=interest, purpose=purpose, channel=channel
    )
    if narrowed:
        totals = metrics.load_inputs(start, end, group_by=None)[None]
    else:
        totals = metrics.Inputs.total(inputs.values())
    priors = metrics.Priors.from_totals(totals)
    labels = _labels(group_by, list(inputs), start, end, interest, purpose, channel)
    rows = [_row(key, found, priors, labels) for key, found in inputs.items()]
    scope = figures.Scope(
        start, end, group_by=group_by, interest=interest, purpose=purpose, channel=channel
    )
    added = figures.report_figures(scope)
    for row in rows:
        row.extras = {
            figure.name: found.value(row.key, figure.name)
            for found in added
            for figure in found.figures
        }
    return Report(start, end, group_by, rows, priors, added)


def _row(key, found: metrics.Inputs, priors: metrics.Priors, labels: dict) -> Row:
    label, url = labels.get(key, (str(key), ""))
    return Row(key=key, pk=key, label=label, url=url, metrics=metrics.metrics_for(found, priors))


def report_url(**params) -> str:
    query = {name: value for name, value in params.items() if value not in (None, "")}
    return reverse("syndication_engagement_report") + ("?" + urlencode(query) if query else "")


def _labels(group_by, keys, start, end, interest, purpose, channel) -> dict:
    """``key → (label, url)`` for the rows; at most one query."""
    period = {"period_from": start.isoformat(), "period_to": end.isoformat()}
    narrowing = {
        "interest": getattr(interest, "pk", interest),
        "purpose": purpose,
        "channel": channel,
    }
    if group_by == "story":
        titles = StoryPage.objects.filter(pk__in=keys).values_list("pk", "title")
        return {
            pk: (title, reverse("syndication_engagement_story", args=[pk])) for pk, title in titles
        }
    if group_by == "interest":
        names = AudienceInterest.objects.filter(pk__in=keys).values_list("pk", "name")
        return {
            pk: (name, report_url(**period, **{**narrowing, "interest": pk})) for pk, name in names
        }
    if group_by == "purpose":
        return {
            key: (label, report_url(**period, **{**narrowing, "purpose": key}))
            for key, label in StoryPage.PURPOSES
        }
    return {
        key: (
            SOURCE_LABELS.get(key, key),
            report_url(
                **period,
                **{
                    **narrowing,
                    "channel": key if key in metrics.KNOWN_SOURCES else metrics.OTHER_SOURCES,
                },
            ),
        )
        for key in keys
    }


# --- Time series -----------------------------------------------------------------------
def daily(
    start: datetime.date,
    end: datetime.date,
    events=("engaged_read",),
    *,
    stories=None,
    interest=None,
    purpose: str = "",
    channel: str = "",
) -> dict[str, list[int]]:
    """``event → count per day`` over ``[start, end]``, zeros included. One query."""
    rollups = EngagementRollup.objects.filter(day__gte=start, day__lte=end, event__in=events)
    if stories is not None:
        rollups = rollups.filter(story__in=stories)
    if interest is not None:
        rollups = rollups.filter(story__interests=interest)
    if purpose:
        rollups = rollups.filter(story__purpose=purpose)
    if channel == metrics.OTHER_SOURCES:
        rollups = rollups.exclude(source__in=metrics.KNOWN_SOURCES)
    elif channel:
        rollups = rollups.filter(source=channel)
    counts = {
        (row["day"], row["event"]): row["total"]
        for row in rollups.order_by().values("day", "event").annotate(total=Sum("count"))
    }
    days = days_between(start, end)
    return {event: [counts.get((day, event), 0) for day in days] for event in events}


# --- Reader journeys -------------------------------------------------------------------
@dataclass(frozen=True)
class Journey:
    from_id: int
    from_title: str
    to_id: int
    to_title: str
    kind: str
    follows: int

    @property
    def kind_label(self) -> str:
        return LINK_KIND_LABELS.get(self.kind, self.kind)

    @property
    def path(self) -> str:
        return f"{self.from_title} → {self.to_title}"


def journeys(
    start: datetime.date, end: datetime.date, *, limit: int = 20, story=None
) -> list[Journey]:
    """The most followed story → story links in the period, most followed first.

    Two queries: the ``link_follow`` rollups summed per story and ``kind:to_id``
    detail, then the titles of the stories on both ends.
    """
    follows = EngagementRollup.objects.filter(
        event="link_follow", day__gte=start, day__lte=end, detail__contains=":"
    )
    if story is not None:
        follows = follows.filter(story=story)
    top = list(
        follows.order_by()
        .values("story_id", "detail")
        .annotate(follows=Sum("count"))
        .order_by("-follows", "story_id", "detail")[:limit]
    )
    parsed = []
    for row in top:
        kind, _, target = row["detail"].partition(":")
        if target.isdigit():
            parsed.append((row["story_id"], int(target), kind, row["follows"]))
    ids = {pk for from_id, to_id, *_ in parsed for pk in (from_id, to_id)}
    titles = dict(StoryPage.objects.filter(pk__in=ids).values_list("pk", "title"))
    return [
        Journey(
            from_id,
            titles.get(from_id, "(deleted story)"),
            to_id,
            titles.get(to_id, "(deleted story)"),
            kind,
            count,
        )
        for from_id, to_id, kind, count in parsed
    ]


# --- The dashboard and one story ------------------------------------------------------
def top_stories(start: datetime.date, end: datetime.date, limit: int = 8) -> list[Row]:
    """The stories with the best quality score in the period (not the most viewed).

    Every story with engagement in the period is scored, but only the best few become
    rows (a title, a link, every metric): the dashboard shows eight of thousands, and
    labelling them all cost more than scoring them (a title query with 10,000 ids and
    10,000 URLs, 0.3 s of the panel's 0.6 s). Same queries, same order as
    ``sort_rows(report(start, end).rows, "-quality")[:limit]``.
    """
    if limit <= 0:
        return []
    inputs = metrics.load_inputs(start, end)
    priors = metrics.Priors.from_totals(metrics.Inputs.total(inputs.values()))
    ranked = sorted(
        ((metrics.quality_score(found, priors), found.views, key) for key, found in inputs.items()),
        key=lambda scored: scored[:2],
        reverse=True,
    )
    if len(ranked) > limit:
        # Rows tied with the last one shown are kept: names break the tie.
        cutoff = ranked[limit - 1][:2]
        ranked = [scored for scored in ranked if scored[:2] >= cutoff]
    keys = [key for *_, key in ranked]
    labels = _labels("story", keys, start, end, None, "", "")
    rows = [_row(key, inputs[key], priors, labels) for key in keys]
    return sort_rows(rows, "-quality")[:limit]


SORT_KEYS = (
    "label",
    "quality",
    "views",
    "engaged_reads",
    "engaged_read_rate",
    "read_through_rate",
    "link_through_rate",
    "amplification",
    "amplification_per_engaged_read",
    "posts",
    "conversation_rate",
    "applause",
)


#: Figures shown as percentages.
PERCENTAGES = ("engaged_read_rate", "read_through_rate", "link_through_rate")
SORT_HEADINGS = {
    "quality": "Quality score",
    "views": "Views",
    "engaged_reads": "Engaged reads",
    "engaged_read_rate": "Engaged-read rate",
    "read_through_rate": "Read-through rate",
    "link_through_rate": "Link-through rate",
    "amplification": "Amplification",
    "amplification_per_engaged_read": "Amplification per engaged read",
    "posts": "Posts",
    "conversation_rate": "Replies per post",
    "applause": "Likes per post",
}


def sort_rows(rows: list[Row], ordering: str, extra_keys=()) -> list[Row]:
    """Rows ordered by one of ``SORT_KEYS`` or ``extra_keys`` (figures other apps add),
    ``-`` for descending; blanks always last."""
    descending = ordering.startswith("-")
    name = ordering.lstrip("-")
    if name not in SORT_KEYS and name not in extra_keys:
        name, descending = "quality", True
    if name == "label":
        return sorted(rows, key=lambda row: row.label.lower(), reverse=descending)
    present = [row for row in rows if getattr(row, name) is not None]
    blank = [row for row in rows if getattr(row, name) is None]
    present.sort(
        key=lambda row: (getattr(row, name), row.views, row.label.lower()), reverse=descending
    )
    return present + sorted(blank, key=lambda row: row.label.lower())


@dataclass
class StoryEngagement:
    story: StoryPage
    start: datetime.date
    end: datetime.date
    row: Row
    channels: list[Row]
    days: list[datetime.date]
    series: dict[str, list[int]]
    journeys_out: list[Journey]
    #: ``(template name, context)`` of what other apps add (``figures.story_sections``).
    sections: list[tuple[str, dict]] = field(default_factory=list)


def story_engagement(story: StoryPage, today: datetime.date | None = None) -> StoryEngagement:
    """The story's last 28 days: its numbers, per channel, its trend, where readers went,
    and what other apps add (its conversation)."""
    start, end = default_period(today)
    totals = metrics.load_inputs(start, end, group_by=None)[None]
    priors = metrics.Priors.from_totals(totals)
    own = metrics.load_inputs(start, end, group_by=None, stories=[story.pk])[None]
    per_channel = metrics.load_inputs(start, end, group_by="channel", stories=[story.pk])
    row = Row(story.pk, story.title, "", metrics.metrics_for(own, priors), story.pk)
    channels = sort_rows(
        [
            Row(key, SOURCE_LABELS.get(key, key), "", metrics.metrics_for(found, priors), key)
            for key, found in per_channel.items()
        ],
        "-views",
    )
    series = daily(start, end, ("view", "engaged_read"), stories=[story.pk])
    return StoryEngagement(
        story=story,
        start=start,
        end=end,
        row=row,
        channels=channels,
        days=days_between(start, end),
        series=series,
        journeys_out=journeys(start, end, story=story.pk, limit=10),
        sections=figures.story_sections(
            story, figures.Scope(start, end, group_by=None, stories=[story.pk])
        ),
    )
