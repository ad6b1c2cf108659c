from django.db import migrations

from cms.migration_helpers import grant

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


class Migration(migrations.Migration):
    dependencies = [
        ("syndication", "0001_initial"),
        ("wagtailadmin", "0001_create_admin_access_permissions"),
        ("wagtailcore", "0002_initial_data"),
    ]

    operations = [
        # Create the "Social managers" group and give editors the right to propose posts.
        migrations.RunPython(
            grant(SOCIAL_MANAGERS, ["Social managers"], create_groups=True),
            migrations.RunPython.noop,
        ),
        migrations.RunPython(grant(EDITORS, ["Editors"]), migrations.RunPython.noop),
    ]
