import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "cms.settings.dev")

from cms.health import with_health
from stories.page_cache import with_page_cache
from syndication.engagement.wsgi import with_collector

# POST /e/ (reader events) is answered before Django's middleware: it is the busiest URL.
# /healthz and /readyz too: load balancers probe over plain HTTP with their own Host.
# Anonymous readers get stored reading pages without Django (stories.page_cache).
application = with_collector(with_health(with_page_cache(get_wsgi_application())))
