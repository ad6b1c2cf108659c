"""The publishing engine: every post goes out once — not zero times, not twice.

How (docs/syndication.md has the long version):

1. ``dispatch_due_posts`` (beat, every ``SYNDICATION_DISPATCH_EVERY`` seconds) first
   marks posts overdue beyond the missed window as ``missed`` (they wait for a person
   instead of going out a day late), then claims due posts in one conditional UPDATE
   (``scheduled``/``unconfirmed`` → ``publishing`` with a fresh claim id, rows locked
   with ``skip_locked`` on PostgreSQL) and enqueues ``publish_post(id, claim)``.
   Scheduling lives in the database, never in Celery ETAs.
2. ``publish_post`` does nothing unless the row is still ``publishing`` under *its*
   claim, so a redelivered or duplicated task is harmless. Before the create call it
   records ``request_sent_at`` (committed), so whoever looks later knows the request may
   have left. A post that was ever sent is first looked up on the network
   (``find_published``: by its ``utm_content`` marker; an answer to a reply, which
   carries none, by what it replies to and what it says, or its record key) and, where
   the network honours one, resent with the same idempotency key. The remote id is
   stored the moment it arrives.
3. A lost answer (timeout, dropped connection, 5xx on create, a worker killed mid-call)
   makes the post ``unconfirmed``, settled later by step 2 — never a blind repeat.
   Errors before sending and ``429`` retry with exponential backoff and jitter, honouring
   ``Retry-After``. A revoked token marks the account "needs reconnecting" and its posts
   wait. ``sweep_stuck_posts`` returns posts whose worker died to the queue: a task
   stamps ``started_at`` when it begins, so a post *started* and unsettled beyond the
   stuck window lost its worker, while one never started is only waiting in the queue
   and keeps its claim however long the queue is (its message is sent once more, under
   the same claim, after ``SYNDICATION_UNSTARTED_AFTER`` and then at doubling
   intervals, in case it was lost).
4. Pictures are uploaded before the create and each upload is recorded at once
   (``syndication.uploads``), so a retry sends the same media ids; a picture deleted
   after scheduling makes the post wait for a person, never go out without it.
"""

import dataclasses
import datetime
import logging
import random
import time
import uuid
from functools import partial

from django.conf import settings
from django.db import transaction
from django.db.models import Exists, OuterRef, Q
from django.utils import timezone

from . import outbound, statements, states, tokens, uploads
from .channels.base import (
    AuthExpired,
    ChannelError,
    MediaGone,
    NotSent,
    PublishRequest,
    RateLimited,
    Rejected,
    RemotePost,
    Unconfirmed,
)
from .links import web_url
from .models import ChannelAccount, PostAttempt, PostPicture, SyndicationPost
from .posts import missed_window, render_post

logger = logging.getLogger(__name__)
Outcome = PostAttempt.Outcome

#: How long a thread reply waits for its parent chapter's post before asking again.
THREAD_WAIT = datetime.timedelta(seconds=60)


def retry_delay(failures: int, retry_after: float | None = None, *, rng=random) -> float:
    """Exponential backoff with full jitter, never sooner than the network asked."""
    base = settings.SYNDICATION_RETRY_BASE
    ceiling = min(settings.SYNDICATION_RETRY_CAP, base * 2 ** max(0, failures - 1))
    delay = ceiling * (0.5 + rng.random() / 2)
    return max(delay, retry_after or 0.0)


def reconcile_delay() -> datetime.timedelta:
    return datetime.timedelta(seconds=settings.SYNDICATION_RECONCILE_AFTER)


def settle_delay(adapter) -> datetime.timedelta:
    """How long after a create was sent it can no longer be in flight anywhere.

    The client gives up after its timeout; the server (behind its proxy) may still be
    working on the request after that, so a margin follows (docs/syndication.md, "When a
    lost create may be sent again"). Only a read-back that starts after this moment and
    misses the post allows a resend to a server that does not honour Idempotency-Key.
    """
    margin = getattr(settings, "SYNDICATION_INFLIGHT_MARGIN", 120)
    return max(reconcile_delay(), datetime.timedelta(seconds=adapter.timeout + margin))


