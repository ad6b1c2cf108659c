from django.conf import settings
from django.contrib import admin
from django.http import Http404
from django.urls import include, path, re_path

from wagtail import urls as wagtail_urls
from wagtail.admin import urls as wagtailadmin_urls
from wagtail.documents import urls as wagtaildocs_urls

from stories.sitemap import sitemap
from syndication import urls as syndication_urls
from syndication.engagement import urls as engagement_urls
from syndication.newsletter import urls as newsletter_urls

from . import health
from .api import api_router


def no_such_document(request):
    raise Http404("No such document.")


urlpatterns = [
    # Also answered ahead of Django by cms.wsgi (cms.health.with_health); these routes
    # serve the same for servers that do not use cms.wsgi.
    path("healthz", health.healthz, name="healthz"),
    path("readyz", health.readyz, name="readyz"),
    path("django-admin/", admin.site.urls),
    path("admin/", include(wagtailadmin_urls)),
    # Wagtail's document URLs take any run of digits as an id; no id has 20 digits, and
    # past 4,300 Python refuses to read one (a 500): such a URL is a 404 here first.
    re_path(r"^documents/\d{20,}/", no_such_document),
    path("documents/", include(wagtaildocs_urls)),
    path("api/v2/", api_router.urls),
    path("sitemap.xml", sitemap, name="sitemap"),
    path("", include(engagement_urls)),
    path("newsletter/", include(newsletter_urls)),
    path("", include(syndication_urls)),
]

if settings.DEBUG:
    from django.conf.urls.static import static

    urlpatterns += static(settings.MEDIA_URL, document_root=settings.MEDIA_ROOT)

urlpatterns += [path("", include(wagtail_urls))]
