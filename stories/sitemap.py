"""``/sitemap.xml``: every live public page of the request's site, fast and cached.

Wagtail's own sitemap loads every page as its specific class, asks each for its URL
and renders them through a template: 1.4 s of CPU for 10,000 stories. A page's address
and date are on the page row, so here they are read as plain values in one query (and
one for view restrictions); the address is the site's root URL and the page's path
below the site's root (what ``Page.get_full_url`` gives for a page of a single-language
site), and the XML is written out directly: the same ``<loc>`` and ``<lastmod>`` as
Wagtail's (tests compare them).

The answer is tagged for the page cache (``stories.page_cache``) like a feed: with
``SITEMAP``, which ``stories.signals`` purges whenever a story is published again, goes
live, is unpublished, moved or deleted, or gains or loses a view restriction, and with
``all`` (any other page's change). So it is rendered once per change, not per crawler.
"""

from django.http import Http404, HttpResponse
from django.utils import timezone
from django.utils.html import escape
from django.utils.http import http_date

from wagtail.models import Page, Site

from stories.page_cache import ALL, ENVIRON_TAGS, is_cacheable

SITEMAP = "sitemap"
#: The sitemaps protocol's limit per file; ``?p=2`` is the next 50,000.
PER_SITEMAP = 50_000

_HEAD = (
    '<?xml version="1.0" encoding="UTF-8"?>\n'
    '<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9" '
    'xmlns:xhtml="http://www.w3.org/1999/xhtml">\n'
)


def sitemap_rows(site, number=1):
    """(address, lastmod) of the live public pages of ``site``, in tree order."""
    root = site.root_page
    pages = (
        Page.objects.descendant_of(root, inclusive=True)
        .live()
        .public()
        .order_by("path")
        .values_list("url_path", "last_published_at", "latest_revision_created_at")
    )
    start = (number - 1) * PER_SITEMAP
    # The root's path ends in "/": keep that slash at the start of each address.
    cut = len(root.url_path) - 1
    return [
        (site.root_url + url_path[cut:], published or revised)
        for url_path, published, revised in pages[start : start + PER_SITEMAP]
    ]


def sitemap(request):
    raw = request.GET.get("p", "1")
    if not (raw.isascii() and raw.isdigit() and 0 < len(raw) < 7 and int(raw) > 0):
        raise Http404(f"No sitemap page {raw!r}")
    site = Site.find_for_request(request) or Site.objects.get(is_default_site=True)
    rows = sitemap_rows(site, int(raw))
    if not rows and raw != "1":
        raise Http404(f"Sitemap page {raw} is empty")
    parts = [_HEAD]
    for location, lastmod in rows:
        parts.append(f"<url><loc>{escape(location)}</loc>")
        if lastmod:
            parts.append(f"<lastmod>{timezone.localtime(lastmod).date().isoformat()}</lastmod>")
        parts.append("</url>\n")
    parts.append("</urlset>\n")
    response = HttpResponse("".join(parts), content_type="application/xml")
    response["X-Robots-Tag"] = "noindex, noodp, noarchive"
    dates = [lastmod for _, lastmod in rows]
    if dates and None not in dates:
        response["Last-Modified"] = http_date(max(dates).timestamp())
    if is_cacheable(request):
        request.META[ENVIRON_TAGS] = frozenset({ALL, SITEMAP})
    return response
