"""Celery workers keep their database connections between tasks, and drop a broken one.

Celery's Django fixup closes every connection before and after each task unless
``CELERY_DB_REUSE_MAX`` is set; a new PostgreSQL connection per task was a fifth of a
publishing worker's time (bench/syndication.py: 96-100 posts/s closing, 183-192 kept).
Kept connections are checked as Django checks them between requests
(``cms.celery.drop_unusable_connections`` on ``task_prerun``, ``CONN_HEALTH_CHECKS``).
"""

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


@pytest.mark.django_db(transaction=True)
def test_a_connection_kept_between_tasks_stays_open_and_a_broken_one_is_closed(monkeypatch):
    connection.ensure_connection()
    kept = connection.connection
    signals.task_prerun.send(sender=None, task_id="t1", task=None, args=(), kwargs={})
    assert connection.connection is kept  # healthy and young: kept for the next task

    connection.errors_occurred = True  # a query failed in the last task
    monkeypatch.setattr(connection, "is_usable", lambda: False)  # and the server is gone
    signals.task_prerun.send(sender=None, task_id="t2", task=None, args=(), kwargs={})
    assert connection.connection is None
    monkeypatch.undo()
    connection.ensure_connection()  # the next task opens a new one
    assert connection.connection is not None and connection.connection is not kept


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
