import logging

from django.contrib.contenttypes.models import ContentType
from django.core.management import call_command
from django.utils import timezone

from wagtail.models import PageLogEntry, Revision

from celery import shared_task

logger = logging.getLogger(__name__)


def hold_salesy_scheduled_stories() -> int:
    """Take due, unapproved salesy stories out of Wagtail's publishing queue.

    Wagtail's ``publish_scheduled`` publishes every due revision in one loop; a story
    refused by the voice gate would stop the loop for every page after it. Its
    schedule is cleared instead, and the story's history says why.
    """
    from stories.models import StoryPage
    from stories.models.voice import publication_block

    due = Revision.objects.filter(
        content_type=ContentType.objects.get_for_model(StoryPage),
        approved_go_live_at__lte=timezone.now(),
    )
    held = 0
    for revision in due:
        page = revision.as_object()
        problem = publication_block(page)
        if problem:
            Revision.objects.filter(pk=revision.pk).update(approved_go_live_at=None)
            PageLogEntry.objects.log_action(
                instance=page, action="stories.voice_hold", revision=revision, data={"why": problem}
            )
            logger.warning("Held scheduled story %s: %s", page.pk, problem)
            held += 1
    return held


@shared_task(name="stories.tasks.publish_scheduled_pages")
def publish_scheduled_pages():
    """Publish pages whose ``go_live_at`` has come and unpublish expired ones.

    Beat runs this every minute (``CELERY_BEAT_SCHEDULE``), so scheduled publishing
    works without cron. Stories the voice check holds back are left unpublished.
    """
    hold_salesy_scheduled_stories()
    call_command("publish_scheduled")
    return "ok"
