"""What people said and did in public about our posts, and when to look again.

People appear here only as the author of something they said or did about one of our
posts: the name, handle, profile address and avatar address the network shows
publicly. Nothing else about them (no follower counts, no follower lists, no bio) is
ever stored; docs/conversation.md lists what is kept, for the privacy notice.
"""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.crypto import salted_hmac


class ItemKind(models.TextChoices):
    REPLY = "reply", "Reply"
    QUOTE = "quote", "Quote"
    BOOST = "boost", "Boost"
    LIKE = "like", "Like"


class Tone(models.TextChoices):
    PRAISE = "praise", "Praise"
    QUESTION = "question", "Question"
    COMPLAINT = "complaint", "Complaint"
    OTHER = "other", "Other"


class InboxState(models.TextChoices):
    UNREAD = "unread", "Unread"
    READ = "read", "Read"
    DONE = "done", "Done"


class ConversationItemQuerySet(models.QuerySet):
    def visible(self):
        """Everything that may be shown anywhere: never an item deleted on the network."""
        return self.filter(deleted=False)


class ConversationItem(models.Model):
    """One remote item about one of our posts: a reply (at any depth), a quote, a boost
    or a like. One row per item, keyed by network and remote id, so collecting again
    updates the row and never adds a second.

    ``remote_id`` is the network's id made unique across servers: on Mastodon-API
    servers ``<our server's host>/<status id>`` for replies and quotes, and
    ``<host>/<boost|like>/<our status id>/<account id>`` for boosts and likes, which
    have no id of their own; on Bluesky the reply's or quote's at:// URI, and
    ``<repost|like>/<our post's at:// URI>/<DID>``. ``parent_remote_id`` is the same
    form (nested replies).

    A reply deleted on the network is **kept as a tombstone**: ``deleted`` set and
    everything about it and its author (text, names, addresses) erased at once, so it
    can be shown nowhere and nothing of the person remains; the row stays only so its
    answers and inbox state keep their place. ``visible()`` leaves tombstones out.
    """

    post = models.ForeignKey(
        "syndication.SyndicationPost", on_delete=models.CASCADE, related_name="conversation"
    )
    network = models.CharField(max_length=20)
    remote_id = models.CharField(max_length=400)
    kind = models.CharField(max_length=10, choices=ItemKind.choices)
    parent_remote_id = models.CharField(
        max_length=400, blank=True, help_text="The item a nested reply answers."
    )
    # The author, as the network shows them publicly — nothing more.
    author_name = models.CharField(max_length=200, blank=True)
    author_handle = models.CharField(max_length=255, blank=True)
    author_url = models.URLField(max_length=500, blank=True)
    author_avatar_url = models.URLField(max_length=500, blank=True)
    #: The network's HTML after the allowlist (``sanitise.clean_html``); never raw.
    html = models.TextField(blank=True)
    text = models.TextField(blank=True)
    #: The source was longer than Storyloom keeps (``sanitise.MAX_SOURCE``) and was cut.
    truncated = models.BooleanField(default=False)
    url = models.URLField(max_length=500, blank=True, help_text="http(s) only, else empty.")
    created_at = models.DateTimeField(null=True, blank=True)
    edited_at = models.DateTimeField(null=True, blank=True)
    deleted = models.BooleanField(default=False)
    deleted_at = models.DateTimeField(null=True, blank=True)
    first_seen_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    # For the inbox and the story page (later screens).
    #: What a reply or quote reads as (``tone.classify``), and the words that decided it as
    #: ``[start, end]`` offsets into ``text``; empty for boosts, likes and tombstones.
    tone = models.CharField(max_length=10, choices=Tone.choices, blank=True)
    tone_words = models.JSONField(default=list, blank=True)
    #: What the network needs to answer this item, as the collector found it: Mastodon
    #: ``{"id": "<status id on our account's server>"}``, Bluesky ``{"uri", "cid",
    #: "root": {"uri", "cid"}}``. Empty for boosts, likes and tombstones.
    remote_ref = models.JSONField(default=dict, blank=True)
    #: The author asked their network not to show them to people who are not signed in
    #: (Bluesky's ``!no-unauthenticated`` label): never shown on the public story page.
    public_page_refused = models.BooleanField(default=False)
    state = models.CharField(max_length=10, choices=InboxState.choices, default=InboxState.UNREAD)
    approved = models.BooleanField(
        default=False, help_text="A social manager chose to show it on the story page."
    )

    objects = ConversationItemQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.UniqueConstraint(fields=["network", "remote_id"], name="one_item_per_remote_id"),
            models.CheckConstraint(
                condition=Q(deleted=False) | Q(approved=False), name="deleted_never_approved"
            ),
        ]
        indexes = [models.Index(fields=["post", "kind", "deleted"], name="conv_post_kind")]
        permissions = [
            ("answer_conversationitem", "Can answer replies from Storyloom"),
            ("moderate_conversationitem", "Can approve or hide replies on the story page"),
        ]

    def __str__(self):
        return f"{self.get_kind_display()} {self.remote_id}"


