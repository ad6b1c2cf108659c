"""Salesy copy cannot go live without a voice review: editor, workflow, scheduled publishing."""

import datetime

from django.core.exceptions import ValidationError
from django.utils import timezone

from wagtail.models import PageLogEntry, Revision, Workflow

import pytest

from stories.models import StoryPage, VoiceApproval, VoiceReviewTask, VoiceSettings
from stories.tasks import publish_scheduled_pages
from tests.factories import AudienceInterestFactory
from tests.stories.test_admin import add_url, story_form

pytestmark = pytest.mark.django_db

SALESY = "<p>Act now — only 3 left at this unbeatable price! Buy today and save 40%.</p>"
STORY = "<p>The boiler hummed all winter until Maya found the loose valve behind the tank.</p>"


def salesy(page):
    page.body = [("paragraph", SALESY)]
    return page


def test_publishing_salesy_copy_is_refused_in_code(make_story):
    story = make_story()
    live_revision = story.live_revision_id
    revision = salesy(StoryPage.objects.get(pk=story.pk)).save_revision()
    with pytest.raises(ValidationError, match="reads as selling"):
        revision.publish()
    stored = StoryPage.objects.get(pk=story.pk)
    assert stored.live_revision_id == live_revision
    assert "Act now" not in str(stored.body.raw_data)


def test_the_editor_is_told_to_rewrite_or_ask_for_review(client, admin_user, story_index):
    client.force_login(admin_user)
    client.defaults["HTTP_HOST"] = "localhost"
    data = story_form("A loud offer", AudienceInterestFactory(name="Home"))
    data["body-0-value"] = data["body-0-value"].replace("It began in November.", "Act now")
    data["intro"] = "Act now — only 3 left at this unbeatable price! Save 40% today."
    data["action-publish"] = "publish"
    response = client.post(add_url(story_index), data)
    assert response.status_code == 200
    message = response.content.decode()
    assert "This story reads as selling" in message and "submit it for a voice review" in message
    assert not StoryPage.objects.filter(slug="a-loud-offer", live=True).exists()


def schedule(page, minutes_ago=1):
    when = timezone.now() - datetime.timedelta(minutes=minutes_ago)
    page.go_live_at = when
    return page.save_revision(approved_go_live_at=when)


def test_scheduled_salesy_story_is_held_and_others_still_go_live(make_story):
    held = salesy(make_story(live=False, first_published_at=None, last_published_at=None))
    fine = make_story(live=False, first_published_at=None, last_published_at=None)
    fine.body = [("paragraph", STORY)]
    held_revision = schedule(held)
    schedule(fine)

    assert publish_scheduled_pages() == "ok"

    assert StoryPage.objects.get(pk=fine.pk).live
    assert not StoryPage.objects.get(pk=held.pk).live
    assert Revision.objects.get(pk=held_revision.pk).approved_go_live_at is None
    entry = PageLogEntry.objects.get(page=held, action="stories.voice_hold")
    assert "reads as selling" in entry.data["why"]


def voice_workflow():
    workflow = Workflow.objects.get(workflow_tasks__task__in=VoiceReviewTask.objects.all())
    return workflow, VoiceReviewTask.objects.get()


def test_voice_review_is_the_first_step_of_the_moderation_workflow():
    workflow, task = voice_workflow()
    tasks = [t.specific for t in workflow.tasks]
    assert isinstance(tasks[0], VoiceReviewTask)
    assert task.groups.filter(name="Moderators").exists()


def test_clean_copy_passes_the_voice_review_by_itself(make_story, admin_user):
    story = make_story()
    story.body = [("paragraph", STORY)]
    story.save_revision()
    workflow, _ = voice_workflow()
    state = workflow.start(story, admin_user)
    first = state.task_states.order_by("pk").first()
    assert first.task.specific.__class__ is VoiceReviewTask
    assert first.status == "approved"
    assert state.current_task_state.task.specific.__class__ is not VoiceReviewTask


def finish_workflow(state, reviewer, reason):
    while state.status == "in_progress":
        task_state = state.current_task_state
        task_state.task.specific.on_action(task_state.specific, reviewer, "approve", comment=reason)
        state.refresh_from_db()
    return state


def test_salesy_copy_goes_live_once_a_reviewer_approves_it(make_story, admin_user):
    story = salesy(make_story())
    story.save_revision()
    workflow, _ = voice_workflow()
    state = workflow.start(story, admin_user)
    assert state.current_task_state.task.specific.__class__ is VoiceReviewTask
    assert state.current_task_state.status == "in_progress"
    assert not VoiceApproval.objects.exists()

    finish_workflow(state, admin_user, "A quoted shop sign in a story about a market stall.")

    story = StoryPage.objects.get(pk=story.pk)
    assert "Act now" in str(story.body.raw_data) and story.live
    approval = VoiceApproval.objects.get(page=story)
    assert approval.reason.startswith("A quoted shop sign")
    threshold = VoiceSettings.for_site(story.get_site()).threshold
    assert approval.score >= threshold
    assert story.voice_score >= threshold

    # The approval covers those words only: new selling copy needs another review.
    story.body = [("paragraph", SALESY + "<p>Hurry, the offer ends Friday!!!</p>")]
    with pytest.raises(ValidationError, match="reads as selling"):
        story.save_revision().publish()


def test_an_approved_story_may_still_go_live_on_schedule(make_story, admin_user):
    story = salesy(make_story(live=False, first_published_at=None, last_published_at=None))
    story.save_revision()
    from stories.models.voice import record_approval

    record_approval(story, admin_user, "Reviewed: a quoted advert from 1974.")
    schedule(story)
    publish_scheduled_pages()
    assert StoryPage.objects.get(pk=story.pk).live


def test_reviewers_must_give_a_reason():
    _, task = voice_workflow()
    form = task.get_form_for_action("approve")({"comment": ""})
    assert not form.is_valid()
    assert "comment" in form.errors


def test_brand_terms_from_site_settings(make_story, home):
    from wagtail.models import Site

    settings = VoiceSettings.for_site(Site.objects.get(is_default_site=True))
    settings.flag_phrases = "Larkspur Gold"
    settings.save()
    story = make_story()
    story.body = [("paragraph", "<p>Maya finally switched to Larkspur Gold last spring.</p>")]
    story.save()
    assert any(f["rule"] == "brand-term" for f in story.voice_findings)
