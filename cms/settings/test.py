"""Test settings: fast hashing, plain static files, eager Celery for unit tests.

Integration tests start a real worker against a real broker; they override the
eager flag themselves.
"""

from .local import *  # noqa: F403
from .local import DATABASES, VAR_DIR, env_bool, env_int

SECRET_KEY = "test-only-key-storyloom"  # noqa: S105
DEBUG = False
ALLOWED_HOSTS = ["*"]
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
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
# The demo network (stories/demo/network.py) on any free port, nothing kept on disk.
DEMO_NETWORK_PORT = 0
