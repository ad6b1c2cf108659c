"""Settings shared by every environment, safe for production as they stand.

All environment reads happen here (and only here), through ``cms.settings.env``.
With nothing set, Storyloom runs embedded: a SQLite file, a file-system Celery
broker and a local-memory cache, all under ``var/``. With ``DATABASE_URL`` and
``REDIS_URL`` set the same code runs on PostgreSQL and Redis.
"""

import datetime
from pathlib import Path

from django.core.exceptions import ImproperlyConfigured

import dj_database_url

from cms.logging import ROUTINE, TEXT_FORMAT

from .env import env_bool, env_int, env_json, env_list, env_str

BASE_DIR = Path(__file__).resolve().parent.parent.parent
# The embedded defaults (SQLite file, file-system broker and results, file cache) keep
# their state here; see "Embedded mode" below for the folders made at start-up.
VAR_DIR = Path(env_str("STORYLOOM_VAR_DIR") or BASE_DIR / "var")

# --- Environment -----------------------------------------------------------------
SECRET_KEY = env_str("SECRET_KEY")
DEBUG = env_bool("DEBUG", False)
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["127.0.0.1", "localhost"])
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS")
_database_url = env_str("DATABASE_URL")
DATABASE_URL = _database_url or f"sqlite:///{VAR_DIR / 'storyloom.sqlite3'}"
REDIS_URL = env_str("REDIS_URL")
CELERY_BROKER_URL = env_str("CELERY_BROKER_URL") or REDIS_URL or "filesystem://"
_result_backend = env_str("CELERY_RESULT_BACKEND") or REDIS_URL
CELERY_RESULT_BACKEND = _result_backend or f"file://{VAR_DIR / 'celery' / 'results'}"
WAGTAILADMIN_BASE_URL = env_str("WAGTAILADMIN_BASE_URL", "http://127.0.0.1:8000")
MEDIA_ROOT = env_str("MEDIA_ROOT") or str(BASE_DIR / "media")
# Uploaded images and documents: the local disk unless a storage class says otherwise
# (e.g. django-storages' "storages.backends.s3.S3Storage" with {"bucket_name": ...}).
MEDIA_STORAGE_BACKEND = env_str(
    "MEDIA_STORAGE_BACKEND", "django.core.files.storage.FileSystemStorage"
)
MEDIA_STORAGE_OPTIONS = env_json("MEDIA_STORAGE_OPTIONS", {})
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
# A post claimed and not started this long is only waiting in the queue; its task is sent
# once more in case the message was lost (docs/syndication.md, "Waiting or dead?").
SYNDICATION_UNSTARTED_AFTER = env_int("SYNDICATION_UNSTARTED_AFTER_SECONDS", 600)
SYNDICATION_HTTP_TIMEOUT = env_int("SYNDICATION_HTTP_TIMEOUT_SECONDS", 15)
SYNDICATION_MAX_FAILURES = env_int("SYNDICATION_MAX_FAILURES", 8)
SYNDICATION_RETRY_BASE = env_int("SYNDICATION_RETRY_BASE_SECONDS", 30)
SYNDICATION_RETRY_CAP = env_int("SYNDICATION_RETRY_CAP_SECONDS", 3600)
SYNDICATION_RECONCILE_AFTER = env_int("SYNDICATION_RECONCILE_AFTER_SECONDS", 30)
# After the HTTP timeout, how long a create may still be working inside a server that
# does not honour Idempotency-Key (docs/syndication.md, "When a lost create may be sent again").
SYNDICATION_INFLIGHT_MARGIN = env_int("SYNDICATION_INFLIGHT_MARGIN_SECONDS", 120)
SYNDICATION_REFRESH_SKEW = env_int("SYNDICATION_REFRESH_SKEW_SECONDS", 120)
SYNDICATION_QUEUE = env_str("SYNDICATION_QUEUE", "publishing")
SYNDICATION_ALLOW_HTTP_INSTANCES = env_bool("SYNDICATION_ALLOW_HTTP_INSTANCES", False)
# The guarded client for outbound requests (syndication/outbound.py): ports a request may
# go to ("*" for any), private ranges it may reach (development only), answer size cap.
SYNDICATION_OUTBOUND_ALLOWED_PORTS = env_list("SYNDICATION_OUTBOUND_ALLOWED_PORTS", ["80", "443"])
SYNDICATION_OUTBOUND_ALLOW_PRIVATE = env_list("SYNDICATION_OUTBOUND_ALLOW_PRIVATE")
SYNDICATION_OUTBOUND_MAX_BYTES = env_int("SYNDICATION_OUTBOUND_MAX_BYTES", 5 * 1024 * 1024)
# Bluesky: where did:plc identity documents are read, and a server asked to resolve
# handles that DNS and https cannot (a test network's .test handles); empty in production.
BLUESKY_PLC_URL = env_str("BLUESKY_PLC_URL", "https://plc.directory")
BLUESKY_HANDLE_RESOLVER = env_str("BLUESKY_HANDLE_RESOLVER")
# Threads (Meta's Threads API, OAuth 2); offered only when the Threads app ID is set.
# The two addresses are Meta's unless a test server stands in for them.
THREADS_APP_ID = env_str("THREADS_APP_ID")
THREADS_APP_SECRET = env_str("THREADS_APP_SECRET")
THREADS_GRAPH_URL = env_str("THREADS_GRAPH_URL", "https://graph.threads.net")
THREADS_AUTHORIZE_URL = env_str("THREADS_AUTHORIZE_URL", "https://threads.net/oauth/authorize")
THREADS_API_VERSION = env_str("THREADS_API_VERSION", "v1.0")
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
# Events one reader (address and browser) and one address may send per minute; past
# that the collector answers 429 with Retry-After. A reader sends about six per story.
# 0: no limit.
ENGAGEMENT_EVENTS_PER_MINUTE = env_int("ENGAGEMENT_EVENTS_PER_MINUTE", 120)
ENGAGEMENT_EVENTS_PER_MINUTE_PER_ADDRESS = env_int("ENGAGEMENT_EVENTS_PER_MINUTE_PER_ADDRESS", 1200)
# Share links one address may make, and newsletter sign-ups and link requests one
# address may send: (count, seconds).
ENGAGEMENT_SHARES_PER_ADDRESS = (env_int("ENGAGEMENT_SHARES_PER_ADDRESS_PER_HOUR", 60), 3600)
NEWSLETTER_REQUESTS_PER_ADDRESS = (env_int("NEWSLETTER_REQUESTS_PER_ADDRESS_PER_HOUR", 10), 3600)
X_CONSUMER_KEY = env_str("X_CONSUMER_KEY")
X_CONSUMER_SECRET = env_str("X_CONSUMER_SECRET")
# Facebook Pages (Facebook Login and the Graph API); offered only when the app is set.
# The two addresses are Meta's unless a test server stands in for them.
FACEBOOK_APP_ID = env_str("FACEBOOK_APP_ID")
FACEBOOK_APP_SECRET = env_str("FACEBOOK_APP_SECRET")
FACEBOOK_GRAPH_URL = env_str("FACEBOOK_GRAPH_URL", "https://graph.facebook.com")
FACEBOOK_DIALOG_URL = env_str("FACEBOOK_DIALOG_URL", "https://www.facebook.com")
FACEBOOK_API_VERSION = env_str("FACEBOOK_API_VERSION", "v25.0")
# Newsletter: signed links in emails expire (days); sends go out in chunks of subscribers.
NEWSLETTER_CLICK_MAX_AGE_DAYS = env_int("NEWSLETTER_CLICK_MAX_AGE_DAYS", 90)
NEWSLETTER_CONFIRM_MAX_AGE_DAYS = env_int("NEWSLETTER_CONFIRM_MAX_AGE_DAYS", 3)
NEWSLETTER_CHUNK_SIZE = env_int("NEWSLETTER_CHUNK_SIZE", 1000)
NEWSLETTER_QUEUE = env_str("NEWSLETTER_QUEUE", "newsletters")
# Sending (docs/newsletter.md, "Sending"): beat claims due editions and sweeps stuck
# chunks; a chunk's hard time limit stays below the stuck window and the broker's
# visibility timeout. Temporary refusals (4xx) are retried a bounded number of times.
NEWSLETTER_DISPATCH_EVERY = env_int("NEWSLETTER_DISPATCH_EVERY_SECONDS", 60)
NEWSLETTER_SWEEP_EVERY = env_int("NEWSLETTER_SWEEP_EVERY_SECONDS", 60)
NEWSLETTER_TASK_TIME_LIMIT = env_int("NEWSLETTER_TASK_TIME_LIMIT_SECONDS", 300)
NEWSLETTER_STUCK_AFTER = env_int("NEWSLETTER_STUCK_AFTER_SECONDS", 420)
NEWSLETTER_RETRY_AFTER = env_int("NEWSLETTER_RETRY_AFTER_SECONDS", 300)
NEWSLETTER_MAX_ATTEMPTS = env_int("NEWSLETTER_MAX_ATTEMPTS", 3)
# Messages per commit: one SMTP connection each (syndication/newsletter/smtp.py).
NEWSLETTER_SMTP_CONNECTIONS = env_int("NEWSLETTER_SMTP_CONNECTIONS", 16)
NEWSLETTER_SMTP_TIMEOUT = env_int("NEWSLETTER_SMTP_TIMEOUT_SECONDS", 30)
# Empty: Django's SMTP backend becomes the exactly-once one, any other EMAIL_BACKEND
# (console, file, locmem) is used as it is.
NEWSLETTER_EMAIL_BACKEND = env_str("NEWSLETTER_EMAIL_BACKEND")
# Conversation collection (docs/conversation.md, "Schedule"): beat claims due posts this
# often; a claim older than the lease (above the task time limit) was lost with its worker.
CONVERSATION_COLLECT_EVERY = env_int("CONVERSATION_COLLECT_EVERY_SECONDS", 60)
CONVERSATION_LEASE = env_int("CONVERSATION_LEASE_SECONDS", 900)
# Collect replies and quotes on X too (docs/conversation.md, "X"): off by default, since X
# charges for every post read ($0.005; quotes the same) and search covers 7 days only.
CONVERSATION_X_ENABLED = env_bool("CONVERSATION_X_ENABLED", False)
# A story's conversation "turns negative" (docs/conversation.md, "Alerts") at this many
# complaints written within this many minutes: an alert on the dashboard and in the inbox,
# and one email to the social managers.
CONVERSATION_ALERT_COMPLAINTS = env_int("CONVERSATION_ALERT_COMPLAINTS", 3)
CONVERSATION_ALERT_WINDOW_MINUTES = env_int("CONVERSATION_ALERT_WINDOW_MINUTES", 60)
# Engagement's flushes and channel-metric collection run on their own queue (docs/deploy.md).
ENGAGEMENT_QUEUE = env_str("ENGAGEMENT_QUEUE", "ingestion")
# Background task failures are kept this long (days) in the admin's report.
TASK_FAILURES_KEEP_DAYS = env_int("TASK_FAILURES_KEEP_DAYS", 30)
# Messages a consumer could not handle (Reports → Quarantined messages) are kept this long.
QUARANTINE_KEEP_DAYS = env_int("QUARANTINE_KEEP_DAYS", 30)
LOG_LEVEL = env_str("LOG_LEVEL", "INFO").upper()
# json: one JSON object per line (production); text: readable lines (dev.py's default).
LOG_FORMAT = env_str("LOG_FORMAT").lower()
if LOG_FORMAT not in ("", "json", "text"):
    raise ImproperlyConfigured(f"LOG_FORMAT must be json or text, got {LOG_FORMAT!r}")
