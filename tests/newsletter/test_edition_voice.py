"""The voice check on an edition's title and intro: findings named by field when it is
saved, "Send now" and "Schedule" refused without a reason while they read as selling,
the reason kept for those words only, and a send refused at its start whatever began it."""

import datetime

from django.core import mail
from django.utils import timezone

from wagtail.models import Site

import pytest

from stories.models import VoiceSettings
from syndication.newsletter import lifecycle
from syndication.newsletter.models import Delivery, Edition
from tests.newsletter import editions
from tests.newsletter.editions import edition, send_all, start

interests = editions.interests
stories = editions.stories
subscribers = editions.subscribers

pytestmark = pytest.mark.django_db

Status = Edition.Status
#: A soft pitch: polite, no exclamation mark, but an advert all the same.
PITCH = "Book your free consultation with our team today."
CALM = "Three neighbours, one leaking gutter and a ladder nobody wanted to climb."
LABELS = {"title": "Title", "intro": "Intro"}


def url(name, *args):
    from django.urls import reverse

    return reverse(f"newsletter_editions:{name}", args=args)


def form(**fields):
    data = {"title": "Spring fixes", "intro": CALM, "window_days": 30, "k": 3, "send_at": ""}
    data["voice_override_reason"] = ""
    return data | fields


def later() -> str:
    return (timezone.localtime() + datetime.timedelta(hours=2)).strftime("%Y-%m-%d %H:%M")


@pytest.fixture
def manager(client, social_manager):
    client.force_login(social_manager)
    return client


# --- Writing ------------------------------------------------------------------------------
@pytest.mark.parametrize("field", ["title", "intro"])
def test_a_draft_with_a_pitch_is_saved_with_a_warning_naming_the_field(manager, stories, field):
    answer = manager.post(url("add"), form(**{field: PITCH}), follow=True)
    made = Edition.objects.get()
    assert made.status == Status.DRAFT and getattr(made, field) == PITCH
    page = answer.content.decode()
    assert f"{LABELS[field]}: Reads as selling: “Book”" in page
    other = "intro" if field == "title" else "title"
    assert f"{LABELS[other]}: Reads as selling" not in page
    assert "not sent or scheduled until it is rewritten or a reason is given" in page


def test_a_calm_edition_gets_no_warning(manager, stories):
    page = manager.post(url("add"), form(), follow=True).content.decode()
    assert Edition.objects.get().title == "Spring fixes"
    assert "Reads as selling" not in page and "The voice check" not in page


@pytest.mark.parametrize("field", ["title", "intro"])
def test_a_scheduled_edition_cannot_be_edited_into_a_pitch_without_a_reason(
    manager, stories, field
):
    made = edition(status=Status.SCHEDULED, send_at=timezone.now() + datetime.timedelta(hours=2))
    data = form(**{field: PITCH}, send_at=later())
    answer = manager.post(url("edit", made.pk), data)
    assert answer.status_code == 200
    errors = answer.context["form"].errors
    assert errors[field][0].startswith("Reads as selling: “Book”")
    assert set(errors) == {field, "voice_override_reason"}
    assert "Send anyway because" in answer.content.decode()
    assert getattr(Edition.objects.get(pk=made.pk), field) != PITCH

    data["voice_override_reason"] = "The clinic's own wording, quoted in the story."
    assert manager.post(url("edit", made.pk), data).status_code == 302
    made.refresh_from_db()
    assert getattr(made, field) == PITCH and made.status == Status.SCHEDULED
    assert made.voice_override_reason == "The clinic's own wording, quoted in the story."


