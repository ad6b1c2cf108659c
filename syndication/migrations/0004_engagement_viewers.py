from django.db import migrations

from cms.migration_helpers import grant

#: Who may open the engagement report, reader journeys, a story's engagement page and
#: see the dashboard panel: the people who write, moderate and syndicate stories.
VIEWERS = ("Social managers", "Editors", "Moderators")


class Migration(migrations.Migration):
    dependencies = [("syndication", "0003_engagement")]

    operations = [
        migrations.RunPython(
            grant([("syndication", "view_engagementrollup")], VIEWERS), migrations.RunPython.noop
        )
    ]
