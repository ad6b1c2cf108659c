"""The Celery app: configured from Django settings (``CELERY_*``), tasks autodiscovered.

Beat's schedule lives in settings (``CELERY_BEAT_SCHEDULE``).
"""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "cms.settings.dev")

app = Celery("storyloom")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@app.task(name="storyloom.ping")
def ping(payload):
    """Echo ``payload``: proves a worker is consuming and results come back."""
    return {"pong": payload}
