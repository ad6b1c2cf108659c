"""Settings shared by every environment, safe for production as they stand.

All environment reads happen here (and only here), through ``cms.settings.env``.
With nothing set, Storyloom runs embedded: a SQLite file, a file-system Celery
broker and a local-memory cache, all under ``var/``. With ``DATABASE_URL`` and
``REDIS_URL`` set the same code runs on PostgreSQL and Redis.
"""

from pathlib import Path

import dj_database_url

from .env import env_bool, env_int, env_list, env_str

BASE_DIR = Path(__file__).resolve().parent.parent.parent
VAR_DIR = Path(env_str("STORYLOOM_VAR_DIR") or BASE_DIR / "var")
# The embedded defaults (SQLite file, file-system broker and results) keep their state here.
for _folder in ("broker", "control", "results"):
    (VAR_DIR / "celery" / _folder).mkdir(parents=True, exist_ok=True)

# --- Environment -----------------------------------------------------------------
SECRET_KEY = env_str("SECRET_KEY")
DEBUG = env_bool("DEBUG", False)
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["127.0.0.1", "localhost"])
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS")
DATABASE_URL = env_str("DATABASE_URL") or f"sqlite:///{VAR_DIR / 'storyloom.sqlite3'}"
REDIS_URL = env_str("REDIS_URL")
CELERY_BROKER_URL = env_str("CELERY_BROKER_URL") or REDIS_URL or "filesystem://"
CELERY_RESULT_BACKEND = (
    env_str("CELERY_RESULT_BACKEND") or REDIS_URL or f"file://{VAR_DIR / 'celery' / 'results'}"
)
WAGTAILADMIN_BASE_URL = env_str("WAGTAILADMIN_BASE_URL", "http://127.0.0.1:8000")
MEDIA_ROOT = env_str("MEDIA_ROOT") or str(BASE_DIR / "media")
STATIC_ROOT = env_str("STATIC_ROOT") or str(BASE_DIR / "static_collected")
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "Storyloom <stories@localhost>")
PUBLISH_SCHEDULED_EVERY = env_int("PUBLISH_SCHEDULED_EVERY_SECONDS", 60)

# Syndication: keys for tokens at rest (newest first), the engine's clock and limits.
SYNDICATION_TOKEN_KEYS = env_list("SYNDICATION_TOKEN_KEYS")
SYNDICATION_DISPATCH_EVERY = env_int("SYNDICATION_DISPATCH_EVERY_SECONDS", 30)
SYNDICATION_SWEEP_EVERY = env_int("SYNDICATION_SWEEP_EVERY_SECONDS", 60)
SYNDICATION_MISSED_AFTER = env_int("SYNDICATION_MISSED_AFTER_MINUTES", 360)
SYNDICATION_STUCK_AFTER = env_int("SYNDICATION_STUCK_AFTER_SECONDS", 300)
SYNDICATION_TASK_TIME_LIMIT = env_int("SYNDICATION_TASK_TIME_LIMIT_SECONDS", 120)
SYNDICATION_HTTP_TIMEOUT = env_int("SYNDICATION_HTTP_TIMEOUT_SECONDS", 15)
SYNDICATION_MAX_FAILURES = env_int("SYNDICATION_MAX_FAILURES", 8)
SYNDICATION_RETRY_BASE = env_int("SYNDICATION_RETRY_BASE_SECONDS", 30)
SYNDICATION_RETRY_CAP = env_int("SYNDICATION_RETRY_CAP_SECONDS", 3600)
SYNDICATION_RECONCILE_AFTER = env_int("SYNDICATION_RECONCILE_AFTER_SECONDS", 30)
SYNDICATION_REFRESH_SKEW = env_int("SYNDICATION_REFRESH_SKEW_SECONDS", 120)
SYNDICATION_QUEUE = env_str("SYNDICATION_QUEUE", "publishing")
SYNDICATION_ALLOW_HTTP_INSTANCES = env_bool("SYNDICATION_ALLOW_HTTP_INSTANCES", False)
LINKEDIN_CLIENT_ID = env_str("LINKEDIN_CLIENT_ID")
LINKEDIN_CLIENT_SECRET = env_str("LINKEDIN_CLIENT_SECRET")
LINKEDIN_API_VERSION = env_str("LINKEDIN_API_VERSION", "202510")
# Engagement: events are buffered in a Redis stream (ENGAGEMENT_REDIS_URL, default
# REDIS_URL) and flushed into daily rollups; without Redis they are written directly.
ENGAGEMENT_REDIS_URL = env_str("ENGAGEMENT_REDIS_URL") or REDIS_URL
ENGAGEMENT_STREAM = env_str("ENGAGEMENT_STREAM", "storyloom:events")
ENGAGEMENT_FLUSH_EVERY = env_int("ENGAGEMENT_FLUSH_EVERY_SECONDS", 5)
ENGAGEMENT_BATCH_SIZE = env_int("ENGAGEMENT_BATCH_SIZE", 5000)
ENGAGEMENT_METRICS_EVERY = env_int("ENGAGEMENT_METRICS_EVERY_MINUTES", 60)
X_CONSUMER_KEY = env_str("X_CONSUMER_KEY")
X_CONSUMER_SECRET = env_str("X_CONSUMER_SECRET")
# Newsletter: signed links in emails expire (days); sends go out in chunks of subscribers.
NEWSLETTER_CLICK_MAX_AGE_DAYS = env_int("NEWSLETTER_CLICK_MAX_AGE_DAYS", 90)
NEWSLETTER_CONFIRM_MAX_AGE_DAYS = env_int("NEWSLETTER_CONFIRM_MAX_AGE_DAYS", 3)
NEWSLETTER_CHUNK_SIZE = env_int("NEWSLETTER_CHUNK_SIZE", 1000)
NEWSLETTER_QUEUE = env_str("NEWSLETTER_QUEUE", "newsletters")
LOG_LEVEL = env_str("LOG_LEVEL", "INFO").upper()
CONTENT_SECURITY_POLICY_REPORT_URI = env_str("CSP_REPORT_URI")

