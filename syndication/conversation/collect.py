"""Collecting the conversation of published posts: what is due, who holds it, storing it.

* **Due** (``dispatch``, beat): every published post on a Mastodon-API, Bluesky,
  LinkedIn or (when ``CONVERSATION_X_ENABLED``) X account gets a ``CollectionState`` in
  its first 30 days (X: 7, ``WINDOWS``); states whose ``next_due_at`` has come (and whose
  backoff is over) are claimed in one UPDATE (rows locked with ``skip_locked`` on
  PostgreSQL) and one ``collect_conversation(post, claim)`` task is queued per post.
  ``READERS`` names each network's reader (``mastodon``, ``bluesky``, ``linkedin``,
  ``x``); a reader whose network does not let this account read (``refusal()``) is
  never asked, and the state says why.
* **Held by one worker** (``take``): the task swaps the dispatched claim for a fresh one
  in a conditional UPDATE, so of two copies of a message only one goes on, and a copy
  redelivered after its worker died finds the claim gone. A claim older than ``LEASE``
  (well above the task's time limit) was lost with its worker: the next dispatch
  claims the post again.
* **Stored once** (``store``): one transaction upserts the items keyed by network and
  remote id, marks what left the thread deleted (a tombstone: its text and author
  erased), quarantines refused items and only then moves the cursor and the schedule.
  A worker killed before the commit loses nothing (the next run reads the same) and
  duplicates nothing (the keys).
"""

from __future__ import annotations

import datetime
import logging
import uuid

from django.conf import settings
from django.db import DataError, IntegrityError, connection, transaction
from django.db.models import Q
from django.utils import timezone

from cms import ops
from syndication import states, tokens
from syndication.channels.base import AuthExpired, ChannelError, RateLimited
from syndication.models import ChannelAccount, SyndicationPost

from . import schedule, tone
from .bluesky import BlueskyConversationReader
from .facebook import FacebookConversationReader
from .linkedin import LinkedInConversationReader
from .mastodon import ConversationReader, Harvest, Item, ServerTrouble
from .models import (
    CollectionState,
    ConversationItem,
    ForgottenAuthor,
    InboxState,
    ItemKind,
    Tone,
)
from .threads import ThreadsConversationReader
from .x import XConversationReader
from .x import enabled as x_enabled

logger = logging.getLogger(__name__)

#: Networks collected (docs/conversation.md says what each allows); X only when
#: ``CONVERSATION_X_ENABLED`` (``networks()``).
NETWORKS = ("mastodon", "bluesky", "linkedin", "x", "facebook", "threads")
#: The reader of each network: ``read(remote_id, cursor, others) -> Harvest``, and
#: optionally ``refusal() -> (why, for good) | None``, asked before any request.
READERS = {
    "mastodon": ConversationReader,
    "bluesky": BlueskyConversationReader,
    "linkedin": LinkedInConversationReader,
    "x": XConversationReader,
    "facebook": FacebookConversationReader,
    "threads": ThreadsConversationReader,
}
#: Networks whose conversation is read for less than ``schedule.WINDOW``: X's recent
#: search covers the last 7 days only.
WINDOWS = {"x": datetime.timedelta(days=7)}
#: A claim this old was lost with its worker; above the task's hard time limit
#: (``CONVERSATION_LEASE_SECONDS``, 15 minutes).
LEASE = datetime.timedelta(minutes=15)


def lease() -> datetime.timedelta:
    return datetime.timedelta(seconds=getattr(settings, "CONVERSATION_LEASE", LEASE.seconds))


#: Posts claimed per dispatch at most.
DISPATCH_BATCH = 500
#: Waiting for a person to reconnect the account, look again this much later.
ACCOUNT_WAIT = datetime.timedelta(hours=1)
QUARANTINE = "conversation"
STORE_ERRORS = (DataError, IntegrityError, ValueError, OverflowError)
#: Columns a collection may change on an existing row (never state or approval).
CONTENT_FIELDS = (
    "kind",
    "parent_remote_id",
    "author_name",
    "author_handle",
    "author_url",
    "author_avatar_url",
    "html",
    "text",
    "truncated",
    "url",
    "created_at",
    "edited_at",
    "remote_ref",
    "public_page_refused",
)
#: What a tombstone keeps: nothing about the person or what they said.
ERASED = {
    "author_name": "",
    "author_handle": "",
    "author_url": "",
    "author_avatar_url": "",
    "html": "",
    "text": "",
    "url": "",
    "remote_ref": {},
    "approved": False,
    "tone": "",
    "tone_words": [],
}


