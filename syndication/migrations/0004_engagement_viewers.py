from django.contrib.auth.management import create_permissions
from django.db import migrations

#: Who may open the engagement report, reader journeys, a story's engagement page and
#: see the dashboard panel: the people who write, moderate and syndicate stories.
VIEWERS = ("Social managers", "Editors", "Moderators")


def grant(apps, schema_editor):
    for app_config in apps.get_app_configs():
        app_config.models_module = True
        create_permissions(app_config, apps=apps, verbosity=0)
        app_config.models_module = None
    Group = apps.get_model("auth.Group")
    Permission = apps.get_model("auth.Permission")
    view = Permission.objects.filter(
        content_type__app_label="syndication", codename="view_engagementrollup"
    ).first()
    if view is None:
        return
    for group in Group.objects.filter(name__in=VIEWERS):
        group.permissions.add(view)


class Migration(migrations.Migration):
    dependencies = [("syndication", "0003_engagement")]

    operations = [migrations.RunPython(grant, migrations.RunPython.noop)]
