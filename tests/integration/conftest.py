import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from contextlib import contextmanager
from pathlib import Path

from django.db import connection

import pytest

from tests.conftest import require_service

ROOT = Path(__file__).resolve().parents[2]
CELERY = str(Path(sys.executable).with_name("celery"))


def redis_url() -> str:
    return os.environ.get("REDIS_URL") or "redis://127.0.0.1:6379/0"


def redis_is_up(url: str) -> bool:
    import redis

    try:
        return bool(redis.Redis.from_url(url, socket_connect_timeout=1).ping())
    except redis.RedisError:
        return False


@pytest.fixture
def redis_server():
    url = redis_url()
    require_service(redis_is_up(url), f"Redis at {url}")
    return url


def database_url_for_child() -> str:
    """A DATABASE_URL pointing a child process at the test database in use."""
    settings = connection.settings_dict
    if connection.vendor == "sqlite":
        return f"sqlite:///{settings['NAME']}"
    if connection.vendor == "postgresql":
        host = settings["HOST"] or "127.0.0.1"
        password = f":{settings['PASSWORD']}" if settings["PASSWORD"] else ""
        return (
            f"postgres://{settings['USER']}{password}@{host}:{settings['PORT'] or 5432}"
            f"/{settings['NAME']}"
        )
    raise RuntimeError(f"no DATABASE_URL form for {connection.vendor}")


@contextmanager
def celery_process(*args, env: dict[str, str], log: Path):
    """Run ``celery -A cms <args>`` as a real child process; stop it afterwards."""
    full_env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "cms.settings.test",
        # A real worker runs the tasks; beat only sends them.
        "CELERY_TASK_ALWAYS_EAGER": "false",
        **env,
    }
    with log.open("w") as out:
        process = subprocess.Popen(
            [CELERY, "-A", "cms", *args],
            cwd=ROOT,
            env=full_env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        try:
            yield process
        finally:
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGTERM)
                try:
                    process.wait(timeout=15)
                except subprocess.TimeoutExpired:
                    os.killpg(process.pid, signal.SIGKILL)
                    process.wait()


def wait_for(predicate, timeout: float, what: str | Callable[[], str], log: Path | None = None):
    """Poll ``predicate`` until it is true; fail after ``timeout`` seconds saying ``what``
    was awaited (a callable is asked at that moment, so it can tell what is missing)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.25)
    tail = log.read_text()[-3000:] if log and log.exists() else ""
    what = what() if callable(what) else what
    raise AssertionError(f"timed out after {timeout}s waiting for {what}\n{tail}")
