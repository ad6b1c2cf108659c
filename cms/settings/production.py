"""Production: HTTPS only, secrets required (``manage.py check --deploy`` passes clean)."""

from .base import *  # noqa: F403
from .base import SECRET_KEY, SYNDICATION_TOKEN_KEYS
from .env import env_bool, env_int, env_list, env_str, require

SECRET_KEY = require("SECRET_KEY", SECRET_KEY)
# base.py's defaults (localhost, a SQLite file under var/) suit a laptop; production
# must name its hosts and its database, not fall back to them silently.
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS")
require("ALLOWED_HOSTS", ",".join(ALLOWED_HOSTS))
require("DATABASE_URL", env_str("DATABASE_URL"))
# Channel tokens are encrypted with these keys; never derive them from SECRET_KEY here.
require("SYNDICATION_TOKEN_KEYS", ",".join(SYNDICATION_TOKEN_KEYS))
DEBUG = False

SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", True)
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 31_536_000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = True
SECURE_HSTS_PRELOAD = True
SESSION_COOKIE_SECURE = True
CSRF_COOKIE_SECURE = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_HTTPONLY = False  # Wagtail's admin reads the token from the cookie.