# --- Applications ----------------------------------------------------------------
INSTALLED_APPS = [
    "stories",
    "syndication",
    "wagtail.contrib.forms",
    "wagtail.contrib.redirects",
    "wagtail.contrib.routable_page",
    "wagtail.contrib.settings",
    "wagtail.contrib.sitemaps",
    "wagtail.embeds",
    "wagtail.sites",
    "wagtail.users",
    "wagtail.snippets",
    "wagtail.documents",
    "wagtail.images",
    "wagtail.search",
    "wagtail.admin",
    "wagtail.api.v2",
    "wagtail",
    "modelcluster",
    "taggit",
    "rest_framework",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.sitemaps",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "cms.middleware.ContentSecurityPolicyMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "stories.middleware.CachedSiteMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "wagtail.contrib.redirects.middleware.RedirectMiddleware",
]

ROOT_URLCONF = "cms.urls"
WSGI_APPLICATION = "cms.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.debug",
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "wagtail.contrib.settings.context_processors.settings",
            ],
        },
    },
]

# --- Data --------------------------------------------------------------------------
DATABASES = {"default": dj_database_url.parse(DATABASE_URL, conn_max_age=600)}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": "storyloom",
        }
    }
else:
    # Server-less, but shared between the web process and the Celery worker, so
    # a story published by the worker refreshes the pages the web process caches.
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
            "LOCATION": str(VAR_DIR / "cache"),
            "OPTIONS": {"MAX_ENTRIES": 20_000},
        }
    }
# Wagtail stores every rendition it hands out in the "renditions" cache. Their keys
# carry the image's file hash and focal point, so a per-process memory cache is
# exact and saves a write to the shared cache per picture on the page.
# https://docs.wagtail.org/en/stable/advanced_topics/images/renditions.html#caching-image-renditions
CACHES["renditions"] = {
    "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
    "LOCATION": "storyloom-renditions",
    "OPTIONS": {"MAX_ENTRIES": 20_000},
}

# --- Security (production-safe defaults; production.py adds HTTPS) -----------------
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "strict-origin-when-cross-origin"
# Wagtail's preview views opt back in to SAMEORIGIN for the live preview panel.
X_FRAME_OPTIONS = "DENY"
SESSION_COOKIE_HTTPONLY = True

# The public pages get a strict policy; Wagtail's admin needs inline styles and
# scripts and gets its own (see cms.middleware).
CONTENT_SECURITY_POLICY = {
    "default-src": ["'self'"],
    "img-src": ["'self'", "data:"],
    "style-src": ["'self'"],
    "script-src": ["'self'"],
    "font-src": ["'self'"],
    "connect-src": ["'self'"],
    "frame-src": ["'self'", "https:"],
    "frame-ancestors": ["'none'"],
    "form-action": ["'self'"],
    "base-uri": ["'self'"],
    "object-src": ["'none'"],
}
CONTENT_SECURITY_POLICY_ADMIN = {
    **CONTENT_SECURITY_POLICY,
    "img-src": ["'self'", "data:", "blob:"],
    "style-src": ["'self'", "'unsafe-inline'"],
    "script-src": ["'self'", "'unsafe-inline'"],
    "frame-ancestors": ["'self'"],
    # Connecting a channel account posts a form whose answer redirects to the network's
    # own sign-in page (any Mastodon instance); browsers apply form-action to redirects.
    "form-action": ["'self'", "https:"],
}

