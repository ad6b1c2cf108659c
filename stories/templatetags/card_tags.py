"""``{% story_card story %}``: a story card, rendered once per process while it is the same.

A card shows only what its key holds (the story's title, intro, purpose, reading time
and address, its picture's file, focal point and alt text, and how it is shown), so a
card found under its key is the card the template would render, and nothing needs to
purge it: a change makes a new key. When a listing is rendered again after a publish,
only the cards of stories that changed are rendered again; on a home page of 43 cards
that is most of its template's cost. Kept per process, least recently used first out.
"""

import threading
from collections import OrderedDict

from django import template
from django.utils.html import conditional_escape

from stories.page_cache import TaggedLRU, stream_tags

register = template.Library()

CARD_TEMPLATE = "stories/includes/story_card.html"
MAX_CARDS = 5000

_cards: OrderedDict = OrderedDict()
_lock = threading.Lock()


def _picture(story):
    image = story.hero_image if story.hero_image_id else None
    if image is None:
        return None
    return (
        image.pk,
        image.file.name,
        image.file_hash,
        image.width,
        image.height,
        image.focal_point_x,
        image.focal_point_y,
        image.focal_point_width,
        image.focal_point_height,
        image.title,
        image.description,
    )


def card_key(story, request, wide, label, follow):
    site = getattr(request, "_wagtail_site", None)
    return (
        story.pk,
        story.url_path,
        story.title,
        story.intro,
        story.purpose,
        story.reading_time,
        _picture(story),
        bool(wide),
        str(label or ""),
        str(follow or ""),
        getattr(site, "pk", None),
    )


@register.simple_tag(takes_context=True)
def story_card(context, story, wide=False, label="", follow=""):
    key = card_key(story, context.get("request"), wide, label, follow)
    with _lock:
        html = _cards.get(key)
        if html is not None:
            _cards.move_to_end(key)
            return html
    values = {"story": story, "wide": wide, "label": label, "follow": follow}
    with context.push(**values):
        html = context.template.engine.get_template(CARD_TEMPLATE).render(context)
    with _lock:
        _cards[key] = html
        while len(_cards) > MAX_CARDS:
            _cards.popitem(last=False)
    return html


# A live story's text as HTML, per process: the text is the live revision's, kept while
# what it shows of other things (linked stories' titles, pictures, interests' names,
# page addresses) keeps its tags' versions (stories.page_cache.parts). Bounded: a
# story's text is a few to a few dozen kilobytes.
STORY_TEXTS = TaggedLRU(300)


@register.simple_tag(takes_context=True)
def story_text(context, page):
    """``{% include_block page.body %}``, kept for a live story read on the site.

    The text's blocks see only their values and the request (page addresses are
    relative to the request's site; an editor's preview picks an audience variant),
    so the HTML is the same for every reader of a site: previews render afresh.
    """
    request = context.get("request")

    def render():
        return conditional_escape(page.body.render_as_block(context=context.flatten()))

    if request is None or getattr(request, "is_preview", False) or not page.live_revision_id:
        return render()
    site = getattr(request, "_wagtail_site", None)
    key = (page.pk, page.live_revision_id, getattr(site, "pk", None))
    html, tags = STORY_TEXTS.get_or_load(
        key, lambda: (render(), frozenset(stream_tags(page.body))), lambda kept: kept[1]
    )
    # For the page's cache tags (StoryPage.cache_tags): the text's blocks are not read again.
    page._text_tags = tags
    return html
