"""System checks for collection's timing, which "one worker per post" depends on."""

from django.conf import settings
from django.core.checks import Error, register


@register()
def collection_lease(app_configs, **kwargs):
    if settings.CONVERSATION_LEASE <= settings.SYNDICATION_TASK_TIME_LIMIT:
        return [
            Error(
                "CONVERSATION_LEASE_SECONDS must be longer than "
                "SYNDICATION_TASK_TIME_LIMIT_SECONDS, or a post could be claimed again "
                "while a worker is still collecting it.",
                id="conversation.E001",
            )
        ]
    return []
