"""When the task holding a post's claim began (issue 18, liveness).

A post ``publishing`` with ``started_at`` empty is waiting in the queue, not held by a
dead worker: the sweeper leaves it alone (docs/syndication.md, "Waiting or dead?").
Posts already ``publishing`` when this runs were claimed by the previous engine, which
swept them by ``claimed_at``; they are taken as started then, so they are swept as before.
"""

from django.db import migrations, models
from django.db.models import F


def started_when_claimed(apps, schema_editor):
    SyndicationPost = apps.get_model("syndication", "SyndicationPost")
    SyndicationPost.objects.filter(state="publishing").update(started_at=F("claimed_at"))


class Migration(migrations.Migration):
    dependencies = [("syndication", "0014_social_managers_choose_images")]

    operations = [
        migrations.AddField(
            model_name="syndicationpost",
            name="started_at",
            field=models.DateTimeField(blank=True, editable=False, null=True),
        ),
        migrations.RunPython(started_when_claimed, migrations.RunPython.noop),
    ]