CONTENT_SECURITY_POLICY_REPORT_URI = env_str("CSP_REPORT_URI")
# Page cache (stories/page_cache/; docs/deploy.md, "Caching"): whole reading pages for
# anonymous readers in the default cache, purged exactly when something they show changes.
PAGE_CACHE_ENABLED = env_bool("PAGE_CACHE_ENABLED", True)
# What browsers and proxies may keep: Cache-Control: public, max-age, stale-while-revalidate.
PAGE_CACHE_MAX_AGE = env_int("PAGE_CACHE_MAX_AGE_SECONDS", 60)
PAGE_CACHE_STALE_WHILE_REVALIDATE = env_int("PAGE_CACHE_STALE_WHILE_REVALIDATE_SECONDS", 60)
# How long a stored page may go unvisited before the cache drops it.
PAGE_CACHE_TIMEOUT = env_int("PAGE_CACHE_TIMEOUT_SECONDS", 24 * 60 * 60)
# Single flight (docs/architecture.md, "Cached pages"): after a purge one reader renders
# the page; the others get the previous copy (X-Cache: stale) if it has been out of date
# for at most PAGE_CACHE_STALE_SECONDS (0: never), else wait for that render up to
# PAGE_CACHE_RENDER_WAIT_SECONDS and then render themselves. The render's lock expires
# after PAGE_CACHE_RENDER_LOCK_SECONDS (a worker that died holding it).
PAGE_CACHE_STALE_SECONDS = env_int("PAGE_CACHE_STALE_SECONDS", 10)
PAGE_CACHE_RENDER_WAIT_SECONDS = env_int("PAGE_CACHE_RENDER_WAIT_SECONDS", 3)
PAGE_CACHE_RENDER_LOCK_SECONDS = env_int("PAGE_CACHE_RENDER_LOCK_SECONDS", 10)
# A CDN in front, purged with the same pages (Wagtail's frontend cache; empty: none).
FRONTEND_CACHE_BACKEND = env_str("FRONTEND_CACHE_BACKEND").lower()
FRONTEND_CACHE_URL = env_str("FRONTEND_CACHE_URL")
FRONTEND_CACHE_CLOUDFLARE_BEARER_TOKEN = env_str("FRONTEND_CACHE_CLOUDFLARE_BEARER_TOKEN")
FRONTEND_CACHE_CLOUDFLARE_ZONE_ID = env_str("FRONTEND_CACHE_CLOUDFLARE_ZONE_ID")
FRONTEND_CACHE_CLOUDFRONT_DISTRIBUTION_ID = env_str("FRONTEND_CACHE_CLOUDFRONT_DISTRIBUTION_ID")
FRONTEND_CACHE_HOSTNAMES = env_list("FRONTEND_CACHE_HOSTNAMES")

