"""Engagement in Wagtail's admin: the report, reader journeys, a story's page, the dashboard.

* **Reports → Engagement** (``EngagementReportView``, a Wagtail ``ReportView``): one row
  per story, interest, channel or purpose over a period (the last 28 days unless told),
  filtered by interest, purpose and channel, sortable, exported as CSV or XLSX, with a
  bar chart of the top rows and the engaged reads day by day.
* **Reports → Reader journeys**: the most followed story → story links.
* **A story's engagement** (``StoryEngagementView``): its numbers over the last 28 days,
  per channel, its trend and where its readers went next. The page editor's header
  menu links to it ("Engagement", like "Syndicate") through the
  ``register_page_header_buttons`` hook, so ``stories`` never imports ``syndication``.
  Wagtail 7.4 has no hook for adding a side panel or a tab to another app's page
  editor, and building one into ``StoryPage.content_panels`` would make ``stories``
  depend on this app.
* **Dashboard**: "Stories people engaged with this week", by quality score.

Everything is registered by ``syndication/engagement/wagtail_hooks.py``. Who may look:
anyone with the ``engagement.view_engagementrollup`` permission (social managers,
editors and moderators are given it).
"""

from __future__ import annotations

import datetime

from django import forms
from django.shortcuts import get_object_or_404
from django.urls import path, reverse
from django.utils import timezone
from django.utils.functional import cached_property
from django.views.generic import TemplateView

from wagtail.admin.filters import DateRangePickerWidget, WagtailFilterSet
from wagtail.admin.menu import MenuItem
from wagtail.admin.ui.components import Component
from wagtail.admin.ui.tables import Column, TitleColumn
from wagtail.admin.views.generic.base import WagtailAdminTemplateMixin
from wagtail.admin.views.generic.permissions import PermissionCheckedMixin
from wagtail.admin.views.reports import ReportView
from wagtail.admin.widgets import HeaderButton
from wagtail.permission_policies import ModelPermissionPolicy

import django_filters

from cms.admin_ui import story_buttons
from stories.models import AudienceInterest, StoryPage

from . import charts, metrics, reports
from .models import FEELINGS, EngagementRollup

VIEW_PERMISSION = "engagement.view_engagementrollup"
permission_policy = ModelPermissionPolicy(EngagementRollup)
TOP_BARS = 10
GROUP_LABELS = {
    "story": "Story",
    "interest": "Interest",
    "channel": "Channel",
    "purpose": "Purpose",
}


def can_view_engagement(user) -> bool:
    return user.is_active and user.has_perm(VIEW_PERMISSION)


def _as_date(value):
    if isinstance(value, datetime.datetime):
        return timezone.localtime(value).date() if timezone.is_aware(value) else value.date()
    return value


# --- The report ------------------------------------------------------------------------
class EngagementFilterSet(WagtailFilterSet):
    """The report's filters. None filters a queryset: the view reads them and counts."""

    period = django_filters.DateFromToRangeFilter(
        label="Period", widget=DateRangePickerWidget, help_text="The last 28 days unless set."
    )
    interest = django_filters.ModelChoiceFilter(
        queryset=AudienceInterest.objects.all(), label="Interest", empty_label="Any"
    )
    purpose = django_filters.ChoiceFilter(
        choices=StoryPage.PURPOSES, label="Purpose", empty_label="Any"
    )
    channel = django_filters.ChoiceFilter(
        choices=[
            (key, reports.SOURCE_LABELS[key])
            for key in (*metrics.KNOWN_SOURCES, metrics.OTHER_SOURCES)
        ],
        label="Channel (where readers came from)",
        empty_label="Any",
    )
    group = django_filters.ChoiceFilter(
        choices=list(GROUP_LABELS.items()),
        label="One row per",
        empty_label=None,
        widget=forms.RadioSelect,
    )

    class Meta:
        model = EngagementRollup
        fields = []


