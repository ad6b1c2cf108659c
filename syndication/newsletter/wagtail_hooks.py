"""The newsletter in Wagtail's admin (one "Newsletter" menu for its viewsets) and on
reading pages ("For you", in the places stories marks for it).

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


@hooks.register("story_page_footer")
def stories_for_you_under_a_story(context):
    return "syndication/includes/for_you.html", {"story_id": context["page"].pk}


@hooks.register("home_page_after_latest")
def stories_for_you_on_home(context):
    return "syndication/includes/for_you.html"
