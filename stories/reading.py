"""What the reading pages show, gathered in a fixed number of queries.

Every function here costs the same number of queries however many stories,
links and interests a page shows: ids are chosen first with narrow queries, then
all the cards a page needs are loaded together with their images' renditions.

The page models call this module, so it never imports them: it works from the pages
and querysets it is given (a story's own class, relations and links; the stories,
interests and index the home page lists).
"""

import copy
import json
from collections import Counter, defaultdict

from django.db import connection, connections, router
from django.db.models import Count, Exists, F, OuterRef, Subquery, Window
from django.db.models.functions import RowNumber
from django.utils.html import strip_tags

from wagtail.images import get_image_model
from wagtail.images.models import Filter

from stories.linking import CONTINUES
from stories.page_cache.parts import TaggedLRU
from stories.page_cache.tags import found_tags, interest_stories_tag, page_tag, series_tag
from stories.render_cache import VersionedLRU

CARD_RENDITION = "fill-640x360"
HERO_RENDITION = "fill-1280x640"
SOCIAL_RENDITION = "fill-1200x630"
RELATED_STORIES = 4
TOP_UP_CANDIDATES = 200
# Listings look among the newest stories first, so their cost does not grow with the archive.
RECENT_POOL = 300
LATEST_ON_HOME = 7
PER_INTEREST_ON_HOME = 3
# The home shows a section for the interests with the newest stories, this many at most
# (every interest keeps its chip); a site with a hundred interests would otherwise draw
# three hundred cards. Each hub lists all of an interest's stories.
SECTIONS_ON_HOME = 12
# What a card never shows: the story's text and its voice findings (JSON, often large).
CARD_DEFERRED = ("voice_findings",)

_JSON_SCRIPT_ESCAPES = {ord("<"): "\\u003C", ord(">"): "\\u003E", ord("&"): "\\u0026"}


def attach_renditions(images_and_specs):
    """Load the renditions that ``(image, filter specs)`` pairs need, in one query at most.

    Wagtail's ``get_rendition`` reads ``prefetched_renditions`` before querying
    (the same attribute ``prefetch_renditions()`` fills). Wagtail keeps every rendition
    it hands out in the ``renditions`` cache (per process, keyed by the image's file
    and focal point); when all of them are there, no query is made.
    """
    instances = defaultdict(list)
    wanted = defaultdict(set)
    for image, image_specs in images_and_specs:
        if image is not None:
            instances[image.pk].append(image)
            wanted[image.pk].update(image_specs)
    if not instances:
        return
    rendition_model = get_image_model().get_rendition_model()
    found = _cached_renditions(rendition_model, instances, wanted)
    if found is None:
        found = defaultdict(list)
        specs = set().union(*wanted.values())
        renditions = rendition_model.objects.filter(image_id__in=instances, filter_spec__in=specs)
        for rendition in renditions:
            found[rendition.image_id].append(rendition)
    for image_id, images in instances.items():
        for image in images:
            image.prefetched_renditions = found[image_id]
            for rendition in found[image_id]:
                rendition.image = image


def _cached_renditions(rendition_model, instances, wanted):
    """{image id: renditions} from the renditions cache, or None unless all are there."""
    filters = {}
    keys = {}
    for image_id, specs in wanted.items():
        image = instances[image_id][0]
        for spec in specs:
            if spec not in filters:
                filters[spec] = Filter(spec=spec)
            vary = filters[spec].get_cache_key(image)
            keys[rendition_model.construct_cache_key(image, vary, spec)] = image_id
    cached = rendition_model.cache_backend.get_many(list(keys))
    if len(cached) < len(keys):
        return None
    found = defaultdict(list)
    for key, rendition in cached.items():
        found[keys[key]].append(rendition)
    return found


def story_cards(queryset, *, with_interests=True):
    """``queryset`` of StoryPages with what a story card shows (renditions: see ``card_images``).

    The text (StreamFields) and the voice findings are deferred: a card shows neither,
    and loading and decoding them was most of the cost of a listing's query.
    """
    queryset = queryset.defer_streamfields().defer(*CARD_DEFERRED).select_related("hero_image")
    if with_interests:
        queryset = queryset.prefetch_related("interests")
    return queryset


