"""Syndication's admin viewsets: the post queue and channel accounts, grouped under
Syndication in the menu. The screens themselves are in ``syndication/views/``."""

from django.urls import path, reverse
from django.utils.functional import cached_property

from wagtail.admin.admin_url_finder import ModelAdminURLFinder, register_admin_url_finder
from wagtail.admin.menu import MenuItem
from wagtail.admin.viewsets.base import ViewSet, ViewSetGroup
from wagtail.admin.viewsets.model import ModelViewSet

from cms.admin_ui import ListOnlyViewSetMixin

from .models import ChannelAccount, SyndicationPost
from .views.accounts import (
    AccountAudienceView,
    AccountServerView,
    AccountSlotsView,
    ChannelAccountIndexView,
    DisconnectView,
    ReconnectView,
)
from .views.base import ACCOUNTS_INDEX
from .views.calendar import CalendarView, RescheduleView, can_view
from .views.queue import PostActionView, PostFilterSet, PostIndexView, PostInspectView


class ChannelAccountViewSet(ListOnlyViewSetMixin, ModelViewSet):
    """Connected accounts: listed, connected, reconnected, disconnected; never edited.

    There is no create or edit form, so tokens cannot appear in one; "Connect an
    account" takes the place of "Add".
    """

    model = ChannelAccount
    name = "syndication_accounts"
    url_prefix = "syndication/accounts"
    icon = "user"
    menu_label = "Channel accounts"
    index_view_class = ChannelAccountIndexView
    list_filter = ["network", "status"]
    inspect_view_enabled = False
    add_button_url_name = "syndication_admin:connect"

    def get_urlpatterns(self):
        return [
            path("", self.index_view, name="index"),
            path("results/", self.index_results_view, name="index_results"),
            path("<int:pk>/disconnect/", DisconnectView.as_view(), name="disconnect"),
            path("<int:pk>/reconnect/", ReconnectView.as_view(), name="reconnect"),
            path("<int:pk>/server/", AccountServerView.as_view(), name="server"),
            path("<int:pk>/audience/", AccountAudienceView.as_view(), name="audience"),
            path("<int:pk>/slots/", AccountSlotsView.as_view(), name="slots"),
        ]

    def register_admin_url_finder(self):
        register_admin_url_finder(
            self.model,
            type(
                "ChannelAccountURLFinder",
                (ModelAdminURLFinder,),
                {"construct_edit_url": lambda finder, instance: reverse(ACCOUNTS_INDEX)},
            ),
        )


class SyndicationPostViewSet(ListOnlyViewSetMixin, ModelViewSet):
    """The post queue: what goes out when, what happened, and the actions people take."""

    model = SyndicationPost
    name = "syndication_posts"
    url_prefix = "syndication/posts"
    icon = "calendar-alt"
    menu_label = "Post queue"
    index_view_class = PostIndexView
    inspect_view_class = PostInspectView
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
    filterset_class = PostFilterSet
    list_per_page = 50
    # "Add" picks a story to syndicate: a post always starts from its story.
    add_button_url_name = "syndication_admin:pick_story"

    def get_urlpatterns(self):
        return [
            path("", self.index_view, name="index"),
            path("results/", self.index_results_view, name="index_results"),
            path("inspect/<int:pk>/", self.inspect_view, name="inspect"),
            path("<int:pk>/<slug:action>/", PostActionView.as_view(), name="action"),
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


class CalendarMenuItem(MenuItem):
    def is_shown(self, request):
        return can_view(request.user)


class CalendarViewSet(ViewSet):
    """The posting calendar beside the queue: weeks and months of posts, dragged to move."""

    name = "syndication_calendar"
    url_prefix = "syndication/calendar"
    icon = "date"
    menu_label = "Calendar"

    @cached_property
    def menu_item_class(self):
        return CalendarMenuItem

    def get_urlpatterns(self):
        return [
            path("", CalendarView.as_view(), name="index"),
            path("<int:pk>/reschedule/", RescheduleView.as_view(), name="reschedule"),
        ]


class SyndicationViewSetGroup(ViewSetGroup):
    menu_label = "Syndication"
    menu_icon = "globe"
    menu_order = 170
    items = (SyndicationPostViewSet, CalendarViewSet, ChannelAccountViewSet)