# --- Due, claimed, taken ---------------------------------------------------------------
def networks() -> tuple[str, ...]:
    """The networks collected now: X costs money per post read and is off by default."""
    return tuple(name for name in NETWORKS if name != "x" or x_enabled())


def collectable_posts(now):
    return SyndicationPost.objects.filter(
        state=states.PUBLISHED,
        account__network__in=networks(),
        published_at__gte=now - schedule.WINDOW,
        published_at__lte=now,
    ).exclude(remote_id="")


def ensure_states(now=None) -> int:
    """A state, due at once, for every collectable post that has none yet."""
    now = now or timezone.now()
    missing = (
        collectable_posts(now)
        .exclude(pk__in=CollectionState.objects.values("post_id"))
        .values_list("pk", flat=True)
    )
    created = CollectionState.objects.bulk_create(
        [CollectionState(post_id=pk, next_due_at=now) for pk in missing], ignore_conflicts=True
    )
    return len(created)


def claim_due(now=None, limit: int = DISPATCH_BATCH) -> list[tuple[int, str]]:
    """Claim due states; ``[(post_id, claim)]`` to queue one task each."""
    now = now or timezone.now()
    claim = uuid.uuid4()
    with transaction.atomic():
        due = (
            CollectionState.objects.filter(next_due_at__lte=now)
            .filter(Q(backoff_until__isnull=True) | Q(backoff_until__lte=now))
            .filter(Q(claim__isnull=True) | Q(claimed_at__lt=now - lease()))
            .filter(post__account__status=ChannelAccount.Status.ACTIVE)
            .filter(post__account__network__in=networks())
            .filter(
                Q(post__account__paused_until__isnull=True)
                | Q(post__account__paused_until__lte=now)
            )
            .order_by("next_due_at", "pk")
        )
        if connection.features.has_select_for_update_skip_locked:
            due = due.select_for_update(skip_locked=True, of=("self",))
        ids = list(due.values_list("pk", flat=True)[:limit])
        CollectionState.objects.filter(pk__in=ids).update(claim=claim, claimed_at=now)
        posts = CollectionState.objects.filter(pk__in=ids).values_list("post_id", flat=True)
        return [(post_id, str(claim)) for post_id in posts]


def dispatch(enqueue, now=None) -> dict:
    """Beat: states for new posts, then claim what is due and ``enqueue(post_id, claim)``."""
    now = now or timezone.now()
    created = ensure_states(now)
    claimed = claim_due(now)
    for post_id, claim in claimed:
        enqueue(post_id, claim)
    return {"new": created, "queued": len(claimed)}


def take(post_id: int, claim: str, now=None) -> uuid.UUID | None:
    """Swap the dispatched ``claim`` for a fresh one: the new claim, or None when another
    copy of the task (or a later dispatch) holds the post."""
    fresh = uuid.uuid4()
    taken = CollectionState.objects.filter(post_id=post_id, claim=claim).update(
        claim=fresh, claimed_at=now or timezone.now()
    )
    return fresh if taken else None