def with_interest(stories, interest):
    """``stories`` narrowed to those tagged ``interest``, newest-first listings in mind.

    A semi-join (``EXISTS``) rather than Django's join on the interest links: a listing
    ordered by publication date then walks the ``first_published_at`` index and stops
    at its page, where the join made SQLite sort every story of the interest first
    (12 ms for the first page of a hub of 3,000 stories; 0.5 ms this way). PostgreSQL
    plans both the same way.
    """
    tagged = stories.model.interests.through.objects.filter(
        storypage_id=OuterRef("pk"), audienceinterest_id=getattr(interest, "pk", interest)
    )
    return stories.filter(Exists(tagged))


def card_images(stories):
    return [(story.hero_image, [CARD_RENDITION]) for story in stories]


# Story cards without their interests (what the home page, a story page and the listings show), by
# story, each kept per process while the story and its picture are unchanged
# (stories.page_cache.parts), with its picture's card rendition: publishing a story
# loads its own card again, not the others on a page that shows it. Shared: read only.
CARDS = TaggedLRU(2000)


def _cards_by_id(model, ids):
    """{id: card} for the ``ids`` among the live stories of ``model``, cards as
    ``story_cards`` loads them without interests: those kept (``CARDS``) and still
    current, and the others in one query."""
    if not ids:
        return {}

    def load(keys):
        cards = story_cards(
            model.objects.live().filter(pk__in=[pk for _m, pk in keys]), with_interests=False
        )
        found = {(model, story.pk): story for story in cards}
        attach_renditions(card_images(found.values()))
        return found

    keys = [(model, pk) for pk in dict.fromkeys(ids)]
    return {pk: card for (_m, pk), card in CARDS.get_many_or_load(keys, load, found_tags).items()}


def page_of_cards(page_of_ids, model):
    """A paginator page of ``(id,)`` rows of live ``model`` stories turned into their cards, in
    order, from the kept cards (``CARDS``) and one query for the others: a listing
    worked out again after a publish loads only the cards that changed."""
    ids = [pk for (pk,) in page_of_ids.object_list]
    cards = _cards_by_id(model, ids)
    page_of_ids.object_list = [cards[pk] for pk in ids if pk in cards]
    return page_of_ids


def _with_hub_urls(interests, story_index, request):
    """Copies of ``interests`` with their ``hub_url``: the index's URL is worked out once,
    not per chip. Copies: the interests may be kept per process and shared."""
    interests = [copy.copy(interest) for interest in interests]
    if story_index is None:
        for interest in interests:
            interest.hub_url = None
        return interests
    marker = "hub-slug-marker"
    pattern = story_index.hub_url(marker, request)
    head, tail = pattern.rsplit(marker, 1)
    for interest in interests:
        interest.hub_url = f"{head}{interest.slug}{tail}"
    return interests


def _newest_among(through, ordered_ids):
    """{interest id: the first few of ``ordered_ids`` (newest first) that carry it}.

    One query on the interest links by story id: the order is already known, so there
    is nothing to join or rank in the database. The ids go as parameters, not as the
    subquery that chose them: with ``IN (SELECT … ORDER BY … LIMIT)`` PostgreSQL read
    the whole link table (tests/integration/test_query_discipline.py).
    """
    interests_of = defaultdict(list)
    for story_id, interest_id in _interest_links(through, ordered_ids):
        interests_of[story_id].append(interest_id)
    by_interest = defaultdict(list)
    for story_id in ordered_ids:
        for interest_id in interests_of[story_id]:
            if len(by_interest[interest_id]) < PER_INTEREST_ON_HOME:
                by_interest[interest_id].append(story_id)
    return by_interest


def _interest_links(through, story_ids):
    """(story id, interest id) of each interest link of ``story_ids``.

    The same ``SELECT … WHERE storypage_id IN (…)`` the ORM sends, written from the
    link table's metadata: for the home page's 300 newest stories (some 750 rows) the
    ORM's compiling and row handling cost twice the query itself, on every render
    after a publish.
    """
    if not story_ids:
        return []
    meta = through._meta
    connection = connections[router.db_for_read(through)]
    quote = connection.ops.quote_name
    table = quote(meta.db_table)
    story, interest = (
        f"{table}.{quote(meta.get_field(name).column)}"
        for name in ("storypage", "audienceinterest")
    )
    marks = ", ".join(["%s"] * len(story_ids))
    # Names from the model, values as parameters.
    sql = f"SELECT {story}, {interest} FROM {table} WHERE {story} IN ({marks})"  # noqa: S608
    with connection.cursor() as cursor:
        cursor.execute(sql, list(story_ids))
        return cursor.fetchall()


