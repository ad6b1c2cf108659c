from django.contrib.auth.management import create_permissions
from django.db import migrations

#: Who sees *Reports → Background task failures* and the dashboard count (besides
#: superusers): the people who watch posts go out.
VIEWERS = ("Social managers",)


def grant(apps, schema_editor):
    for app_config in apps.get_app_configs():
        app_config.models_module = True
        create_permissions(app_config, apps=apps, verbosity=0)
        app_config.models_module = None
    Group = apps.get_model("auth.Group")
    Permission = apps.get_model("auth.Permission")
    view = Permission.objects.filter(
        content_type__app_label="cms", codename="view_taskfailure"
    ).first()
    if view is None:
        return
    for group in Group.objects.filter(name__in=VIEWERS):
        group.permissions.add(view)


class Migration(migrations.Migration):
    dependencies = [
        ("cms", "0001_task_failures"),
        # The "Social managers" group is made there.
        ("syndication", "0002_social_managers"),
    ]

    operations = [migrations.RunPython(grant, migrations.RunPython.noop)]
