"""One story's engagement over the last 28 days: its numbers, per channel, its trend and
where its readers went next. Opened from the story's header menu ("Engagement"), which
``wagtail_hooks`` adds, so ``stories`` never imports this app (Wagtail has no hook for a
side panel or a tab in another app's page editor).
"""

from django.shortcuts import get_object_or_404
from django.urls import reverse
from django.utils.functional import cached_property
from django.views.generic import TemplateView

from wagtail.admin.views.generic.base import WagtailAdminTemplateMixin
from wagtail.admin.views.generic.permissions import PermissionCheckedMixin
from wagtail.admin.widgets import HeaderButton

from stories.models import StoryPage

from .. import charts, reports
from ..permissions import permission_policy


class StoryEngagementView(PermissionCheckedMixin, WagtailAdminTemplateMixin, TemplateView):
    """A story's engagement over the last 28 days, opened from its editor."""

    template_name = "engagement/admin/story.html"
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