def _newest_per_interest(through, interest_ids):
    """{interest id: newest few live story ids} over the whole archive, in one windowed query."""
    ranked = (
        through.objects.filter(storypage__live=True, audienceinterest_id__in=interest_ids)
        .annotate(
            rank=Window(
                RowNumber(),
                partition_by=F("audienceinterest_id"),
                order_by=[F("storypage__first_published_at").desc(), F("storypage_id").desc()],
            )
        )
        .filter(rank__lte=PER_INTEREST_ON_HOME)
        .values_list("audienceinterest_id", "storypage_id")
    )
    by_interest = defaultdict(list)
    for interest_id, story_id in ranked:
        by_interest[interest_id].append(story_id)
    return by_interest


def _home_sections(through, recent, interests):
    """{interest id: newest story ids} for the ``SECTIONS_ON_HOME`` liveliest interests.

    Interests are ranked by their newest story among the ``recent`` ids (newest first);
    interests with too few stories there are filled from the whole archive, and when
    fewer than ``SECTIONS_ON_HOME`` interests appear among them, quiet ones fill the
    rest (one windowed query either way, only when needed).
    """
    by_interest = _newest_among(through, recent)
    chosen = list(by_interest)[:SECTIONS_ON_HOME]  # in order of each one's newest story
    if len(recent) < RECENT_POOL:
        return {i: by_interest[i] for i in chosen}
    wanted = [i for i in chosen if len(by_interest[i]) < PER_INTEREST_ON_HOME]
    if len(chosen) < SECTIONS_ON_HOME:
        wanted += [i.pk for i in interests if i.pk not in by_interest]
    if wanted:
        older = _newest_per_interest(through, wanted)
        by_interest.update(older)
        quiet = [pk for pk in wanted if pk not in chosen and older.get(pk)]
        chosen += quiet[: SECTIONS_ON_HOME - len(chosen)]
    return {i: by_interest[i] for i in chosen}


def home_context(request, *, story_index, interests, stories):
    """The home page: its ``story_index``, the ``interests`` and the live ``stories`` it lists."""
    through = stories.model.interests.through
    interests = _with_hub_urls(list(interests), story_index, request)
    newest = stories.order_by("-first_published_at", "-pk")
    recent = list(newest.values_list("pk", flat=True)[:RECENT_POOL])
    latest_ids = recent[:LATEST_ON_HOME]
    by_interest = _home_sections(through, recent, interests)
    # Cards show no interests: none are loaded for them.
    shown = latest_ids + [sid for ids in by_interest.values() for sid in ids]
    cards = _cards_by_id(stories.model, shown)
    sections = [
        {
            "interest": interest,
            "stories": [cards[i] for i in by_interest[interest.pk] if i in cards],
        }
        for interest in interests
        if by_interest.get(interest.pk)
    ]
    latest = [cards[i] for i in latest_ids if i in cards]
    return {
        "story_index": story_index,
        "interests": interests,
        "featured": latest[0] if latest else None,
        "latest": latest[1:],
        "sections": sections,
    }


def _breadcrumbs(page):
    """Ancestors below the root: from the route when served, else one query (preview)."""
    chain = []
    node = getattr(page, "_cached_parent_obj", None)
    while node is not None and node.depth > 1:
        chain.append(node)
        node = getattr(node, "_cached_parent_obj", None)
    if chain and chain[-1].depth == 2:
        return list(reversed(chain))
    return [p.specific for p in page.get_ancestors().filter(depth__gt=1)]


def _next_in_series(page, stories):
    if not page.series_id:
        return None
    ordered = list(
        stories.filter(series_id=page.series_id)
        .order_by(F("series_part").asc(nulls_last=True), "first_published_at", "pk")
        .values_list("pk", flat=True)
    )
    if page.pk in ordered:
        position = ordered.index(page.pk)
        return ordered[position + 1] if position + 1 < len(ordered) else None
    return None


