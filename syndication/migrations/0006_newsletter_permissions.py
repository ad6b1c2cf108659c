from django.contrib.auth.management import create_permissions
from django.db import migrations

#: Social managers run the newsletter: they see, invite, change and delete subscribers.
#: Editors and moderators get nothing: subscribers' addresses are personal data they
#: do not need to write or review stories (docs/newsletter.md, "Privacy").
SOCIAL_MANAGERS = {
    ("syndication", "add_subscriber"),
    ("syndication", "change_subscriber"),
    ("syndication", "delete_subscriber"),
    ("syndication", "view_subscriber"),
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
    dependencies = [("syndication", "0005_newsletter")]

    operations = [migrations.RunPython(grant, migrations.RunPython.noop)]
