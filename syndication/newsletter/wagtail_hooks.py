"""The newsletter in Wagtail's admin (one "Newsletter" menu for its viewsets:
``viewsets.py``) and on reading pages ("For you", in the places stories marks for it)."""

from wagtail import hooks

from .viewsets import NewsletterViewSetGroup


@hooks.register("register_admin_viewset")
def register_newsletter_viewsets():
    return NewsletterViewSetGroup()


@hooks.register("story_page_footer")
def stories_for_you_under_a_story(context):
    return "newsletter/includes/for_you.html", {"story_id": context["page"].pk}


@hooks.register("home_page_after_latest")
def stories_for_you_on_home(context):
    return "newsletter/includes/for_you.html"


# First in the footer's links, before syndication's feeds.
@hooks.register("site_footer_links", order=-1)
def site_footer_newsletter(context):
    return "newsletter/includes/site_footer_link.html"