def _more_on_interests(page, interest_ids, exclude_ids, limit):
    """Stories sharing the most interests with ``page``, newest first.

    Ranked among the newest ``TOP_UP_CANDIDATES`` candidates that share any interest
    (interest links on PostgreSQL, stories on SQLite), so the cost does not grow with
    the size of the archive. One query either way, written for each database's planner.
    """
    from wagtail.models import Page

    if limit <= 0 or not interest_ids:
        return []
    through = page.interests.through
    exclude = [page.pk, *exclude_ids]
    if connection.vendor == "sqlite":
        # SQLite drives a join from the interest links and sorts every story of the
        # interests (15 of the 34 ms of a story page with 10,000 stories in 7
        # interests). Asked with EXISTS, it walks the ``first_published_at`` index and
        # stops at the newest candidates, counting the shared interests of those only
        # (2 ms; 7 ms when the interests have a hundred old stories between them).
        shares = through.objects.filter(
            storypage_id=OuterRef("pk"), audienceinterest_id__in=interest_ids
        )
        shared_count = shares.order_by().values("storypage_id").annotate(n=Count("*")).values("n")
        rows = (
            Page.objects.filter(live=True)
            .filter(Exists(shares))
            .exclude(pk__in=exclude)
            .annotate(shared=Subquery(shared_count))
            .order_by("-first_published_at", "-pk")
            .values_list("pk", "shared")[:TOP_UP_CANDIDATES]
        )
        shared = dict(rows)  # insertion order is newest first
    else:
        # PostgreSQL plans the join by the interests' sizes: the date index for large
        # ones, the interest links for small ones (EXISTS reads every page for those).
        rows = (
            through.objects.filter(audienceinterest_id__in=interest_ids, storypage__live=True)
            .exclude(storypage_id__in=exclude)
            .order_by("-storypage__first_published_at", "-storypage_id")
            .values_list("storypage_id", flat=True)[:TOP_UP_CANDIDATES]
        )
        shared = Counter(rows)  # one row per shared interest; insertion order is newest first
    return sorted(shared, key=lambda story_id: -shared[story_id])[:limit]


def _text_story_ids(page) -> set[int]:
    """The stories the page's text shows as cards (its ``story_link`` blocks), from the
    stored data: no query."""
    found = set()
    for item in getattr(page.body, "raw_data", None) or ():
        if not isinstance(item, dict) or item.get("type") != "story_link":
            continue
        value = item.get("value")
        if isinstance(value, dict):
            story_id = value.get("story")
            if isinstance(story_id, int):
                found.add(story_id)
    return found


# A live story's context, per process, in two parts (stories.page_cache.parts), each
# kept while the tags of what it shows keep their versions: what the story itself
# decides (breadcrumbs, interests, its links and their cards, the next in its series,
# the hero, the meta) and "More on…", which tops up from the newest stories sharing its
# interests and so changes whenever one of those is published. Values are shared: read only.
STORY_CONTEXTS = TaggedLRU(500)
# The home page's and listings' contexts, for the content version (stories.render_cache).
LISTINGS = VersionedLRU(300)


def story_context(page, request):
    """A story page: what it links to, what comes next, more on its interests, its meta.

    Other stories are found among the live stories of the page's own class. A live
    story read on the site is worked out once per process for its live revision and
    address (the site's host and scheme), each part again when what it shows changes;
    previews every time.
    """
    if getattr(request, "is_preview", False) or not page.live_revision_id:
        context = _own_context(page, request)
        context["related_stories"] = _related(page, context)
        return _public(context)
    key = (page.pk, page.live_revision_id, request.get_host(), request.scheme)
    own = STORY_CONTEXTS.get_or_load(
        (*key, "own"), lambda: _own_context(page, request), lambda part: _own_tags(page, part)
    )
    related = STORY_CONTEXTS.get_or_load(
        # What it must not repeat is in the key: "Continue the story" may come from the
        # series and change while "More on…" is kept.
        (*key, "related", own["_not_again"]),
        lambda: _related(page, own),
        lambda cards: _related_tags(page, own, cards),
    )
    return {**_public(own), "related_stories": related}


def _public(context):
    """The template's names: without the ids kept for "More on…"."""
    return {name: value for name, value in context.items() if not name.startswith("_")}


