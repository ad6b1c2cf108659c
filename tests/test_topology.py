"""The production topology holds together: Procfiles, queues, gunicorn, static and media files."""

import os
import runpy
import secrets
import shlex
import subprocess
import sys
from pathlib import Path

from django.conf import settings

from cryptography.fernet import Fernet

ROOT = Path(__file__).resolve().parents[1]


def processes(procfile: str) -> dict[str, list[str]]:
    found = {}
    for line in (ROOT / procfile).read_text().splitlines():
        if line.strip() and not line.startswith("#"):
            name, command = line.split(":", 1)
            found[name.strip()] = shlex.split(command)
    return found


def consumed(command: list[str]) -> set[str]:
    """The queues a ``celery worker`` command consumes (Celery's default when no -Q)."""
    if "-Q" not in command:
        return {"celery"}
    return set(command[command.index("-Q") + 1].split(","))


def workers(procfile: str) -> dict[str, set[str]]:
    return {
        name: consumed(command)
        for name, command in processes(procfile).items()
        if "celery" in command[0] and "worker" in command
    }


def routed_queues() -> set[str]:
    queues = {route["queue"] for route in settings.CELERY_TASK_ROUTES.values()}
    return queues | {settings.CELERY_TASK_DEFAULT_QUEUE}


def test_every_queue_has_a_worker_and_publishing_and_newsletters_have_their_own():
    by_process = workers("Procfile")
    assert set().union(*by_process.values()) >= routed_queues()
    assert {"publishing", "newsletters", "ingestion", "celery"} <= routed_queues()
    # A newsletter send (thousands of emails) never stands in front of a scheduled post.
    publisher = [name for name, queues in by_process.items() if "publishing" in queues]
    sender = [name for name, queues in by_process.items() if "newsletters" in queues]
    assert set(publisher).isdisjoint(sender)
    assert all(by_process[name] == {"publishing"} for name in publisher)


def test_the_publisher_takes_one_post_at_a_time():
    """Posts wait in Redis, not in a publisher's prefetch buffer behind several others
    (each up to the task time limit), where a dead worker would strand them."""
    assert "--prefetch-multiplier=1" in processes("Procfile")["publisher"]


def test_exactly_one_beat():
    beats = [
        name
        for name, command in processes("Procfile").items()
        if "celery" in command[0] and "beat" in command
    ]
    assert beats == ["beat"]


def test_the_development_worker_consumes_every_queue():
    (queues,) = workers("Procfile.dev").values()
    assert queues >= routed_queues()
    assert "--pool=solo" in processes("Procfile.dev")["worker"]


def test_engagement_work_runs_on_the_ingestion_queue():
    routes = settings.CELERY_TASK_ROUTES
    for task in (
        "syndication.engagement.tasks.flush_events",
        "syndication.engagement.metric_tasks.collect_channel_metrics",
    ):
        assert routes[task] == {"queue": "ingestion"}
    assert routes["syndication.tasks.publish_post"] == {"queue": "publishing"}


def test_gunicorn_workers_follow_the_cores_unless_told(monkeypatch):
    config = str(ROOT / "cms" / "gunicorn.conf.py")
    monkeypatch.setenv("WEB_CONCURRENCY", "")
    assert runpy.run_path(config)["workers"] == len(os.sched_getaffinity(0)) * 2 + 1
    monkeypatch.setenv("WEB_CONCURRENCY", "3")
    assert runpy.run_path(config)["workers"] == 3


def test_the_collector_runs_the_asgi_app_one_uvicorn_worker_per_core(monkeypatch):
    config = str(ROOT / "cms" / "gunicorn_collector.conf.py")
    monkeypatch.setenv("COLLECTOR_CONCURRENCY", "")
    monkeypatch.setenv("COLLECTOR_PORT", "8011")
    settings = runpy.run_path(config)
    assert settings["workers"] == len(os.sched_getaffinity(0))
    assert settings["worker_class"] == "uvicorn_worker.UvicornWorker"
    assert settings["wsgi_app"] == "cms.asgi:application"
    assert settings["bind"] == "0.0.0.0:8011"
    # Everything else as the web process.
    assert (
        settings["forwarded_allow_ips"]
        == runpy.run_path(str(ROOT / "cms" / "gunicorn.conf.py"))["forwarded_allow_ips"]
    )
    assert processes("Procfile")["collector"] == [
        "gunicorn",
        "-c",
        "cms/gunicorn_collector.conf.py",
    ]


def run_production(expression: str, **env) -> subprocess.CompletedProcess:
    """Print ``expression`` under the production settings, in a fresh process."""
    unset = {"SECRET_KEY", "ALLOWED_HOSTS", "SYNDICATION_TOKEN_KEYS", "LOG_FORMAT"}
    base = {k: v for k, v in os.environ.items() if k not in unset}
    prefix = env.pop("PREFIX", "")
    code = (
        "import django; django.setup(); from django.conf import settings; "
        f"{prefix}print({expression})"
    )
    return subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        env={
            **base,
            "DJANGO_SETTINGS_MODULE": "cms.settings.production",
            "SECRET_KEY": secrets.token_urlsafe(50),
            "ALLOWED_HOSTS": "stories.example.org",
            "SYNDICATION_TOKEN_KEYS": Fernet.generate_key().decode(),
            # Production requires one; printing settings never opens it.
            "DATABASE_URL": os.environ.get("DATABASE_URL") or "sqlite:///:memory:",
            **env,
        },
        capture_output=True,
        text=True,
        timeout=120,
    )


def production_setting(expression: str, **env) -> str:
    result = run_production(expression, **env)
    assert result.returncode == 0, result.stderr
    return result.stdout.strip()


def test_production_serves_compressed_static_files_with_hashed_names_and_json_logs():
    assert production_setting(
        "settings.STORAGES['staticfiles']['BACKEND'], "
        "settings.LOGGING['handlers']['console']['formatter'], "
        "settings.MIDDLEWARE[:2]"
    ) == (
        "whitenoise.storage.CompressedManifestStaticFilesStorage json "
        "['cms.middleware.RequestIdMiddleware', 'django.middleware.security.SecurityMiddleware']"
    )


def test_media_storage_comes_from_the_environment():
    shown = "type(storages['default']).__name__, storages['default'].base_url"
    prefix = "from django.core.files.storage import storages; "
    assert production_setting(shown, PREFIX=prefix) == "FileSystemStorage /media/"
    assert (
        production_setting(
            shown,
            PREFIX=prefix,
            MEDIA_STORAGE_BACKEND="django.core.files.storage.InMemoryStorage",
            MEDIA_STORAGE_OPTIONS='{"base_url": "https://media.example.org/"}',
        )
        == "InMemoryStorage https://media.example.org/"
    )
    broken = run_production("settings.STORAGES", MEDIA_STORAGE_OPTIONS="{bucket")
    assert broken.returncode != 0
    assert "MEDIA_STORAGE_OPTIONS must be JSON" in broken.stderr
