"""Celery workers keep their database connections between tasks, and drop a broken one.

Celery's Django fixup closes every connection before and after each task unless
``CELERY_DB_REUSE_MAX`` is set; a new PostgreSQL connection per task was a fifth of a
publishing worker's time (bench/syndication.py: 96-100 posts/s closing, 183-192 kept).
Kept connections are checked as Django checks them between requests
(``cms.celery.drop_unusable_connections`` on ``task_prerun``, ``CONN_HEALTH_CHECKS``).
"""

from django import db
from django.conf import settings
from django.db import connection

import pytest
from celery import signals

from cms.celery import app, drop_unusable_connections


def test_workers_are_told_to_keep_their_connections():
    assert app.conf.get("CELERY_DB_REUSE_MAX") >= 100
    database = settings.DATABASES["default"]
    assert database["CONN_MAX_AGE"] > 0 and database["CONN_HEALTH_CHECKS"] is True
    assert any(
        receiver is drop_unusable_connections for _key, receiver in signals.task_prerun.receivers
    ), "drop_unusable_connections is not connected to task_prerun"


def test_before_each_task_every_open_connection_is_checked_as_between_requests(monkeypatch):
    # Django's own check closes one that broke or outlived CONN_MAX_AGE and marks a kept
    # one for a health check before its next use; here each open connection must get it.
    checked = []

    class Connection:
        def __init__(self, name):
            self.name = name

        def close_if_unusable_or_obsolete(self):
            checked.append(self.name)

    opened = [Connection("default"), Connection("replica")]
    monkeypatch.setattr(db.connections, "all", lambda initialized_only=False: opened)
    drop_unusable_connections(sender=None, task_id="t1", task=None)
    assert checked == ["default", "replica"]


@pytest.mark.django_db
def test_a_task_run_eagerly_leaves_its_callers_connection_alone(monkeypatch):
    @app.task(name="tests.worker_connections.count_users")
    def count_users():
        from django.contrib.auth.models import User

        return User.objects.count()

    connection.ensure_connection()
    kept = connection.connection
    monkeypatch.setattr(connection, "is_usable", lambda: False)
    assert count_users.apply().get() == 0  # inside the test's transaction: not closed
    assert connection.connection is kept
