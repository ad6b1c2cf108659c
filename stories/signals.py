"""Keep cached pages (``stories.page_cache``) and derived state in step with content.

Which dependency tags each change purges, after its transaction commits:

=============================================  ==============================================
change                                         tags purged
=============================================  ==============================================
a story goes live (first publish, or again     ``page:<id>``, ``stories``, ``index:<parent>``,
after unpublishing), is unpublished or         ``interest-stories:<each interest>``,
deleted                                        ``series:<its series>``
a live story is published again                ``page:<id>`` (it and every page showing it: its
                                               links, cards, "continue the story"), plus
                                               ``interest-stories:`` for interests added or
                                               removed and ``series:`` when its series or
                                               part changed. Its links live in the revision,
                                               so changed links purge its own page here.
a story is moved                               ``page:<id>``, ``index:<old and new parent>``
a live story's row written outside publishing  ``page:<id>``, its listings before and after
(added live, a script, an import)              the write, ``series:``, ``interest-stories:``
                                               of each interest it has or had
any other page (home, index: pages with        everything (``all``)
children) published, unpublished, moved,
deleted, or written live outside publishing;
a site saved or deleted
an interest saved or deleted                   ``interest:<id>``, ``interest-stories:<id>``,
                                               ``interests``
a series saved or deleted                      ``series:<id>``
a picture saved or deleted                     ``image:<id>``
a view restriction added, changed, removed     ``page:<id>`` (everything if it has children)
a post goes live, or a published post is       ``conversation:<story id>``
deleted or saved out of ``published``
(``syndication``)
=============================================  ==============================================

The sitemap (``stories.sitemap``) is tagged ``sitemap``, purged with every story row
above but the interests', series' and pictures'; any other page's change purges it
with everything.

The RSS and Atom feeds are stored too, tagged like the pages (``page_cache.tag_feed``):
``stories`` or ``interest-stories:<id>``, and ``page:<id>`` and ``interest:<id>`` of the
stories they list. So publishing or unpublishing a story changes the feeds it is in,
republishing a story changes only the feeds that list it, and the rows above need
nothing more for them.

Whether a published story was live before, and with which interests and series, is
read just before Wagtail saves it (``pre_save``); what a deleted story was listed
under is read before its rows go (``pre_delete``). With a CDN configured
(``WAGTAILFRONTENDCACHE``) the same change purges the addresses that show the story
there: the story, its index and hubs, the home page, the stories linking to it, its
series and the feeds.
"""

from functools import partial
from typing import NamedTuple

from django.contrib.contenttypes.models import ContentType
from django.db import transaction
from django.db.models.signals import post_delete, post_save, pre_delete, pre_save

from wagtail import hooks
from wagtail.images import get_image_model
from wagtail.models import Page, PageViewRestriction, ReferenceIndex, Site
from wagtail.signals import page_published, page_unpublished, post_page_move

from stories import page_cache
from stories.models import AudienceInterest, StoryIndexPage, StoryLink, StoryPage, StorySeries
from stories.models.pages import is_being_published
from stories.page_cache import (
    ALL,
    INTERESTS,
    STORIES,
    index_tag,
    interest_stories_tag,
    interest_tag,
    page_tag,
    series_tag,
)
from stories.render_cache import bump_content_version, bump_story_version
from stories.sitemap import SITEMAP

#: Picture fields Wagtail fills in lazily (while rendering): nothing a reader sees changes.
IMAGE_BOOKKEEPING = frozenset({"file_hash", "file_size"})


class StoryState(NamedTuple):
    """What decides where a story is listed."""

    live: bool
    parent_id: int | None
    series_id: int | None
    series_part: int | None
    interests: frozenset


def story_state(pk) -> StoryState | None:
    row = (
        StoryPage.objects.filter(pk=pk)
        .values_list("live", "path", "series_id", "series_part")
        .first()
    )
    if row is None:
        return None
    live, path, series_id, series_part = row
    parent_id = Page.objects.filter(path=path[: -Page.steplen]).values_list("pk", flat=True)
    interests = StoryPage.interests.through.objects.filter(storypage_id=pk).values_list(
        "audienceinterest_id", flat=True
    )
    return StoryState(live, parent_id.first(), series_id, series_part, frozenset(interests))


