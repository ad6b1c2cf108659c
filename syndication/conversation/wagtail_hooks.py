"""The conversation in Wagtail's admin (docs/conversation.md): the inbox, a thread with
its answers, moderation for the story page and alerts."""

from django.urls import include, path

from wagtail import hooks

from . import admin_urls, publicity


@hooks.register("register_admin_urls")
def conversation_urls():
    return [path("conversation/", include(admin_urls.urlpatterns))]


# "What people said" under a story, after syndication's "Join the conversation" (order 0):
# inside the story's h-entry, like it (docs/conversation.md). Nothing when it is off.
@hooks.register("story_page_after_body", order=1)
def what_people_said(context):
    page = context.get("page")
    said = publicity.shown_on_page(page.pk) if page is not None and page.pk else []
    if not said:
        return None
    return "conversation/includes/what_people_said.html", {"people_said": said}
