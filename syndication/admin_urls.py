"""Admin URLs outside the viewsets: composing, the live check and connecting accounts.

Registered under ``/admin/syndication/`` by ``wagtail_hooks`` (``register_admin_urls``),
so Wagtail's admin access check applies to every one of them.
"""

from django.urls import path

from .views import compose, connect, connect_facebook, pick_story

app_name = "syndication_admin"

urlpatterns = [
    path("compose/", pick_story.PickStoryView.as_view(), name="pick_story"),
    path("compose/<int:page_id>/", compose.ComposeView.as_view(), name="compose"),
    path("check/", compose.check, name="check"),
    path("picture-preview/", compose.picture_preview, name="picture_preview"),
    path("connect/", connect.ConnectView.as_view(), name="connect"),
    path("connect/mastodon/", connect.ConnectMastodonView.as_view(), name="connect_mastodon"),
    path("connect/bluesky/", connect.ConnectBlueskyView.as_view(), name="connect_bluesky"),
    path(
        "connect/facebook/pages/",
        connect_facebook.FacebookPagesView.as_view(),
        name="connect_facebook_pages",
    ),
    path("connect/<str:network>/start/", connect.connect_oauth, name="connect_oauth"),
    path("connect/<str:network>/callback/", connect.connect_callback, name="connect_callback"),
]
