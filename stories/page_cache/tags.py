"""What a reading page shows, as the *dependency tags* its cached copy is stored under.

Django side of the page cache (``stories.page_cache``). Pages that are cached whole
take ``CachedPageMixin``: its ``serve`` goes through ``serve_cached``, which for an
anonymous GET leaves the page's tags in the request's environ for the WSGI layer
(``stories.page_cache.wsgi``); Django stores nothing. The tags are found in what the
page was rendered with (``tags_for``): ``page:<id>`` for the page and every page it
shows (cards, links in the text, breadcrumbs), ``interest:<id>``, ``series:<id>``,
``image:<id>`` and whatever else declares a ``page_cache_tag``; each kind of page adds
what its listings draw from in ``cache_tags`` (``stories``, ``interests``, ``index:<id>``,
``interest-stories:<id>``, ``conversation:<story id>``). The RSS and Atom feeds tag
themselves the same way (``tag_feed``).

Nothing here imports the page models: they import this, and declare their own tags.
"""

import logging
import re

from django.utils.cache import patch_cache_control

logger = logging.getLogger(__name__)

#: Where ``serve_cached`` leaves a page's tags for the WSGI layer (the request's environ).
ENVIRON_TAGS = "storyloom.page_cache.tags"
#: What every cached page depends on: purging it (``purge_all``) empties the cache.
ALL = "all"
#: Which stories are live, newest first, across the site (the home page's latest).
STORIES = "stories"
#: The list of interests (the home page's and the story index's chips).
INTERESTS = "interests"


def page_tag(pk) -> str:
    return f"page:{pk}"


def index_tag(pk) -> str:
    """The live stories under one story index, newest first (its listing and hubs)."""
    return f"index:{pk}"


def interest_tag(pk) -> str:
    """One interest's name, slug and description."""
    return f"interest:{pk}"


def interest_stories_tag(pk) -> str:
    """Which live stories carry one interest, newest first (hubs, home, "More on…")."""
    return f"interest-stories:{pk}"


def series_tag(pk) -> str:
    """A series' name and which stories are in it, in order ("Next in the series")."""
    return f"series:{pk}"


def image_tag(pk) -> str:
    return f"image:{pk}"


def conversation_tag(story_id) -> str:
    """The conversation under one story: "Join the conversation" and "What people said"."""
    return f"conversation:{story_id}"


def is_cacheable(request) -> bool:
    """An anonymous read of the public site: the same page for everyone."""
    if request.method not in ("GET", "HEAD") or getattr(request, "is_preview", False):
        return False
    user = getattr(request, "user", None)
    return not (user is not None and user.is_authenticated)


class CachedPageMixin:
    """A reading page stored whole for anonymous readers (docs/architecture.md, "Cached pages").

    The page says what it shows beyond the objects in its context by overriding
    ``cache_tags``; ``serve`` and the tags common to every page are done here.
    Previews never go through ``serve`` (Wagtail calls ``serve_preview``), so an
    editor's preview is never stored.
    """

    def serve(self, request, *args, **kwargs):
        return serve_cached(
            self, request, lambda: super(CachedPageMixin, self).serve(request, *args, **kwargs)
        )

    def cache_tags(self, context) -> set[str]:
        """Tags for what this kind of page draws from (its listings), given its context.

        The page itself and the pages, interests, series and pictures in ``context``
        are tagged already (``tags_for``). Only what the page loaded anyway may be
        looked at: no query.
        """
        return set()


def serve_cached(page, request, render):
    """``render()`` the page, and tell the WSGI layer what it shows when it may be shared.

    Signed-in readers and previews get ``Cache-Control: private, no-store``.
    """
    response = render()
    if not is_cacheable(request):
        patch_cache_control(response, private=True, no_store=True)
    elif response.status_code == 200:
        if not getattr(response, "is_rendered", True):
            # Rendered first: what the template's tags find while rendering (a story's
            # kept text names what it shows) is then known, without loading it again.
            response.render()
        context = getattr(response, "context_data", None) or {}
        try:
            request.META[ENVIRON_TAGS] = frozenset(tags_for(page, context))
        except Exception:
            # Unsure what the page shows: the reader gets it, nobody else does.
            logger.exception("page cache: could not tag %s", request.path)
    return response


def tag_feed(request, items, interest=None) -> None:
    """Let the WSGI layer store a feed (RSS or Atom) of ``items`` for anonymous readers.

    Called by ``syndication.feeds`` with the stories it lists, once they are loaded. A
    feed depends on the listing it is cut from (``stories``, or with ``interest`` that
    interest's ``interest-stories:`` and its name and description), on each story it
    lists (``page:<id>``: title, intro, address, dates; so editing a listed story purges
    it, editing another does not) and on the names of their interests (the categories:
    ``interest:<id>`` from the prefetched interests, else every interest). No query.
    """
    if not is_cacheable(request):
        return
    tags = {ALL}
    if interest is None:
        tags.add(STORIES)
    else:
        tags.update({interest_tag(interest.pk), interest_stories_tag(interest.pk)})
    for item in items:
        tags.add(page_tag(item.pk))
        prefetched = getattr(item, "_prefetched_objects_cache", {})
        if "interests" in prefetched:
            tags.update(interest_tag(i.pk) for i in prefetched["interests"])
        else:
            tags.add(INTERESTS)
    request.META[ENVIRON_TAGS] = frozenset(tags)


