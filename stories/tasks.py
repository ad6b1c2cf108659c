from django.core.management import call_command

from celery import shared_task


@shared_task(name="stories.tasks.publish_scheduled_pages")
def publish_scheduled_pages():
    """Publish pages whose ``go_live_at`` has come and unpublish expired ones.

    Beat runs this every minute (``CELERY_BEAT_SCHEDULE``), so scheduled publishing
    works without cron.
    """
    call_command("publish_scheduled")
    return "ok"