# --- Dispatch ----------------------------------------------------------------------------
def mark_missed(now=None) -> int:
    """Posts never sent and overdue beyond the window wait for a person."""
    now = now or timezone.now()
    overdue = SyndicationPost.objects.filter(
        state=states.SCHEDULED, scheduled_at__lt=now - missed_window(), send_count=0
    )
    count = 0
    for post in overdue.only("pk", "state", "scheduled_at"):
        reason = (
            f"Was due at {timezone.localtime(post.scheduled_at):%Y-%m-%d %H:%M %Z} and did not go "
            f"out within {settings.SYNDICATION_MISSED_AFTER} minutes (were the workers "
            "running?). Not sent late: reschedule or cancel it."
        )
        if post.move(states.MISSED, last_error=reason, due_at=None):
            post.log(Outcome.MISSED, reason)
            count += 1
    return count


def claim_due_posts(now=None, limit: int = 1000) -> tuple[str, list[int]]:
    """Atomically move due posts to ``publishing`` under one new claim; return their ids."""
    now = now or timezone.now()
    claim = uuid.uuid4()
    due = Q(state=states.SCHEDULED) | Q(state=states.UNCONFIRMED, due_at__isnull=False)
    ready = Q(account__paused_until__isnull=True) | Q(account__paused_until__lte=now)
    with transaction.atomic():
        candidates = (
            SyndicationPost.objects.filter(due, ready, due_at__lte=now)
            .filter(account__status=ChannelAccount.Status.ACTIVE)
            .order_by("due_at", "pk")
            .select_for_update(skip_locked=True, of=("self",))
            .values_list("pk", flat=True)[:limit]
        )
        ids = list(candidates)
        if not ids:
            return str(claim), []
        SyndicationPost.objects.filter(
            pk__in=ids, state__in=(states.SCHEDULED, states.UNCONFIRMED)
        ).update(
            state=states.PUBLISHING,
            claim=claim,
            claimed_at=now,
            started_at=None,
            # While it waits in the queue: when the sweeper sends its task again.
            due_at=now + unstarted_delay(),
            updated_at=now,
        )
        claimed = list(
            SyndicationPost.objects.filter(pk__in=ids, claim=claim).values_list("pk", flat=True)
        )
    return str(claim), claimed


def dispatch_due_posts(enqueue, now=None, limit: int = 1000) -> int:
    """Mark overdue posts missed, claim the due ones and hand each to ``enqueue(id, claim)``."""
    now = now or timezone.now()
    mark_missed(now)
    claim, ids = claim_due_posts(now, limit)
    for post_id in ids:
        enqueue(post_id, claim)
    return len(ids)


def sweep_stuck_posts(now=None, enqueue=None) -> int:
    """Settle posts whose worker died: *started* longer ago than any task may run.

    A post claimed and not started is waiting in the queue, however long ago it was
    claimed: taking its claim away would make its queued task stale and put it at the
    back of the queue again, for ever under a lasting backlog. It keeps its claim; when
    it has waited ``SYNDICATION_UNSTARTED_AFTER`` its task is sent once more
    (``enqueue(id, claim)``, ``requeue_unstarted_posts``), in case the message was lost
    (a broker that lost its data, a dispatcher that died between claiming and sending,
    a worker killed with it prefetched). Whichever copy starts first publishes; the
    others find the post started and do nothing.
    """
    now = now or timezone.now()
    if enqueue is not None:
        requeue_unstarted_posts(enqueue, now)
    cutoff = now - datetime.timedelta(seconds=settings.SYNDICATION_STUCK_AFTER)
    swept = 0
    stuck = SyndicationPost.objects.filter(state=states.PUBLISHING, started_at__lt=cutoff)
    for post in stuck.only("pk", "state", "claim", "request_sent_at", "started_at"):
        sent = post.request_sent_at is not None and post.request_sent_at >= post.started_at
        if sent:
            reason = "The worker stopped after sending; checking whether the post was published."
            moved = post.move(states.UNCONFIRMED, claim=post.claim, due_at=now, last_error=reason)
            outcome = Outcome.UNCONFIRMED
        else:
            reason = "The worker stopped before sending; queued again."
            moved = post.move(states.SCHEDULED, claim=post.claim, due_at=now)
            outcome = Outcome.RETRY
        if moved:
            post.log(outcome, reason, sent=sent)
            swept += 1
    return swept


