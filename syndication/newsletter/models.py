"""Newsletter data: subscribers, what they read, editions, one delivery per subscriber.

A subscriber is a person who asked for the newsletter and confirmed it (double opt-in).
An edition is one send; at send time every active subscriber gets one ``Delivery`` row
(unique per edition and subscriber) and that row's state is what makes a send resumable
and exactly-once. ``DeliveryPick`` keeps what the selection engine chose for the
delivery, slot by slot, with the probability it was chosen, so clicks can be attributed
to a pick and the policy can be evaluated offline later.

The tables keep the names they had before newsletter became an app of its own
(``syndication_*``, ``Meta.db_table``): existing databases moved without a copy.
"""

import secrets

from django.conf import settings
from django.db import models
from django.db.models.functions import Lower
from django.utils import timezone


def new_seed() -> int:
    return secrets.randbelow(2**31)


class Subscriber(models.Model):
    class Status(models.TextChoices):
        PENDING = "pending", "Waiting for confirmation"
        ACTIVE = "active", "Subscribed"
        PAUSED = "paused", "Paused"
        UNSUBSCRIBED = "unsubscribed", "Unsubscribed"

    email = models.EmailField(max_length=254)
    interests = models.ManyToManyField(
        "stories.AudienceInterest", blank=True, related_name="subscribers"
    )
    status = models.CharField(
        max_length=16, choices=Status.choices, default=Status.PENDING, db_index=True
    )
    created_at = models.DateTimeField(default=timezone.now)
    confirmed_at = models.DateTimeField(null=True, blank=True)
    status_changed_at = models.DateTimeField(default=timezone.now)

    class Meta:
        db_table = "syndication_subscriber"
        ordering = ["pk"]
        constraints = [
            models.UniqueConstraint(
                Lower("email"),
                name="unique_subscriber_email_ci",
                violation_error_message="This address is already subscribed.",
            )
        ]

    def __str__(self):
        return self.email

    def save(self, *args, **kwargs):
        self.email = self.email.strip()
        super().save(*args, **kwargs)

    @property
    def receives_newsletters(self) -> bool:
        return self.status == self.Status.ACTIVE


class SubscriberRead(models.Model):
    """A story a subscriber read, learned from the engagement of their newsletter links.

    Feeds the selection engine: read-through stories are never picked again, engaged
    reads teach interests and unlock the next chapter of a series.
    """

    subscriber = models.ForeignKey(Subscriber, on_delete=models.CASCADE, related_name="reads")
    story = models.ForeignKey(
        "stories.StoryPage", on_delete=models.CASCADE, related_name="subscriber_reads"
    )
    engaged = models.BooleanField(default=False)
    read_through = models.BooleanField(default=False)
    at = models.DateTimeField(default=timezone.now)

    class Meta:
        db_table = "syndication_subscriberread"
        constraints = [
            models.UniqueConstraint(fields=["subscriber", "story"], name="one_read_per_story")
        ]

    def __str__(self):
        return f"{self.subscriber_id} read {self.story_id}"


class Edition(models.Model):
    class Status(models.TextChoices):
        DRAFT = "draft", "Draft"
        SCHEDULED = "scheduled", "Scheduled"
        SENDING = "sending", "Sending"
        SENT = "sent", "Sent"
        FAILED = "failed", "Failed"
        CANCELLED = "cancelled", "Cancelled"

    title = models.CharField(max_length=200)
    intro = models.TextField(blank=True)
    window_days = models.PositiveSmallIntegerField(
        default=30, help_text="Candidate stories: those first published in the last N days."
    )
    k = models.PositiveSmallIntegerField(
        default=12,
        verbose_name="stories per reader",
        help_text="How many stories each reader gets.",
    )
    send_at = models.DateTimeField(null=True, blank=True)
    status = models.CharField(
        max_length=16, choices=Status.choices, default=Status.DRAFT, db_index=True
    )
    seed = models.PositiveIntegerField(default=new_seed, editable=False)
    total = models.PositiveIntegerField(default=0, editable=False)
    error = models.TextField(blank=True, editable=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, editable=False
    )
    #: Why the title and intro may go out although the voice check reads them as
    #: selling, given by whoever sent or scheduled it; it covers the words checked then
    #: only (``voice_override_hash``, as ``stories.VoiceApproval`` does for a story).
    voice_override_reason = models.TextField(blank=True, editable=False)
    voice_override_hash = models.CharField(max_length=64, blank=True, editable=False)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    started_at = models.DateTimeField(null=True, blank=True, editable=False)
    finished_at = models.DateTimeField(null=True, blank=True, editable=False)

    class Meta:
        db_table = "syndication_edition"
        ordering = ["-send_at", "-pk"]

    def __str__(self):
        return self.title


class Delivery(models.Model):
    """One edition for one subscriber: the unit a send is resumed and counted by."""

    class State(models.TextChoices):
        PENDING = "pending", "Waiting"
        SENDING = "sending", "Being sent"
        SENT = "sent", "Sent"
        #: Recorded before its message's final dot, which may not have gone out (the
        #: sending process died, or the connection broke): at most one email arrived.
        UNCERTAIN = "uncertain", "Uncertain"
        FAILED = "failed", "Failed"
        SKIPPED = "skipped", "Skipped"

    edition = models.ForeignKey(Edition, on_delete=models.CASCADE, related_name="deliveries")
    subscriber = models.ForeignKey(Subscriber, on_delete=models.CASCADE, related_name="deliveries")
    state = models.CharField(max_length=16, choices=State.choices, default=State.PENDING)
    message_id = models.CharField(max_length=200, blank=True)
    attempted_at = models.DateTimeField(null=True, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    error = models.TextField(blank=True)

    class Meta:
        db_table = "syndication_delivery"
        ordering = ["pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["edition", "subscriber"], name="one_delivery_per_subscriber"
            )
        ]
        indexes = [models.Index(fields=["edition", "state"], name="delivery_edition_state")]
        verbose_name_plural = "deliveries"

    def __str__(self):
        return f"{self.edition} → {self.subscriber_id} ({self.state})"


class DeliveryPick(models.Model):
    """A story the selection engine put into one delivery, with why and how likely."""

    delivery = models.ForeignKey(Delivery, on_delete=models.CASCADE, related_name="picks")
    slot = models.PositiveSmallIntegerField()
    story = models.ForeignKey(
        "stories.StoryPage", on_delete=models.CASCADE, related_name="newsletter_picks"
    )
    score = models.FloatField()
    probability = models.FloatField()
    exploration = models.BooleanField(default=False)
    reason = models.CharField(max_length=200)
    policy_version = models.CharField(max_length=20, default="1")
    clicked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        db_table = "syndication_deliverypick"
        ordering = ["delivery", "slot"]
        constraints = [
            models.UniqueConstraint(fields=["delivery", "slot"], name="one_pick_per_slot")
        ]

    def __str__(self):
        return f"{self.delivery_id}#{self.slot}: {self.story_id}"
