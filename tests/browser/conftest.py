import os
import shutil
from contextlib import contextmanager

import pytest

from tests.conftest import require_service

CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture(scope="session")
def chromium_path():
    path = shutil.which("chromium") or shutil.which("chromium-browser")
    require_service(path is not None, "Chromium (Debian's chromium package)")
    return path


@pytest.fixture
def browser_page(chromium_path, tmp_path):
    # Playwright's sync API runs an event loop in this thread; the live server
    # and the test's own ORM calls are still plain synchronous code.
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=chromium_path, args=CHROMIUM_ARGS, headless=True
        )
        context = browser.new_context(viewport={"width": 1280, "height": 900})
        page = context.new_page()
        page.set_default_timeout(15_000)
        try:
            yield page
        finally:
            context.close()
            browser.close()
            os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)


def sign_in(page, base_url: str, username: str, password: str) -> None:
    """Sign in to the admin through its form, as a person does."""
    page.goto(f"{base_url}/admin/login/")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", password)
    page.click("button[type=submit]")
    page.wait_for_url("**/admin/")


@contextmanager
def worker_and_beat(tmp_path, *, queues="celery,publishing", media_root=None, **settings):
    """A real Celery worker and beat as child processes on the server-less broker, on the
    test database; ``settings`` become their environment (``SYNDICATION_DISPATCH_EVERY_SECONDS
    =1`` and no hourly page publishing by default). Yields the worker's log file."""
    from tests.integration.conftest import celery_process, database_url_for_child

    var = tmp_path / "var"
    (var / "celery").mkdir(parents=True)
    if media_root is not None:
        # The worker's var folder is its own (its broker); its pictures are ours.
        (var / "test-media").symlink_to(media_root, target_is_directory=True)
    env = {
        "STORYLOOM_VAR_DIR": str(var),
        "CELERY_BROKER_URL": "filesystem://",
        "CELERY_RESULT_BACKEND": f"file://{var / 'celery' / 'results'}",
        "REDIS_URL": "",
        "DATABASE_URL": database_url_for_child(),
        "SYNDICATION_DISPATCH_EVERY_SECONDS": "1",
        "PUBLISH_SCHEDULED_EVERY_SECONDS": "3600",
        **{name: str(value) for name, value in settings.items()},
    }
    log = tmp_path / "worker.log"
    worker = ("worker", "-P", "solo", "-Q", queues, "--without-gossip")
    with (
        celery_process(*worker, env=env, log=log),
        celery_process("beat", "-s", str(var / "beat"), env=env, log=tmp_path / "beat.log"),
    ):
        yield log
