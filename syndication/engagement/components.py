"""Engagement on Wagtail's dashboard: "Stories people engaged with this week"."""

from wagtail.admin.ui.components import Component

from . import reports


class EngagedStoriesPanel(Component):
    """ "Stories people engaged with this week", best quality score first, not most viewed."""

    name = "syndication_engaged_stories"
    template_name = "engagement/admin/dashboard_panel.html"
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
