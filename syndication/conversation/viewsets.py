"""The inbox in Wagtail's menu: a list-only viewset over replies and quotes, its menu item
counting what is unread."""

from django.core.cache import cache
from django.urls import reverse

from wagtail.admin.menu import MenuItem
from wagtail.admin.viewsets.model import ModelViewSet

from cms.admin_ui import ListOnlyViewSetMixin

from .models import ConversationItem, InboxState
from .permissions import can_view
from .views.inbox import WRITTEN, InboxFilterSet, InboxIndexView

#: The unread count in the menu is shared by everyone and kept this many seconds, so an
#: admin page view costs no count query most of the time.
UNREAD_CACHE_SECONDS = 30
UNREAD_CACHE_KEY = "conversation:unread-count"


def unread_count() -> int:
    return cache.get_or_set(
        UNREAD_CACHE_KEY,
        lambda: (
            ConversationItem.objects.visible()
            .filter(kind__in=WRITTEN, state=InboxState.UNREAD)
            .count()
        ),
        UNREAD_CACHE_SECONDS,
    )


class InboxMenuItem(MenuItem):
    """ "Inbox", with the number of unread replies and quotes ("Inbox (3)")."""

    def is_shown(self, request):
        return can_view(request.user)

    def render_component(self, request):
        component = super().render_component(request)
        unread = unread_count()
        if unread:
            component.label = f"{self.label} ({unread})"
            component.url = reverse("conversation_inbox:index") + f"?state={InboxState.UNREAD}"
        return component


class ConversationInboxViewSet(ListOnlyViewSetMixin, ModelViewSet):
    """The inbox: read, sorted and answered in the thread view (``views/thread.py``)."""

    model = ConversationItem
    name = "conversation_inbox"
    url_prefix = "conversation/inbox"
    icon = "comment"
    menu_label = "Inbox"
    menu_order = 165  # just above Syndication (170)
    add_to_admin_menu = True
    index_view_class = InboxIndexView
    filterset_class = InboxFilterSet
    inspect_view_enabled = False
    list_per_page = 50

    def get_menu_item(self, order=None):
        return InboxMenuItem(
            label=self.menu_label,
            url=self.menu_url,
            name=self.menu_name,
            icon_name=self.menu_icon,
            order=order if order is not None else self.menu_order,
        )

    def get_urlpatterns(self):
        from django.urls import path

        return [
            path("", self.index_view, name="index"),
            path("results/", self.index_results_view, name="index_results"),
        ]
