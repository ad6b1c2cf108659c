"""Answer ``POST /e/`` before Django's middleware stack; hand everything else to Django.

Each reader sends several events per story, so the collector is by far the busiest
URL. Django's full request cycle (sessions, CSRF, auth, site lookup, redirects)
costs more per request than the event itself; this dispatcher reads at most
2,049 bytes, calls the same ``buffer.receive`` as the Django view and answers 202.
It runs only when events go to Redis: embedded mode writes to the database and is
left to the Django view, whose request cycle manages the connection.

    # cms/wsgi.py
    application = with_collector(get_wsgi_application())
"""

import logging

logger = logging.getLogger(__name__)

COLLECT_PATH = "/e/"
STATUS = {
    202: "202 Accepted",
    400: "400 Bad Request",
    429: "429 Too Many Requests",
    503: "503 Service Unavailable",
}


def with_collector(django_app):
    """Wrap a Django WSGI application so ``POST /e/`` skips the middleware stack."""
    # Imported here: cms.wsgi imports this module before Django is set up.
    from django.conf import settings
    from django.db import DatabaseError, close_old_connections

    from . import buffer, events

    def collect(environ, start_response):
        host = buffer.allowed_host(environ)
        if host is None:
            outcome = buffer.Outcome(400, "host: not allowed")
        else:
            body = environ["wsgi.input"].read(events.MAX_BODY + 1)
            try:
                outcome = buffer.receive_request(environ, body, host)
            except DatabaseError:
                # Outside Django's request cycle nobody else drops a broken connection
                # (the rare queries here: today's salt, a share token, the live stories).
                logger.exception("engagement: database error in the collector")
                close_old_connections()
                outcome = buffer.Outcome(503, "database: unavailable, try again later")
        headers, content = buffer.answer(outcome)
        start_response(STATUS[outcome.status], headers)
        return [content]

    def application(environ, start_response):
        if (
            environ.get("PATH_INFO") == COLLECT_PATH
            and environ.get("REQUEST_METHOD") == "POST"
            and settings.ENGAGEMENT_REDIS_URL
        ):
            return collect(environ, start_response)
        return django_app(environ, start_response)

    return application
