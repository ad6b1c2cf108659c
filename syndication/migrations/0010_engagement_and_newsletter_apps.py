"""Engagement's and the newsletter's models now belong to their own apps (``engagement``,
``newsletter``): they leave this app's state. Nothing changes in the database; their
tables keep their names and their rows (``engagement.0001``, ``newsletter.0001``).
"""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("syndication", "0009_delivery_uncertain"),
        ("engagement", "0001_initial"),
        ("newsletter", "0001_initial"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                # Whatever points at another model first, so no model is left dangling.
                migrations.DeleteModel(name="DeliveryPick"),
                migrations.DeleteModel(name="Delivery"),
                migrations.DeleteModel(name="SubscriberRead"),
                migrations.DeleteModel(name="Edition"),
                migrations.DeleteModel(name="Subscriber"),
                migrations.DeleteModel(name="ChannelMetricSnapshot"),
                migrations.DeleteModel(name="EngagementRollup"),
                migrations.DeleteModel(name="ShareToken"),
                migrations.DeleteModel(name="FlushedBatch"),
                migrations.DeleteModel(name="DailySalt"),
            ],
            database_operations=[],
        )
    ]
