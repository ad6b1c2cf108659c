"""RSS and Atom feeds of stories, for all stories and per interest.

Built on Django's syndication framework
(https://docs.djangoproject.com/en/5.2/ref/contrib/syndication/).
"""

from dataclasses import dataclass, replace

from django.contrib.syndication.views import Feed
from django.core.exceptions import BadRequest
from django.http import HttpRequest, HttpResponseBadRequest
from django.shortcuts import get_object_or_404
from django.utils.feedgenerator import Atom1Feed
from django.utils.html import escape

from wagtail.models import Site

from stories import page_cache
from stories.models import AudienceInterest, StoryPage
from stories.reading import request_site_name, with_interest

DEFAULT_ITEMS = 20
MAX_ITEMS = 100


@dataclass(frozen=True)
class FeedContext:
    """What one request asked for. Feed instances are shared by every request (they are
    module-level views), so nothing request-specific may be stored on them."""

    request: HttpRequest
    limit: int
    site_name: str
    home_url: str
    interest: AudienceInterest | None = None


def _limit(request) -> int:
    raw = request.GET.get("limit")
    if raw is None:
        return DEFAULT_ITEMS
    # isdigit() alone takes "²" and other digits int() refuses.
    if not (raw.isascii() and raw.isdigit() and len(raw) <= 4) or not 1 <= int(raw) <= MAX_ITEMS:
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
        site = Site.find_for_request(request)
        return FeedContext(
            request=request,
            limit=_limit(request),
            site_name=request_site_name(request),
            home_url=site.root_page.get_url(request) if site else "/",
        )

    def title(self, obj):
        return f"{obj.site_name}: new stories"

    def link(self, obj):
        return obj.home_url

    def description(self, obj):
        return "Stories that solve a problem, ease a pain or bring a smile."

    def stories(self, obj):
        return StoryPage.objects.live().order_by("-first_published_at", "-pk")

    def items(self, obj):
        items = list(self.stories(obj).prefetch_related("interests")[: obj.limit])
        page_cache.tag_feed(obj.request, items, obj.interest)  # cached until one changes
        return items

    def item_title(self, item):
        return item.title

    def item_description(self, item):
        # Readers render an item's description (RSS) and summary (Atom, type="html")
        # as HTML; the intro is plain text, so whatever it says is shown, not obeyed.
        return escape(item.intro)

    def item_link(self, item):
        # Root-relative; the syndication framework adds the request's domain.
        return item.url

    def item_pubdate(self, item):
        return item.first_published_at

    def item_updateddate(self, item):
        return item.last_published_at

    def item_categories(self, item):
        return [interest.name for interest in item.interests.all()]


class InterestStoriesFeed(StoriesFeed):
    """The newest stories of one interest."""

    def get_object(self, request, slug):
        interest = get_object_or_404(AudienceInterest, slug=slug.lower())
        return replace(super().get_object(request), interest=interest)

    def title(self, obj):
        return f"{obj.site_name}: {obj.interest.name}"

    def description(self, obj):
        return obj.interest.description or f"Stories about {obj.interest.name.lower()}."

    def stories(self, obj):
        return with_interest(super().stories(obj), obj.interest)


class StoriesAtomFeed(StoriesFeed):
    feed_type = Atom1Feed
    subtitle = StoriesFeed.description


class InterestStoriesAtomFeed(InterestStoriesFeed):
    feed_type = Atom1Feed
    subtitle = InterestStoriesFeed.description