# --- Applications ----------------------------------------------------------------
INSTALLED_APPS = [
    "cms",
    "stories",
    "syndication",
    "syndication.engagement",
    "syndication.newsletter",
    "syndication.conversation",
    "wagtail.contrib.forms",
    "wagtail.contrib.frontend_cache",
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
    "axes",
]

MIDDLEWARE = [
    # First, so that redirects, errors and every log line of the request carry its id.
    "cms.middleware.RequestIdMiddleware",
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
    # Last, as django-axes asks: turns a locked-out sign-in into its 429 answer.
    "axes.middleware.AxesMiddleware",
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
# Connections are kept for ten minutes, by web processes and by Celery workers alike
# (CELERY_DB_REUSE_MAX below), each checked once before it is used again.
DATABASES = {
    "default": dj_database_url.parse(DATABASE_URL, conn_max_age=600, conn_health_checks=True)
}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": "storyloom",
            # A Redis that hangs fails a request in seconds instead of holding it for good.
            "OPTIONS": {"socket_connect_timeout": 2, "socket_timeout": 5},
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
# Database sessions that refuse a cookie no session key looks like (cms/sessions.py).
SESSION_ENGINE = "cms.sessions"

# Sign-in throttling (django-axes; docs/deploy.md, "Sign-in throttling"): after
# LOGIN_FAILURE_LIMIT wrong passwords for one username from one address, that pair is
# refused for LOGIN_LOCKOUT_MINUTES (each further try starts the wait again). Other users,
# and the same user elsewhere, are not affected. `manage.py axes_reset` unlocks.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",  # first: refuses locked-out pairs
    "django.contrib.auth.backends.ModelBackend",
]
AXES_FAILURE_LIMIT = env_int("LOGIN_FAILURE_LIMIT", 5)
AXES_COOLOFF_TIME = datetime.timedelta(minutes=env_int("LOGIN_LOCKOUT_MINUTES", 15))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_CLIENT_IP_CALLABLE = "cms.logins.client_ip"
AXES_USERNAME_CALLABLE = "cms.logins.username"
# Failed attempts are kept until they cool off; successful sign-ins are not recorded.
AXES_DISABLE_ACCESS_LOG = True

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
    "default": {"BACKEND": MEDIA_STORAGE_BACKEND, "OPTIONS": MEDIA_STORAGE_OPTIONS},
    # Compressed (gzip, Brotli when installed) copies and content-hashed names, served
    # by WhiteNoise with far-future cache headers.
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
# Embedded mode: SQLite, kombu's file-system transport and Celery's file result backend
# do not create their folders. Every process that uses them (web, worker, beat, manage.py)
# loads these settings, so they are made here, and only for the defaults in use: a
# deployment on PostgreSQL and Redis writes nothing under VAR_DIR. (Beat's schedule file
# is the exception; its folder is made when beat starts, in cms/celery.py.)
_embedded_folders = []
if not _database_url:
    _embedded_folders.append(VAR_DIR)
