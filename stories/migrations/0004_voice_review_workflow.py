from django.db import migrations


def add_voice_review(apps, schema_editor):
    """Make "Voice review" the first step of the moderation workflow."""
    ContentType = apps.get_model("contenttypes.ContentType")
    Group = apps.get_model("auth.Group")
    Page = apps.get_model("wagtailcore.Page")
    Workflow = apps.get_model("wagtailcore.Workflow")
    WorkflowTask = apps.get_model("wagtailcore.WorkflowTask")
    WorkflowPage = apps.get_model("wagtailcore.WorkflowPage")
    VoiceReviewTask = apps.get_model("stories.VoiceReviewTask")

    if VoiceReviewTask.objects.exists():
        return
    task_type, _ = ContentType.objects.get_or_create(app_label="stories", model="voicereviewtask")
    task = VoiceReviewTask.objects.create(name="Voice review", content_type=task_type, active=True)
    task.groups.set(Group.objects.filter(name="Moderators"))

    workflow = Workflow.objects.filter(name="Moderators approval", active=True).first()
    if workflow is None:
        workflow = Workflow.objects.create(name="Voice review", active=True)
        root = Page.objects.filter(depth=1).first()
        if root is not None:
            WorkflowPage.objects.get_or_create(page=root, defaults={"workflow": workflow})
    for step in WorkflowTask.objects.filter(workflow=workflow).order_by("-sort_order"):
        step.sort_order = (step.sort_order or 0) + 1
        step.save(update_fields=["sort_order"])
    WorkflowTask.objects.create(workflow=workflow, task_id=task.pk, sort_order=0)


def remove_voice_review(apps, schema_editor):
    apps.get_model("stories.VoiceReviewTask").objects.all().delete()


class Migration(migrations.Migration):
    dependencies = [
        ("stories", "0003_voice_check"),
        ("wagtailcore", "0097_baselogentry_uuid_action_timestamp_indexes"),
    ]

    operations = [migrations.RunPython(add_voice_review, remove_voice_review)]
