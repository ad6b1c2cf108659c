"""The conversation in Wagtail's admin (docs/conversation.md): the inbox with its unread
count in the menu, a thread with its answers, moderation for the story page, alerts on
the dashboard."""

from django.urls import include, path

from wagtail import hooks

from syndication.engagement.figures import REPORT_HOOK, STORY_HOOK

from . import admin_urls, publicity, report
from .components import ConversationPanel
from .permissions import can_view
from .viewsets import ConversationInboxViewSet


@hooks.register("register_admin_urls")
def conversation_urls():
    return [path("conversation/", include(admin_urls.urlpatterns))]


@hooks.register("register_admin_viewset")
def register_inbox():
    return ConversationInboxViewSet()


@hooks.register("construct_homepage_panels")
def add_conversation_panel(request, panels):
    if can_view(request.user):
        panels.append(ConversationPanel())


# "What people said" under a story, after syndication's "Join the conversation" (order 0):
# inside the story's h-entry, like it (docs/conversation.md). Nothing when it is off.
@hooks.register("story_page_after_body", order=1)
def what_people_said(context):
    page = context.get("page")
    said = publicity.shown_on_page(page.pk) if page is not None and page.pk else []
    if not said:
        return None
    return "conversation/includes/what_people_said.html", {"people_said": said}


# The conversation's figures in the engagement report and on a story's engagement page:
# engagement may not import this app, so it asks its hooks (docs/metrics.md, "Conversation").
hooks.register(REPORT_HOOK, report.report_figures)
hooks.register(STORY_HOOK, report.story_section)