# --- Internationalisation ------------------------------------------------------
LANGUAGE_CODE = "en-gb"
TIME_ZONE = env_str("TIME_ZONE", "Europe/London")
USE_I18N = True
USE_TZ = True

# --- Static and media ----------------------------------------------------------
STATIC_URL = "/static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
MEDIA_URL = "/media/"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}

# --- Email ------------------------------------------------------------------------
EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
EMAIL_HOST = env_str("EMAIL_HOST", "localhost")
EMAIL_PORT = env_int("EMAIL_PORT", 25)
EMAIL_HOST_USER = env_str("EMAIL_HOST_USER")
EMAIL_HOST_PASSWORD = env_str("EMAIL_HOST_PASSWORD")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", False)

# --- Celery (https://docs.celeryq.dev/en/stable/django/first-steps-with-django.html) --
CELERY_BROKER_TRANSPORT_OPTIONS = (
    {
        # kombu's file-system transport: a broker without a server, so the worker
        # and beat still run as real, separate processes on a fresh machine.
        "data_folder_in": str(VAR_DIR / "celery" / "broker"),
        "data_folder_out": str(VAR_DIR / "celery" / "broker"),
        "control_folder": str(VAR_DIR / "celery" / "control"),
    }
    if CELERY_BROKER_URL.startswith("filesystem")
    # A task not acknowledged within this window is handed to another worker; every
    # task time limit stays well below it (https://docs.celeryq.dev/en/stable/getting-started/backends-and-brokers/redis.html#visibility-timeout).
    else {"visibility_timeout": 3600}
)
CELERY_TASK_ROUTES = {
    "syndication.tasks.publish_post": {"queue": SYNDICATION_QUEUE},
}
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TIMEZONE = TIME_ZONE
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_DEFAULT_QUEUE = env_str("CELERY_DEFAULT_QUEUE", "celery")
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_RESULT_EXPIRES = 3600
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_BEAT_SCHEDULE_FILENAME = str(VAR_DIR / "celery" / "beat-schedule")
CELERY_BEAT_SCHEDULE = {
    # Wagtail's go_live_at/expire_at need publish_scheduled run regularly; beat
    # does it instead of cron (https://docs.wagtail.org/en/stable/reference/management_commands.html#publish-scheduled).
    "publish-scheduled-pages": {
        "task": "stories.tasks.publish_scheduled_pages",
        "schedule": float(PUBLISH_SCHEDULED_EVERY),
    },
    # Posts are scheduled in the database, not with Celery ETAs: beat claims what is due.
    "dispatch-due-posts": {
        "task": "syndication.tasks.dispatch_due_posts",
        "schedule": float(SYNDICATION_DISPATCH_EVERY),
    },
    "sweep-posts": {
        "task": "syndication.tasks.sweep_posts",
        "schedule": float(SYNDICATION_SWEEP_EVERY),
    },
    "flush-events": {
        "task": "syndication.engagement.tasks.flush_events",
        "schedule": float(ENGAGEMENT_FLUSH_EVERY),
        # A flush not started in time is replaced by the next one, not queued up.
        "options": {"expires": float(ENGAGEMENT_FLUSH_EVERY)},
    },
    "rotate-salts": {
        "task": "syndication.engagement.tasks.rotate_salts",
        "schedule": 3600.0,  # hourly: deletes only what is older than yesterday
    },
    "collect-channel-metrics": {
        "task": "syndication.engagement.metric_tasks.collect_channel_metrics",
        "schedule": float(ENGAGEMENT_METRICS_EVERY * 60),
    },
}

# --- Wagtail ----------------------------------------------------------------------
WAGTAIL_SITE_NAME = "Storyloom"
WAGTAILSEARCH_BACKENDS = {"default": {"BACKEND": "wagtail.search.backends.database"}}
WAGTAILDOCS_EXTENSIONS = ["csv", "docx", "key", "odt", "pdf", "pptx", "rtf", "txt", "xlsx", "zip"]
WAGTAILIMAGES_EXTENSIONS = ["gif", "jpg", "jpeg", "png", "webp"]
WAGTAILAPI_BASE_URL = WAGTAILADMIN_BASE_URL
WAGTAILAPI_LIMIT_MAX = 50
WAGTAIL_ENABLE_UPDATE_CHECK = False
WAGTAILEMBEDS_RESPONSIVE_HTML = True

REST_FRAMEWORK = {"DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"]}

# --- Logging ----------------------------------------------------------------------
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": LOG_LEVEL},
    "loggers": {
        "django.db.backends": {"level": "INFO"},
        # Wagtail queues reference-index and search updates through django-tasks;
        # two lines per page save drown everything else at INFO.
        "django_tasks": {"level": "WARNING"},
    },
}
