"""The reader's side of engagement: share buttons, "How did this story make you feel?"
and the small first-party script that reports what readers do (docs/metrics.md).

Nothing is rendered in an editor's preview. Readers who ask not to be tracked are
honoured twice over without making their page different from everyone else's (story
pages are cached and shared): the script stops at once when ``navigator.doNotTrack`` or
``navigator.globalPrivacyControl`` says so, and the collector drops any event sent with
``DNT: 1`` or ``Sec-GPC: 1``.
"""

from django import template
from django.conf import settings
from django.urls import NoReverseMatch, reverse

from stories.reading_stats import WORDS_PER_MINUTE

register = template.Library()

#: Where events and share-token requests go when the collector's URLs are not named
#: (the wire contract fixes these paths; see docs/metrics.md).
COLLECT_PATH = "/e/"
SHARE_PATH = "/e/share/"


def tracking_allowed(request) -> bool:
    return request is not None and not getattr(request, "is_preview", False)


def reading_seconds(page) -> int:
    """The story's reading time in seconds, from its stored word count.

    ``reading_time`` is whole minutes rounded up, too coarse for "30 % of the reading
    time" on a short story; both come from the same count when the story is saved.
    """
    if page.word_count:
        return round(page.word_count * 60 / WORDS_PER_MINUTE)
    return page.reading_time * 60


def _url(name: str, fallback: str) -> str:
    try:
        return reverse(name)
    except NoReverseMatch:
        return fallback


@register.inclusion_tag("engagement/includes/engage.html", takes_context=True)
def engagement(context, page):
    """Share buttons, the feelings widget and the tracker's ``<script>`` for ``page``.

    ``ENGAGEMENT_TEST_MIN_SECONDS`` (unset in every real deployment) lowers the 15 s
    floor of an engaged read so browser tests need not sit and wait.
    """
    if not tracking_allowed(context.get("request")):
        return {"engage": False}
    return {
        "engage": True,
        "story_id": page.pk,
        "title": page.title,
        "reading_seconds": reading_seconds(page),
        "collect_url": _url("engagement:collect", COLLECT_PATH),
        "share_url": _url("engagement:share", SHARE_PATH),
        "min_seconds": getattr(settings, "ENGAGEMENT_TEST_MIN_SECONDS", None),
    }
