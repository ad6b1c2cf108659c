from django.contrib.auth.management import create_permissions
from django.db import migrations

#: Social managers run the newsletter's editions: write, preview, send, schedule, cancel
#: (all "change") and watch them go out (deliveries, read-only). Editors and moderators
#: get nothing: a send reaches every subscriber (docs/newsletter.md, "Sending").
SOCIAL_MANAGERS = {
    ("syndication", "add_edition"),
    ("syndication", "change_edition"),
    ("syndication", "delete_edition"),
    ("syndication", "view_edition"),
    ("syndication", "view_delivery"),
}


def grant(apps, schema_editor):
    for app_config in apps.get_app_configs():
        app_config.models_module = True
        create_permissions(app_config, apps=apps, verbosity=0)
        app_config.models_module = None
    Group = apps.get_model("auth.Group")
    Permission = apps.get_model("auth.Permission")
    social = Group.objects.filter(name="Social managers").first()
    if social is None:
        return
    for app_label, codename in sorted(SOCIAL_MANAGERS):
        social.permissions.add(
            *Permission.objects.filter(content_type__app_label=app_label, codename=codename)
        )


class Migration(migrations.Migration):
    dependencies = [("syndication", "0006_newsletter_permissions")]

    operations = [migrations.RunPython(grant, migrations.RunPython.noop)]
