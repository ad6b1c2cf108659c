"""Rendered reading pages, cached for anonymous readers until any story changes.

Reading pages show other stories (cards, "continue the story", "more on…"), so a
change to one story can alter many pages. Rather than tracking which page shows
what, every cached page carries the site's *content version*; publishing,
unpublishing, moving or deleting a page, or editing an interest or series, moves
the version on (``stories.signals``) and every page is rendered afresh on its
next visit. Routing and Wagtail's privacy checks still run on every request.

The version lives in the shared cache, so a change made by a Celery worker (a
scheduled publish) is seen by every web process.
"""

import uuid

from django.core.cache import cache
from django.http import HttpResponse

VERSION_KEY = "storyloom:content-version"
PAGE_TIMEOUT = 24 * 60 * 60


def content_version() -> str:
    version = cache.get(VERSION_KEY)
    if version is None:
        cache.add(VERSION_KEY, uuid.uuid4().hex, None)
        version = cache.get(VERSION_KEY)
    return version


def bump_content_version(**kwargs) -> None:
    cache.set(VERSION_KEY, uuid.uuid4().hex, None)


def route_cached(root, path_components, route):
    """Wagtail's route from ``root`` to a page, remembered for this content version.

    Only plain page results are kept (not routable sub-views), and only successful
    ones: a 404 is looked up afresh every time.
    """
    if not path_components:
        return route()
    key = f"storyloom:route:{root.pk}:{content_version()}:{'/'.join(path_components)}"
    result = cache.get(key)
    if result is None:
        result = route()
        if not result.args and not result.kwargs:
            cache.set(key, result, PAGE_TIMEOUT)
    return result


def is_cacheable(request) -> bool:
    if request.method not in ("GET", "HEAD") or getattr(request, "is_preview", False):
        return False
    user = getattr(request, "user", None)
    return not (user is not None and user.is_authenticated)


def serve_cached(page, request, render):
    """``render()`` the page, or return the copy rendered for this content version."""
    if not is_cacheable(request):
        return render()
    key = f"storyloom:page:{page.pk}:{content_version()}:{request.get_full_path()}"
    content = cache.get(key)
    if content is not None:
        return HttpResponse(content, content_type="text/html; charset=utf-8")
    response = render()
    if hasattr(response, "render"):
        response.render()
    if response.status_code == 200 and not response.cookies:
        cache.set(key, response.content, PAGE_TIMEOUT)
    return response