class CollectionState(models.Model):
    """Where collection of one post stands: when it is due, what was seen, who holds it.

    ``cursor`` is what the network told us last time (the post's reply, boost or repost,
    like and quote counters); it is written in the same transaction as the rows it led
    to, so a worker killed before that commit leaves the old cursor and the next run
    reads the same again. ``claim`` is taken by one worker at a time
    (``collect.take``); a claim older than ``collect.LEASE`` was lost with its worker.
    """

    post = models.OneToOneField(
        "syndication.SyndicationPost", on_delete=models.CASCADE, related_name="+"
    )
    cursor = models.JSONField(default=dict, blank=True)
    last_collected_at = models.DateTimeField(null=True, blank=True)
    #: None: never again (older than the window, or the post is gone from the network).
    next_due_at = models.DateTimeField(null=True, blank=True, db_index=True)
    failures = models.PositiveIntegerField(default=0)
    backoff_until = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True)
    claim = models.UUIDField(null=True, blank=True)
    claimed_at = models.DateTimeField(null=True, blank=True)

    def __str__(self):
        return f"Collection of post {self.post_id}"


class Answer(models.Model):
    """Our reply to one conversation item, sent as a post of its own through the
    publishing engine (exactly once, like every post). The post carries the network's
    reference of the item in ``SyndicationPost.reply_to_ref``; this row links the two."""

    item = models.ForeignKey(ConversationItem, on_delete=models.CASCADE, related_name="answers")
    post = models.OneToOneField(
        "syndication.SyndicationPost", on_delete=models.CASCADE, related_name="answer"
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at", "pk"]

    def __str__(self):
        return f"Answer to {self.item}"


class StoryConversation(models.Model):
    """Per-story choice to show approved replies ("What people said") on the story page.
    Off by default: a story without a row shows none."""

    story = models.OneToOneField("stories.StoryPage", on_delete=models.CASCADE, related_name="+")
    show_on_page = models.BooleanField(
        default=False, help_text="Show the replies a social manager approved on the story page."
    )
    changed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    changed_at = models.DateTimeField(auto_now=True)

    def __str__(self):
        return f"Conversation on {self.story_id}"


class ConversationAlert(models.Model):
    """A story whose conversation turned negative: at least
    ``CONVERSATION_ALERT_COMPLAINTS`` complaints within ``CONVERSATION_ALERT_WINDOW_MINUTES``.
    One open alert per story at a time; it stays on the dashboard and in the inbox until
    a social manager acknowledges it."""

    story = models.ForeignKey("stories.StoryPage", on_delete=models.CASCADE, related_name="+")
    raised_at = models.DateTimeField(auto_now_add=True)
    window_start = models.DateTimeField()
    window_end = models.DateTimeField()
    complaints = models.PositiveIntegerField()
    emailed_at = models.DateTimeField(null=True, blank=True)
    acknowledged_at = models.DateTimeField(null=True, blank=True)
    acknowledged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["-raised_at", "-pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["story"],
                condition=Q(acknowledged_at__isnull=True),
                name="one_open_alert_per_story",
            )
        ]

    def __str__(self):
        return f"{self.complaints} complaints on story {self.story_id}"


def author_key(network: str, handle: str) -> str:
    """A keyed hash of one person on one network, so a forgotten person can be
    recognised in what collection brings without keeping their handle in the clear.
    Keyed with ``SECRET_KEY``: rotating it forgets the list (docs/conversation.md)."""
    value = f"{network}:{(handle or '').strip().lower()}"
    return salted_hmac("storyloom.conversation.forgotten-author", value).hexdigest()


class ForgottenAuthorQuerySet(models.QuerySet):
    def among(self, network: str, handles) -> set[str]:
        """Which of ``handles`` (on ``network``) belong to people who asked to be
        forgotten. One query."""
        keys = {author_key(network, handle): handle for handle in handles if handle}
        if not keys:
            return set()
        found = self.filter(network=network, author_key__in=list(keys)).values_list(
            "author_key", flat=True
        )
        return {keys[key] for key in found}


class ForgottenAuthor(models.Model):
    """Someone who asked to be forgotten (GDPR art. 17) or objected (art. 21): their
    items are erased and collection never stores anything of theirs again. Only a keyed
    hash of network and handle is kept (``author_key``), never the handle itself."""

    network = models.CharField(max_length=20)
    author_key = models.CharField(max_length=64)
    reason = models.CharField(max_length=200, blank=True)
    forgotten_at = models.DateTimeField(auto_now_add=True)
    forgotten_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    objects = ForgottenAuthorQuerySet.as_manager()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["network", "author_key"], name="one_forgotten_author_per_key"
            )
        ]

    def __str__(self):
        return f"A forgotten {self.network} author"
