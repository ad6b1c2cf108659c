"""Figures other apps add to the engagement report and to a story's engagement page.

Engagement names none of the apps that add figures: the conversation app may not be
imported from outside it (tests/test_imports.py; docs/architecture.md), and the report
should not have to know who measures what. They register Wagtail hooks instead, the way
apps fill the reading pages' places:

``engagement_report_figures``
    ``fn(scope) -> ReportFigures | None``: columns for the report, a value per row.
``engagement_story_section``
    ``fn(story, scope) -> (template_name, context) | None``: a section of a story's
    engagement page, rendered with the page's context and ``context`` on top.

Each must take a constant number of queries, whatever the number of rows.
"""

from __future__ import annotations

import datetime
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from wagtail import hooks

from . import metrics

REPORT_HOOK = "engagement_report_figures"
STORY_HOOK = "engagement_story_section"


@dataclass(frozen=True)
class Scope:
    """What the report (or a story's page) counts: the period and its narrowing filters."""

    start: datetime.date
    end: datetime.date
    group_by: str | None = "story"
    stories: list | None = None
    interest: Any = None
    purpose: str = ""
    #: The report's channel: where readers came from (``metrics.KNOWN_SOURCES``, "other").
    channel: str = ""

    @property
    def bounds(self) -> tuple[datetime.datetime, datetime.datetime]:
        """``[since, until)`` as aware datetimes, the same as the channel metrics'."""
        return metrics.period_bounds(self.start, self.end)

    @property
    def networks(self) -> tuple[str, ...] | None:
        """The networks whose posts count: ``None`` for any; none at all when the report
        is narrowed to arrivals that are no network (search engines, the newsletter…),
        as the channel metrics are."""
        if not self.channel:
            return None
        return (self.channel,) if self.channel in metrics.CHANNEL_NETWORKS else ()


@dataclass(frozen=True)
class Figure:
    """One figure an app adds: a field of the report's rows, its CSV column and, when
    ``shown``, a column of the table."""

    name: str
    heading: str
    export_heading: str
    #: The value as text (``"—"`` for ``None``: nothing to measure), for the chart.
    display: Callable[[Any], str]
    shown: bool = True
    sortable: bool = True
    #: The table's cell from all the row's values of the same ``ReportFigures`` (a share
    #: with its count, say); ``display(value)`` when not given.
    cell: Callable[[dict], str] | None = None

    def cell_text(self, values: dict) -> str:
        return self.cell(values) if self.cell else self.display(values.get(self.name))


@dataclass
class ReportFigures:
    """Figures for every row of one report: ``values[row key][figure name]``. A row
    missing from ``values`` (or a name missing from its dict) has nothing to measure."""

    title: str
    #: One sentence for the report's introduction: what the figures count.
    note: str
    figures: tuple[Figure, ...]
    values: dict[object, dict[str, Any]] = field(default_factory=dict)

    def value(self, key, name: str):
        return self.values.get(key, {}).get(name)


def report_figures(scope: Scope) -> list[ReportFigures]:
    """What every registered app adds to the report for ``scope``."""
    found = [hook(scope) for hook in hooks.get_hooks(REPORT_HOOK)]
    return [figures for figures in found if figures is not None]


def story_sections(story, scope: Scope) -> list[tuple[str, dict]]:
    """``(template name, context)`` of each section registered apps add to a story's page."""
    found = [hook(story, scope) for hook in hooks.get_hooks(STORY_HOOK)]
    return [section for section in found if section]