# --- One post ----------------------------------------------------------------------------
def collect_post(post_id: int, claim: str, *, now=None, session=None) -> dict:
    """Collect one post's conversation if ``claim`` still holds it. Never raises for
    what a network does: every failure is kept on the state and scheduled again."""
    held = take(post_id, claim, now)
    if held is None:
        return {"post": post_id, "outcome": "not held"}
    post = SyndicationPost.objects.select_related("account").get(pk=post_id)
    account = post.account
    now = now or timezone.now()
    if not account.is_usable or post.state != states.PUBLISHED or not post.remote_id:
        _release(post_id, held, next_due_at=now + ACCOUNT_WAIT, last_error="Not collectable now.")
        return {"post": post_id, "outcome": "waiting"}
    window = WINDOWS.get(account.network)
    if window and post.published_at and now - post.published_at > window:
        _release(post_id, held, next_due_at=None, last_error=f"Not read after {window.days} days.")
        return {"post": post_id, "outcome": "finished"}
    timeout = getattr(settings, "SYNDICATION_HTTP_TIMEOUT", None)
    reader = READERS[account.network](account, session=session, timeout=timeout)
    refusal = reader.refusal() if hasattr(reader, "refusal") else None
    if refusal is not None:
        # The network does not let this account read (LinkedIn without the scope, a
        # member's posts; X when off): nothing is called, the state says why.
        why, for_good = refusal
        due = None if for_good else _next_due(post, now)
        _release(
            post_id,
            held,
            next_due_at=due and max(due, now + ACCOUNT_WAIT),
            backoff_until=None,
            last_error=why,
        )
        return {"post": post_id, "outcome": "not collected", "error": why}
    state = CollectionState.objects.get(post_id=post_id)
    try:
        tokens.ensure_fresh(account, reader)
        harvest = reader.read(post.remote_id, state.cursor, _other_posts(post))
    except (RateLimited, ServerTrouble) as error:
        if isinstance(error, RateLimited):
            _pause(account, error.retry_after, now)
        return _failed(post_id, held, state, error.message, now, error.retry_after)
    except AuthExpired as error:
        account.mark_needs_reconnect(error.message)
        _release(post_id, held, next_due_at=now + ACCOUNT_WAIT, last_error=error.message)
        return {"post": post_id, "outcome": "needs reconnecting"}
    except ChannelError as error:
        return _failed(post_id, held, state, error.message, now)
    except Exception as error:
        # One post's surprise must not stop the worker; it is retried with backoff.
        logger.exception("Conversation: collecting post %s failed unexpectedly.", post_id)
        return _failed(post_id, held, state, f"Unexpected {type(error).__name__}.", now)
    return store(post, held, harvest, now=now)


def _next_due(post: SyndicationPost, now):
    """``schedule.next_due``, never past the network's own window (X: 7 days)."""
    published = post.published_at or now
    due = schedule.next_due(published, now)
    window = WINDOWS.get(post.account.network)
    if due is None or window is None or due < published + window:
        return due
    return published + window if published + window > now else None


def _other_posts(post: SyndicationPost) -> frozenset:
    ids = (
        SyndicationPost.objects.filter(account_id=post.account_id)
        .exclude(pk=post.pk)
        .exclude(remote_id="")
        .values_list("remote_id", flat=True)
    )
    return frozenset(ids)


def _pause(account: ChannelAccount, retry_after, now) -> None:
    """A 429 concerns the whole account: the publishing engine and metrics wait too."""
    wait = datetime.timedelta(seconds=retry_after or 0) or schedule.BACKOFF_BASE
    until = now + wait
    ChannelAccount.objects.filter(pk=account.pk).update(paused_until=until)


def _failed(post_id, held, state, message, now, retry_after=None) -> dict:
    failures = state.failures + 1
    until = schedule.backoff(failures, now, retry_after)
    logger.warning("Conversation: post %s not collected (%s); next try %s", post_id, message, until)
    _release(
        post_id,
        held,
        failures=failures,
        backoff_until=until,
        next_due_at=max(until, state.next_due_at or until),
        last_error=message[:2000],
    )
    return {"post": post_id, "outcome": "failed", "error": message, "retry_at": until}


def _release(post_id, held, **fields) -> bool:
    return bool(
        CollectionState.objects.filter(post_id=post_id, claim=held).update(
            claim=None, claimed_at=None, **fields
        )
    )


# --- Storing -----------------------------------------------------------------------------
def store(post: SyndicationPost, held, harvest: Harvest, *, now=None) -> dict:
    """Write one harvest in one transaction; the cursor moves with the rows."""
    now = now or timezone.now()
    network = post.account.network
    with transaction.atomic():
        state = CollectionState.objects.select_for_update().get(post_id=post.pk)
        if state.claim != held:
            return {"post": post.pk, "outcome": "not held"}
        refused = list(harvest.refused)
        forgotten = ForgottenAuthor.objects.among(
            network, {item.author_handle for item in harvest.items}
        )
        # People who asked to be forgotten: nothing of theirs is stored again (their
        # rows stay tombstones; ``seen`` keeps them out of the deletion below).
        kept = [item for item in harvest.items if item.author_handle not in forgotten]
        complaints = [0]
        added, updated = _upsert(post, network, kept, refused, complaints)
        complete = {"reply", "boost", "like", "quote"} if harvest.gone else harvest.complete
        seen = [item.remote_id for item in harvest.items]
        deleted = (
            ConversationItem.objects.filter(post=post, kind__in=complete, deleted=False)
            .exclude(remote_id__in=seen)
            .update(deleted=True, deleted_at=now, updated_at=now, **ERASED)
        )
        ops.quarantine(QUARANTINE, refused)
        CollectionState.objects.filter(pk=state.pk).update(
            cursor=harvest.cursor,
            last_collected_at=now,
            next_due_at=None if harvest.gone else _next_due(post, now),
            failures=0,
            backoff_until=None,
            last_error="The post is gone from the network." if harvest.gone else "",
            claim=None,
            claimed_at=None,
        )
    outcome = {"post": post.pk, "outcome": "gone" if harvest.gone else "collected"}
    return {
        **outcome,
        "added": added,
        "updated": updated,
        "deleted": deleted,
        "refused": len(refused),
        "complaints": complaints[0],
    }