# --- Sending --------------------------------------------------------------------------------
@pytest.mark.parametrize("field", ["title", "intro"])
@pytest.mark.parametrize("action", ["send", "schedule"])
def test_send_and_schedule_need_a_reason_while_the_words_read_as_selling(
    manager, stories, subscribers, field, action
):
    made = edition(**{field: PITCH})
    asked = manager.get(url("action", made.pk, action)).content.decode()
    assert "data-edition-voice" in asked
    assert f"<strong>{LABELS[field]}</strong>: Reads as selling: “Book”" in asked
    assert "Send anyway because" in asked

    data = {"send_at": later()} if action == "schedule" else {}
    refused = manager.post(url("action", made.pk, action), data)
    assert refused.status_code == 200
    assert "voice_override_reason" in refused.context["form"].errors
    assert Edition.objects.get(pk=made.pk).status == Status.DRAFT
    assert not Delivery.objects.exists()

    data["voice_override_reason"] = "A quoted flyer: the edition is about flyers."
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr("django.db.transaction.on_commit", lambda callback, **kw: callback())
        assert manager.post(url("action", made.pk, action), data).status_code == 302
    made.refresh_from_db()
    assert made.voice_override_reason == "A quoted flyer: the edition is about flyers."
    if action == "send":
        assert made.status == Status.SENT and len(mail.outbox) == len(subscribers)
    else:
        assert made.status == Status.SCHEDULED


def test_a_calm_edition_is_sent_without_being_asked(manager, stories, subscribers):
    made = edition(title="Spring fixes", intro=CALM)
    assert "data-edition-voice" not in manager.get(url("action", made.pk, "send")).content.decode()
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr("django.db.transaction.on_commit", lambda callback, **kw: callback())
        manager.post(url("action", made.pk, "send"))
    assert Edition.objects.get(pk=made.pk).status == Status.SENT


def test_a_reason_covers_the_words_it_was_given_for_only(manager, stories, subscribers):
    made = edition(intro=PITCH)
    manager.post(
        url("action", made.pk, "schedule"),
        {"send_at": later(), "voice_override_reason": "Quoted from the story."},
    )
    made.refresh_from_db()
    assert made.status == Status.SCHEDULED
    # Saved again unchanged: the reason still holds.
    data = form(title=made.title, intro=PITCH, send_at=later())
    assert manager.post(url("edit", made.pk), data).status_code == 302
    # New selling words need a reason of their own.
    data["intro"] = PITCH.replace("today", "this week")
    answer = manager.post(url("edit", made.pk), data)
    assert answer.status_code == 200 and "intro" in answer.context["form"].errors


def test_a_send_starts_only_if_the_words_pass_or_have_a_reason(stories, subscribers):
    made = edition(intro=PITCH)
    assert start(made) == []
    made.refresh_from_db()
    assert made.status == Status.FAILED and "reads as selling" in made.error
    assert not Delivery.objects.exists() and mail.outbox == []

    # With a reason for those words it goes out.
    from syndication.newsletter.voice import check_edition

    Edition.objects.filter(pk=made.pk).update(
        voice_override_reason="Reviewed.",
        voice_override_hash=check_edition(made.title, made.intro).text_hash,
    )
    assert start(made)
    send_all(made)
    assert Edition.objects.get(pk=made.pk).status == Status.SENT
    assert len(mail.outbox) == len(subscribers)


def test_brand_terms_hold_a_scheduled_edition_at_its_start(stories, subscribers):
    made = edition(title="Larkspur Gold week")
    lifecycle.move_edition(made.pk, "schedule", send_at=timezone.now())
    settings = VoiceSettings.for_site(Site.objects.get(is_default_site=True))
    settings.flag_phrases = "Larkspur Gold"
    settings.save()
    assert lifecycle.start_due_editions() == [made.pk]
    assert lifecycle.plan_edition(made.pk) == []
    made.refresh_from_db()
    assert made.status == Status.FAILED and "“Larkspur Gold”" in made.error


def test_the_command_refuses_selling_words_and_points_to_the_admin(stories, subscribers):
    from django.core.management import CommandError, call_command

    made = edition(title=PITCH)
    with pytest.raises(CommandError, match="was not sent: The edition's title reads as selling"):
        call_command("send_edition", str(made.pk), "--now")
    assert Edition.objects.get(pk=made.pk).status == Status.DRAFT
    assert mail.outbox == []
