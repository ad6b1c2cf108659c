"""The conversation in the engagement report and on a story's engagement page.

Engagement may not import this app (tests/test_imports.py), so the figures arrive
through engagement's hooks (``syndication.engagement.figures``), registered in
``wagtail_hooks``. What each figure means: docs/metrics.md, "Conversation".
"""

from __future__ import annotations

from dataclasses import dataclass

from syndication.engagement.figures import Figure, ReportFigures, Scope
from syndication.models import ChannelAccount, Network

from . import metrics

PREFIX = "conversation_"
SECTION_TEMPLATE = "conversation/admin/engagement_section.html"


def count(value) -> str:
    return "—" if value is None else f"{value:,}"


def decimal(value) -> str:
    return "—" if value is None else f"{value:.2f}"


def percent(value) -> str:
    return "—" if value is None else f"{value:.0%}"


def minutes(value) -> str:
    return metrics.duration(None if value is None else value * 60)


def _answered_cell(values: dict) -> str:
    share = values.get(f"{PREFIX}answered_share")
    if share is None:
        return "—"
    return f"{share:.0%} ({values[f'{PREFIX}answered']} of {values[f'{PREFIX}replies']})"


def _median_cell(values: dict) -> str:
    median = values.get(f"{PREFIX}median_minutes_to_answer")
    if median is None:
        return "—"
    return f"{minutes(median)} (n = {values[f'{PREFIX}answers_timed']})"


def _figure(name, heading, export_heading, display, **options) -> Figure:
    return Figure(PREFIX + name, heading, export_heading, display, **options)


#: In the CSV in this order (after the networks' own reply counts); in the table the
#: ``shown`` ones.
FIGURES = (
    _figure("posts", "Posts read back", "Posts read back", count, shown=False),
    _figure("replies", "Replies & quotes", "Replies and quotes", count),
    _figure("quotes", "Quotes", "Quotes among them", count, shown=False),
    _figure("replies_per_post", "Replies & quotes / post", "Replies and quotes per post", decimal),
    _figure("people", "People replying", "People replying", count),
    _figure("answered", "Answered", "Replies answered", count, shown=False),
    _figure("answered_share", "Answered", "Answered share", percent, cell=_answered_cell),
    _figure(
        "median_minutes_to_answer",
        "Time to answer",
        "Median minutes to answer",
        minutes,
        cell=_median_cell,
    ),
    _figure("answers_timed", "Answers timed", "Answers timed (n)", count, shown=False),
)


def values(figures: metrics.ConversationFigures | None) -> dict:
    """The report's values of one row: all ``None`` when there is nothing to measure."""
    if figures is None or not figures.measured:
        return {figure.name: None for figure in FIGURES}
    median = figures.median_seconds_to_answer
    found = {
        "posts": figures.posts,
        "replies": figures.replies,
        "quotes": figures.quotes,
        "replies_per_post": figures.replies_per_post,
        "people": figures.people,
        "answered": figures.answered,
        "answered_share": figures.answered_share,
        "median_minutes_to_answer": None if median is None else round(median / 60, 1),
        "answers_timed": figures.timed,
    }
    return {PREFIX + name: value for name, value in found.items()}


def collected_networks() -> str:
    """``"Mastodon"``, ``"Mastodon and Bluesky"``: where replies are read back from."""
    from .collect import networks

    labels = [Network(network).label for network in networks()]
    return " and ".join(filter(None, [", ".join(labels[:-1]), labels[-1]]))


def report_figures(scope: Scope) -> ReportFigures:
    """The conversation columns of the engagement report: three queries."""
    since, until = scope.bounds
    found = metrics.load_figures(
        since,
        until,
        group_by=scope.group_by,
        stories=scope.stories,
        interest=scope.interest,
        purpose=scope.purpose,
        networks=scope.networks,
    )
    return ReportFigures(
        title="Conversation",
        note=(
            f"Replies & quotes, people replying, answered and time to answer count the "
            f"conversation Storyloom read back from {collected_networks()} under the posts "
            "published in the period (not our answers), as it stood at the period's end; "
            "“Replies / post” is the networks' own count. “—”: no such post to measure."
        ),
        figures=FIGURES,
        values={key: values(figures) for key, figures in found.items()},
    )


@dataclass(frozen=True)
class Line:
    """One line of the story's conversation: an account, or all of them."""

    label: str
    figures: metrics.ConversationFigures

    @property
    def measured(self) -> bool:
        return self.figures.measured

    def _show(self, text_of, value):
        return text_of(value) if self.measured else "—"

    @property
    def posts(self) -> str:
        return count(self.figures.posts)

    @property
    def replies(self) -> str:
        return self._show(count, self.figures.replies)

    @property
    def quotes(self) -> str:
        return self._show(count, self.figures.quotes)

    @property
    def direct_replies(self) -> str:
        return self._show(count, self.figures.replies - self.figures.quotes)

    @property
    def replies_per_post(self) -> str:
        return decimal(self.figures.replies_per_post)

    @property
    def people(self) -> str:
        return self._show(count, self.figures.people)

    @property
    def answered(self) -> str:
        return self._show(count, self.figures.answered)

    @property
    def answered_share(self) -> str:
        return percent(self.figures.answered_share)

    @property
    def median_time_to_answer(self) -> str:
        return metrics.duration(self.figures.median_seconds_to_answer)

    @property
    def timed(self) -> int:
        return self.figures.timed


def story_section(story, scope: Scope) -> tuple[str, dict]:
    """The "Conversation" section of a story's engagement page: its figures in all and
    per account. Seven queries: the figures twice (three each) and the accounts' names."""
    since, until = scope.bounds
    narrowing = {"stories": scope.stories, "networks": scope.networks}
    total = metrics.load_figures(since, until, group_by=None, **narrowing)[None]
    per_account = metrics.load_figures(since, until, group_by="account", **narrowing)
    accounts = (
        ChannelAccount.objects.filter(pk__in=list(per_account))
        .only("pk", "network", "handle")
        .order_by("network", "handle")
    )
    lines = [
        Line(f"{account.get_network_display()} {account.handle}", per_account[account.pk])
        for account in accounts
    ]
    return SECTION_TEMPLATE, {
        "total": Line("All accounts", total),
        "accounts": lines,
        "networks": collected_networks(),
    }
