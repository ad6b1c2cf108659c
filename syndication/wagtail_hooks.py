"""Syndication in Wagtail's admin: the menu group, the Syndicate button, the dashboard panel."""

from django.urls import include, path

from wagtail import hooks

from cms.admin_ui import story_buttons

from . import admin_urls, posts
from .components import NextPostsPanel
from .viewsets import SyndicationViewSetGroup


@hooks.register("register_admin_viewset")
def register_syndication_viewsets():
    return SyndicationViewSetGroup()


@hooks.register("register_admin_urls")
def register_syndication_urls():
    return [path("syndication/", include(admin_urls))]


def _syndicate_buttons(page, user):
    """The Syndicate button on stories, for people who may at least propose posts."""
    return story_buttons(
        page,
        user,
        permitted=posts.can_propose,
        label="Syndicate",
        url_name="syndication_admin:compose",
        icon_name="globe",
        title="Post “{title}” to social accounts",
        priority=45,
    )


@hooks.register("register_page_header_buttons")
def syndicate_header_button(page, user, view_name=None, next_url=None):
    return _syndicate_buttons(page, user)


@hooks.register("register_page_listing_more_buttons")
def syndicate_listing_button(page, user, next_url=None):
    return _syndicate_buttons(page, user)


@hooks.register("construct_homepage_panels")
def add_next_posts_panel(request, panels):
    if request.user.has_perm("syndication.view_syndicationpost"):
        panels.append(NextPostsPanel())


# Engagement's report, journeys, per-story page and dashboard panel (docs/metrics.md).
from .engagement.admin import register_engagement_admin  # noqa: E402

register_engagement_admin()

# Newsletter → Subscribers (and the newsletter's other screens): docs/newsletter.md.
from .newsletter import wagtail_hooks as newsletter_hooks  # noqa: E402, F401
