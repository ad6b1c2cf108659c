"""Connected channel accounts and the posts that carry stories to them."""

import uuid

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.utils import timezone

from . import crypto, states


class Network(models.TextChoices):
    MASTODON = "mastodon", "Mastodon"
    BLUESKY = "bluesky", "Bluesky"
    LINKEDIN = "linkedin", "LinkedIn"
    X = "x", "X"
    FACEBOOK = "facebook", "Facebook Page"
    THREADS = "threads", "Threads"


class MastodonApp(models.Model):
    """Storyloom's app registration on one Mastodon instance (``POST /api/v1/apps``).

    Registered once per instance and callback address, then reused by every account
    connected on that instance.
    """

    instance_url = models.URLField()
    redirect_uri = models.URLField(max_length=500)
    scopes = models.CharField(max_length=200)
    client_id = models.CharField(max_length=200)
    encrypted_client_secret = models.TextField(editable=False)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["instance_url", "redirect_uri", "scopes"], name="one_app_per_instance"
            )
        ]

    def __str__(self):
        return f"Storyloom app on {self.instance_url}"

    @property
    def client_secret(self) -> str:
        return crypto.decrypt(self.encrypted_client_secret).get("client_secret", "")

    @client_secret.setter
    def client_secret(self, value: str):
        self.encrypted_client_secret = crypto.encrypt({"client_secret": value})


class ChannelAccount(models.Model):
    """One connected account on one network. Its tokens are encrypted at rest."""

    class Status(models.TextChoices):
        ACTIVE = "active", "Connected"
        NEEDS_RECONNECT = "needs_reconnect", "Needs reconnecting"
        DISCONNECTED = "disconnected", "Disconnected"

    network = models.CharField(max_length=20, choices=Network.choices)
    instance_url = models.URLField(
        blank=True, help_text="The server the account lives on (Mastodon instance, Bluesky PDS)."
    )
    remote_id = models.CharField(
        max_length=255, help_text="The network's id for the account (id, DID or URN)."
    )
    handle = models.CharField(max_length=255)
    display_name = models.CharField(max_length=255, blank=True)
    profile_url = models.URLField(blank=True)
    scopes = models.CharField(max_length=500, blank=True)
    max_characters = models.PositiveIntegerField(
        null=True, blank=True, help_text="The server's own post length limit, when it has one."
    )
    token_expires_at = models.DateTimeField(null=True, blank=True)
    last_refreshed_at = models.DateTimeField(null=True, blank=True)
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.ACTIVE)
    status_reason = models.TextField(blank=True)
    #: What the account's server is and supports (``channels.fediverse.ServerProfile``),
    #: detected at connect and amended by what the adapter learns (a refused batch read).
    server_profile = models.JSONField(default=dict, blank=True, editable=False)
    #: The last time channel metrics were read for the account, and why that failed.
    metrics_read_at = models.DateTimeField(null=True, blank=True, editable=False)
    metrics_error = models.TextField(blank=True, editable=False)
    #: The network asked us to slow down: nothing is sent to this account before then.
    paused_until = models.DateTimeField(null=True, blank=True)
    audience_interest = models.ForeignKey(
        "stories.AudienceInterest",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text="Who this account mostly speaks to. A post to it takes the story's "
        "audience-variant picture for this interest, when the story has one.",
    )
    encrypted_tokens = models.TextField(editable=False, blank=True)
    connected_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    connected_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["network", "handle"]
        constraints = [
            models.UniqueConstraint(
                fields=["network", "instance_url", "remote_id"], name="one_account_per_remote_id"
            )
        ]

    def __str__(self):
        where = f" on {self.instance_host}" if self.instance_url else ""
        return f"{self.handle}{where} ({self.get_network_display()})"

    @property
    def instance_host(self) -> str:
        return self.instance_url.split("://", 1)[-1].rstrip("/")

    @property
    def tokens(self) -> dict:
        return crypto.decrypt(self.encrypted_tokens)

    def set_tokens(self, new: dict) -> None:
        """Store ``new`` tokens, keeping the stored refresh token when ``new`` has none.

        Networks often answer a refresh without a new refresh token; overwriting the
        old one with nothing would disconnect the account for good.
        """
        current = self.tokens if self.encrypted_tokens else {}
        given = {key: value for key, value in new.items() if value not in ("", None)}
        merged = {**current, **given}
        self.encrypted_tokens = crypto.encrypt(merged)

    @property
    def is_usable(self) -> bool:
        return self.status == self.Status.ACTIVE

    def mark_needs_reconnect(self, reason: str) -> None:
        ChannelAccount.objects.filter(pk=self.pk).update(
            status=self.Status.NEEDS_RECONNECT, status_reason=reason
        )
        self.status, self.status_reason = self.Status.NEEDS_RECONNECT, reason

    @property
    def server(self):
        """The stored ``ServerProfile``, or None before one was detected."""
        from .channels.fediverse import ServerProfile

        return ServerProfile.from_dict(self.server_profile)

    def remember_server(self, profile) -> None:
        """Keep what the adapter detected or learned about the server (a ServerProfile)."""
        data = profile.as_dict()
        ChannelAccount.objects.filter(pk=self.pk).update(server_profile=data)
        self.server_profile = data

    def record_metrics_read(self, error: str = "") -> None:
        """A metrics read finished; ``error`` says why it failed (shown in the admin)."""
        now = timezone.now()
        ChannelAccount.objects.filter(pk=self.pk).update(metrics_read_at=now, metrics_error=error)
        self.metrics_read_at, self.metrics_error = now, error

    def adapter(self, **kwargs):
        from .channels import adapter_for

        return adapter_for(self, **kwargs)