class EngagementFiltersMixin:
    """Reads the period and narrowing filters from the filter form, with defaults."""

    @cached_property
    def choices(self) -> dict:
        cleaned = {}
        if self.filters is not None and self.filters.is_valid():
            cleaned = self.filters.form.cleaned_data
        period = cleaned.get("period")
        start, end = reports.default_period()
        if period is not None:
            # django-filter hands over aware datetimes (00:00 and 23:59:59.999999 of the
            # chosen days); the report counts whole days, and one open end must still
            # compare with the default date at the other.
            period = slice(_as_date(period.start), _as_date(period.stop))
            if period.start and period.stop:
                start, end = period.start, period.stop
            elif period.start:
                start = period.start
            elif period.stop:
                end = period.stop
                start = end - datetime.timedelta(days=reports.DEFAULT_DAYS - 1)
        start, end = min(start, end), max(start, end)
        return {
            "start": start,
            "end": end,
            "interest": cleaned.get("interest"),
            "purpose": cleaned.get("purpose") or "",
            "channel": cleaned.get("channel") or "",
            "group_by": cleaned.get("group") or "story",
        }

    def filter_queryset(self, queryset):
        return queryset  # Already narrowed where the counting happens.

    def period_text(self) -> str:
        start, end = self.choices["start"], self.choices["end"]
        return f"{start:%-d %b %Y} – {end:%-d %b %Y}"


class EngagementReportView(EngagementFiltersMixin, ReportView):
    """Engagement per story, interest, channel or purpose: what people did, not who follows."""

    page_title = "Engagement"
    header_icon = "view"
    index_url_name = "syndication_engagement_report"
    index_results_url_name = "syndication_engagement_report_results"
    results_template_name = "syndication/admin/engagement/report_results.html"
    filterset_class = EngagementFilterSet
    permission_policy = permission_policy
    permission_required = "view"
    default_ordering = "-quality"
    paginate_by = 50
    # The CSV has every input and metric: rates as fractions, feelings as shares.
    list_export = [
        "label",
        "quality",
        "views",
        "engaged_reads",
        "engaged_read_rate",
        "read_throughs",
        "read_through_rate",
        "next_follows",
        "link_follows",
        "link_through_rate",
        "shares",
        "share_arrivals",
        "reposts",
        "quotes",
        "amplification",
        "amplification_per_engaged_read",
        "amplification_per_post",
        "posts",
        "replies",
        "conversation_rate",
        *(f"feeling_{name}" for name in FEELINGS),
        "clicks",
        "likes",
        "applause",
    ]
    export_headings = {
        "quality": "Quality score",
        "views": "Views",
        "engaged_reads": "Engaged reads",
        "engaged_read_rate": "Engaged-read rate",
        "read_throughs": "Read-throughs",
        "read_through_rate": "Read-through rate",
        "next_follows": "Next-story follows",
        "link_follows": "Link follows",
        "link_through_rate": "Link-through rate",
        "shares": "Shares",
        "share_arrivals": "Share-driven arrivals",
        "reposts": "Reposts",
        "quotes": "Quotes",
        "amplification": "Amplification",
        "amplification_per_engaged_read": "Amplification per engaged read",
        "amplification_per_post": "Amplification per post",
        "posts": "Posts",
        "replies": "Replies",
        "conversation_rate": "Conversation rate",
        **{f"feeling_{name}": f"Felt {reports.FEELING_LABELS[name].lower()}" for name in FEELINGS},
        "clicks": "Post link clicks",
        "likes": "Likes",
        "applause": "Applause",
    }

    def get_page_subtitle(self):
        return f"per {GROUP_LABELS[self.choices['group_by']].lower()}, {self.period_text()}"

    def get_filename(self):
        choices = self.choices
        return f"engagement-per-{choices['group_by']}-{choices['start']}-{choices['end']}"

    def get_export_headings(self):
        return {**self.export_headings, "label": GROUP_LABELS[self.choices["group_by"]]}

    def get_heading(self, queryset, field):
        return self.get_export_headings().get(field, field)

    def to_row_dict(self, item):
        return {name: item.rounded(name) for name in self.list_export}

    @cached_property
    def columns(self):
        label = GROUP_LABELS[self.choices["group_by"]]

        def number(name, heading, accessor=None):
            return Column(name, label=heading, accessor=accessor, sort_key=name)

        return [
            TitleColumn(
                "label",
                label=label,
                sort_key="label",
                get_url=lambda row: row.url or None,
            ),
            number("quality", "Quality"),
            number("views", "Views"),
            number("engaged_reads", "Engaged reads"),
            number("engaged_read_rate", "Engaged %", "engaged_read_rate_display"),
            number("read_through_rate", "Read-through %", "read_through_rate_display"),
            number("link_through_rate", "Link-through %", "link_through_rate_display"),
            number(
                "amplification_per_engaged_read",
                "Amplified / read",
                "amplification_per_engaged_read_display",
            ),
            number("conversation_rate", "Replies / post", "conversation_rate_display"),
            Column("feelings", label="Felt good", accessor="positive_feelings_display"),
            # Applause comes last, on purpose: likes are the weakest signal here.
            number("applause", "Likes / post", "applause_display"),
        ]

    def get_valid_orderings(self):
        return [f"{sign}{key}" for key in reports.SORT_KEYS for sign in ("", "-")]

    @cached_property
    def report(self) -> reports.Report:
        choices = self.choices
        return reports.report(
            choices["start"],
            choices["end"],
            group_by=choices["group_by"],
            interest=choices["interest"],
            purpose=choices["purpose"],
            channel=choices["channel"],
        )

    def get_queryset(self):
        return reports.sort_rows(self.report.rows, self.ordering or self.default_ordering)

    def get_context_data(self, *args, **kwargs):
        context = super().get_context_data(*args, **kwargs)
        if self.is_export:
            return context
        choices = self.choices
        # The bars show the first rows in the table's order, of the figure it is sorted
        # by (the quality score when sorted by name).
        ordering = self.ordering or self.default_ordering
        charted = ordering.lstrip("-") if ordering.lstrip("-") != "label" else "quality"
        which = "top" if ordering.startswith("-") or charted != ordering.lstrip("-") else "lowest"
        heading = reports.SORT_HEADINGS.get(charted, charted)
        rows = [row for row in self.object_list if getattr(row, charted) is not None]
        fmt = reports.percent if charted in reports.PERCENTAGES else None
        group = GROUP_LABELS[choices["group_by"]].lower()
        context["bar_chart"] = charts.bar_chart(
            [(row.label, getattr(row, charted)) for row in rows[:TOP_BARS]],
            title=f"{heading}: the {which} {min(len(rows), TOP_BARS)} by {group}",
            chart_id="engagement-top",
            value_format=fmt,
        )
        days = reports.days_between(choices["start"], choices["end"])
        series = reports.daily(
            choices["start"],
            choices["end"],
            ("engaged_read",),
            interest=choices["interest"],
            purpose=choices["purpose"],
            channel=choices["channel"],
        )
        context["line_chart"] = charts.line_chart(
            [f"{day:%-d %b}" for day in days],
            {"Engaged reads": series["engaged_read"]},
            title=f"Engaged reads per day, {self.period_text()}",
            chart_id="engagement-daily",
        )
        context["period_text"] = self.period_text()
        context["journeys_url"] = reverse("syndication_engagement_journeys")
        return context