def _own_context(page, request):
    stories = type(page).objects.live()
    breadcrumbs = _breadcrumbs(page)
    story_index = breadcrumbs[-1] if breadcrumbs else None
    interests = _with_hub_urls(list(page.interests.all()), story_index, request)

    if getattr(request, "is_preview", False):
        # Unpublished links of a draft live in the revision, not in the table.
        links = [(link.target_id, link.kind) for link in page.story_links.all()]
    else:
        links = list(
            page.story_links.get_live_queryset()
            .order_by("sort_order")
            .values_list("target_id", "kind")
        )
    continues_id = next((t for t, kind in links if kind == CONTINUES), None)
    from_series = False
    if continues_id is None:
        continues_id = _next_in_series(page, stories)
        from_series = continues_id is not None
    background_ids = [t for t, kind in links if kind == "background"]
    # "More on…" never repeats a story the page shows above it: its text's story cards,
    # "Continue the story", the background.
    above = {continues_id, *background_ids, *_text_story_ids(page)} - {None}
    curated_ids = list(
        dict.fromkeys(t for t, kind in links if kind == "related" and t not in above)
    )
    shown = {continues_id, *background_ids, *curated_ids} - {None}
    cards = _cards_by_id(stories.model, shown)

    hero = page.hero_image if page.hero_image_id else None
    attach_renditions([(hero, [HERO_RENDITION, SOCIAL_RENDITION])])  # cards come with theirs

    return {
        "breadcrumbs": breadcrumbs,
        "story_index": story_index,
        "interests": interests,
        "continue_story": cards.get(continues_id),
        "continue_from_series": from_series,
        "background_stories": [cards[i] for i in background_ids if i in cards],
        "curated_stories": [cards[i] for i in curated_ids if i in cards],
        "hero": hero,
        "social": social_meta(page, request, hero, interests),
        # For "More on…" (``_related``): what it must not repeat.
        "_not_again": frozenset(shown | above),
    }


def _related(page, own):
    """ "More on…": the editor's related stories, topped up with the newest stories
    sharing the most interests."""
    curated = own["curated_stories"]
    topped_up = _more_on_interests(
        page, [i.pk for i in own["interests"]], own["_not_again"], RELATED_STORIES - len(curated)
    )
    cards = _cards_by_id(type(page), topped_up)
    return [*curated, *(cards[i] for i in topped_up if i in cards)][:RELATED_STORIES]


def _own_tags(page, own):
    """What the story's own part shows: the story, its interests, the pages and pictures
    in it, the series "Continue the story" may come from."""
    tags = {page_tag(page.pk), *found_tags(own)}
    if page.series_id:
        tags.add(series_tag(page.series_id))
    return tags


def _related_tags(page, own, cards):
    """ "More on…" changes when a story joins or leaves one of the story's interests,
    and shows its cards' pages and pictures."""
    tags = {page_tag(page.pk), *found_tags(cards)}
    tags.update(interest_stories_tag(interest.pk) for interest in own["interests"])
    return tags


def social_meta(page, request, hero, interests):
    """Canonical URL, Open Graph/Twitter card values and JSON-LD for a story."""
    canonical = page.get_full_url(request)
    image_url = None
    image_size = None
    if hero is not None:
        rendition = hero.get_rendition(SOCIAL_RENDITION)
        image_url = request.build_absolute_uri(rendition.url)
        image_size = (rendition.width, rendition.height)
    description = strip_tags(page.intro).strip()
    publisher = request_publisher(request)
    json_ld = {
        "@context": "https://schema.org",
        "@type": "Article",
        "headline": page.title[:110],
        "description": description,
        "url": canonical,
        "mainEntityOfPage": canonical,
        "datePublished": page.first_published_at.isoformat() if page.first_published_at else None,
        "dateModified": page.last_published_at.isoformat() if page.last_published_at else None,
        "wordCount": page.word_count,
        "timeRequired": f"PT{page.reading_time}M",
        "keywords": [interest.name for interest in interests],
        "publisher": {"@type": "Organization", **publisher},
    }
    if image_url:
        json_ld["image"] = [image_url]
    return {
        "canonical": canonical,
        # The h-entry's author h-card: the site, as the page names it (no person is invented).
        "publisher": publisher,
        "title": page.seo_title or page.title,
        "description": description,
        "image_url": image_url,
        "image_width": image_size[0] if image_size else None,
        "image_height": image_size[1] if image_size else None,
        "json_ld": json.dumps(
            {k: v for k, v in json_ld.items() if v is not None}, ensure_ascii=False
        ).translate(_JSON_SCRIPT_ESCAPES),
    }


def request_site_name(request):
    return request_publisher(request)["name"]


def request_publisher(request):
    """The site's name and home address. Routing has already found the site, so
    ``Site.find_for_request`` reads the request's copy: no query."""
    from wagtail.models import Site

    site = Site.find_for_request(request)
    return {
        "name": site.site_name if site and site.site_name else "Storyloom",
        "url": f"{site.root_url}/" if site else request.build_absolute_uri("/"),
    }