class SyndicationPostQuerySet(models.QuerySet):
    def due(self, now=None):
        now = now or timezone.now()
        return self.filter(state=states.SCHEDULED, due_at__lte=now).filter(
            Q(account__paused_until__isnull=True) | Q(account__paused_until__lte=now),
            account__status=ChannelAccount.Status.ACTIVE,
        )

    def waiting_for_account(self):
        return self.filter(state=states.SCHEDULED).exclude(
            account__status=ChannelAccount.Status.ACTIVE
        )

    def published(self):
        return self.filter(state=states.PUBLISHED)


class SyndicationPost(models.Model):
    """One story sent to one account at one time, exactly once."""

    story = models.ForeignKey(
        "stories.StoryPage", on_delete=models.CASCADE, related_name="syndication_posts"
    )
    account = models.ForeignKey(ChannelAccount, on_delete=models.PROTECT, related_name="posts")
    text = models.TextField(
        help_text="What the post says. {story_url} and {related_url} become the story's "
        "address and the related story's, each with UTM tags."
    )
    link = models.URLField(max_length=1000, blank=True, editable=False)
    related_stories = models.ManyToManyField(
        "stories.StoryPage", blank=True, related_name="+", help_text="At most two."
    )
    thread_with_previous = models.BooleanField(
        default=False,
        help_text="Reply to this account's post of the previous chapter of the series.",
    )
    in_reply_to = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="replies"
    )
    audience_interest = models.ForeignKey(
        "stories.AudienceInterest",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text="The interest this post speaks to (the account's by default): its "
        "audience-variant picture goes out instead of the hero.",
    )
    reply_to_ref = models.JSONField(
        default=dict,
        blank=True,
        editable=False,
        help_text="The network's reference of someone else's item this post answers (an "
        "answer from the conversation inbox): Mastodon {id}, Bluesky {uri, cid, root}.",
    )
    scheduled_at = models.DateTimeField(db_index=True)
    state = models.CharField(
        max_length=20, choices=list(states.LABELS.items()), default=states.DRAFT, db_index=True
    )
    idempotency_key = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    remote_id = models.CharField(max_length=255, blank=True)
    remote_url = models.URLField(max_length=500, blank=True)
    voice_score = models.FloatField(null=True, blank=True)
    voice_override_reason = models.TextField(blank=True)

    # The engine's bookkeeping: when to look next, who holds the post, what happened.
    due_at = models.DateTimeField(null=True, blank=True, db_index=True)
    claim = models.UUIDField(null=True, blank=True, editable=False)
    #: When dispatch claimed the post and handed its task to the queue.
    claimed_at = models.DateTimeField(null=True, blank=True)
    #: When the task holding the claim began; empty while its message waits in the queue.
    #: Only a post started and not settled within the stuck window lost its worker.
    started_at = models.DateTimeField(null=True, blank=True, editable=False)
    request_sent_at = models.DateTimeField(null=True, blank=True)
    send_count = models.PositiveIntegerField(default=0)
    failure_count = models.PositiveIntegerField(default=0)
    last_error = models.TextField(blank=True)
    published_at = models.DateTimeField(null=True, blank=True)

    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = SyndicationPostQuerySet.as_manager()

    class Meta:
        ordering = ["scheduled_at", "pk"]
        permissions = [("schedule_syndicationpost", "Can schedule, retry and cancel posts")]
        indexes = [models.Index(fields=["state", "due_at"], name="post_state_due")]

    def __str__(self):
        return f"{self.story.title} → {self.account}"

    def clean(self):
        if self.scheduled_at and timezone.is_naive(self.scheduled_at):
            raise ValidationError({"scheduled_at": "A scheduled time needs a timezone."})

    @property
    def state_label(self) -> str:
        return states.LABELS[self.state]

    @property
    def actions(self) -> list[str]:
        return states.actions_for(self.state)

    def move(self, target: str, *, claim=None, expected=None, **fields) -> bool:
        """Change state if the row is still in a state that may lead to ``target``.

        One conditional UPDATE: whoever loses a race gets ``False`` and changes nothing.
        With ``claim`` the row must also still be held by that claim; with ``expected``
        (states) it must still be in one of them: a person's action never takes a post
        back from a worker that claimed it meanwhile.
        """
        from . import statements

        sources = states.sources_for(target)
        if expected is not None:
            sources = sources & frozenset(expected)
        if not sources:
            return False
        where = {"state": tuple(sorted(sources))}
        if claim is not None:
            where["claim"] = claim
        fields = {"state": target, "updated_at": timezone.now(), **fields}
        # The statement's SQL is written once per process (``syndication.statements``):
        # the engine moves posts often enough for the ORM's query building to show.
        moved = bool(statements.update(SyndicationPost, self.pk, where=where, values=fields))
        if moved:
            for name, value in fields.items():
                setattr(self, name, value)
        return moved

    def log(self, outcome: str, message: str = "", *, status=None, sent=False, claim=None):
        from . import statements

        return statements.insert(
            PostAttempt(
                post=self,
                outcome=outcome,
                message=message[:2000],
                http_status=status,
                request_sent=sent,
                claim=claim,
            )
        )


