import logging
import re
import time
import uuid

from django.conf import settings

from .logging import loggable_path, request_id

access_log = logging.getLogger("storyloom.request")


def _header(policy: dict[str, list[str]]) -> str:
    return "; ".join(f"{name} {' '.join(values)}" for name, values in policy.items())


class ContentSecurityPolicyMiddleware:
    """Adds a Content-Security-Policy header (Django 5.2 has none built in).

    Public pages get ``CONTENT_SECURITY_POLICY``; Wagtail's admin, which relies on
    inline styles and scripts, gets ``CONTENT_SECURITY_POLICY_ADMIN``.
    """

    def __init__(self, get_response):
        self.get_response = get_response
        report = settings.CONTENT_SECURITY_POLICY_REPORT_URI
        suffix = f"; report-uri {report}" if report else ""
        self.public = _header(settings.CONTENT_SECURITY_POLICY) + suffix
        self.admin = _header(settings.CONTENT_SECURITY_POLICY_ADMIN) + suffix

    def __call__(self, request):
        response = self.get_response(request)
        if "Content-Security-Policy" not in response:
            admin = request.path.startswith(("/admin/", "/django-admin/"))
            response["Content-Security-Policy"] = self.admin if admin else self.public
        return response


#: What a proxy may hand us as a request id: short, and nothing a log reader would trip on.
REQUEST_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:-]{7,127}")
#: Probes answer every few seconds from every load balancer; they are not worth a line.
QUIET_PATHS = ("/healthz", "/readyz")


class RequestIdMiddleware:
    """Give each request an id: the proxy's ``X-Request-ID`` if well-formed, else a new one.

    The id goes back in the response's ``X-Request-ID`` header, onto every log line
    written while the request is handled (``cms.logging.request_id``), and into one
    access line per request (logger ``storyloom.request``: method, path without its
    credentials, status, duration). Put it first in ``MIDDLEWARE`` so redirects and
    errors carry it too.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        offered = request.META.get("HTTP_X_REQUEST_ID", "")
        current = offered if REQUEST_ID.fullmatch(offered) else uuid.uuid4().hex
        request.request_id = current
        token = request_id.set(current)
        started = time.perf_counter()
        try:
            response = self.get_response(request)
            response["X-Request-ID"] = current
            quiet = request.path in QUIET_PATHS or request.path.rstrip("/") in QUIET_PATHS
            # Never the query string, and no URL argument that is a credential (the
            # token of a signed newsletter link): see cms.logging.loggable_path.
            path = loggable_path(request)
            access_log.log(
                logging.DEBUG if quiet else logging.INFO,
                "%s %s %s",
                request.method,
                path,
                response.status_code,
                extra={
                    "method": request.method,
                    "path": path,
                    "status": response.status_code,
                    "duration_ms": round((time.perf_counter() - started) * 1000, 1),
                },
            )
            return response
        finally:
            request_id.reset(token)
