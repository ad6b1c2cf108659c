from django.db import migrations

from cms.migration_helpers import grant

#: Who sees *Reports → Quarantined messages* besides superusers: the people who watch
#: posts go out and engagement come in.
VIEWERS = ("Social managers",)


class Migration(migrations.Migration):
    dependencies = [
        ("cms", "0003_quarantined_messages"),
        ("syndication", "0002_social_managers"),
    ]

    operations = [
        migrations.RunPython(
            grant([("cms", "view_quarantinedmessage")], VIEWERS, create_for=["cms"]),
            migrations.RunPython.noop,
        )
    ]
