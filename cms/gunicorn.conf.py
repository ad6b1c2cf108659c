"""gunicorn settings for production (Procfile's web process); environment overrides each."""

import multiprocessing
import os

bind = os.environ.get("GUNICORN_BIND", "0.0.0.0:" + os.environ.get("PORT", "8000"))


def cores() -> int:
    """The cores this process may run on (a container's CPU set), else the machine's."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return multiprocessing.cpu_count()


# gunicorn's rule of thumb, 2 × cores + 1; an empty WEB_CONCURRENCY (.env.example) means unset.
workers = int(os.environ.get("WEB_CONCURRENCY") or cores() * 2 + 1)
threads = int(os.environ.get("GUNICORN_THREADS", "1"))
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "30"))
# cms.middleware.RequestIdMiddleware logs each request (JSON, with its id); gunicorn's
# own access line would say the same again in another format. GUNICORN_ACCESSLOG=- turns it on.
accesslog = os.environ.get("GUNICORN_ACCESSLOG") or None
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1")
