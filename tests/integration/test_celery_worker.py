"""A real Celery worker (and beat) process, on Redis and on the server-less broker."""

import datetime
import uuid

from django.utils import timezone

import pytest
from celery import Celery

from stories.models import StoryPage
from tests.integration.conftest import celery_process, database_url_for_child, wait_for

pytestmark = [
    pytest.mark.integration,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]


def client_app(broker: str, backend: str, transport_options=None) -> Celery:
    app = Celery("storyloom-test-client", broker=broker, backend=backend)
    app.conf.broker_transport_options = transport_options or {}
    app.conf.result_backend_transport_options = transport_options or {}
    return app


def scheduled_story(make_story, minutes_ago=1):
    """A story approved to go live a minute ago but not published yet."""
    story = make_story(live=False, first_published_at=None, last_published_at=None)
    when = timezone.now() - datetime.timedelta(minutes=minutes_ago)
    story.go_live_at = when
    story.save_revision(approved_go_live_at=when)
    assert not StoryPage.objects.get(pk=story.pk).live
    return story


def test_a_task_round_trips_through_a_worker_on_redis(redis_server, make_story, tmp_path):
    queue = f"test-{uuid.uuid4().hex[:8]}"
    env = {
        "CELERY_BROKER_URL": redis_server,
        "CELERY_RESULT_BACKEND": redis_server,
        "DATABASE_URL": database_url_for_child(),
    }
    story = scheduled_story(make_story)
    app = client_app(redis_server, redis_server)
    log = tmp_path / "worker.log"
    worker_args = ["worker", "-Q", queue, "-P", "solo", "-n", f"{queue}@%h", "--without-gossip"]
    with celery_process(*worker_args, env=env, log=log):
        payload = {"story": story.pk, "nonce": uuid.uuid4().hex}
        result = app.send_task("storyloom.ping", args=[payload], queue=queue)
        assert result.get(timeout=60) == {"pong": payload}

        # A project task that touches the database: Wagtail's scheduled publishing.
        published = app.send_task("stories.tasks.publish_scheduled_pages", queue=queue)
        assert published.get(timeout=60) == "ok"
    assert StoryPage.objects.get(pk=story.pk).live


def test_beat_and_worker_publish_a_scheduled_story_without_any_server(make_story, tmp_path):
    """The embedded default: file-system broker, a real beat and a real worker."""
    var = tmp_path / "var"
    (var / "celery").mkdir(parents=True)
    env = {
        "STORYLOOM_VAR_DIR": str(var),
        "CELERY_BROKER_URL": "filesystem://",
        "CELERY_RESULT_BACKEND": f"file://{var / 'celery' / 'results'}",
        "REDIS_URL": "",
        "DATABASE_URL": database_url_for_child(),
        "PUBLISH_SCHEDULED_EVERY_SECONDS": "1",
    }
    story = scheduled_story(make_story)
    worker_log, beat_log = tmp_path / "worker.log", tmp_path / "beat.log"
    with (
        celery_process("worker", "-P", "solo", "--without-gossip", env=env, log=worker_log),
        celery_process(
            "beat", "-s", str(var / "beat-schedule"), "-l", "INFO", env=env, log=beat_log
        ),
    ):
        wait_for(
            lambda: StoryPage.objects.get(pk=story.pk).live,
            timeout=90,
            what="beat and the worker to publish the scheduled story",
            log=worker_log,
        )
    assert "stories.tasks.publish_scheduled_pages" in beat_log.read_text()