if CELERY_BROKER_URL.startswith("filesystem"):
    _embedded_folders += CELERY_BROKER_TRANSPORT_OPTIONS.values()
if CELERY_RESULT_BACKEND.startswith("file://"):
    # Celery's file result backend, the default or named in CELERY_RESULT_BACKEND.
    _embedded_folders.append(CELERY_RESULT_BACKEND.removeprefix("file://"))
for _folder in _embedded_folders:
    Path(_folder).mkdir(parents=True, exist_ok=True)

CELERY_TASK_ROUTES = {
    "syndication.tasks.publish_post": {"queue": SYNDICATION_QUEUE},
    "syndication.newsletter.tasks.send_chunk": {"queue": NEWSLETTER_QUEUE},
    # Engagement's steady work (flushing every few seconds, metrics hourly) never waits
    # behind a newsletter send or delays a post: docs/deploy.md, "Queues".
    "syndication.engagement.tasks.flush_events": {"queue": ENGAGEMENT_QUEUE},
    "syndication.engagement.tasks.rotate_salts": {"queue": ENGAGEMENT_QUEUE},
    "syndication.engagement.metric_tasks.collect_channel_metrics": {"queue": ENGAGEMENT_QUEUE},
    # Reading conversations back is ingestion too (docs/conversation.md, "Schedule").
    "syndication.conversation.tasks.collect_due_conversations": {"queue": ENGAGEMENT_QUEUE},
    "syndication.conversation.tasks.collect_conversation": {"queue": ENGAGEMENT_QUEUE},
}
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TIMEZONE = TIME_ZONE
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_DEFAULT_QUEUE = env_str("CELERY_DEFAULT_QUEUE", "celery")
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
# Celery's Django fixup closes every database connection before and after each task
# unless this is set: a new PostgreSQL connection per task (a process forked on the
# server, authentication) was a fifth of a publishing worker's time. Kept, they are
# closed every this many tasks, and a broken or too old one before any task
# (cms.celery.drop_unusable_connections).
CELERY_DB_REUSE_MAX = env_int("CELERY_DB_REUSE_MAX", 1000)
CELERY_RESULT_EXPIRES = 3600
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_BEAT_SCHEDULE_FILENAME = str(VAR_DIR / "celery" / "beat-schedule")
# Workers log through LOGGING below (JSON lines with the task id), not Celery's own format.
CELERY_WORKER_HIJACK_ROOT_LOGGER = False
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
    # Each post's conversation is due by its age (syndication/conversation/schedule.py);
    # beat only claims what is due, every minute.
    "collect-due-conversations": {
        "task": "syndication.conversation.tasks.collect_due_conversations",
        "schedule": float(CONVERSATION_COLLECT_EVERY),
        "options": {"expires": float(CONVERSATION_COLLECT_EVERY)},
    },
    # Editions are scheduled in the database too: beat starts the due ones and settles
    # chunks whose worker died (syndication/newsletter/lifecycle.py).
    "send-due-editions": {
        "task": "syndication.newsletter.tasks.send_due_editions",
        "schedule": float(NEWSLETTER_DISPATCH_EVERY),
    },
    "sweep-editions": {
        "task": "syndication.newsletter.tasks.sweep_editions",
        "schedule": float(NEWSLETTER_SWEEP_EVERY),
    },
    "forget-unconfirmed-subscribers": {
        "task": "syndication.newsletter.tasks.forget_unconfirmed",
        "schedule": 24 * 3600.0,  # sign-ups whose confirmation link expired unanswered
    },
    "purge-task-failures": {
        "task": "cms.tasks.purge_task_failures",
        "schedule": 6 * 3600.0,  # deletes only what is older than TASK_FAILURES_KEEP_DAYS
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
# https://docs.wagtail.org/en/stable/reference/contrib/frontendcache.html: each backend's
# class, and its options with the variables they come from.
_FRONTEND_CACHE_BACKENDS = {
    "http": ("HTTPBackend", {"LOCATION": ("FRONTEND_CACHE_URL", FRONTEND_CACHE_URL)}),
    "cloudflare": (
        "CloudflareBackend",
        {
            "BEARER_TOKEN": (
                "FRONTEND_CACHE_CLOUDFLARE_BEARER_TOKEN",
                FRONTEND_CACHE_CLOUDFLARE_BEARER_TOKEN,
            ),
            "ZONEID": ("FRONTEND_CACHE_CLOUDFLARE_ZONE_ID", FRONTEND_CACHE_CLOUDFLARE_ZONE_ID),
        },
    ),
    # Needs boto3; AWS credentials come from the usual AWS_* variables or the instance role.
    "cloudfront": (
        "CloudfrontBackend",
        {
            "DISTRIBUTION_ID": (
                "FRONTEND_CACHE_CLOUDFRONT_DISTRIBUTION_ID",
                FRONTEND_CACHE_CLOUDFRONT_DISTRIBUTION_ID,
            )
        },
    ),
}
WAGTAILFRONTENDCACHE = {}
if FRONTEND_CACHE_BACKEND:
    if FRONTEND_CACHE_BACKEND not in _FRONTEND_CACHE_BACKENDS:
        raise ImproperlyConfigured(
            f"FRONTEND_CACHE_BACKEND must be one of {', '.join(_FRONTEND_CACHE_BACKENDS)}, "
            f"got {FRONTEND_CACHE_BACKEND!r}"
        )
    _backend, _options = _FRONTEND_CACHE_BACKENDS[FRONTEND_CACHE_BACKEND]
    for _variable, _value in _options.values():
        if not _value:
            raise ImproperlyConfigured(
                f"{_variable} must be set when FRONTEND_CACHE_BACKEND={FRONTEND_CACHE_BACKEND}"
            )
    WAGTAILFRONTENDCACHE = {
        "default": {
            "BACKEND": f"wagtail.contrib.frontend_cache.backends.{_backend}",
            **{option: value for option, (_variable, value) in _options.items()},
            **({"HOSTNAMES": FRONTEND_CACHE_HOSTNAMES} if FRONTEND_CACHE_HOSTNAMES else {}),
        }
    }

REST_FRAMEWORK = {"DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"]}

