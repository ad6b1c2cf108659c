"""The admin's editions: a social manager writes, previews, schedules, sends and cancels
an edition and follows its progress; uncertain deliveries are listed and sent again in
one click; editors manage none of it."""

import datetime

from django.core import mail
from django.utils import timezone

import pytest

from syndication.newsletter import lifecycle, progress
from syndication.newsletter.models import Delivery, Edition
from tests.newsletter import editions
from tests.newsletter.editions import edition, send_all, start

# The stories and subscribers an edition is sent to (the SMTP recorder is the conftest's).
interests = editions.interests
stories = editions.stories
subscribers = editions.subscribers

pytestmark = pytest.mark.django_db

State = Delivery.State
Status = Edition.Status


def editions_url(name, *args):
    from django.urls import reverse

    return reverse(f"newsletter_editions:{name}", args=args)


def test_a_social_manager_writes_previews_and_sends_an_edition(
    client, social_manager, stories, subscribers
):
    client.force_login(social_manager)
    answer = client.post(
        editions_url("add"),
        {"title": "Spring fixes", "intro": "Hello.", "window_days": 30, "k": 3, "send_at": ""},
    )
    made = Edition.objects.get(title="Spring fixes")
    assert answer.status_code == 302
    assert answer.url == editions_url("preview", made.pk)
    assert made.status == Status.DRAFT and made.created_by == social_manager

    preview = client.get(editions_url("preview", made.pk))
    assert preview.status_code == 200
    assert subscribers[0].email in preview.content.decode()
    assert "Because you follow" in preview.content.decode()
    assert not Delivery.objects.exists()  # a preview stores nothing

    listing = client.get(editions_url("index"))
    assert "Spring fixes" in listing.content.decode()

    asked = client.get(editions_url("action", made.pk, "send"))
    assert "6 active subscribers" in asked.content.decode()
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr("django.db.transaction.on_commit", lambda callback, **kw: callback())
        sent = client.post(editions_url("action", made.pk, "send"))
    assert sent.url == editions_url("progress", made.pk)
    assert Edition.objects.get(pk=made.pk).status == Status.SENT
    assert len(mail.outbox) == 6

    data = client.get(editions_url("progress_data", made.pk)).json()
    assert (data["sent"], data["total"], data["pending"], data["failed"]) == (6, 6, 0, 0)
    page = client.get(editions_url("progress", made.pk)).content.decode()
    assert "data-edition-progress" in page and ">6</span> / <span" in page

    # Sent editions are not edited or deleted any more.
    assert client.get(editions_url("edit", made.pk)).url == editions_url("progress", made.pk)
    assert client.post(editions_url("delete", made.pk)).status_code == 302
    assert Edition.objects.filter(pk=made.pk).exists()


def test_sending_an_edition_without_candidates_says_why_and_changes_nothing(
    client, social_manager, make_story, subscribers
):
    make_story(first_published_at=timezone.now() - datetime.timedelta(days=60))
    made = edition(window_days=7)
    client.force_login(social_manager)
    answer = client.post(editions_url("action", made.pk, "send"), follow=True)
    page = answer.content.decode()
    assert "No live story was first published in the last 7 days" in page
    assert Edition.objects.get(pk=made.pk).status == Status.DRAFT
    scheduled = client.post(
        editions_url("action", made.pk, "schedule"),
        {
            "send_at": (timezone.localtime() + datetime.timedelta(hours=2)).strftime(
                "%Y-%m-%d %H:%M"
            )
        },
        follow=True,
    )
    assert "nothing to send" in scheduled.content.decode()
    assert Edition.objects.get(pk=made.pk).status == Status.DRAFT
    assert "No live story" in client.get(editions_url("preview", made.pk)).content.decode()
    assert not Delivery.objects.exists() and mail.outbox == []


def test_scheduling_and_cancelling(client, social_manager, stories, subscribers):
    made = edition()
    client.force_login(social_manager)
    assert "Send at" in client.get(editions_url("action", made.pk, "schedule")).content.decode()
    assert client.get(editions_url("edit", made.pk)).status_code == 200
    when = timezone.localtime() + datetime.timedelta(hours=2)
    client.post(
        editions_url("action", made.pk, "schedule"), {"send_at": when.strftime("%Y-%m-%d %H:%M")}
    )
    made.refresh_from_db()
    assert made.status == Status.SCHEDULED
    assert abs((made.send_at - when).total_seconds()) < 60
    assert lifecycle.start_due_editions() == []  # not due yet
    assert (
        "Yes, cancel it" in client.get(editions_url("action", made.pk, "cancel")).content.decode()
    )
    client.post(editions_url("action", made.pk, "cancel"))
    assert Edition.objects.get(pk=made.pk).status == Status.CANCELLED
    # A cancelled edition cannot be sent.
    client.post(editions_url("action", made.pk, "send"))
    assert Edition.objects.get(pk=made.pk).status == Status.CANCELLED


def test_editors_do_not_manage_editions(client, editor, stories):
    made = edition()
    client.force_login(editor)
    for url in (
        editions_url("index"),
        editions_url("preview", made.pk),
        editions_url("progress_data", made.pk),
    ):
        assert client.get(url).status_code in (302, 403), url
    client.post(editions_url("action", made.pk, "send"))
    assert Edition.objects.get(pk=made.pk).status == Status.DRAFT


def test_uncertain_deliveries_are_listed_on_the_edition_and_sent_again_in_one_click(
    client, social_manager, editor, stories, subscribers, django_capture_on_commit_callbacks
):
    made = edition()
    start(made)
    send_all(made)
    doubtful = Delivery.objects.get(subscriber=subscribers[2])
    # As a worker killed between its commit and its dot leaves it.
    Delivery.objects.filter(pk=doubtful.pk).update(state=State.UNCERTAIN)
    mail.outbox.clear()
    client.force_login(social_manager)

    page = client.get(editions_url("progress", made.pk)).content.decode()
    assert 'data-field="uncertain">1</span>' in page
    assert subscribers[2].email in page
    assert f'action="{editions_url("resend", made.pk)}"' in page
    assert client.get(editions_url("progress_data", made.pk)).json()["sent"] == 5

    with django_capture_on_commit_callbacks(execute=True):
        answer = client.post(editions_url("resend", made.pk))
    assert answer.url == editions_url("progress", made.pk)
    assert [message.to for message in mail.outbox] == [[subscribers[2].email]]
    doubtful.refresh_from_db()
    assert doubtful.state == State.SENT
    assert Edition.objects.get(pk=made.pk).status == Status.SENT
    assert progress.progress(Edition.objects.get(pk=made.pk))["uncertain"] == 0

    # Only people who may send editions may send them again.
    Delivery.objects.filter(pk=doubtful.pk).update(state=State.UNCERTAIN)
    client.force_login(editor)
    client.post(editions_url("resend", made.pk))
    assert Delivery.objects.get(pk=doubtful.pk).state == State.UNCERTAIN
