"""The Celery app: configured from Django settings (``CELERY_*``), tasks autodiscovered.

Beat's schedule lives in settings (``CELERY_BEAT_SCHEDULE``); which task runs on which
queue in ``CELERY_TASK_ROUTES`` (docs/deploy.md, "Queues").
"""

import os
from pathlib import Path

from celery import Celery, signals

from .logging import bind_celery_signals

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "cms.settings.dev")

app = Celery("storyloom")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
# Each task's log lines carry its own id (task_id) and the id of the web request that
# caused it (request_id, passed in the message's headers). Failures are recorded for the
# admin by cms.ops, connected when Django's apps are ready (cms.apps).
bind_celery_signals()


@signals.import_modules.connect
def make_beat_schedule_folder(sender, **kwargs):
    """Beat's schedule file sits in ``VAR_DIR/celery`` in every environment.

    shelve does not create its folder, and beat opens the file before its ``beat_init``
    signal; ``import_modules`` is sent earlier, when a worker or beat loads its tasks,
    so the folder appears where Celery runs, not in web processes or at settings import.
    """
    Path(sender.conf.beat_schedule_filename).parent.mkdir(parents=True, exist_ok=True)


@signals.task_prerun.connect(weak=False, dispatch_uid="storyloom-drop-unusable-connections")
def drop_unusable_connections(task=None, **kwargs):
    """Before each task, as Django does before each request: a database connection that
    broke or outlived ``CONN_MAX_AGE`` is closed, and one kept is checked before it is
    used (``CONN_HEALTH_CHECKS``). Celery keeps them between tasks (``CELERY_DB_REUSE_MAX``).
    A task run eagerly, inside its caller's work, leaves the caller's connection alone
    (as Celery's own fixup does)."""
    if task is not None and getattr(task.request, "is_eager", False):
        return
    from django.db import close_old_connections

    close_old_connections()


@app.task(name="storyloom.ping")
def ping(payload):
    """Echo ``payload``: proves a worker is consuming and results come back."""
    return {"pong": payload}