def unstarted_delay() -> datetime.timedelta:
    return datetime.timedelta(seconds=settings.SYNDICATION_UNSTARTED_AFTER)


def requeue_unstarted_posts(enqueue, now=None) -> int:
    """Send the task of each claimed post that has not started by its ``due_at`` once
    more, under the same claim. The next time is as far off as the post has waited so
    far: a post behind a long queue gets a few extra messages (each a cheap no-op once
    the post has started), never one per sweep."""
    now = now or timezone.now()
    waiting = SyndicationPost.objects.filter(
        state=states.PUBLISHING, started_at__isnull=True, due_at__lte=now
    )
    count = 0
    for post_id, claim, claimed_at in waiting.values_list("pk", "claim", "claimed_at"):
        again = max(unstarted_delay(), now - claimed_at)
        sent = SyndicationPost.objects.filter(
            pk=post_id, state=states.PUBLISHING, claim=claim, started_at__isnull=True
        ).update(due_at=now + again)
        if sent:
            enqueue(post_id, str(claim))
            count += 1
    if count:
        logger.warning("sent %s posts' tasks again: claimed long ago, never started", count)
    return count


# --- Publishing one post ------------------------------------------------------------------
class Stale(Exception):
    """This task no longer holds the post (someone else settled or reclaimed it)."""


def start(post_id: int, claim: str, now=None) -> bool:
    """Take the claimed post for this task: one conditional UPDATE stamps ``started_at``.

    Only the first copy of a task to start gets the post; a duplicate (sent again by the
    sweeper, or redelivered by the broker after its worker died mid-task) finds it
    started and does nothing. A started post that stays unsettled is the sweeper's.
    """
    return bool(
        SyndicationPost.objects.filter(
            pk=post_id, state=states.PUBLISHING, claim=claim, started_at__isnull=True
        ).update(started_at=now or timezone.now())
    )


@dataclasses.dataclass(frozen=True)
class StoryFacts:
    """What publishing reads of a story: as ``render_post`` and the link card need it."""

    pk: int
    live: bool
    title: str
    intro: str
    slug: str
    url: str
    full_url: str


#: Per worker process: story id → (what makes the facts current, when read, facts).
_story_facts: dict = {}
#: How long a story's address may be reused before it is worked out again (a Site's
#: host name changing is the one thing the version below does not see).
STORY_FACTS_SECONDS = 60.0


def story_facts(story_id: int) -> StoryFacts | None:
    """The story's facts, read fresh where it matters and cached where it cannot change.

    Every call asks the database whether the story is live and which revision and path
    are live (one small query on the page row); title, intro, slug and the full address
    follow from those, so they are worked out again only when one changed, or after
    ``STORY_FACTS_SECONDS``. Building a story page and its address was most of a
    publish's CPU when done for every post.
    """
    from wagtail.models import Page

    version = statements.values(
        Page, story_id, ("live", "live_revision_id", "url_path", "last_published_at")
    )
    if version is None:
        return None
    cached = _story_facts.get(story_id)
    now = time.monotonic()
    if cached and cached[0] == version and now - cached[1] < STORY_FACTS_SECONDS:
        return cached[2]
    from stories.models import StoryPage

    story = StoryPage.objects.get(pk=story_id)
    facts = StoryFacts(
        pk=story.pk,
        live=story.live,
        title=story.title,
        intro=story.intro,
        slug=story.slug,
        url=story.url or "",
        full_url=story.full_url or "",
    )
    if len(_story_facts) > 2000:
        _story_facts.clear()
    _story_facts[story_id] = (version, now, facts)
    return facts


