"""RSS and Atom feeds of stories, for all stories and per interest.

Built on Django's syndication framework
(https://docs.djangoproject.com/en/5.2/ref/contrib/syndication/).
"""

from django.contrib.syndication.views import Feed
from django.core.exceptions import BadRequest
from django.http import HttpResponseBadRequest
from django.shortcuts import get_object_or_404
from django.utils.feedgenerator import Atom1Feed

from wagtail.models import Site

from stories.models import AudienceInterest, StoryPage
from stories.reading import request_site_name

DEFAULT_ITEMS = 20
MAX_ITEMS = 100


def _limit(request) -> int:
    raw = request.GET.get("limit")
    if raw is None:
        return DEFAULT_ITEMS
    if not raw.isdigit() or not 1 <= int(raw) <= MAX_ITEMS:
        raise BadRequest(f"limit must be a whole number from 1 to {MAX_ITEMS}.")
    return int(raw)


class StoriesFeed(Feed):
    """The newest stories, as RSS 2.0."""

    def __call__(self, request, *args, **kwargs):
        try:
            return super().__call__(request, *args, **kwargs)
        except BadRequest as error:
            return HttpResponseBadRequest(str(error), content_type="text/plain; charset=utf-8")

    def get_object(self, request, *args, **kwargs):
        self.request = request
        self.limit = _limit(request)
        self.site = Site.find_for_request(request)
        return None

    def title(self, obj):
        return f"{request_site_name(self.request)}: new stories"

    def link(self, obj):
        return self.site.root_page.get_url(self.request) if self.site else "/"

    def description(self, obj):
        return "Stories that solve a problem, ease a pain or bring a smile."

    def stories(self, obj):
        return StoryPage.objects.live().order_by("-first_published_at", "-pk")

    def items(self, obj):
        return self.stories(obj).prefetch_related("interests")[: self.limit]

    def item_title(self, item):
        return item.title

    def item_description(self, item):
        return item.intro

    def item_link(self, item):
        return item.get_url(self.request)

    def item_pubdate(self, item):
        return item.first_published_at

    def item_updateddate(self, item):
        return item.last_published_at

    def item_categories(self, item):
        return [interest.name for interest in item.interests.all()]


class InterestStoriesFeed(StoriesFeed):
    """The newest stories of one interest."""

    def get_object(self, request, slug):
        super().get_object(request)
        return get_object_or_404(AudienceInterest, slug=slug.lower())

    def title(self, obj):
        return f"{request_site_name(self.request)}: {obj.name}"

    def description(self, obj):
        return obj.description or f"Stories about {obj.name.lower()}."

    def stories(self, obj):
        return super().stories(obj).filter(interests=obj)


class StoriesAtomFeed(StoriesFeed):
    feed_type = Atom1Feed
    subtitle = StoriesFeed.description


class InterestStoriesAtomFeed(InterestStoriesFeed):
    feed_type = Atom1Feed
    subtitle = InterestStoriesFeed.description
