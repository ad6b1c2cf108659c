"""What people do with posts: compose defaults, rendering, scheduling and queue actions.

The engine (``syndication.publishing``) moves posts on its own; everything a person
does goes through here, and both go through ``SyndicationPost.move``.
"""

import datetime

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone

from wagtail.images import get_image_model

from stories.models.voice import options_for
from stories.voice import check as voice_check

from . import links, states
from .models import PostAttempt, PostPicture, SyndicationPost
from .pictures import check as check_pictures

#: How far in the past a scheduled time may be and still mean "now" (form round trips).
PAST_GRACE = datetime.timedelta(minutes=2)
#: utm_content while a post has no id yet: as long as a real id, so counts match.
PREVIEW_POST_ID = "000000"


DONE = {
    "schedule": "scheduled",
    "retry": "retried",
    "reschedule": "rescheduled",
    "cancel": "cancelled",
}


def can_schedule(user) -> bool:
    return user.has_perm("syndication.schedule_syndicationpost")


def can_propose(user) -> bool:
    return user.has_perm("syndication.add_syndicationpost")


def default_text(story) -> str:
    """The text a new post starts from: the story's intro, its link and its interests."""
    tags = " ".join(filter(None, (links.hashtag(i.name) for i in story.interests.all())))
    parts = [story.intro.strip() or story.title, "{story_url}", tags]
    return "\n\n".join(part for part in parts if part)


def story_link(story, network: str, post_id) -> str:
    return links.with_utm(
        story.full_url or story.url or "", network=network, campaign=story.slug, content=post_id
    )


def render(template: str, story, network: str, post_id, related=()) -> tuple[str, str]:
    """The text as it will be published, and the story link it carries."""
    link = story_link(story, network, post_id)
    related_urls = [story_link(other, network, post_id) for other in related]
    return links.render_text(template, link, related_urls), link


def render_post(post: SyndicationPost, *, story=None, related=None) -> tuple[str, str]:
    """The post's text and link; ``story`` and ``related`` may be given already read
    (anything with ``full_url``, ``url`` and ``slug``: the engine passes its cached
    ``publishing.StoryFacts``)."""
    if post.reply_to_ref:
        # An answer in a conversation goes out as written: no story link, no UTM tags,
        # no placeholders filled.
        return post.text, ""
    if related is None:
        related = list(post.related_stories.order_by("pk")[:2])
    return render(post.text, story or post.story, post.account.network, post.pk, related)


def check_text(template: str, story, account, related=()) -> dict:
    """Length against the account's network and the voice check, for the compose form."""
    text, _ = render(template, story, account.network, PREVIEW_POST_ID, related)
    validation = account.adapter().validate(text)
    unknown = links.unknown_placeholders(template)
    if unknown:
        validation.errors.append(
            "Unknown placeholder " + ", ".join(unknown) + "; use {story_url} or {related_url}."
        )
    report = voice_check(text, **options_for(page=story))
    return {
        "text": text,
        "validation": validation,
        "voice": report,
    }


def check_answer_text(text: str, story, account) -> dict:
    """``check_text`` for an answer, which goes out as written: the network's length
    and limits, and the voice check with the story's site settings."""
    return {
        "text": text,
        "validation": account.adapter().validate(text),
        "voice": voice_check(text, **options_for(page=story)),
    }


def validate_schedule_time(when: datetime.datetime | None, now=None) -> datetime.datetime:
    now = now or timezone.now()
    if when is None:
        return now
    if timezone.is_naive(when):
        raise ValidationError("The scheduled time needs a timezone.")
    if when < now - PAST_GRACE:
        shown = timezone.localtime(when).strftime("%Y-%m-%d %H:%M")
        raise ValidationError(
            f"{shown} is in the past; pick a time from now on, or leave it empty to post now."
        )
    return max(when, now)


def previous_chapter_post(story, account):
    """This account's published (or upcoming) post of the previous chapter in the series."""
    if story.series_id is None or not story.series_part or story.series_part < 2:
        return None
    previous = (
        type(story)
        .objects.live()
        .filter(series_id=story.series_id, series_part__lt=story.series_part)
        .order_by("-series_part")
        .first()
    )
    if previous is None:
        return None
    return (
        SyndicationPost.objects.filter(story=previous, account=account)
        .exclude(state__in=(states.CANCELLED, states.FAILED, states.MISSED))
        .order_by("-scheduled_at")
        .first()
    )


def _hold_images(pictures) -> None:
    """Lock the chosen images until the post is saved (PostgreSQL: ``FOR UPDATE``), so an
    image deleted from the library while the post was composed is a clear refusal here,
    not a foreign-key failure at commit. One deleted after this waits for its commit and
    leaves the picture empty: the post then waits for a person (``uploads``)."""
    wanted = {picture.image.pk for picture in pictures if picture.image is not None}
    held = set(
        get_image_model()
        .objects.select_for_update()
        .filter(pk__in=wanted)
        .values_list("pk", flat=True)
    )
    if wanted - held or any(picture.image is None for picture in pictures):
        raise ValidationError(
            "A chosen picture was deleted from the image library while the post was being "
            "composed; choose the pictures again."
        )


