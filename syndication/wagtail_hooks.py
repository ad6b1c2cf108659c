"""Syndication in Wagtail's admin: the menu group, the Syndicate button, the dashboard panel."""

from django.urls import include, path, reverse

from wagtail import hooks
from wagtail.admin.admin_url_finder import ModelAdminURLFinder, register_admin_url_finder
from wagtail.admin.viewsets.base import ViewSetGroup
from wagtail.admin.viewsets.model import ModelViewSet
from wagtail.admin.widgets import Button

from stories.models import StoryPage

from . import admin_urls, posts, views
from .components import NextPostsPanel
from .models import ChannelAccount, SyndicationPost

#: Views the list-and-act viewsets below never offer: nobody types a token or a state.
NO_FORMS = {
    "add_url_name": None,
    "edit_url_name": None,
    "delete_url_name": None,
    "copy_url_name": None,
    "history_url_name": None,
    "usage_url_name": None,
}


class ChannelAccountViewSet(ModelViewSet):
    """Connected accounts: listed, connected, reconnected, disconnected; never edited.

    There is no create or edit form, so tokens cannot appear in one; "Connect an
    account" takes the place of "Add".
    """

    model = ChannelAccount
    name = "syndication_accounts"
    url_prefix = "syndication/accounts"
    icon = "user"
    menu_label = "Channel accounts"
    index_view_class = views.ChannelAccountIndexView
    list_filter = ["network", "status"]
    copy_view_enabled = False
    inspect_view_enabled = False
    add_to_reference_index = False

    def get_common_view_kwargs(self, **kwargs):
        return {
            **super().get_common_view_kwargs(**kwargs),
            **NO_FORMS,
            "add_url_name": "syndication_admin:connect",
        }

    def get_urlpatterns(self):
        return [
            path("", self.index_view, name="index"),
            path("results/", self.index_results_view, name="index_results"),
            path("<int:pk>/disconnect/", views.DisconnectView.as_view(), name="disconnect"),
            path("<int:pk>/reconnect/", views.ReconnectView.as_view(), name="reconnect"),
        ]

    def register_admin_url_finder(self):
        register_admin_url_finder(
            self.model,
            type(
                "ChannelAccountURLFinder",
                (ModelAdminURLFinder,),
                {"construct_edit_url": lambda finder, instance: reverse(views.ACCOUNTS_INDEX)},
            ),
        )


class SyndicationPostViewSet(ModelViewSet):
    """The post queue: what goes out when, what happened, and the actions people take."""

    model = SyndicationPost
    name = "syndication_posts"
    url_prefix = "syndication/posts"
    icon = "calendar-alt"
    menu_label = "Post queue"
    index_view_class = views.PostIndexView
    inspect_view_class = views.PostInspectView
    inspect_view_enabled = True
    inspect_view_fields = [
        "story",
        "account",
        "state",
        "scheduled_at",
        "text",
        "link",
        "related_stories",
        "thread_with_previous",
        "remote_url",
        "voice_score",
        "voice_override_reason",
        "created_by",
        "last_error",
    ]
    copy_view_enabled = False
    filterset_class = views.PostFilterSet
    list_per_page = 50
    add_to_reference_index = False

    def get_common_view_kwargs(self, **kwargs):
        # "Add" picks a story to syndicate: a post always starts from its story.
        return {
            **super().get_common_view_kwargs(**kwargs),
            **NO_FORMS,
            "add_url_name": "syndication_admin:pick_story",
        }

    def get_urlpatterns(self):
        return [
            path("", self.index_view, name="index"),
            path("results/", self.index_results_view, name="index_results"),
            path("inspect/<int:pk>/", self.inspect_view, name="inspect"),
            path("<int:pk>/<slug:action>/", views.PostActionView.as_view(), name="action"),
        ]

    def register_admin_url_finder(self):
        # Links from logs and usage lists open the post's inspect view.
        register_admin_url_finder(
            self.model,
            type(
                "SyndicationPostURLFinder",
                (ModelAdminURLFinder,),
                {"edit_url_name": self.get_url_name("inspect"), "permission_policy": None},
            ),
        )


class SyndicationViewSetGroup(ViewSetGroup):
    menu_label = "Syndication"
    menu_icon = "globe"
    menu_order = 170
    items = (SyndicationPostViewSet, ChannelAccountViewSet)


@hooks.register("register_admin_viewset")
def register_syndication_viewsets():
    return SyndicationViewSetGroup()


@hooks.register("register_admin_urls")
def register_syndication_urls():
    return [path("syndication/", include(admin_urls))]


def _syndicate_buttons(page, user):
    """The Syndicate button on stories, for people who may at least propose posts."""
    if page.specific_class is not StoryPage or not posts.can_propose(user):
        return []
    return [
        Button(
            "Syndicate",
            url=reverse("syndication_admin:compose", args=[page.pk]),
            icon_name="globe",
            attrs={"title": f"Post “{page.get_admin_display_title()}” to social accounts"},
            priority=45,
        )
    ]


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
