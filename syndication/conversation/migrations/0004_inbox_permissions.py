from django.db import migrations

from cms.migration_helpers import grant

#: Social managers read, sort, answer and moderate the conversation, and acknowledge alerts.
SOCIAL_MANAGERS = {
    ("conversation", "view_conversationitem"),
    ("conversation", "change_conversationitem"),
    ("conversation", "answer_conversationitem"),
    ("conversation", "moderate_conversationitem"),
    ("conversation", "view_conversationalert"),
    ("conversation", "change_conversationalert"),
    ("conversation", "view_storyconversation"),
    ("conversation", "change_storyconversation"),
    ("conversation", "add_storyconversation"),
}
#: Editors and moderators see the inbox and the alerts, read-only.
READERS = {
    ("conversation", "view_conversationitem"),
    ("conversation", "view_conversationalert"),
}


class Migration(migrations.Migration):
    dependencies = [
        ("conversation", "0003_answers_alerts"),
        ("syndication", "0002_social_managers"),
    ]

    operations = [
        migrations.RunPython(
            grant(SOCIAL_MANAGERS, ["Social managers"], create_for=["conversation"]),
            migrations.RunPython.noop,
        ),
        migrations.RunPython(
            grant(READERS, ["Editors", "Moderators"], create_for=["conversation"]),
            migrations.RunPython.noop,
        ),
    ]
