"""A task failing in a real worker process is recorded for the admin, and beat's runs too."""

import socket
import uuid

import pytest

from cms.models import TaskFailure
from tests.integration.conftest import celery_process, database_url_for_child, wait_for

pytestmark = [
    pytest.mark.integration,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]


def test_a_worker_records_a_real_failure(redis_server, tmp_path):
    with socket.socket() as sock:  # a port nobody listens on: the stream's Redis is "down"
        sock.bind(("127.0.0.1", 0))
        dead = sock.getsockname()[1]
    queue = f"failures-{uuid.uuid4().hex[:8]}"
    env = {
        "CELERY_BROKER_URL": redis_server,
        "CELERY_RESULT_BACKEND": redis_server,
        "DATABASE_URL": database_url_for_child(),
        "ENGAGEMENT_REDIS_URL": f"redis://:not-to-be-shown@127.0.0.1:{dead}/0",
    }
    from celery import Celery

    sender = Celery("failures-test-sender", broker=redis_server)
    log = tmp_path / "worker.log"
    args = ["worker", "-P", "solo", "-Q", queue, "--without-gossip", "--without-mingle"]
    try:
        with celery_process(*args, env=env, log=log):
            sender.send_task("syndication.engagement.tasks.flush_events", queue=queue)
            wait_for(TaskFailure.objects.exists, 60, "the failure to be recorded", log)
    finally:
        import redis

        redis.Redis.from_url(redis_server).delete(queue)
    failure = TaskFailure.objects.get()
    assert failure.task_name == "syndication.engagement.tasks.flush_events"
    assert failure.exception_type == "redis.exceptions.ConnectionError"
    assert f"127.0.0.1:{dead}" in failure.message
    assert failure.hostname.startswith("celery@")
    assert "not-to-be-shown" not in failure.message + failure.traceback