def _fields(item: Item) -> dict:
    """The row's columns from an item (``Item.ref`` is the column ``remote_ref``)."""
    return {name: getattr(item, "ref" if name == "remote_ref" else name) for name in CONTENT_FIELDS}


def _toned(row: ConversationItem) -> None:
    """Read the tone of a reply or quote from its text (``tone.classify``: local, no network)."""
    if row.kind in (ItemKind.REPLY, ItemKind.QUOTE) and row.text.strip():
        found = tone.classify(row.text)
        row.tone = found.label
        row.tone_words = [[word.start, word.end] for word in found.words]
    else:
        row.tone, row.tone_words = "", []


def _upsert(
    post, network: str, items: list[Item], refused: list, complaints: list | None = None
) -> tuple[int, int]:
    """New items created, changed ones updated, in a constant number of queries.

    An item that came back after being marked deleted is restored; an edited item
    returns to the inbox as unread and loses its approval, so an approved reply
    edited into something else is never shown without being looked at again.
    """
    unique = list({item.remote_id: item for item in items}.values())
    existing = {
        row.remote_id: row
        for row in ConversationItem.objects.filter(
            network=network, remote_id__in=[item.remote_id for item in unique]
        )
    }
    new, changed = [], []
    for item in unique:
        row = existing.get(item.remote_id)
        fields = _fields(item)
        if row is None:
            row = ConversationItem(post=post, network=network, remote_id=item.remote_id, **fields)
            _toned(row)
            new.append(row)
            continue
        different = {name for name, value in fields.items() if getattr(row, name) != value}
        if row.post_id != post.pk:
            continue  # another of our posts holds it (the thread's nearer post)
        if not different and not row.deleted:
            continue
        if {"html", "text", "edited_at"} & different and not row.deleted:
            row.state, row.approved = InboxState.UNREAD, False
        for name, value in fields.items():
            setattr(row, name, value)
        _toned(row)
        row.deleted, row.deleted_at = False, None
        changed.append(row)
    names = [
        *CONTENT_FIELDS,
        *("tone", "tone_words", "deleted", "deleted_at", "state", "approved", "updated_at"),
    ]
    for row in changed:
        row.updated_at = timezone.now()
    if complaints is not None:
        # New or changed complaints: what the alert check (``alerts``) needs to look at.
        complaints[0] = sum(1 for row in [*new, *changed] if row.tone == Tone.COMPLAINT)
    try:
        with transaction.atomic():
            ConversationItem.objects.bulk_create(new)
            ConversationItem.objects.bulk_update(changed, names)
        return len(new), len(changed)
    except STORE_ERRORS as problem:
        logger.warning(
            "Conversation: the database refused post %s's batch (%r); one by one", post.pk, problem
        )
    added = updated = 0
    for row in [*new, *changed]:
        try:
            with transaction.atomic():
                if row.pk is None:
                    row.save(force_insert=True)
                    added += 1
                else:
                    row.save(update_fields=names)
                    updated += 1
        except STORE_ERRORS as problem:
            payload = {"post": post.pk, "item": repr(_fields_of(row))[:2000]}
            refused.append((row.remote_id, payload, f"{type(problem).__name__}: {problem}"))
    return added, updated


def _fields_of(row: ConversationItem) -> dict:
    return {name: getattr(row, name) for name in ("remote_id", "kind", "author_handle", "url")}
