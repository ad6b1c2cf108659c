"""What of the conversation is public: "What people said" on the story page.

The only way moderation changes (docs/conversation.md, "What people said"):

* ``approve(item, user)``: show one reply or quote on its story's page;
* ``hide(item, user)``: stop showing it;
* ``show_on_page(story, on, user)``: turn the block on or off for one story (off by
  default: a story without a ``StoryConversation`` row shows nothing).

Each checks the user's ``conversation.moderate_conversationitem`` permission, refuses
what may never be shown (``Refused``), writes in one transaction and, once it has
committed, purges the story's cached page (tag ``conversation:<story id>``, which
``StoryPage.cache_tags`` puts on every story page) so an anonymous reader sees the
change at once. Nothing else may set ``approved`` to True.

``shown_on_page(story_id)`` is the read side: what the story page shows, in at most
one query, and none when the story has not opted in.
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass
from datetime import datetime
from functools import partial

from django.core.cache import cache
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import Exists, F, OuterRef, Subquery
from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver
from django.utils.safestring import SafeString, mark_safe

from stories.models import StoryPage
from stories.page_cache import purge_conversation
from stories.render_cache import KeptForVersion
from syndication import states
from syndication.models import Network, SyndicationPost

from .models import ConversationItem, ItemKind, StoryConversation
from .sanitise import clean_html, short_text, web_url

logger = logging.getLogger(__name__)

PERMISSION = "conversation.moderate_conversationitem"
#: Only what people wrote: a boost or a like has no words to show.
SHOWABLE = (ItemKind.REPLY, ItemKind.QUOTE)
#: At most this many replies on one page, oldest first (a page stays a story page).
MAX_SHOWN = 50
SHOWN_FIELDS = (
    "network",
    "kind",
    "parent_remote_id",
    "author_name",
    "author_handle",
    "author_url",
    "html",
    "url",
    "created_at",
)

#: Which stories show "What people said". Most never do, so their pages skip the query
#: for the block; the list is kept like ``syndication_tags.syndicated_story_ids``.
SHOWN_VERSION_KEY = "storyloom:conversation-shown-stories:version"
#: A safety net for a change made outside ``show_on_page`` (the shell, a fixture).
SHOWN_TIMEOUT = 10 * 60


class Refused(ValueError):
    """What was asked may not be shown (or no longer can be). ``str()`` says why, in
    words a social manager can read; nothing was changed."""


# --- Moderation ------------------------------------------------------------------------
def approve(item: ConversationItem, user, *, story=None) -> ConversationItem:
    """Show ``item`` under "What people said" on its story's page.

    Refuses (``Refused``): a boost or a like, a reply deleted on the network (a
    tombstone: the database refuses it too), an item whose post is not published, an
    item of another story than ``story`` (a ``StoryPage`` or its id; pass the story the
    screen was about), and a reply changed since ``item`` was read (edited or deleted
    by collection meanwhile: its ``updated_at`` moved): the social manager approves
    what they saw or nothing. Raises ``PermissionDenied`` without the permission.

    Approving an approved reply changes nothing and purges nothing. Returns the item,
    refreshed. The story page is not required to show replies yet: the choice is
    ``show_on_page``'s.
    """
    _check(user)
    _same_story(item, story)
    if item.kind not in SHOWABLE:
        raise Refused(f"A {item.get_kind_display().lower()} has no words to show.")
    if item.deleted:
        raise Refused("It was deleted on the network.")
    if item.public_page_refused:
        raise Refused(
            "Its author asked their network not to show them to people who are not "
            "signed in, so it is not shown on the public story page."
        )
    with transaction.atomic():
        row = _locked(item)
        if row.deleted:
            raise Refused("It was deleted on the network.")
        if row.updated_at != item.updated_at:
            raise Refused("It changed since you read it: read it again first.")
        if row.post.state != states.PUBLISHED:
            raise Refused("Its post is not published.")
        if not row.approved:
            ConversationItem.objects.filter(pk=row.pk, deleted=False).update(approved=True)
            _refresh_after_commit(row.post.story_id)
    item.refresh_from_db()
    return item


def hide(item: ConversationItem, user, *, story=None) -> ConversationItem:
    """Stop showing ``item`` on its story's page (``approved`` cleared).

    Always allowed for any kind and any state, tombstones included (they are never
    shown anyway), except for an item of another story than ``story``. Hiding what is
    not shown changes nothing and purges nothing. Returns the item, refreshed.
    """
    _check(user)
    _same_story(item, story)
    with transaction.atomic():
        row = _locked(item)
        if row.approved:
            ConversationItem.objects.filter(pk=row.pk).update(approved=False)
            _refresh_after_commit(row.post.story_id)
    item.refresh_from_db()
    return item


def show_on_page(story, on: bool, user) -> StoryConversation:
    """Turn "What people said" on (``on=True``) or off for ``story`` (a ``StoryPage``).

    Creates the story's ``StoryConversation`` the first time, records who changed it,
    and purges the story's page when the choice changed. Approvals are kept while it is
    off: turning it on again shows the same replies. Returns the row.
    """
    _check(user)
    if not isinstance(story, StoryPage) or story.pk is None:
        raise Refused("Only a saved story can show what people said.")
    with transaction.atomic():
        row, created = StoryConversation.objects.select_for_update().get_or_create(
            story=story, defaults={"show_on_page": bool(on), "changed_by": user}
        )
        if not created and row.show_on_page != bool(on):
            row.show_on_page = bool(on)
            row.changed_by = user
            row.save(update_fields=["show_on_page", "changed_by", "changed_at"])
        # Saving the row (created or changed) forgets the cached list of stories that
        # show replies and purges the page after the commit (``_shown_changed`` below).
    return row


def refresh_story_page(story_id) -> None:
    """Purge the story's cached page once the current transaction commits (at once
    outside one). For code that changes what the page shows without going through the
    functions above: collection, when it edits or deletes an approved reply."""
    _refresh_after_commit(story_id)


def after_collection(result: dict) -> None:
    """Collection changed or deleted items of a post (``collect.collect_post``'s result):
    if its story shows replies, purge the story's page once committed.

    An edit takes an approval back and a deletion erases the reply; collection writes
    them in bulk, without the functions above, so the page that showed the reply must
    be purged here (the collection task calls this after each run). New items are never
    approved, so a run that only added some purges nothing. At most one query (the
    post's story), and none unless the run changed something and some story shows
    replies. Never raises: the run's rows are committed by now.
    """
    if not (result.get("updated") or result.get("deleted")) or not result.get("post"):
        return
    try:
        shown = shown_story_ids()
        if not shown:
            return
        posts = SyndicationPost.objects.filter(pk=result["post"])
        story_id = posts.values_list("story_id", flat=True).first()
        if story_id in shown:
            _refresh_after_commit(story_id)
    except Exception:
        # The rows are committed; the run must still count (alerts come next). A cache
        # that cannot be read holds no page to purge either: the page cache lives there.
        logger.exception("conversation: could not refresh the page of post %s", result["post"])


def _check(user) -> None:
    if user is None or not user.has_perm(PERMISSION):
        raise PermissionDenied("You may not change what the story page shows.")


def _same_story(item: ConversationItem, story) -> None:
    if story is None:
        return
    story_id = getattr(story, "pk", story)
    if item.post.story_id != story_id:
        raise Refused("It is about another story.")


def _locked(item: ConversationItem) -> ConversationItem:
    try:
        return (
            ConversationItem.objects.select_for_update(of=("self",))
            .select_related("post")
            .get(pk=item.pk)
        )
    except ConversationItem.DoesNotExist:
        raise Refused("It is no longer there.") from None


def _refresh_after_commit(story_id) -> None:
    # robust: the change is committed; a cache that is down must not turn it into an error.
    transaction.on_commit(partial(purge_conversation, story_id), robust=True)


# --- What the story page shows -----------------------------------------------------------
def shown_story_ids() -> frozenset:
    """Ids of stories that turned "What people said" on, from the cache when it has them.

    Stored under a version key that ``forget_shown_stories`` moves on after a change
    commits, so a list read while the change was being saved is never taken as current.
    """
    version = cache.get(SHOWN_VERSION_KEY)
    if version is None:
        cache.add(SHOWN_VERSION_KEY, uuid.uuid4().hex, None)
        version = cache.get(SHOWN_VERSION_KEY)
    return _shown_kept.get(version, lambda: _shown_story_ids(version))


# The list for the version last read, kept in this process: a story page then reads only
# the version from the shared cache. A minute at most, like the list's own safety net.
_shown_kept = KeptForVersion(60)


def _shown_story_ids(version) -> frozenset:
    key = f"storyloom:conversation-shown-stories:{version}"
    ids = cache.get(key)
    if ids is None:
        ids = frozenset(
            StoryConversation.objects.filter(show_on_page=True).values_list("story_id", flat=True)
        )
        cache.set(key, ids, SHOWN_TIMEOUT)
    return ids


def forget_shown_stories(**kwargs) -> None:
    cache.set(SHOWN_VERSION_KEY, uuid.uuid4().hex, None)


@receiver(post_save, sender=StoryConversation, dispatch_uid="conversation_shown_saved")
@receiver(post_delete, sender=StoryConversation, dispatch_uid="conversation_shown_deleted")
def _shown_changed(sender, instance, raw=False, **kwargs):
    # A row changed by any path (admin, shell) still reaches the page: now, and again
    # after the commit, as syndication does for its list of posted stories.
    if raw:
        return
    forget_shown_stories()
    transaction.on_commit(forget_shown_stories, robust=True)
    _refresh_after_commit(instance.story_id)


@dataclass(frozen=True)
class Said:
    """One reply as the story page shows it: every field checked again here, so a row
    written by any path (not only collection) is shown safely."""

    author_name: str
    author_url: str
    network: str
    #: A quote says so ("quoted this on Bluesky"); a reply is simply "on Mastodon".
    quote: bool
    html: SafeString
    url: str
    created_at: datetime | None
    in_reply_to: str

    @property
    def initial(self) -> str:
        return self.author_name[:1].upper()


def shown_on_page(story_id) -> list[Said]:
    """The replies and quotes "What people said" shows under the story, oldest first.

    Only when the story opted in (``show_on_page``), only approved items that are not
    tombstones, only replies and quotes, only on published posts of this story. No
    query when the story has not opted in (``shown_story_ids`` comes from the cache),
    one otherwise.
    """
    if story_id not in shown_story_ids():
        return []
    parent = ConversationItem.objects.visible().filter(
        network=OuterRef("network"), remote_id=OuterRef("parent_remote_id")
    )
    # The opt-in again, in the same query: the cached list may be a moment old.
    opted_in = StoryConversation.objects.filter(story_id=story_id, show_on_page=True)
    rows = (
        ConversationItem.objects.visible()
        .filter(
            Exists(opted_in),
            post__story_id=story_id,
            post__state=states.PUBLISHED,
            approved=True,
            kind__in=SHOWABLE,
            public_page_refused=False,
        )
        .annotate(post_url=F("post__remote_url"), parent_url=Subquery(parent.values("url")[:1]))
        .order_by("created_at", "pk")
        .only(*SHOWN_FIELDS)[:MAX_SHOWN]
    )
    return [_said(row) for row in rows]


def _said(row: ConversationItem) -> Said:
    name = short_text(row.author_name, 200) or short_text(row.author_handle, 200)
    reply_to = row.parent_url if row.parent_remote_id else row.post_url
    try:
        network = Network(row.network).label
    except ValueError:
        network = short_text(row.network, 20).title()
    return Said(
        author_name=name or "Someone",
        author_url=web_url(row.author_url),
        network=network,
        quote=row.kind == ItemKind.QUOTE,
        # Cleaned when collected; cleaned again, since rows may come from elsewhere.
        html=mark_safe(clean_html(row.html)[0]),  # noqa: S308 (nh3's allowlist output)
        url=web_url(row.url),
        created_at=row.created_at,
        in_reply_to=web_url(reply_to or ""),
    )
