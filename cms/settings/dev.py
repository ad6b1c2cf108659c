"""Local development: the embedded defaults plus DEBUG and a throw-away key."""

from .local import *  # noqa: F403
from .local import (
    LOG_FORMAT,
    LOGGING,
    SECRET_KEY,
    SYNDICATION_OUTBOUND_ALLOW_PRIVATE,
    SYNDICATION_OUTBOUND_ALLOWED_PORTS,
    VAR_DIR,
    env_bool,
    env_list,
)

DEBUG = env_bool("DEBUG", True)
SECRET_KEY = SECRET_KEY or "dev-only-insecure-key-storyloom"
EMAIL_BACKEND = "django.core.mail.backends.filebased.EmailBackend"
EMAIL_FILE_PATH = str(VAR_DIR / "sent-email")
WHITENOISE_USE_FINDERS = True
# Off here, so a template or code change shows on the next reload, signed in or not;
# PAGE_CACHE_ENABLED=true tries the cache as production and the tests run it.
PAGE_CACHE_ENABLED = env_bool("PAGE_CACHE_ENABLED", False)

# local.py's loopback defaults, which the environment may narrow here (not in tests).
SYNDICATION_OUTBOUND_ALLOWED_PORTS = env_list(
    "SYNDICATION_OUTBOUND_ALLOWED_PORTS", SYNDICATION_OUTBOUND_ALLOWED_PORTS
)
SYNDICATION_OUTBOUND_ALLOW_PRIVATE = env_list(
    "SYNDICATION_OUTBOUND_ALLOW_PRIVATE", SYNDICATION_OUTBOUND_ALLOW_PRIVATE
)

# Readable log lines unless LOG_FORMAT says otherwise; runserver prints its own line per
# request, so the access line of cms.middleware.RequestIdMiddleware stays quiet.
LOGGING = {
    **LOGGING,
    "handlers": {"console": {**LOGGING["handlers"]["console"], "formatter": LOG_FORMAT or "text"}},
    "loggers": {**LOGGING["loggers"], "storyloom.request": {"level": "WARNING"}},
}
