"""Pictures uploaded before a post's create call, recorded, and reused (issue 21).

``publishing._publish`` calls ``prepare`` after the read-back of a post that was sent
before, and before ``request_sent_at`` is recorded for the create: an upload makes
nothing anybody sees, so a lost answer to an upload is only "not sent" (the orphan is
deleted by the network: Mastodon after a day, a PDS when no record references it).

Each upload is recorded on its ``PostPicture`` (``remote_media_id``, ``remote_ref``,
``uploaded_at``) in its own committed UPDATE, made only while the post is still
``publishing`` under this task's claim; a picture with ``uploaded_at`` is never uploaded
again. So a worker killed between the uploads and the create, or a create whose answer
was lost, is followed by a run that sends the same ids. Only when the network says the
uploads are gone (``MediaGone``: Mastodon deletes unattached media after about a day,
a PDS drops unreferenced blobs) are they forgotten and uploaded once more.

A picture deleted from the library after scheduling leaves ``PostPicture.image`` empty:
if it was not uploaded yet, the post waits for a person (``PictureMissing``) rather
than going out without it. Bluesky's link card takes a thumbnail only we can upload:
for a post with a link and no pictures, the picture a post starts with (the story's
picture for the post's audience interest, else its hero; ``story_pictures.default_for``)
becomes a ``card`` picture, created here, at publish time, when absent.
"""

from __future__ import annotations

import logging
import time

from django.conf import settings
from django.utils import timezone

from . import pictures, states
from .channels.base import Attachment, MediaNotReady, MediaUpload, Rejected
from .models import PostPicture

logger = logging.getLogger(__name__)

ATTACHMENT, CARD = PostPicture.Role.ATTACHMENT, PostPicture.Role.CARD


class PictureMissing(Exception):
    """A picture not yet uploaded has no image any more: the post waits for a person."""

    message = pictures.DELETED


class StaleClaim(Exception):
    """The post is no longer this task's: nothing more may be recorded for it."""


def prepare(
    post, claim, adapter, *, link: str = ""
) -> tuple[tuple[Attachment, ...], Attachment | None]:
    """The post's pictures uploaded (or the recorded uploads reused) and ready: the
    attachments in order, and, for a post that links (``link``, as rendered) without
    pictures, the link card's thumbnail where the network takes one."""
    if getattr(post, "has_pictures", True) is False and not (adapter.takes_card_thumb and link):
        # The engine read that the post has none (``has_pictures``), and no card is due.
        return (), None
    rows = list(post.pictures.select_related("image").order_by("role", "position", "pk"))
    attachments = [row for row in rows if row.role == ATTACHMENT]
    card = None
    if not attachments and adapter.takes_card_thumb and link:
        card = next((row for row in rows if row.role == CARD), None) or _card(post)
    if any(row.image_id is None and row.uploaded_at is None for row in attachments):
        raise PictureMissing(pictures.DELETED)
    if attachments or card is not None:
        # A Mastodon account connected before detection learns its server's limits now.
        getattr(adapter, "server", None)
    limits = pictures.limits_for(post.account)
    media = tuple(
        _ready(post, claim, adapter, row, number, limits)
        for number, row in enumerate(attachments, start=1)
    )
    thumb = None
    if card is not None and (card.image_id is not None or card.uploaded_at is not None):
        try:
            thumb = _ready(post, claim, adapter, card, 0, limits)
        except (Rejected, pictures.PictureRefused) as error:
            # A card without its picture is still a card: never a reason to hold a post.
            logger.warning("post %s: link card thumbnail not sent: %s", post.pk, error)
    return media, thumb


def forget(post, claim) -> int:
    """The network no longer has the uploads (``MediaGone``): clear them, so the next
    ``prepare`` uploads again. Only while the claim holds."""
    return _mine(post, claim).update(uploaded_at=None, remote_media_id="", remote_ref={})


