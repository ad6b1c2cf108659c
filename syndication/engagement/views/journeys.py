"""*Reports → Reader journeys*: the most followed story → story links over a period."""

from django.urls import reverse

from wagtail.admin.filters import DateRangePickerWidget, WagtailFilterSet
from wagtail.admin.ui.tables import Column, TitleColumn
from wagtail.admin.views.reports import ReportView

import django_filters

from .. import reports
from ..models import EngagementRollup
from ..permissions import permission_policy
from .filters import EngagementFiltersMixin


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