class PostPicture(models.Model):
    """One picture attached to one post, in order, with its alt text (issue 21).

    The upload happens before the post's create call and is recorded here
    (``remote_media_id`` / ``remote_ref``, ``uploaded_at``), so a retry after a lost
    answer or a killed worker reuses it instead of uploading again. ``role`` "card" is
    the thumbnail of a link card (Bluesky, when the post has no pictures), not an
    attachment. An image deleted after scheduling leaves ``image`` empty: the post waits
    with the reason rather than going out without it.
    """

    class Source(models.TextChoices):
        HERO = "hero", "The story's hero image"
        BODY = "body", "An image from the story's body"
        LIBRARY = "library", "The image library"
        AUDIENCE = "audience", "The story's picture for the post's audience"

    class Role(models.TextChoices):
        ATTACHMENT = "attachment", "Attachment"
        CARD = "card", "Link card thumbnail"

    post = models.ForeignKey(SyndicationPost, on_delete=models.CASCADE, related_name="pictures")
    image = models.ForeignKey(
        "wagtailimages.Image", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    position = models.PositiveSmallIntegerField(default=0)
    role = models.CharField(max_length=10, choices=Role.choices, default=Role.ATTACHMENT)
    source = models.CharField(max_length=10, choices=Source.choices, default=Source.LIBRARY)
    alt_text = models.TextField(
        blank=True, help_text="What the picture shows, for people who cannot see it."
    )
    #: What the network called the uploaded file: a Mastodon or X media id, a LinkedIn
    #: image URN; for Bluesky the blob's CID (the whole blob object is in ``remote_ref``).
    remote_media_id = models.CharField(max_length=255, blank=True)
    #: What the create call needs besides the id (Bluesky: ``{"blob": {...},
    #: "aspectRatio": {"width", "height"}}``), and what was sent (size, format, pixels).
    remote_ref = models.JSONField(default=dict, blank=True)
    uploaded_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["post", "role", "position", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["post", "role", "position"], name="one_picture_per_place"
            )
        ]

    def __str__(self):
        return f"Picture {self.position + 1} of post {self.post_id}"


