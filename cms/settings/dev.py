"""Local development: the embedded defaults plus DEBUG and a throw-away key."""

import os

from .base import *  # noqa: F403
from .base import (
    CONTENT_SECURITY_POLICY_ADMIN,
    LOG_FORMAT,
    LOGGING,
    SECRET_KEY,
    VAR_DIR,
    env_bool,
    env_list,
)

DEBUG = env_bool("DEBUG", True)
SECRET_KEY = SECRET_KEY or "dev-only-insecure-key-storyloom"
EMAIL_BACKEND = "django.core.mail.backends.filebased.EmailBackend"
EMAIL_FILE_PATH = str(VAR_DIR / "sent-email")
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
WHITENOISE_USE_FINDERS = True

# Local channel servers (the Mastodon test server, a dev instance) speak plain HTTP;
# oauthlib refuses that unless told otherwise. Production keeps both off.
SYNDICATION_ALLOW_HTTP_INSTANCES = True
# `manage.py mastodon_test_server` (127.0.0.1:8010) and other local servers.
SYNDICATION_OUTBOUND_ALLOWED_PORTS = env_list("SYNDICATION_OUTBOUND_ALLOWED_PORTS", ["*"])
SYNDICATION_OUTBOUND_ALLOW_PRIVATE = env_list(
    "SYNDICATION_OUTBOUND_ALLOW_PRIVATE", ["127.0.0.0/8", "::1/128"]
)
CONTENT_SECURITY_POLICY_ADMIN = {
    **CONTENT_SECURITY_POLICY_ADMIN,
    "form-action": [*CONTENT_SECURITY_POLICY_ADMIN["form-action"], "http:"],
}
os.environ.setdefault("OAUTHLIB_INSECURE_TRANSPORT", "1")

# Readable log lines unless LOG_FORMAT says otherwise; runserver prints its own line per
# request, so the access line of cms.middleware.RequestIdMiddleware stays quiet.
LOGGING = {
    **LOGGING,
    "handlers": {"console": {**LOGGING["handlers"]["console"], "formatter": LOG_FORMAT or "text"}},
    "loggers": {**LOGGING["loggers"], "storyloom.request": {"level": "WARNING"}},
}
