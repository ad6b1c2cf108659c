from django.core.cache import cache
from django.http.request import split_domain_port

from wagtail.models import Site

from stories.render_cache import PAGE_TIMEOUT, content_version


class CachedSiteMiddleware:
    """Find the request's Wagtail site (and its specific root page) from the cache.

    Wagtail looks the site up with a query on every request, then loads the root
    page's specific row; both change only when a site or page is saved, which moves
    the content version on (``stories.signals``). The result is put where Wagtail's
    own ``Site.find_for_request`` looks first (``request._wagtail_site``).
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if not request.path_info.startswith(("/admin/", "/django-admin/", "/static/")):
            hostname = split_domain_port(request._get_raw_host())[0]
            key = f"storyloom:site:{content_version()}:{hostname}:{request.get_port()}"
            site = cache.get(key)
            if site is None:
                site = Site.find_for_request(request)
                if site is not None:
                    _ = site.root_page.specific  # evaluated now, so it is cached with the site
                    cache.set(key, site, PAGE_TIMEOUT)
            request._wagtail_site = site
        return self.get_response(request)
