"""Background task failures: recorded from Celery's own signal, shown in Wagtail's admin."""

import datetime

from django.contrib.auth.models import Group
from django.utils import timezone

import pytest

from cms import ops
from cms.celery import app
from cms.models import TaskFailure
from cms.tasks import purge_task_failures

pytestmark = pytest.mark.django_db


class PublishingBroke(Exception):
    pass


@app.task(name="tests.ops.break_down")
def break_down(post_id, token=None):
    raise PublishingBroke(f"post {post_id} could not go out")


def fail(*args, **kwargs):
    """Run the task as Celery runs it, letting the failure take its normal course."""
    result = break_down.apply(args=args, kwargs=kwargs, throw=False)
    assert result.failed()
    return result


@pytest.fixture
def client(client):
    client.defaults["HTTP_HOST"] = "localhost"
    return client


def test_a_failing_task_leaves_a_record_without_its_secrets():
    result = fail(42, token="sk-live-9f8e7d")

    failure = TaskFailure.objects.get()
    assert failure.task_name == "tests.ops.break_down"
    assert failure.task_id == result.id
    assert failure.exception_type == "tests.test_task_failures.PublishingBroke"
    assert failure.message == "post 42 could not go out"
    assert failure.args == "42, token=***"
    assert "sk-live" not in failure.traceback + failure.args + failure.message
    assert 'raise PublishingBroke(f"post {post_id} could not go out")' in failure.traceback
    assert failure.occurrences == 1


def test_the_same_failure_again_is_counted_not_repeated():
    first = fail(1).id
    last = fail(1).id
    fail(2)  # another message: another row

    same = TaskFailure.objects.get(message="post 1 could not go out")
    assert same.occurrences == 2
    assert same.task_id == last != first
    assert same.first_failed_at <= same.failed_at
    assert TaskFailure.objects.count() == 2


def test_a_retry_or_a_success_is_not_a_failure():
    assert app.tasks["storyloom.ping"].apply(args=["hi"]).get() == {"pong": "hi"}
    assert not TaskFailure.objects.exists()


def test_old_failures_are_purged_by_beat_s_task(settings):
    settings.TASK_FAILURES_KEEP_DAYS = 30
    fail(1)
    old = TaskFailure.objects.create(
        task_name="tests.ops.break_down",
        exception_type="ValueError",
        failed_at=timezone.now() - datetime.timedelta(days=31),
    )
    assert "purge-task-failures" in settings.CELERY_BEAT_SCHEDULE
    purge_task_failures.delay()
    assert not TaskFailure.objects.filter(pk=old.pk).exists()
    assert TaskFailure.objects.count() == 1


def test_superusers_see_failures_in_the_admin(client, admin_user):
    fail(7, token="sk-live-123")
    failure = TaskFailure.objects.get()
    client.force_login(admin_user)

    index = client.get("/admin/reports/task-failures/")
    assert index.status_code == 200
    html = index.content.decode()
    assert "Background task failures" in html
    assert "tests.ops.break_down" in html
    assert "PublishingBroke: post 7 could not go out" in html

    inspect = client.get(f"/admin/reports/task-failures/inspect/{failure.pk}/")
    assert inspect.status_code == 200
    html = inspect.content.decode()
    assert "<pre>Traceback" in html
    assert "token=***" in html
    assert "sk-live" not in html

    home = client.get("/admin/")
    assert "Background tasks failed 1 time in the last 24 hours" in home.content.decode()
    assert "/admin/reports/task-failures/" in home.content.decode()  # the Reports menu item


def test_social_managers_see_them_and_editors_do_not(client, django_user_model):
    fail(7)
    social = django_user_model.objects.create_user("sam", password="pw")
    social.groups.add(Group.objects.get(name="Social managers"))
    editor = django_user_model.objects.create_user("eddie", password="pw")
    editor.groups.add(Group.objects.get(name="Editors"))

    client.force_login(social)
    assert client.get("/admin/reports/task-failures/").status_code == 200
    assert "Background tasks failed" in client.get("/admin/").content.decode()

    client.force_login(editor)
    assert client.get("/admin/reports/task-failures/").status_code == 302  # permission denied
    home = client.get("/admin/").content.decode()
    assert "Background tasks failed" not in home
    assert "/admin/reports/task-failures/" not in home


def test_no_panel_without_recent_failures(client, admin_user):
    TaskFailure.objects.create(
        task_name="tests.ops.break_down",
        exception_type="ValueError",
        failed_at=timezone.now() - datetime.timedelta(days=2),
    )
    client.force_login(admin_user)
    assert "Background tasks failed" not in client.get("/admin/").content.decode()


def test_recording_never_breaks_the_task_path(django_db_blocker, caplog):
    """No database to write to: the failure is logged and the task ends as it would have."""
    with django_db_blocker.block():
        result = fail(3)
    assert result.failed()
    assert "could not record the failure of task tests.ops.break_down" in caplog.text
    assert not TaskFailure.objects.exists()


def test_beat_tasks_leave_their_last_run(settings):
    from syndication.engagement.tasks import flush_events

    assert ops.last_run("syndication.engagement.tasks.flush_events") is None
    flush_events.apply()
    run = ops.last_run("syndication.engagement.tasks.flush_events")
    assert run["state"] == "SUCCESS"
    assert timezone.now() - run["at"] < datetime.timedelta(seconds=5)
    # Tasks beat does not run are not tracked.
    app.tasks["storyloom.ping"].apply(args=[1])
    assert ops.last_run("storyloom.ping") is None
