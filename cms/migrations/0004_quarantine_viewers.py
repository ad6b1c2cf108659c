from django.contrib.auth.management import create_permissions
from django.db import migrations

#: Who sees *Reports → Quarantined messages* besides superusers: the people who watch
#: posts go out and engagement come in.
VIEWERS = ("Social managers",)


def grant(apps, schema_editor):
    app_config = apps.get_app_config("cms")
    app_config.models_module = True
    create_permissions(app_config, apps=apps, verbosity=0)
    app_config.models_module = None
    Group = apps.get_model("auth.Group")
    Permission = apps.get_model("auth.Permission")
    view = Permission.objects.filter(
        content_type__app_label="cms", codename="view_quarantinedmessage"
    ).first()
    if view is None:
        return
    for group in Group.objects.filter(name__in=VIEWERS):
        group.permissions.add(view)


class Migration(migrations.Migration):
    dependencies = [
        ("cms", "0003_quarantined_messages"),
        ("syndication", "0002_social_managers"),
    ]

    operations = [migrations.RunPython(grant, migrations.RunPython.noop)]