def listing_tags(state: StoryState | None) -> set[str]:
    """The listings a story is in: it joins or leaves all of them."""
    if state is None:
        return set()
    tags = {STORIES, *(interest_stories_tag(pk) for pk in state.interests)}
    if state.parent_id:
        tags.add(index_tag(state.parent_id))
    if state.series_id:
        tags.add(series_tag(state.series_id))
    return tags


def changed_tags(before: StoryState | None, after: StoryState | None) -> set[str]:
    """The listings a publish changes, beyond the story's own ``page:`` tag."""
    if before is None or after is None or not before.live or not after.live:
        return listing_tags(before) | listing_tags(after)
    tags = {interest_stories_tag(pk) for pk in before.interests ^ after.interests}
    if (before.series_id, before.series_part) != (after.series_id, after.series_part):
        tags.update(series_tag(pk) for pk in (before.series_id, after.series_id) if pk)
    if before.parent_id != after.parent_id:
        tags.update(index_tag(pk) for pk in (before.parent_id, after.parent_id) if pk)
    return tags


def _after_commit(tags, urls=(), stale=True) -> None:
    # robust: a cache that is down must not turn a committed publish into an error.
    # ``stale``: readers may get the previous copy while one of them renders the page
    # again (stories.page_cache.wsgi); not after a change that makes a page private.
    # The parts kept per process under the tags are loaded again from now on as well
    # (the purge moves them on again): this request and this connection see the change.
    page_cache.bump_parts(tags)
    purge = partial(page_cache.purge, frozenset(tags), tuple(urls), stale=stale)
    transaction.on_commit(purge, robust=True)


def _everything_after_commit(stale=True) -> None:
    page_cache.bump_parts([ALL])
    transaction.on_commit(partial(page_cache.purge_all, stale=stale), robust=True)


# --- Pages -----------------------------------------------------------------------------


def _remember_story(sender, instance, raw=False, update_fields=None, **kwargs):
    """Before a live page's row is written in full: whether Wagtail is publishing it, and
    for a story where it was listed."""
    if raw or update_fields is not None or instance.pk is None or not isinstance(instance, Page):
        return
    if not instance.live:
        return
    instance._page_cache_publishing = is_being_published(instance)
    if _is_story(instance):
        instance._page_cache_before = story_state(instance.pk)


def _live_page_written(sender, instance, raw=False, update_fields=None, **kwargs):
    """A live page's row written in full. Publishing purges what changed once it commits
    (``_published``); here the kept parts of a story are read again at once. Written
    outside publishing (a new page added live, a script, an import), it purges what it
    shows itself: a story's page, listings (before and after) and the sitemap;
    any other page, everything. Saving a draft writes only revision bookkeeping
    (``update_fields``) and moves nothing."""
    if raw or update_fields is not None or not isinstance(instance, Page) or not instance.live:
        return
    publishing = instance.__dict__.pop("_page_cache_publishing", False)
    story = _is_story(instance)
    _bump_now_and_after_commit(structure=not story)
    if not story:
        if not publishing:
            _everything_after_commit()
        return
    tags = _written_story_tags(instance)
    if publishing:
        # The parts kept under what the story shows and the listings it joins
        # (stories.page_cache.parts); publishing purges them again once it commits.
        page_cache.bump_parts(tags)
        transaction.on_commit(partial(page_cache.bump_parts, tags), robust=True)
        return
    before = instance.__dict__.pop("_page_cache_before", None)
    after = story_state(instance.pk)
    tags |= {SITEMAP, *listing_tags(after)}
    _after_commit(tags, frontend_urls(instance.pk, before, after))


def _written_story_tags(instance) -> set[str]:
    before = instance.__dict__.get("_page_cache_before")
    tags = {page_tag(instance.pk), STORIES, *listing_tags(before)}
    series_id = getattr(instance, "series_id", None)
    if series_id:
        tags.add(series_tag(series_id))
    interests = getattr(instance, "interests", None)
    if interests is not None:
        tags.update(interest_stories_tag(interest.pk) for interest in interests.all())
    return tags


