from django.apps import AppConfig


class EngagementConfig(AppConfig):
    """Engagement, a nested app with a label of its own (the shape of
    ``wagtail.contrib.frontend_cache``): its models, migrations, admin hooks and tasks.

    Its tables kept the names they had under the ``syndication`` label
    (``Meta.db_table``; docs/architecture.md, "Apps and labels").
    """

    name = "syndication.engagement"
    label = "engagement"
    verbose_name = "Engagement"
    default_auto_field = "django.db.models.BigAutoField"
