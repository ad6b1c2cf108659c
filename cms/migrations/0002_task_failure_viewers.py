from django.db import migrations

from cms.migration_helpers import grant

#: Who sees *Reports → Background task failures* and the dashboard count (besides
#: superusers): the people who watch posts go out.
VIEWERS = ("Social managers",)


class Migration(migrations.Migration):
    dependencies = [
        ("cms", "0001_task_failures"),
        # The "Social managers" group is made there.
        ("syndication", "0002_social_managers"),
    ]

    operations = [
        migrations.RunPython(
            grant([("cms", "view_taskfailure")], VIEWERS), migrations.RunPython.noop
        )
    ]
