"""``make run``'s terminal: the worker and beat of Procfile.dev, as they run there.

Beat sends a flush every five seconds; Celery writes a line for each task sent, received
and succeeded. Those are DEBUG (cms.logging.RoutineFilter); a post going out is INFO.
The worker runs at DEBUG here so that its routine lines can be seen to be DEBUG; beat
runs exactly as in Procfile.dev (INFO), where they must not show at all.
"""

import json
import shlex
from pathlib import Path

from django.conf import settings

import pytest

from syndication.testing.mastodon_server import MastodonTestServer
from tests.integration.conftest import celery_process, database_url_for_child, wait_for
from tests.integration.workloads import make_posts, published

pytestmark = [
    pytest.mark.integration,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]

ROOT = Path(settings.BASE_DIR)
CELERY_PREFIX = ".venv/bin/celery -A cms "
#: The worker's lines as it starts: "Connected to …", "celery@host ready."
STARTING = ("celery.worker.consumer.connection", "celery.apps.worker")


def procfile_args(name: str) -> list[str]:
    """The arguments after ``celery -A cms`` of Procfile.dev's ``name`` process."""
    for line in (ROOT / "Procfile.dev").read_text().splitlines():
        if line.startswith(f"{name}:"):
            command = line.split(":", 1)[1].strip()
            assert command.startswith(CELERY_PREFIX), command
            return shlex.split(command.removeprefix(CELERY_PREFIX))
    raise AssertionError(f"no {name} process in Procfile.dev")


def records(log: Path) -> list[dict]:
    """The log's JSON lines (Celery's own banner lines, if any, are not JSON)."""
    found = []
    for line in log.read_text().splitlines():
        try:
            found.append(json.loads(line))
        except ValueError:
            continue
    return found


def state(post) -> str:
    post.refresh_from_db()
    attempts = list(post.attempts.values_list("outcome", "message"))
    return f"{post.state} {post.last_error!r} {attempts}"


def test_routine_task_lines_are_debug_and_a_published_post_is_info(make_story, tmp_path):
    worker_args = procfile_args("worker")
    beat_args = procfile_args("beat")
    assert "--loglevel=INFO" in worker_args and "--loglevel=INFO" in beat_args
    worker_args = ["--loglevel=DEBUG" if a == "--loglevel=INFO" else a for a in worker_args]
    var = tmp_path / "var"
    env = {
        "DJANGO_SETTINGS_MODULE": "cms.settings.dev",
        # The account's tokens were stored under the test settings' key.
        "SECRET_KEY": settings.SECRET_KEY,
        "LOG_FORMAT": "json",
        "STORYLOOM_VAR_DIR": str(var),
        "CELERY_BROKER_URL": "filesystem://",
        "CELERY_RESULT_BACKEND": f"file://{var / 'celery' / 'results'}",
        "REDIS_URL": "",
        "DATABASE_URL": database_url_for_child(),
        "SYNDICATION_DISPATCH_EVERY_SECONDS": "1",
        "ENGAGEMENT_FLUSH_EVERY_SECONDS": "1",
        "PUBLISH_SCHEDULED_EVERY_SECONDS": "3600",
    }
    (var / "celery" / "results").mkdir(parents=True)
    worker_log, beat_log = tmp_path / "worker.log", tmp_path / "beat.log"
    with MastodonTestServer() as server:
        [post] = make_posts(server, make_story, accounts=1, per_account=1)

        def flushes_done():
            return sum(
                "flush_events" in r["message"] and "succeeded" in r["message"]
                for r in records(worker_log)
            )

        with (
            celery_process(*worker_args, env=env, log=worker_log),
            celery_process(*beat_args, env=env, log=beat_log),
        ):
            wait_for(lambda: published(1), 90, lambda: f"the post published: {state(post)}")
            wait_for(lambda: flushes_done() >= 3, 60, "three flushes", worker_log)

    worker, beat = records(worker_log), records(beat_log)
    # The worker's line per task received and succeeded: there, and at DEBUG.
    routine = [
        r
        for r in worker
        if r["logger"] in ("celery.worker.strategy", "celery.app.trace")
        and (" received" in r["message"] or " succeeded in " in r["message"])
    ]
    names = {r["message"].split("[", 1)[0].removeprefix("Task ") for r in routine}
    assert {
        "syndication.engagement.tasks.flush_events",
        "syndication.tasks.dispatch_due_posts",
        "syndication.tasks.publish_post",
    } <= names
    assert {r["level"] for r in routine} == {"DEBUG"}
    # Beat at Procfile.dev's INFO sent them (the worker got them) without a line each.
    assert beat, beat_log.read_text()[-2000:]
    assert not [r for r in beat if "Sending due task" in r["message"]]
    assert {r["level"] for r in beat} <= {"INFO", "WARNING", "ERROR"}
    # What a person wants to see: the post that went out, at INFO, with its address.
    post.refresh_from_db()
    [line] = [r for r in worker if "published" in r["message"] and r["level"] == "INFO"]
    assert line["message"] == (
        f"post {post.pk} of story {post.story_id} published: {post.remote_url}"
    )
    assert line["logger"] == "syndication.publishing"
    # Nothing else the tasks did every second reached INFO: only the worker's start.
    info = [r for r in worker if r["level"] == "INFO" and r["logger"] not in STARTING]
    assert info == [line], [r["message"] for r in info]