# --- Reader journeys -------------------------------------------------------------------
class JourneyFilterSet(WagtailFilterSet):
    period = django_filters.DateFromToRangeFilter(
        label="Period", widget=DateRangePickerWidget, help_text="The last 28 days unless set."
    )

    class Meta:
        model = EngagementRollup
        fields = []


class ReaderJourneysView(EngagementFiltersMixin, ReportView):
    """The most followed story → story paths: where readers went next."""

    page_title = "Reader journeys"
    header_icon = "link"
    index_url_name = "syndication_engagement_journeys"
    index_results_url_name = "syndication_engagement_journeys_results"
    filterset_class = JourneyFilterSet
    permission_policy = permission_policy
    permission_required = "view"
    paginate_by = None
    limit = 50
    list_export = ["from_title", "to_title", "kind_label", "follows"]
    export_headings = {
        "from_title": "From story",
        "to_title": "To story",
        "kind_label": "Link",
        "follows": "Follows",
    }

    def get_page_subtitle(self):
        return self.period_text()

    def get_filename(self):
        return f"reader-journeys-{self.choices['start']}-{self.choices['end']}"

    def get_heading(self, queryset, field):
        return self.export_headings[field]

    columns = [
        TitleColumn(
            "from_title",
            label="From story",
            get_url=lambda journey: reverse("syndication_engagement_story", args=[journey.from_id]),
        ),
        TitleColumn(
            "to_title",
            label="To story",
            get_url=lambda journey: reverse("syndication_engagement_story", args=[journey.to_id]),
        ),
        Column("kind_label", label="Link"),
        Column("follows", label="Follows"),
    ]

    def get_queryset(self):
        return reports.journeys(self.choices["start"], self.choices["end"], limit=self.limit)