@transaction.atomic
def create_post(
    *,
    story,
    account,
    text,
    user,
    when=None,
    schedule=True,
    related=(),
    thread_with_previous=False,
    voice_override_reason="",
    reply_to_ref=None,
    audience_interest=None,
    pictures=(),
) -> SyndicationPost:
    """Create one post, scheduled (social managers) or as a draft (editors).

    ``reply_to_ref`` makes it an answer to someone else's item on the network
    (``syndication.conversation.answers``): it is sent as written, as a reply to it.
    ``pictures`` (each with ``image``, ``source``, ``alt_text``; ``story_pictures.Chosen``)
    go out in that order; they are checked for the network here as in the compose form,
    and saved with the post, in its transaction.
    """
    if schedule and not can_schedule(user):
        raise PermissionDenied("Only social managers can schedule posts.")
    if not can_propose(user):
        raise PermissionDenied("You cannot propose posts.")
    if not account.is_usable and schedule:
        raise ValidationError(f"{account} needs reconnecting before posts can be scheduled.")
    pictures = list(pictures)
    if pictures:
        problems = check_pictures(account, pictures)
        if problems:
            raise ValidationError(problems)
        _hold_images(pictures)
    when = validate_schedule_time(when)
    post = SyndicationPost.objects.create(
        story=story,
        account=account,
        text=text,
        scheduled_at=when,
        due_at=when,
        thread_with_previous=thread_with_previous,
        in_reply_to=previous_chapter_post(story, account) if thread_with_previous else None,
        voice_override_reason=voice_override_reason,
        reply_to_ref=reply_to_ref or {},
        audience_interest=audience_interest,
        created_by=user,
        state=states.SCHEDULED if schedule else states.DRAFT,
    )
    if related:
        post.related_stories.set(list(related)[:2])
    if pictures:
        PostPicture.objects.bulk_create(
            PostPicture(
                post=post,
                image=picture.image,
                position=position,
                role=getattr(picture, "role", PostPicture.Role.ATTACHMENT),
                source=picture.source,
                alt_text=picture.alt_text,
            )
            for position, picture in enumerate(pictures)
        )
    text_now, link = render_post(post)
    post.voice_score = voice_check(text_now, **options_for(page=story)).score
    post.link = link
    post.save(update_fields=["link", "voice_score"])
    outcome = PostAttempt.Outcome.SCHEDULED if schedule else PostAttempt.Outcome.WAITING
    note = f"Scheduled by {user}" if schedule else f"Proposed by {user} (draft)"
    if reply_to_ref:
        note = f"Answer scheduled by {user}" if schedule else f"Answer proposed by {user}"
    if pictures:
        note += f", with {len(pictures)} picture{'s' * (len(pictures) != 1)}"
    if voice_override_reason:
        note += f"; voice check overridden: {voice_override_reason}"
    post.log(outcome, note)
    return post


def apply_action(post: SyndicationPost, action: str, user, when=None) -> bool:
    """Schedule, retry, reschedule or cancel ``post`` for ``user``; False if it moved on."""
    if not can_schedule(user):
        raise PermissionDenied("Only social managers can change scheduled posts.")
    try:
        sources, target = states.ACTIONS[action]
    except KeyError:
        raise ValidationError(f"Unknown action {action!r}.") from None
    if post.state not in sources:
        raise ValidationError(
            f"This post is {post.state_label.lower()}; it cannot be {DONE[action]} now."
        )
    fields = {}
    if target == states.SCHEDULED:
        due = validate_schedule_time(when)
        fields = {"scheduled_at": due, "due_at": due, "failure_count": 0, "last_error": ""}
        if not post.account.is_usable:
            raise ValidationError(f"{post.account} needs reconnecting first.")
    # Only from the states the action starts from: a worker may have claimed the post
    # (publishing) since it was read, and that claim must not be undone.
    moved = post.move(target, expected=sources, **fields)
    if moved:
        outcome = (
            PostAttempt.Outcome.CANCELLED
            if target == states.CANCELLED
            else PostAttempt.Outcome.SCHEDULED
        )
        when_text = (
            f" for {timezone.localtime(fields['due_at']):%Y-%m-%d %H:%M %Z}" if fields else ""
        )
        post.log(outcome, f"{action.capitalize()} by {user}{when_text}")
    return moved


def move_scheduled(post: SyndicationPost, user, when: datetime.datetime | None) -> bool:
    """Move a post that is still scheduled to ``when`` (the calendar's drag and Move).

    The queue's rules: social managers only, a time from now on; and only a scheduled
    post, whose row must still be scheduled when it is changed. False if it moved on
    (a worker claimed it) meanwhile.
    """
    if not can_schedule(user):
        raise PermissionDenied("Only social managers can change scheduled posts.")
    if post.state != states.SCHEDULED:
        raise ValidationError(
            f"This post is {post.state_label.lower()}; only a scheduled post can be moved."
        )
    if when is None:
        raise ValidationError("Choose the new time.")
    due = validate_schedule_time(when)
    if not post.account.is_usable:
        raise ValidationError(f"{post.account} needs reconnecting first.")
    moved = post.move(states.SCHEDULED, expected={states.SCHEDULED}, scheduled_at=due, due_at=due)
    if moved:
        shown = timezone.localtime(due).strftime("%Y-%m-%d %H:%M %Z")
        post.log(PostAttempt.Outcome.SCHEDULED, f"Moved on the calendar by {user} to {shown}")
    return moved


def missed_window() -> datetime.timedelta:
    return datetime.timedelta(minutes=settings.SYNDICATION_MISSED_AFTER)