class PostAttempt(models.Model):
    """One step in a post's life as the engine saw it: the attempt log people read."""

    class Outcome(models.TextChoices):
        SCHEDULED = "scheduled", "Scheduled"
        SENT = "sent", "Sent to the network"
        PUBLISHED = "published", "Published"
        CONFIRMED = "confirmed", "Found already published"
        RETRY = "retry", "Will retry"
        WAITING = "waiting", "Waiting"
        UNCONFIRMED = "unconfirmed", "Outcome unknown"
        FAILED = "failed", "Failed"
        MISSED = "missed", "Missed"
        CANCELLED = "cancelled", "Cancelled"

    post = models.ForeignKey(SyndicationPost, on_delete=models.CASCADE, related_name="attempts")
    at = models.DateTimeField(default=timezone.now)
    outcome = models.CharField(max_length=20, choices=Outcome.choices)
    message = models.TextField(blank=True)
    http_status = models.PositiveSmallIntegerField(null=True, blank=True)
    request_sent = models.BooleanField(default=False)
    claim = models.UUIDField(null=True, blank=True)

    class Meta:
        ordering = ["at", "pk"]

    def __str__(self):
        return f"{self.get_outcome_display()} at {self.at:%Y-%m-%d %H:%M:%S}"


class PostingSlot(models.Model):
    """One weekly time an account likes to post at: "Tuesdays 08:30".

    In the site's time zone (``TIME_ZONE``), so a slot stays at 08:30 on the clock
    across a change to or from summer time. "Add to the queue" in compose takes the
    account's next slot that no post of it holds yet (``syndication.slots``).
    """

    WEEKDAYS = [
        (0, "Monday"),
        (1, "Tuesday"),
        (2, "Wednesday"),
        (3, "Thursday"),
        (4, "Friday"),
        (5, "Saturday"),
        (6, "Sunday"),
    ]

    account = models.ForeignKey(
        ChannelAccount, on_delete=models.CASCADE, related_name="posting_slots"
    )
    weekday = models.PositiveSmallIntegerField(choices=WEEKDAYS)
    time = models.TimeField()

    class Meta:
        ordering = ["account", "weekday", "time"]
        constraints = [
            models.UniqueConstraint(
                fields=["account", "weekday", "time"], name="one_slot_per_account_time"
            ),
            models.CheckConstraint(
                condition=Q(weekday__gte=0, weekday__lte=6), name="slot_weekday_in_week"
            ),
        ]

    def __str__(self):
        return f"{self.get_weekday_display()} {self.time:%H:%M} for {self.account}"
