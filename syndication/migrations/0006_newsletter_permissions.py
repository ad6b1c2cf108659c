from django.db import migrations

from cms.migration_helpers import grant

#: Social managers run the newsletter: they see, invite, change and delete subscribers.
#: Editors and moderators get nothing: subscribers' addresses are personal data they
#: do not need to write or review stories (docs/newsletter.md, "Privacy").
SOCIAL_MANAGERS = {
    ("syndication", "add_subscriber"),
    ("syndication", "change_subscriber"),
    ("syndication", "delete_subscriber"),
    ("syndication", "view_subscriber"),
}


class Migration(migrations.Migration):
    dependencies = [("syndication", "0005_newsletter")]

    operations = [
        migrations.RunPython(grant(SOCIAL_MANAGERS, ["Social managers"]), migrations.RunPython.noop)
    ]
