from django.contrib.auth.management import create_permissions
from django.db import migrations

SOCIAL_MANAGERS = {
    ("wagtailadmin", "access_admin"),
    ("syndication", "add_channelaccount"),
    ("syndication", "change_channelaccount"),
    ("syndication", "delete_channelaccount"),
    ("syndication", "view_channelaccount"),
    ("syndication", "add_syndicationpost"),
    ("syndication", "change_syndicationpost"),
    ("syndication", "view_syndicationpost"),
    ("syndication", "schedule_syndicationpost"),
}
# Editors propose posts (drafts); only social managers connect accounts or schedule.
EDITORS = {
    ("syndication", "add_syndicationpost"),
    ("syndication", "change_syndicationpost"),
    ("syndication", "view_syndicationpost"),
}


def grant(apps, schema_editor):
    """Create the "Social managers" group and give editors the right to propose posts."""
    for app_config in apps.get_app_configs():
        app_config.models_module = True
        create_permissions(app_config, apps=apps, verbosity=0)
        app_config.models_module = None
    Group = apps.get_model("auth.Group")
    Permission = apps.get_model("auth.Permission")

    def permissions(pairs):
        found = []
        for app_label, codename in pairs:
            found.extend(
                Permission.objects.filter(content_type__app_label=app_label, codename=codename)
            )
        return found

    social, _ = Group.objects.get_or_create(name="Social managers")
    social.permissions.add(*permissions(SOCIAL_MANAGERS))
    editors = Group.objects.filter(name="Editors").first()
    if editors is not None:
        editors.permissions.add(*permissions(EDITORS))


class Migration(migrations.Migration):
    dependencies = [
        ("syndication", "0001_initial"),
        ("wagtailadmin", "0001_create_admin_access_permissions"),
        ("wagtailcore", "0002_initial_data"),
    ]

    operations = [migrations.RunPython(grant, migrations.RunPython.noop)]