def tags_for(page, context) -> set[str]:
    """The dependency tags of ``page`` rendered with ``context``.

    Pages, interests, series and pictures are found wherever the context holds them
    (cards, sections, paginated listings, breadcrumbs). Only what the page loads
    anyway is looked at (querysets are never evaluated here), so this adds no query.
    What a listing draws from is added by the kind of page (``cache_tags``).
    """
    found = _Found()
    found.visit(context)
    found.visit(page)
    return {ALL, page_tag(page.pk), *found.tags, *page.cache_tags(context)}


def found_tags(value) -> set[str]:
    """The tags of the pages, interests, series and pictures ``value`` holds (a dict, a
    list, a page…), as ``tags_for`` finds them in a context. No query."""
    found = _Found()
    found.visit(value)
    return found.tags


def context_interests(context) -> list:
    """The interests a page's context lists under ``interests``, as far as they are loaded."""
    return [i for i in _as_list(context.get("interests")) if hasattr(i, "slug")]


def stream_tags(stream) -> set[str]:
    """Pages, pictures and interests chosen in a StreamField, and rich-text page links.

    The text's chosen stories and pictures are the ones its rendering uses: no query.
    """
    found = _Found()
    found.visit_stream(stream)
    return found.tags


def _as_list(value):
    if value is None:
        return []
    if hasattr(value, "_result_cache"):  # a queryset: only what it already holds
        return value._result_cache or []
    return list(value) if isinstance(value, list | tuple) else []


class _Found:
    """Tags for the pages, pictures and tagged objects found in a page's context.

    A model instance other than a page or a picture is tagged by its ``page_cache_tag``
    (interests and series declare one), so this module names no model of ours.
    """

    MAX_DEPTH = 6

    def __init__(self):
        from django.core.paginator import Page as PaginatorPage
        from django.db.models import Model

        from wagtail.images import get_image_model
        from wagtail.models import Page

        self.kinds = (
            (Page, self._page),
            (get_image_model(), lambda obj: self.tags.add(image_tag(obj.pk))),
            (PaginatorPage, lambda obj: self.visit(obj.object_list)),
            (Model, self._tagged),
        )
        self.tags: set[str] = set()
        self.seen: set[int] = set()
        self.held: list = []  # keeps what ``seen`` names alive, so no id is reused

    def visit(self, value, depth=0):
        if depth > self.MAX_DEPTH or value is None or isinstance(value, str | bytes | int):
            return
        if id(value) in self.seen:
            return
        self.seen.add(id(value))
        self.held.append(value)
        if isinstance(value, dict):
            for item in value.values():
                self.visit(item, depth + 1)
            return
        if isinstance(value, list | tuple | set | frozenset):
            for item in value:
                self.visit(item, depth + 1)
            return
        if hasattr(value, "_result_cache"):  # a queryset: never evaluated here
            for item in value._result_cache or ():
                self.visit(item, depth + 1)
            return
        for kind, add in self.kinds:
            if isinstance(value, kind):
                add(value)
                return

    def _page(self, page):
        self.tags.add(page_tag(page.pk))
        if getattr(page, "hero_image_id", None):
            self.tags.add(image_tag(page.hero_image_id))
        # Prefetched relations (a card's interests) were loaded with the page.
        for related in getattr(page, "_prefetched_objects_cache", {}).values():
            self.visit(related)

    def _tagged(self, obj):
        tag = getattr(obj, "page_cache_tag", None)
        if tag:
            self.tags.add(tag)

    def visit_stream(self, stream, depth=0):
        """Pages, pictures and interests chosen in a StreamField, and rich-text page links."""
        from wagtail.blocks import StreamValue, StructValue
        from wagtail.blocks.list_block import ListValue
        from wagtail.rich_text import RichText

        if depth > self.MAX_DEPTH:
            return
        if isinstance(stream, StreamValue):
            for child in stream:
                self.visit_stream(child.value, depth + 1)
        elif isinstance(stream, StructValue):
            for value in stream.values():
                self.visit_stream(value, depth + 1)
        elif isinstance(stream, ListValue | list | tuple):
            for value in stream:
                self.visit_stream(value, depth + 1)
        elif isinstance(stream, RichText):
            self.tags.update(page_tag(pk) for pk in _rich_text_page_ids(stream.source))
        else:
            self.visit(stream, depth + 1)


RICH_TEXT_PAGE_LINK = re.compile(r'<a[^>]*\blinktype="page"[^>]*\bid="(\d+)"')


def _rich_text_page_ids(source: str) -> list[str]:
    return RICH_TEXT_PAGE_LINK.findall(source or "")
