from django.apps import AppConfig


class SyndicationConfig(AppConfig):
    name = "syndication"
    verbose_name = "Syndication"

    def ready(self):
        from . import checks, signals  # noqa: F401 (checks registers the system checks)

        # A post leaving "Join the conversation" (deleted, unpublished) purges its story.
        signals.connect()

        # The conversation tag's cache of syndicated stories listens for new posts in
        # every process, not only those that happened to load the tag library.
        from .templatetags import syndication_tags  # noqa: F401
