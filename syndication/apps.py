from django.apps import AppConfig


class SyndicationConfig(AppConfig):
    name = "syndication"
    verbose_name = "Syndication"

    def ready(self):
        from . import checks  # noqa: F401 (registers the system checks)

        # The conversation tag's cache of syndicated stories listens for new posts in
        # every process, not only those that happened to load the tag library.
        from .templatetags import syndication_tags  # noqa: F401
