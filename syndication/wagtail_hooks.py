"""Syndication in Wagtail's admin: the menu group, the Syndicate button, the dashboard panel."""

from django.urls import NoReverseMatch, include, path, reverse

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


# What reading pages show from syndication, in the places stories marks for others
# (stories/templatetags/reading_tags.py): stories never names syndication's URLs or tags.
# Engagement's (share buttons, feelings) and the newsletter's ("For you") are registered
# by those apps' own wagtail_hooks.py.
@hooks.register("story_page_after_body")
def story_conversation(context):
    return "syndication/includes/story_conversation.html"


@hooks.register("site_head")
def site_feed_links(context):
    return "syndication/includes/site_feed_links.html"


@hooks.register("site_nav")
def site_nav_feeds(context):
    return "syndication/includes/site_nav_feeds.html"


@hooks.register("site_footer_links")
def site_footer_feeds(context):
    return "syndication/includes/site_footer_feeds.html"


@hooks.register("interest_hub_head")
def interest_feed_link(context):
    return "syndication/includes/interest_feed_link.html"


@hooks.register("interest_hub_intro")
def interest_feed_links(context):
    return "syndication/includes/interest_feed_links.html"


@hooks.register("story_listing_paths")
def feed_paths(interest_slugs):
    """The feeds listing stories, all and per interest: purged from the CDN with them."""
    feeds = [("stories_rss", ()), ("stories_atom", ())]
    feeds += [
        (name, (slug,)) for slug in interest_slugs for name in ("interest_rss", "interest_atom")
    ]
    paths = []
    for name, args in feeds:
        try:
            paths.append(reverse(f"syndication:{name}", args=args))
        except NoReverseMatch:
            continue
    return paths
