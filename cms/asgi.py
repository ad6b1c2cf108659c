import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "cms.settings.dev")

# Django is set up by now; the collector imports models.
django_application = get_asgi_application()

from syndication.engagement.asgi import with_collector  # noqa: E402

# POST /e/ on an event loop, its XADDs batched (Procfile's collector process).
application = with_collector(django_application)
