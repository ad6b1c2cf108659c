from django.apps import AppConfig


class ConversationConfig(AppConfig):
    """Conversation, a nested app with a label of its own (the shape of
    ``syndication.engagement``): the replies, quotes, boosts and likes each published
    post gathers, and the schedule that collects them (docs/conversation.md).

    It may import ``syndication`` and ``stories``; nothing there imports it.
    """

    name = "syndication.conversation"
    label = "conversation"
    verbose_name = "Conversation"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        # The system check; the story page's opt-in signal receivers.
        from . import checks, publicity  # noqa: F401
