"""What the two environments on a developer's machine share: ``dev`` and ``test``.

Plain file storage, and channel servers reached over plain HTTP on the loopback
(the Mastodon test server, a dev instance). ``dev.py`` and ``test.py`` start from here;
production starts from ``base.py`` alone and keeps all of this off.
"""

import os

from .base import *  # noqa: F403
from .base import CONTENT_SECURITY_POLICY_ADMIN

# Uploads on the local disk; static files served as they are, without the manifest
# (no collectstatic needed before a run or a test).
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}

# Local channel servers speak plain HTTP; oauthlib refuses that unless told otherwise.
SYNDICATION_ALLOW_HTTP_INSTANCES = True
os.environ.setdefault("OAUTHLIB_INSECURE_TRANSPORT", "1")
# They listen on 127.0.0.1 at any port (`manage.py mastodon_test_server`: 8010). Tests
# keep exactly this (the SSRF tests narrow it per test); dev.py lets the environment
# narrow it.
SYNDICATION_OUTBOUND_ALLOWED_PORTS = ["*"]
SYNDICATION_OUTBOUND_ALLOW_PRIVATE = ["127.0.0.0/8", "::1/128"]
# Connecting an account on such a server posts a form that redirects to http://.
CONTENT_SECURITY_POLICY_ADMIN = {
    **CONTENT_SECURITY_POLICY_ADMIN,
    "form-action": [*CONTENT_SECURITY_POLICY_ADMIN["form-action"], "http:"],
}