def _is_story(page) -> bool:
    return isinstance(page, StoryPage) or page.specific_class is StoryPage


def _bump_now_and_after_commit(*, structure: bool = True) -> None:
    """Move the content version on now (this connection's next read sees the change) and
    again once the change commits (a render by another process in between read the
    old rows under the first new version). The structure version too, unless the
    change is to stories, interests, series or pictures only (``structure=False``)."""
    bump = bump_content_version if structure else bump_story_version
    bump()
    transaction.on_commit(bump, robust=True)


def _bump_for(page) -> None:
    """A page published, unpublished, moved or deleted: the structure version moves on
    too unless it is a story."""
    bump_content_version(structure=not _is_story(page))


def _published(sender, instance, **kwargs):
    _bump_for(instance)
    if not isinstance(instance, StoryPage):
        _everything_after_commit()
        return
    before = instance.__dict__.pop("_page_cache_before", None)
    after = story_state(instance.pk)
    _after_commit(
        {page_tag(instance.pk), SITEMAP, *changed_tags(before, after)},
        frontend_urls(instance.pk, before, after),
    )


def _unpublished(sender, instance, **kwargs):
    _bump_for(instance)
    if not isinstance(instance, StoryPage):
        _everything_after_commit()
        return
    state = story_state(instance.pk)
    _after_commit(
        {page_tag(instance.pk), SITEMAP, *listing_tags(state)}, frontend_urls(instance.pk, state)
    )


def _moved(sender, instance, parent_page_before, parent_page_after, url_path_before, **kwargs):
    _bump_for(instance)
    if instance.specific_class is not StoryPage:
        _everything_after_commit()
        return
    tags = {
        page_tag(instance.pk),
        SITEMAP,
        index_tag(parent_page_before.pk),
        index_tag(parent_page_after.pk),
    }
    urls = frontend_urls(instance.pk, story_state(instance.pk))
    if urls:
        urls += _urls_of_path(url_path_before)
    _after_commit(tags, urls)


def _deleting(sender, instance, **kwargs):
    # Before the delete: afterwards the story's interests are gone with it.
    _bump_for(instance)
    if instance.specific_class is not StoryPage:
        _everything_after_commit()
        return
    state = story_state(instance.pk)
    _after_commit(
        {page_tag(instance.pk), SITEMAP, *listing_tags(state)}, frontend_urls(instance.pk, state)
    )


def _restriction_changed(sender, instance, raw=False, **kwargs):
    if raw:
        return
    # Reading pages skip the restriction queries while the site has none, a fact kept
    # per process by content version (stories.models.pages): moved once this is visible.
    transaction.on_commit(bump_content_version, robust=True)
    page = Page.objects.filter(pk=instance.page_id).only("numchild").first()
    if page is None or page.numchild:
        _everything_after_commit(stale=False)
    else:
        _after_commit(
            {page_tag(instance.page_id), SITEMAP}, frontend_urls(instance.page_id), stale=False
        )


def _site_changed(sender, raw=False, **kwargs):
    if not raw:
        bump_content_version()
        _everything_after_commit()


# --- Snippets and pictures ----------------------------------------------------------------


def _interest_changed(sender, instance, raw=False, **kwargs):
    if raw:
        return
    # Story pages and listings are kept per process by content version (stories.reading).
    _bump_now_and_after_commit(structure=False)
    tags = {interest_tag(instance.pk), interest_stories_tag(instance.pk), INTERESTS}
    _after_commit(tags, _listing_urls(interest_slugs=[instance.slug]))


def _series_changed(sender, instance, raw=False, **kwargs):
    if raw:
        return
    _bump_now_and_after_commit(structure=False)
    urls = []
    if page_cache.frontend_cache_configured():
        urls = [story.get_full_url() for story in StoryPage.objects.live().filter(series=instance)]
    _after_commit({series_tag(instance.pk)}, urls)


def _image_changed(sender, instance, raw=False, update_fields=None, **kwargs):
    if raw or (update_fields is not None and set(update_fields) <= IMAGE_BOOKKEEPING):
        return
    _bump_now_and_after_commit(structure=False)
    urls = []
    if page_cache.frontend_cache_configured():
        urls = [
            story.get_full_url() for story in StoryPage.objects.live().filter(hero_image=instance)
        ]
    _after_commit({page_cache.image_tag(instance.pk)}, urls)