def _card(post):
    """The link card's picture: the one the post would start with (its audience's, else
    the story's hero), kept as the post's ``card`` picture; None when the story has none."""
    from .story_pictures import candidates, default_for

    interest = post.audience_interest_id or post.account.audience_interest_id
    chosen = default_for(candidates(post.story), interest)
    if chosen is None:
        return None
    card, _ = PostPicture.objects.get_or_create(
        post=post,
        role=CARD,
        position=0,
        defaults={"image": chosen.image, "source": chosen.source},
    )
    return card


def _ready(post, claim, adapter, picture, number, limits) -> Attachment:
    if picture.uploaded_at is None:
        _upload(post, claim, adapter, picture, number, limits)
    attachment = recorded(picture)
    if not attachment.ready:
        attachment = _wait_until_processed(post, claim, adapter, picture, attachment, number)
    return attachment


def recorded(picture) -> Attachment:
    ref = picture.remote_ref or {}
    sent = ref.get("sent") or {}
    return Attachment(
        id=picture.remote_media_id,
        alt=picture.alt_text.strip(),
        width=sent.get("width") or 0,
        height=sent.get("height") or 0,
        ref=ref,
        ready=ref.get("ready", True),
    )


def _upload(post, claim, adapter, picture, number, limits) -> None:
    what = f"picture {number}" if number else "the link card's picture"
    try:
        fitted = pictures.fit(picture.image, post.account, limits=limits)
    except pictures.PictureRefused as error:
        raise Rejected(f"{limits.label}: {what}: {error.message}") from error
    upload = MediaUpload(
        data=fitted.data,
        mime=fitted.mime,
        width=fitted.width,
        height=fitted.height,
        alt=picture.alt_text.strip()[: limits.alt_max],
        focus=pictures.focus(picture.image),
        filename=f"storyloom-{post.pk}-{picture.role}-{picture.position + 1}.jpg",
    )
    try:
        attachment = adapter.upload_media(upload)
    except Rejected as error:
        raise Rejected(_refusal(limits, what, fitted, error), status=error.status) from error
    ref = {**attachment.ref, "ready": attachment.ready, "sent": fitted.describe()}
    now = timezone.now()
    updated = (
        _mine(post, claim)
        .filter(pk=picture.pk, uploaded_at__isnull=True)
        .update(remote_media_id=attachment.id, remote_ref=ref, uploaded_at=now)
    )
    if not updated:
        raise StaleClaim
    picture.remote_media_id, picture.remote_ref, picture.uploaded_at = attachment.id, ref, now


def _wait_until_processed(post, claim, adapter, picture, attachment, number) -> Attachment:
    """Ask the network (bounded: ``SYNDICATION_MEDIA_POLLS`` times within the HTTP
    timeout) whether a picture answered "processing" is ready; record it when it is.
    Still processing: MediaNotReady, and the post tries again later with the same id."""
    polls = int(getattr(settings, "SYNDICATION_MEDIA_POLLS", 10))
    deadline = time.monotonic() + adapter.timeout
    pause = 0.2
    for _ in range(max(1, polls)):
        if adapter.media_ready(attachment):
            ref = {**(picture.remote_ref or {}), "ready": True}
            if not _mine(post, claim).filter(pk=picture.pk).update(remote_ref=ref):
                raise StaleClaim
            picture.remote_ref = ref
            return recorded(picture)
        if time.monotonic() + pause > deadline:
            break
        time.sleep(pause)
        pause = min(pause * 2, 2.0)
    raise MediaNotReady(
        f"{adapter.label} is still processing picture {number or 'of the link card'}; "
        "the post goes out once it is ready."
    )


def _mine(post, claim):
    """The post's pictures, as a queryset that updates only while the post is still
    ``publishing`` under ``claim`` (one UPDATE with the condition in it)."""
    return PostPicture.objects.filter(
        post_id=post.pk, post__state=states.PUBLISHING, post__claim=claim
    )


def _refusal(limits, what: str, fitted, error: Rejected) -> str:
    sent = f"{fitted.width} × {fitted.height} JPEG, {fitted.size:,} bytes"
    if error.status == 413:
        return (
            f"{limits.label} refused {what} as too large (HTTP 413; Storyloom sent {sent}). "
            "Choose a smaller picture or retry once the server allows larger uploads."
        )
    return f"{limits.label} refused {what} ({sent}): {error.message}"
