import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "cms.settings.dev")

from syndication.engagement.wsgi import with_collector

# POST /e/ (reader events) is answered before Django's middleware: it is the busiest URL.
application = with_collector(get_wsgi_application())
