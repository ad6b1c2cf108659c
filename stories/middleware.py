import copy

from django.core.cache import cache
from django.http.request import split_domain_port

from wagtail.models import Site

from stories.render_cache import PAGE_TIMEOUT, per_structure, request_version, structure_version


class CachedSiteMiddleware:
    """Find the request's Wagtail site (and its specific root page) once per process.

    Wagtail looks the site up with a query on every request, then loads the root
    page's specific row, and reads the sites' root paths from the cache to build
    every page URL; all of these change only when a site or a page other than a story
    is saved, which moves the structure version on (``stories.signals``). They are kept
    per process for that version (``stories.render_cache.per_structure``; the site also
    in the shared cache, for the other processes) and put where Wagtail looks first
    (``request._wagtail_site``, ``request._wagtail_cached_site_root_paths``). The
    versions themselves are read once for the whole request.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.path_info.startswith(("/admin/", "/django-admin/", "/static/")):
            return self.get_response(request)
        with request_version():
            hostname = split_domain_port(request._get_raw_host())[0]
            port = request.get_port()
            site = per_structure(
                ("site", hostname, port), lambda: _shared_site(request, hostname, port)
            )
            request._wagtail_site = _own_copy(site)
            request._wagtail_cached_site_root_paths = per_structure(
                "site root paths", Site.get_site_root_paths
            )
            return self.get_response(request)


def _shared_site(request, hostname, port):
    """The site from the shared cache (one read instead of two queries for the first
    render of each process after a change), else from the database."""
    key = f"storyloom:site:{structure_version()}:{hostname}:{port}"
    site = cache.get(key)
    if site is None:
        site = _find_site(request)
        if site is not None:
            cache.set(key, site, PAGE_TIMEOUT)
    return site


def _find_site(request):
    site = Site._find_for_request(request)
    if site is not None:
        site.root_page = site.root_page.specific  # loaded now, so it is kept with the site
    return site


def _own_copy(site):
    """A copy of the shared site and its root page, for one request to use (and change)."""
    if site is None:
        return None
    root_page = copy.copy(site.root_page)
    site = copy.copy(site)
    site._state = copy.copy(site._state)
    site._state.fields_cache = {}
    site.root_page = root_page
    return site
