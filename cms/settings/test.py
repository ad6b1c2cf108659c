"""Test settings: fast hashing, plain static files, eager Celery for unit tests.

Integration tests start a real worker against a real broker; they override the
eager flag themselves.
"""

import os

from .base import *  # noqa: F403
from .base import CONTENT_SECURITY_POLICY_ADMIN, DATABASES, VAR_DIR, env_bool, env_int

SECRET_KEY = "test-only-key-storyloom"  # noqa: S105
DEBUG = False
ALLOWED_HOSTS = ["*"]
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
WHITENOISE_AUTOREFRESH = True
MEDIA_ROOT = str(VAR_DIR / "test-media")
# Unit tests run tasks in-process. Worker and beat processes started by integration
# tests set CELERY_TASK_ALWAYS_EAGER=false, or beat would run every task itself.
CELERY_TASK_ALWAYS_EAGER = env_bool("CELERY_TASK_ALWAYS_EAGER", True)
CELERY_TASK_EAGER_PROPAGATES = True
CACHES = {
    "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"},
    "renditions": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "r"},
}

if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # A file, not memory, so that a worker process started by an integration test
    # sees the same test database.
    VAR_DIR.mkdir(parents=True, exist_ok=True)
    DATABASES["default"]["TEST"] = {"NAME": str(VAR_DIR / "test-storyloom.sqlite3")}
# The suite and its worker processes send thousands of events from one address; the
# rate-limit tests turn the limits on themselves.
ENGAGEMENT_EVENTS_PER_MINUTE = env_int("ENGAGEMENT_EVENTS_PER_MINUTE", 0)
ENGAGEMENT_EVENTS_PER_MINUTE_PER_ADDRESS = env_int("ENGAGEMENT_EVENTS_PER_MINUTE_PER_ADDRESS", 0)
ENGAGEMENT_SHARES_PER_ADDRESS = (env_int("ENGAGEMENT_SHARES_PER_ADDRESS_PER_HOUR", 0), 3600)
NEWSLETTER_REQUESTS_PER_ADDRESS = (env_int("NEWSLETTER_REQUESTS_PER_ADDRESS_PER_HOUR", 0), 3600)
LOGGING = {"version": 1, "disable_existing_loggers": False, "root": {"level": "WARNING"}}

# Local channel servers (the Mastodon test server, a dev instance) speak plain HTTP;
# oauthlib refuses that unless told otherwise. Production keeps both off.
SYNDICATION_ALLOW_HTTP_INSTANCES = True
# Test servers listen on 127.0.0.1 at any port; the SSRF tests switch this off per test.
SYNDICATION_OUTBOUND_ALLOWED_PORTS = ["*"]
SYNDICATION_OUTBOUND_ALLOW_PRIVATE = ["127.0.0.0/8", "::1/128"]
CONTENT_SECURITY_POLICY_ADMIN = {
    **CONTENT_SECURITY_POLICY_ADMIN,
    "form-action": [*CONTENT_SECURITY_POLICY_ADMIN["form-action"], "http:"],
}
os.environ.setdefault("OAUTHLIB_INSECURE_TRANSPORT", "1")
