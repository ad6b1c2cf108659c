from django.db import migrations

from cms.migration_helpers import grant

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


class Migration(migrations.Migration):
    dependencies = [("syndication", "0006_newsletter_permissions")]

    operations = [
        migrations.RunPython(grant(SOCIAL_MANAGERS, ["Social managers"]), migrations.RunPython.noop)
    ]