# --- Logging ----------------------------------------------------------------------
# One line per record on stderr, with the request's (or task's) id: cms/logging.py.
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {
        "request_id": {"()": "cms.logging.RequestIdFilter"},
        # Signed links' tokens stay out of Django's "Not Found: /…" lines too.
        "credential_paths": {"()": "cms.logging.CredentialPathFilter"},
        # Celery's line per task received, succeeded or sent by beat: DEBUG, not INFO.
        "routine": {"()": "cms.logging.RoutineFilter"},
    },
    "formatters": {
        "json": {"()": "cms.logging.JSONFormatter"},
        "text": {"format": TEXT_FORMAT},
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": LOG_FORMAT or "json",
            "filters": ["request_id", "credential_paths"],
        }
    },
    "root": {"handlers": ["console"], "level": LOG_LEVEL},
    "loggers": {
        # Celery gives task loggers a handler of its own unless they have one already.
        "celery.task": {"handlers": ["console"], "level": LOG_LEVEL, "propagate": False},
        **{name: {"filters": ["routine"]} for name in ROUTINE},
        "django.db.backends": {"level": "INFO"},
        # Wagtail queues reference-index and search updates through django-tasks;
        # two lines per page save drown everything else at INFO.
        "django_tasks": {"level": "WARNING"},
        # django-axes says its version and mode at every start of every process.
        "axes.apps": {"level": "WARNING"},
    },
}