# --- Addresses for the CDN ------------------------------------------------------------


def frontend_urls(story_id, *states: StoryState | None) -> list[str]:
    """Where a story shows, as absolute URLs; empty unless a CDN is configured.

    The story itself, the stories linking to it (story links and links in the text,
    through Wagtail's reference index), its series, its index and hubs, the home
    page and the feeds. Other pages that show it as a card expire from the CDN within
    ``PAGE_CACHE_MAX_AGE``.
    """
    if not page_cache.frontend_cache_configured():
        return []
    states = [state for state in states if state is not None]
    story = Page.objects.filter(pk=story_id).first()
    urls = [story.get_full_url()] if story is not None else []
    linking = set(StoryLink.objects.filter(target_id=story_id).values_list("page_id", flat=True))
    if story is not None:
        linking.update(
            int(pk)
            for pk in ReferenceIndex.get_references_to(story)
            .filter(base_content_type=ContentType.objects.get_for_model(Page))
            .values_list("object_id", flat=True)
        )
    series = {state.series_id for state in states if state.series_id}
    shown_with = StoryPage.objects.live().filter(pk__in=linking)
    if series:
        shown_with = shown_with | StoryPage.objects.live().filter(series_id__in=series)
    urls += [page.get_full_url() for page in shown_with.exclude(pk=story_id)]
    interests = set().union(*(state.interests for state in states))
    slugs = AudienceInterest.objects.filter(pk__in=interests).values_list("slug", flat=True)
    parents = {state.parent_id for state in states if state.parent_id}
    return urls + _listing_urls(interest_slugs=list(slugs), index_ids=parents)


def _listing_urls(*, interest_slugs=(), index_ids=None) -> list[str]:
    """The home pages, story indexes (or those in ``index_ids``), their hubs, the feeds.

    Other apps' listings of stories (syndication's feeds) are the paths their
    ``story_listing_paths`` hooks return for ``interest_slugs``: stories names no URL
    of theirs.
    """
    if not page_cache.frontend_cache_configured():
        return []
    urls = [f"{site.root_url}/" for site in Site.objects.all()]
    indexes = StoryIndexPage.objects.live()
    if index_ids is not None:
        indexes = indexes.filter(pk__in=index_ids)
    for index in indexes:
        url = index.get_full_url()
        if url:
            urls.append(url)
            urls += [url + index.reverse_subpage("interest_hub", args=[s]) for s in interest_slugs]
    for listing_paths in hooks.get_hooks("story_listing_paths"):
        for path in listing_paths(list(interest_slugs)):
            urls += [site.root_url + path for site in Site.objects.all()]
    return urls


def _urls_of_path(url_path: str) -> list[str]:
    """The absolute URLs a page had at ``url_path`` (before a move)."""
    return [
        root_url + url_path[len(root_path) - 1 :]
        for _site_id, root_path, root_url, _language in Site.get_site_root_paths()
        if url_path.startswith(root_path)
    ]


def connect():
    pre_save.connect(_remember_story, dispatch_uid="page-cache-page-before")
    post_save.connect(_live_page_written, dispatch_uid="render-cache-live-page-written")
    page_published.connect(_published, dispatch_uid="page-cache-published")
    page_unpublished.connect(_unpublished, dispatch_uid="page-cache-unpublished")
    post_page_move.connect(_moved, dispatch_uid="page-cache-moved")
    pre_delete.connect(_deleting, sender=Page, dispatch_uid="page-cache-deleting")
    receivers = [
        (PageViewRestriction, _restriction_changed),
        (Site, _site_changed),
        (AudienceInterest, _interest_changed),
        (StorySeries, _series_changed),
        (get_image_model(), _image_changed),
    ]
    for model, receiver in receivers:
        name = model.__name__
        post_save.connect(receiver, sender=model, dispatch_uid=f"page-cache-save-{name}")
        post_delete.connect(receiver, sender=model, dispatch_uid=f"page-cache-delete-{name}")
