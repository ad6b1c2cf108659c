from django.apps import AppConfig


class NewsletterConfig(AppConfig):
    """The newsletter, a nested app with a label of its own (the shape of
    ``wagtail.contrib.frontend_cache``): its models, migrations, admin hooks and tasks.

    Its tables kept the names they had under the ``syndication`` label
    (``Meta.db_table``; docs/architecture.md, "Apps and labels").
    """

    name = "syndication.newsletter"
    label = "newsletter"
    verbose_name = "Newsletter"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        from . import erasure, reads

        # Deleting a subscriber forgets them in logs and failure records too.
        erasure.connect()
        # The reads engagement counts through a newsletter link become SubscriberRead
        # rows, in the flusher's own transaction (docs/newsletter.md).
        reads.connect()
