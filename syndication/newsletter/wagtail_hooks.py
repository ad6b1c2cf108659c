"""The newsletter in Wagtail's admin: one "Newsletter" menu for its viewsets.

``syndication/wagtail_hooks.py`` imports this module (Wagtail only discovers the
``wagtail_hooks`` of apps, and the newsletter is a sub-package of ``syndication``).
Other newsletter screens join the menu by adding their viewset to
``NEWSLETTER_VIEWSETS`` before the admin starts.
"""

from wagtail import hooks
from wagtail.admin.viewsets.base import ViewSetGroup

from .admin import SubscriberViewSet
from .editions import EditionViewSet

#: The viewsets under Newsletter, in menu order.
NEWSLETTER_VIEWSETS = [EditionViewSet, SubscriberViewSet]


class NewsletterViewSetGroup(ViewSetGroup):
    menu_label = "Newsletter"
    menu_icon = "mail"
    menu_order = 175  # after Syndication (170)
    items = NEWSLETTER_VIEWSETS  # the list itself: read when the hook below runs


@hooks.register("register_admin_viewset")
def register_newsletter_viewsets():
    return NewsletterViewSetGroup()
