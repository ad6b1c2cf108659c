"""The conversation in Wagtail's admin (docs/conversation.md): the inbox, a thread with
its answers, moderation for the story page and alerts."""

from django.urls import include, path

from wagtail import hooks

from . import admin_urls


@hooks.register("register_admin_urls")
def conversation_urls():
    return [path("conversation/", include(admin_urls.urlpatterns))]