# --- One story -------------------------------------------------------------------------
class StoryEngagementView(PermissionCheckedMixin, WagtailAdminTemplateMixin, TemplateView):
    """A story's engagement over the last 28 days, opened from its editor."""

    template_name = "syndication/admin/engagement/story.html"
    header_icon = "view"
    permission_policy = permission_policy
    permission_required = "view"

    @cached_property
    def story(self) -> StoryPage:
        return get_object_or_404(StoryPage, pk=self.kwargs["page_id"])

    def get_page_title(self):
        return f"Engagement: {self.story.title}"

    def get_breadcrumbs_items(self):
        return [
            *self.breadcrumbs_items,
            {"url": reverse("syndication_engagement_report"), "label": "Engagement"},
            {"url": "", "label": self.story.title, "sublabel": "last 28 days"},
        ]

    def get_header_buttons(self):
        return [
            HeaderButton(
                "Edit story",
                url=reverse("wagtailadmin_pages:edit", args=[self.story.pk]),
                icon_name="edit",
            )
        ]

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        found = reports.story_engagement(self.story)
        labels = [f"{day:%-d %b}" for day in found.days]
        context.update(
            {
                "engagement": found,
                "row": found.row,
                "feelings": [
                    (reports.FEELING_LABELS[name], found.row.inputs.feelings.get(name, 0), share)
                    for name, share in found.row.metrics.feeling_mix.items()
                ],
                "trend": charts.line_chart(
                    labels,
                    {
                        "Views": found.series["view"],
                        "Engaged reads": found.series["engaged_read"],
                    },
                    title=f"Views and engaged reads of “{self.story.title}”, last 28 days",
                    chart_id="story-trend",
                ),
                "report_url": reverse("syndication_engagement_report"),
            }
        )
        return context


# --- The dashboard ---------------------------------------------------------------------
class EngagedStoriesPanel(Component):
    """ "Stories people engaged with this week", best quality score first, not most viewed."""

    name = "syndication_engaged_stories"
    template_name = "syndication/admin/engagement/dashboard_panel.html"
    # After the post queue's panel (230), before recent edits (250).
    order = 240
    days = 7
    shown = 8

    def get_context_data(self, parent_context):
        start, end = reports.default_period(days=self.days)
        rows = reports.top_stories(start, end, limit=self.shown)
        return {
            "rows": rows,
            "report_url": reports.report_url(
                period_from=start.isoformat(), period_to=end.isoformat()
            ),
        }


# --- Registration ----------------------------------------------------------------------
class EngagementMenuItem(MenuItem):
    def is_shown(self, request):
        return can_view_engagement(request.user)


def engagement_urls():
    return [
        path(
            "reports/engagement/",
            EngagementReportView.as_view(),
            name=EngagementReportView.index_url_name,
        ),
        path(
            "reports/engagement/results/",
            EngagementReportView.as_view(results_only=True),
            name=EngagementReportView.index_results_url_name,
        ),
        path(
            "reports/reader-journeys/",
            ReaderJourneysView.as_view(),
            name=ReaderJourneysView.index_url_name,
        ),
        path(
            "reports/reader-journeys/results/",
            ReaderJourneysView.as_view(results_only=True),
            name=ReaderJourneysView.index_results_url_name,
        ),
        path(
            "engagement/story/<int:page_id>/",
            StoryEngagementView.as_view(),
            name="syndication_engagement_story",
        ),
    ]


def engagement_report_menu_item():
    return EngagementMenuItem(
        "Engagement", reverse("syndication_engagement_report"), icon_name="view", order=650
    )


def journeys_menu_item():
    return EngagementMenuItem(
        "Reader journeys", reverse("syndication_engagement_journeys"), icon_name="link", order=660
    )


def add_engaged_stories_panel(request, panels):
    if can_view_engagement(request.user):
        panels.append(EngagedStoriesPanel())


def engagement_header_button(page, user, view_name=None, next_url=None):
    """ "Engagement" in a story's header menu (editor and listing), for people who may look."""
    if not page.pk:  # a story being created has no readers yet
        return []
    return story_buttons(
        page,
        user,
        permitted=can_view_engagement,
        label="Engagement",
        url_name="syndication_engagement_story",
        icon_name="view",
        title="What readers did with “{title}”",
        priority=46,
    )
