from django.conf import settings


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