def _related_facts(post) -> list[StoryFacts]:
    if not post.has_related:
        return []
    through = SyndicationPost.related_stories.through
    ids = through.objects.filter(syndicationpost_id=post.pk).order_by("storypage_id")
    found = (story_facts(pk) for pk in ids.values_list("storypage_id", flat=True)[:2])
    return [facts for facts in found if facts is not None]


def publish_post(post_id: int, claim: str) -> str:
    """Publish one claimed post; return what happened, in one word, for the task result."""
    post = take(post_id, claim)
    if post is None:
        return "stale"
    try:
        return _publish(post, claim)
    except Stale:
        return "stale"


def take(post_id: int, claim: str, now=None) -> SyndicationPost | None:
    """``start`` the claimed post and read it with its account; None when this task does
    not get it.

    One ``UPDATE … RETURNING`` where the database has it (``statements.start_post``),
    else ``start`` and a read. Either way the post comes back only to the one task whose
    UPDATE stamped ``started_at``. The story, its related stories and the pictures are
    read apart (``story_facts``, ``uploads.prepare``), and only when there are any.
    """
    now = now or timezone.now()
    if statements.returns_rows(SyndicationPost):
        post = statements.start_post(
            SyndicationPost, PostPicture, post_id, claim, now, states.PUBLISHING
        )
        if post is None:
            return None
    else:
        if not start(post_id, claim, now):
            return None
        post = (
            SyndicationPost.objects.annotate(
                has_pictures=Exists(PostPicture.objects.filter(post=OuterRef("pk"))),
                has_related=Exists(
                    SyndicationPost.related_stories.through.objects.filter(
                        syndicationpost_id=OuterRef("pk")
                    )
                ),
            )
            .filter(pk=post_id)
            .first()
        )
        if post is None or post.state != states.PUBLISHING or str(post.claim) != str(claim):
            return None
    account = statements.read(ChannelAccount, post.account_id)
    if account is None:  # pragma: no cover - accounts with posts cannot be deleted (PROTECT)
        return None
    post.account = account
    return post


