"""Engagement in Wagtail's admin (the report, reader journeys, a story's engagement page,
its button in the story's header menu, the dashboard panel: docs/metrics.md) and on
story pages (share buttons and feelings, in the place stories marks for them)."""

from django.urls import reverse

from wagtail import hooks
from wagtail.admin.menu import MenuItem

from cms.admin_ui import story_buttons

from . import admin_urls
from .components import EngagedStoriesPanel
from .permissions import can_view_engagement


class EngagementMenuItem(MenuItem):
    def is_shown(self, request):
        return can_view_engagement(request.user)


@hooks.register("register_admin_urls")
def engagement_urls():
    return admin_urls.urlpatterns


@hooks.register("register_reports_menu_item")
def engagement_report_menu_item():
    return EngagementMenuItem(
        "Engagement", reverse("syndication_engagement_report"), icon_name="view", order=650
    )


@hooks.register("register_reports_menu_item")
def journeys_menu_item():
    return EngagementMenuItem(
        "Reader journeys", reverse("syndication_engagement_journeys"), icon_name="link", order=660
    )


@hooks.register("construct_homepage_panels")
def add_engaged_stories_panel(request, panels):
    if can_view_engagement(request.user):
        panels.append(EngagedStoriesPanel())


@hooks.register("register_page_header_buttons")
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


# Before the conversation (syndication's hook of the same place, registered earlier).
@hooks.register("story_page_after_body", order=-1)
def story_engagement(context):
    return "engagement/includes/story_engagement.html"
