"""Admin URLs outside the viewsets: composing, the live check and connecting accounts.

Registered under ``/admin/syndication/`` by ``wagtail_hooks`` (``register_admin_urls``),
so Wagtail's admin access check applies to every one of them.
"""

from django.urls import path

from . import views

app_name = "syndication_admin"

urlpatterns = [
    path("compose/", views.PickStoryView.as_view(), name="pick_story"),
    path("compose/<int:page_id>/", views.ComposeView.as_view(), name="compose"),
    path("check/", views.check, name="check"),
    path("connect/", views.ConnectView.as_view(), name="connect"),
    path("connect/mastodon/", views.ConnectMastodonView.as_view(), name="connect_mastodon"),
    path("connect/bluesky/", views.ConnectBlueskyView.as_view(), name="connect_bluesky"),
    path("connect/<str:network>/start/", views.connect_oauth, name="connect_oauth"),
    path("connect/<str:network>/callback/", views.connect_callback, name="connect_callback"),
]