def _publish(post: SyndicationPost, claim: str) -> str:
    account = post.account
    if not account.is_usable:
        return _wait(post, claim, f"{account} needs reconnecting; the post waits for it.")
    # An answer (to a reply in the conversation) links to nothing: only the others need
    # their story live.
    answer = bool(post.reply_to_ref)
    story = story_facts(post.story_id)
    if (story is None or not story.live) and not answer:
        return _fail(post, claim, "The story is not live any more, so there is nothing to link.")
    adapter = account.adapter(timeout=settings.SYNDICATION_HTTP_TIMEOUT)
    # Post after post goes to the same few servers: their connections stay open.
    outbound.keep_connections(adapter.session)
    if answer and not adapter.answers_items:
        label = account.get_network_display()
        return _fail(post, claim, f"Storyloom cannot answer replies on {label}.")

    reply_to = ""
    parent = post.in_reply_to
    if parent is not None:
        if parent.state == states.PUBLISHED:
            reply_to = parent.remote_id
        elif parent.state not in (states.FAILED, states.CANCELLED, states.MISSED):
            return _wait(
                post,
                claim,
                "Waiting for the previous chapter's post to publish first.",
                due=timezone.now() + THREAD_WAIT,
            )

    text, link = render_post(post, story=story, related=_related_facts(post))
    request = PublishRequest(
        post_id=post.pk,
        text=text,
        link=link,
        idempotency_key=str(post.idempotency_key),
        reply_to=reply_to,
        # An answer carries no marker: the adapter knows it by what it replies to.
        marker="" if answer else f"utm_content={post.pk}",
        link_title=story.title if story else "",
        link_description=story.intro if story else "",
        sent_at=post.request_sent_at,
        reply_ref=dict(post.reply_to_ref) if answer else None,
        # Made on an earlier try and kept on the post until it is published (a Threads
        # container): the adapter reuses it rather than making another.
        prepared=post.remote_id,
        remember=partial(_remember, post, claim),
    )
    sent = False
    try:
        tokens.ensure_fresh(account, adapter)
        if post.send_count:
            # It may be out there already: look before sending again. Whether a miss
            # allows a resend depends on when the look began, so that moment is taken first.
            looked_at = timezone.now()
            found = adapter.find_published(request)
            if found is not None:
                return _published(post, claim, found, confirmed=True)
            not_yet = _resend_unsafe(post, adapter, looked_at)
            if not_yet:
                return _unconfirmed(post, claim, not_yet, due=_settled_by(post, adapter))
        remote = None
        for last in (False, True):
            media, thumb = uploads.prepare(post, claim, adapter, link=request.link)
            request = dataclasses.replace(request, media=media, card_thumb=thumb)
            _mark_sending(post, claim)
            sent = True
            try:
                remote = adapter.publish(request)
                break
            except MediaGone as error:
                # Refused before anything was made: upload again and send once more.
                if last:
                    raise
                uploads.forget(post, claim)
                post.log(Outcome.RETRY, error.message, status=error.status, sent=True, claim=claim)
    except uploads.PictureMissing as error:
        return _wait(post, claim, error.message, for_person=True)
    except uploads.StaleClaim:
        raise Stale from None
    except Unconfirmed as error:
        return _unconfirmed(post, claim, error.message, status=error.status)
    except RateLimited as error:
        if error.retry_after:
            ChannelAccount.objects.filter(pk=account.pk).update(
                paused_until=timezone.now() + datetime.timedelta(seconds=error.retry_after)
            )
        return _retry(post, claim, error, sent=sent)
    except NotSent as error:
        return _retry(post, claim, error, sent=False)
    except AuthExpired as error:
        account.mark_needs_reconnect(error.message)
        return _wait(post, claim, error.message, status=error.status)
    except Rejected as error:
        return _fail(post, claim, error.message, status=error.status, sent=sent)
    except ChannelError as error:  # pragma: no cover - a new error kind nobody classified
        return _unconfirmed(post, claim, error.message) if sent else _retry(post, claim, error)
    except Exception:
        # A bug or the database: record it where people look, then let Celery log it.
        message = "Unexpected error while publishing; see the worker log."
        if sent:
            _unconfirmed(post, claim, message)
        else:
            _retry(post, claim, NotSent(message))
        raise
    return _published(post, claim, remote)


def _resend_unsafe(post, adapter, looked_at) -> str:
    """Why a post the read-back missed may not be sent again yet ("" when it may).

    A server that honours the idempotency key answers a resend within the key's lifetime
    with the post it made, so the resend is safe at once. Anywhere else the miss counts
    only when the read-back began after ``settle_delay``: before then the first request
    may still be on its way into the server, and a resend would make a second post.
    """
    if post.request_sent_at is None:
        return ""
    since = looked_at - post.request_sent_at
    lifetime = getattr(adapter, "idempotency_seconds", None)
    if adapter.honours_idempotency_key and (
        lifetime is None or since < datetime.timedelta(seconds=lifetime / 2)
    ):
        return ""
    if since >= settle_delay(adapter):
        return ""
    settled = timezone.localtime(post.request_sent_at + settle_delay(adapter))
    return (
        "Not visible on the network yet, and the server does not honour the idempotency "
        "key: the first request could still arrive, so nothing is sent again before "
        f"{settled:%H:%M:%S}, when it is looked for once more."
    )


def _settled_by(post, adapter):
    """When to look again for a post whose resend is not yet safe."""
    return max(
        timezone.now() + reconcile_delay(),
        post.request_sent_at + settle_delay(adapter) + datetime.timedelta(seconds=1),
    )


def _remember(post, claim, prepared: str) -> None:
    """Keep what an adapter made on the way to the post (a Threads container id) in the
    post's ``remote_id``, committed at once and only under this task's claim, so a retry
    after a lost answer reuses it; publishing replaces it with the post's own id."""
    updated = SyndicationPost.objects.filter(
        pk=post.pk, state=states.PUBLISHING, claim=claim
    ).update(remote_id=prepared[:255])
    if not updated:
        raise uploads.StaleClaim
    post.remote_id = prepared[:255]


