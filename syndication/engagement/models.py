"""Engagement data: daily rollups, share tokens, salts, channel metric snapshots.

Raw events never reach the database one by one: the collector buffers them (a Redis
stream in production) and the flusher adds them up into ``EngagementRollup`` rows, one
per story × day × event × source × detail. No IP address, user agent or visitor id is
stored anywhere.

The tables keep the names they had before engagement became an app of its own
(``syndication_*``, ``Meta.db_table``): existing databases moved without a copy.
"""

from django.db import models
from django.utils import timezone

EVENT_TYPES = ("view", "engaged_read", "read_through", "share", "link_follow", "feeling")
FEELINGS = ("helpful", "moved", "smiled", "not_for_me")
SHARE_NETWORKS = ("mastodon", "bluesky", "linkedin", "x", "email", "copy")


class EngagementRollup(models.Model):
    """How many times ``event`` happened on ``story`` on ``day`` from ``source``.

    ``source`` is where the reader came from (``direct``, ``search``, ``mastodon``,
    ``newsletter``, ``share``, another site's host…); ``detail`` narrows the event (the
    network of a share, the feeling, the kind and target of a followed link). ``post_id``
    is the syndication post the arrival came through (0: none), ``share_id`` the share
    token's row (0: none); plain integers so the unique key has no NULLs.
    """

    day = models.DateField()
    # No index of its own: ``rollup_story_day`` starts with the story, and every flush
    # would keep a second index up to date for nothing.
    story = models.ForeignKey(
        "stories.StoryPage",
        on_delete=models.CASCADE,
        related_name="engagement_rollups",
        db_index=False,
    )
    event = models.CharField(max_length=20)
    source = models.CharField(max_length=64, default="direct")
    detail = models.CharField(max_length=64, blank=True, default="")
    post_id = models.PositiveIntegerField(default=0)
    share_id = models.PositiveIntegerField(default=0)
    count = models.PositiveIntegerField(default=0)

    class Meta:
        db_table = "syndication_engagementrollup"
        constraints = [
            models.UniqueConstraint(
                fields=["day", "story", "event", "source", "detail", "post_id", "share_id"],
                name="one_rollup_per_key",
            )
        ]
        indexes = [
            models.Index(fields=["story", "day"], name="rollup_story_day"),
            models.Index(fields=["day", "event"], name="rollup_day_event"),
        ]

    def __str__(self):
        return f"{self.day} {self.story_id} {self.event} ({self.source}) ×{self.count}"


class FlushedBatch(models.Model):
    """A buffer batch already added into the rollups: flushing it again adds nothing.

    Written in the same transaction as the rollup increments, so a flusher killed
    between the database commit and acknowledging the batch finds it here on restart.
    """

    batch_id = models.CharField(max_length=64, unique=True)
    events = models.PositiveIntegerField()
    flushed_at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        db_table = "syndication_flushedbatch"

    def __str__(self):
        return f"batch {self.batch_id} ({self.events} events)"


class ShareToken(models.Model):
    """One share of one story (a click on a share button), not a person.

    Visits and engaged reads that arrive carrying the token within seven days are that
    share's amplification; a re-share by such a visitor records this token as parent.
    """

    token = models.CharField(max_length=32, unique=True)
    story = models.ForeignKey("stories.StoryPage", on_delete=models.CASCADE, related_name="+")
    network = models.CharField(max_length=20)
    parent = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="reshares"
    )
    depth = models.PositiveSmallIntegerField(default=0)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        db_table = "syndication_sharetoken"

    def __str__(self):
        return f"share {self.token} of {self.story_id} on {self.network}"


class DailySalt(models.Model):
    """The random salt of one day's visitor hashes; deleted after two days."""

    day = models.DateField(unique=True)
    salt = models.CharField(max_length=64)

    class Meta:
        db_table = "syndication_dailysalt"

    def __str__(self):
        return f"salt of {self.day}"


class ChannelMetricSnapshot(models.Model):
    """What a network reported for one published post at one time. Never followers."""

    post = models.ForeignKey(
        "syndication.SyndicationPost", on_delete=models.CASCADE, related_name="metric_snapshots"
    )
    taken_at = models.DateTimeField(default=timezone.now)
    reposts = models.PositiveIntegerField(default=0)
    replies = models.PositiveIntegerField(default=0)
    likes = models.PositiveIntegerField(default=0)
    quotes = models.PositiveIntegerField(default=0)
    clicks = models.PositiveIntegerField(null=True, blank=True)

    class Meta:
        db_table = "syndication_channelmetricsnapshot"
        ordering = ["post", "-taken_at"]
        indexes = [models.Index(fields=["post", "-taken_at"], name="snapshot_post_time")]

    def __str__(self):
        return f"metrics of post {self.post_id} at {self.taken_at:%Y-%m-%d %H:%M}"
