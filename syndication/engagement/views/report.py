"""*Reports → Engagement*: one row per story, interest, channel or purpose over a period.

Filtered by interest, purpose and channel, sortable, exported as CSV or XLSX, with a bar
chart of the top rows and the engaged reads day by day. What people did, never who
follows (docs/metrics.md).
"""

from django import forms
from django.urls import reverse
from django.utils.functional import cached_property

from wagtail.admin.filters import DateRangePickerWidget, WagtailFilterSet
from wagtail.admin.ui.tables import Column, TitleColumn
from wagtail.admin.views.reports import ReportView

import django_filters

from cms.admin_ui import IdChoiceFilter
from stories.models import AudienceInterest, StoryPage

from .. import charts, metrics, reports
from ..models import FEELINGS, EngagementRollup
from ..permissions import permission_policy
from .filters import EngagementFiltersMixin

TOP_BARS = 10
GROUP_LABELS = {
    "story": "Story",
    "interest": "Interest",
    "channel": "Channel",
    "purpose": "Purpose",
}


class EngagementFilterSet(WagtailFilterSet):
    """The report's filters. None filters a queryset: the view reads them and counts."""

    period = django_filters.DateFromToRangeFilter(
        label="Period", widget=DateRangePickerWidget, help_text="The last 28 days unless set."
    )
    interest = IdChoiceFilter(
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


class EngagementReportView(EngagementFiltersMixin, ReportView):
    """Engagement per story, interest, channel or purpose: what people did, not who follows."""

    page_title = "Engagement"
    header_icon = "view"
    index_url_name = "syndication_engagement_report"
    index_results_url_name = "syndication_engagement_report_results"
    results_template_name = "engagement/admin/report_results.html"
    filterset_class = EngagementFilterSet
    permission_policy = permission_policy
    permission_required = "view"
    default_ordering = "-quality"
    paginate_by = 50
    # The CSV has every input and metric: rates as fractions, feelings as shares. The
    # figures other apps add (``figures``) follow the conversation rate.
    base_export = [
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

    @cached_property
    def added_figures(self) -> list:
        """Every figure the apps that plug into the report add (the conversation's)."""
        return [figure for found in self.report.figures for figure in found.figures]

    @cached_property
    def list_export(self):
        at = self.base_export.index("conversation_rate") + 1
        added = [figure.name for figure in self.added_figures]
        return [*self.base_export[:at], *added, *self.base_export[at:]]

    def get_export_headings(self):
        return {
            **self.export_headings,
            **{figure.name: figure.export_heading for figure in self.added_figures},
            "label": GROUP_LABELS[self.choices["group_by"]],
        }

    def get_heading(self, queryset, field):
        return self.get_export_headings().get(field, field)

    def to_row_dict(self, item):
        return {name: item.rounded(name) for name in self.list_export}

    @cached_property
    def columns(self):
        label = GROUP_LABELS[self.choices["group_by"]]

        def number(name, heading, accessor=None):
            return Column(name, label=heading, accessor=accessor, sort_key=name)

        def added(figure):
            return Column(
                figure.name,
                label=figure.heading,
                accessor=lambda row: figure.cell_text(row.extras),
                sort_key=figure.name if figure.sortable else None,
            )

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
            *(added(figure) for figure in self.added_figures if figure.shown),
            Column("feelings", label="Felt good", accessor="positive_feelings_display"),
            # Applause comes last, on purpose: likes are the weakest signal here.
            number("applause", "Likes / post", "applause_display"),
        ]

    @property
    def added_sort_keys(self) -> list[str]:
        return [figure.name for figure in self.added_figures if figure.sortable]

    def get_valid_orderings(self):
        keys = [*reports.SORT_KEYS, *self.added_sort_keys]
        return [f"{sign}{key}" for key in keys for sign in ("", "-")]

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
        ordering = self.ordering or self.default_ordering
        return reports.sort_rows(self.report.rows, ordering, self.added_sort_keys)

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
        fmt = reports.percent if charted in reports.PERCENTAGES else None
        for figure in self.added_figures:
            if figure.name == charted:
                heading, fmt = figure.heading, figure.display
        rows = [row for row in self.object_list if getattr(row, charted) is not None]
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
        context["figure_notes"] = [found.note for found in self.report.figures if found.note]
        context["journeys_url"] = reverse("syndication_engagement_journeys")
        return context
