"""The voice check's Wagtail side: brand settings, the review task, recorded approvals.

``publication_block`` here is the one rule that keeps selling copy from going live: the
page editor, ``StoryPage.clean`` (every way a story goes live, scheduled publishing
included) and the beat task that runs ``publish_scheduled`` all ask it. Reading a
story's text and checking it is ``stories.voice_review``, which knows no model.
"""

from django import forms
from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models

from wagtail.admin.panels import FieldPanel
from wagtail.contrib.settings.models import BaseSiteSetting, register_setting
from wagtail.forms import TaskStateCommentForm
from wagtail.models import AbstractGroupApprovalTask, Site, TaskState

from stories import voice, voice_review
from stories.voice_review import StoryCheck


def _lines(text: str) -> list[str]:
    return [line.strip() for line in text.splitlines() if line.strip()]


@register_setting(icon="openquote")
class VoiceSettings(BaseSiteSetting):
    """Brand-specific words for the voice check, per site."""

    flag_phrases = models.TextField(
        blank=True,
        help_text="One phrase per line that should always be flagged as selling for this "
        "brand, e.g. a product name used as a slogan.",
    )
    allow_phrases = models.TextField(
        blank=True,
        help_text="One phrase per line that is part of this brand's story voice and should "
        "never be flagged, e.g. the name of a community event called 'Free Friday'.",
    )
    threshold = models.FloatField(
        default=voice.DEFAULT_THRESHOLD,
        validators=[MinValueValidator(0.05), MaxValueValidator(1.0)],
        help_text="A story scoring at or above this (0–1) reads as selling and needs a voice "
        "review before it can go live.",
    )

    panels = [FieldPanel("flag_phrases"), FieldPanel("allow_phrases"), FieldPanel("threshold")]

    class Meta:
        verbose_name = "voice check"

    def options(self) -> dict:
        return {
            "flag": _lines(self.flag_phrases),
            "allow": _lines(self.allow_phrases),
            "threshold": self.threshold,
        }


class VoiceApproval(models.Model):
    """A reviewer's decision that this exact wording may go out although it reads as selling.

    Keyed by a hash of the story's checked text, so an approval survives new revisions
    that leave the words alone and lapses as soon as the words change.
    """

    page = models.ForeignKey("wagtailcore.Page", on_delete=models.CASCADE, related_name="+")
    text_hash = models.CharField(max_length=64)
    score = models.FloatField()
    reason = models.TextField()
    reviewer = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    approved_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        indexes = [models.Index(fields=["page", "text_hash"])]
        ordering = ["-approved_at"]

    def __str__(self):
        return f"Voice approval for page {self.page_id} ({self.score:.2f})"


class VoiceReviewCommentForm(TaskStateCommentForm):
    comment = forms.CharField(
        label="Reason",
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="Why this story may go out although it reads as selling. Kept with the "
        "approval and shown in the story's history.",
    )


class VoiceReviewTask(AbstractGroupApprovalTask):
    """A workflow step that only stops stories whose copy reads as selling.

    Stories under the threshold pass straight through; the others wait for a member
    of the chosen groups to approve them with a reason, or for the editor to rewrite
    the copy and submit again.
    """

    class Meta:
        verbose_name = "voice review task"
        verbose_name_plural = "voice review tasks"

    @classmethod
    def get_description(cls):
        return (
            "Stories whose copy reads as selling wait here until a member of the chosen "
            "groups approves them with a reason; other stories pass straight through."
        )

    def start(self, workflow_state, user=None):
        task_state = super().start(workflow_state, user=user)
        page = workflow_state.content_object.get_latest_revision_as_object()
        result = check_with_site_options(page)
        if not result.is_salesy:
            # Returning a finished task state makes Wagtail move the workflow on.
            task_state.approve(
                user=None, update=False, comment=f"Voice check passed (score {result.score:.2f})."
            )
        return task_state

    def get_actions(self, obj, user):
        if user.is_superuser or self._user_in_groups(user):
            return [
                ("reject", "Request a rewrite", True),
                ("approve", "Approve with a reason", True),
            ]
        return []

    def get_form_for_action(self, action):
        return VoiceReviewCommentForm if action == "approve" else TaskStateCommentForm

    def on_action(self, task_state, user, action_name, **kwargs):
        if action_name == "approve" and task_state.status == TaskState.STATUS_IN_PROGRESS:
            page = task_state.revision.as_object()
            record_approval(page, user, kwargs.get("comment", ""))
        return super().on_action(task_state, user, action_name, **kwargs)


def options_for(page=None, site=None) -> dict:
    """The voice check's options on ``site``, else ``page``'s site, else the default site."""
    if site is None and page is not None and page.pk:
        site = page.get_site()
    if site is None:
        site = Site.objects.filter(is_default_site=True).first()
    if site is None:
        return {"threshold": voice.DEFAULT_THRESHOLD}
    return VoiceSettings.for_site(site).options()


def check_with_site_options(page) -> StoryCheck:
    """The voice check of ``page``'s copy with its site's brand settings."""
    return voice_review.check_story(page, options_for(page))


def is_approved(page, result: StoryCheck) -> bool:
    return VoiceApproval.objects.filter(page_id=page.pk, text_hash=result.text_hash).exists()


def publication_block(page, result: StoryCheck | None = None) -> str | None:
    """Why ``page`` (as it would go live) may not be published, or None."""
    result = result or check_with_site_options(page)
    if not result.is_salesy or (page.pk and is_approved(page, result)):
        return None
    phrases = ", ".join(f"“{item['phrase']}”" for item in result.summary(3))
    return (
        f"This story reads as selling (voice score {result.score:.2f}, threshold "
        f"{result.threshold:.2f}){': ' + phrases if phrases else ''}. Rewrite those passages "
        "in the story's own voice, or submit it for a voice review so a reviewer can approve "
        "it with a reason."
    )


def record_approval(page, user, reason: str):
    result = check_with_site_options(page)
    return VoiceApproval.objects.create(
        page_id=page.pk,
        text_hash=result.text_hash,
        score=result.score,
        reason=reason,
        reviewer=user,
    )
