"""Engagement in Wagtail's admin (the report, reader journeys, a story's engagement page,
its button in the story's header menu, the dashboard panel: docs/metrics.md) and on
story pages (share buttons and feelings, in the place stories marks for them)."""

from wagtail import hooks

from . import admin

hooks.register("register_admin_urls", admin.engagement_urls)
hooks.register("register_reports_menu_item", admin.engagement_report_menu_item)
hooks.register("register_reports_menu_item", admin.journeys_menu_item)
hooks.register("construct_homepage_panels", admin.add_engaged_stories_panel)
hooks.register("register_page_header_buttons", admin.engagement_header_button)


# Before the conversation (syndication's hook of the same place, registered earlier).
@hooks.register("story_page_after_body", order=-1)
def story_engagement(context):
    return "syndication/includes/story_engagement.html"