def _mark_sending(post, claim) -> None:
    now = timezone.now()
    updated = statements.update(
        SyndicationPost,
        post.pk,
        where={"state": states.PUBLISHING, "claim": claim},
        values={"request_sent_at": now, "updated_at": now},
        increment=("send_count",),
    )
    if not updated:
        raise Stale
    post.request_sent_at = now
    post.send_count += 1


def _published(post, claim, remote: RemotePost, *, confirmed=False) -> str:
    now = timezone.now()
    fields = {
        "remote_id": remote.id,
        # A network's answer decides where the story page's link points: http(s) only.
        "remote_url": web_url(remote.url),
        "published_at": now,
        "last_error": "",
        "due_at": None,
    }
    # The state, the remote id and the log line in one commit.
    with transaction.atomic():
        # The remote id is the truth: store it even if this task's claim was swept meanwhile.
        if not post.move(states.PUBLISHED, claim=claim, **fields) and not post.move(
            states.PUBLISHED, **fields
        ):
            logger.warning("post %s published as %s but was already settled", post.pk, remote.id)
            return "stale"
        outcome = Outcome.CONFIRMED if confirmed else Outcome.PUBLISHED
        post.log(outcome, remote.url, sent=True, claim=claim)
    # What a person running the site wants to see go by (INFO; task chatter is DEBUG).
    logger.info("post %s of story %s published: %s", post.pk, post.story_id, remote.url)
    transaction.on_commit(partial(refresh_story_page, post.story_id))
    return "published"


def refresh_story_page(story_id) -> None:
    """A post went live: the story's cached page shows its "Join the conversation" link now."""
    from stories.page_cache import purge_conversation

    purge_conversation(story_id)


def _unconfirmed(post, claim, message, *, status=None, due=None) -> str:
    failures = post.failure_count + 1
    if failures >= settings.SYNDICATION_MAX_FAILURES:
        message = (
            f"{message} Still unconfirmed after {failures} checks: look at the account on "
            f"{post.account.get_network_display()}, then retry or cancel."
        )
        due = None
    else:
        due = due or timezone.now() + reconcile_delay()
    if not post.move(
        states.UNCONFIRMED, claim=claim, due_at=due, failure_count=failures, last_error=message
    ):
        raise Stale
    post.log(Outcome.UNCONFIRMED, message, status=status, sent=True, claim=claim)
    return "unconfirmed"


def _retry(post, claim, error: ChannelError, *, sent=False) -> str:
    failures = post.failure_count + 1
    if failures >= settings.SYNDICATION_MAX_FAILURES:
        return _fail(
            post,
            claim,
            f"{error.message} Gave up after {failures} attempts.",
            status=error.status,
            sent=sent,
        )
    delay = retry_delay(failures, getattr(error, "retry_after", None))
    due = timezone.now() + datetime.timedelta(seconds=delay)
    if not post.move(
        states.SCHEDULED, claim=claim, due_at=due, failure_count=failures, last_error=error.message
    ):
        raise Stale
    post.log(
        Outcome.RETRY,
        f"{error.message} Next try in {delay:.0f} s.",
        status=error.status,
        sent=sent,
        claim=claim,
    )
    return "retry"


def _wait(post, claim, message, *, due=None, status=None, for_person=False) -> str:
    """Back to ``scheduled`` with the reason; ``for_person``: not due again until a
    person reschedules it (nothing will change on its own)."""
    due = None if for_person else due or timezone.now()
    if not post.move(states.SCHEDULED, claim=claim, due_at=due, last_error=message):
        raise Stale
    post.log(Outcome.WAITING, message, status=status, claim=claim)
    return "waiting"


def _fail(post, claim, message, *, status=None, sent=False) -> str:
    if not post.move(states.FAILED, claim=claim, last_error=message, due_at=None):
        raise Stale
    post.log(Outcome.FAILED, message, status=status, sent=sent, claim=claim)
    return "failed"
