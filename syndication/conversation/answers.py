"""Answering a reply from Storyloom (issue 20, point 3; docs/conversation.md, "Answering").

An answer is a ``SyndicationPost`` of its own, on the account the item came to, made
through the publishing engine's own path (``posts.create_post``, scheduled now): it
goes out exactly once like every post. It carries the item's network reference in
``reply_to_ref``, so the adapter sends it as a reply (Mastodon ``in_reply_to_id``,
Bluesky ``reply: {root, parent}``) and finds it again after a lost answer; an
``Answer`` row links the item to that post. ``syndication`` never imports this app,
which is why the reference lives on the post.

Everything that can be refused is refused here, before anything is stored, with a
message for the person: an item that cannot be answered, an account that cannot send,
text that is empty, unreadable or too long for the network, and text the voice check
reads as selling without a reason to send it anyway (the same check and threshold as
composing a post).
"""

from __future__ import annotations

import re
import unicodedata

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction

from syndication import posts, states
from syndication.channels import adapter_class
from syndication.channels.mastodon import comparable

from .models import Answer, ConversationItem, ItemKind

#: Kinds of item that say something and can be answered.
ANSWERABLE = (ItemKind.REPLY, ItemKind.QUOTE)
#: No network takes more; longer text is refused before any check reads it.
MAX_TEXT = 10_000
#: Answers that still count: one with the same words is refused as a repeat.
SETTLED_FOR_NOTHING = (states.FAILED, states.CANCELLED, states.MISSED)
#: Control characters other than tab and line breaks, and what an unreadable byte
#: sequence decodes to: never something a person typed on purpose.
_UNREADABLE = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ufffd]")


def can_answer(user) -> bool:
    return user.has_perm("conversation.answer_conversationitem")


def refusal(item: ConversationItem) -> str:
    """Why ``item`` cannot be answered, or "" when it can."""
    if item.deleted:
        return "This item was deleted on the network; there is nothing to answer."
    if item.kind not in ANSWERABLE:
        return f"A {item.get_kind_display().lower()} says nothing to answer."
    account = item.post.account
    try:
        adapter = adapter_class(account.network)
    except ValueError:
        adapter = None
    if adapter is None or not adapter.answers_items:
        return f"Storyloom cannot answer replies on {account.get_network_display()}."
    if reference_problem(item.network, item.remote_ref):
        return (
            "Storyloom does not have this item's reference on the network yet, so it "
            "cannot reply to it; it is filled in when the conversation is collected."
        )
    if not account.is_usable:
        return f"{account} needs reconnecting before it can answer."
    return ""


def reference_problem(network: str, ref) -> str:
    """What is wrong with an item's ``remote_ref`` for ``network`` ("" when nothing)."""
    if not isinstance(ref, dict) or not ref:
        return "empty"
    if network == "mastodon":
        value = ref.get("id")
        ok = isinstance(value, str | int) and re.fullmatch(r"[\w.-]{1,100}", str(value))
        return "" if ok else "no status id"
    if network == "bluesky":
        uri, cid = ref.get("uri"), ref.get("cid")
        ok = isinstance(uri, str) and uri.startswith("at://") and isinstance(cid, str) and cid
        return "" if ok else "no URI and CID"
    if network == "threads":
        value = ref.get("id")
        ok = isinstance(value, str) and re.fullmatch(r"\d{1,30}", value)
        return "" if ok else "no media id"
    if network == "facebook":
        value = ref.get("thread") or ref.get("id")
        ok = isinstance(value, str) and re.fullmatch(r"\d{1,30}_\d{1,30}", value)
        return "" if ok else "no comment id"
    return "unknown network"


def text_problems(text: str) -> list[str]:
    """What makes ``text`` unsendable before any network rule: empty, unreadable, huge."""
    if not text.strip():
        return ["Write the answer."]
    if len(text) > MAX_TEXT:
        return [
            f"An answer can be at most {MAX_TEXT:,} characters long; this one has {len(text):,}."
        ]
    problems = []
    if _UNREADABLE.search(text):
        problems.append(
            "The answer contains control characters or characters that could not be read; "
            "type it again."
        )
    if any(unicodedata.category(char) == "Cs" for char in text):
        problems.append("The answer contains broken characters (lone surrogates); type it again.")
    return problems


def check(item: ConversationItem, text: str) -> dict | None:
    """The network's length rule and the voice check for ``text`` (``posts``' shape:
    ``{"text", "validation", "voice"}``), or None when the text cannot be checked."""
    if text_problems(text):
        return None
    return posts.check_answer_text(text, item.post.story, item.post.account)


def answer(item: ConversationItem, text: str, *, user, voice_override_reason: str = "") -> Answer:
    """Answer ``item`` with ``text`` from the account it came to, as soon as possible.

    Raises PermissionDenied for someone who may not answer, ValidationError (its
    messages for people) for anything else refused; stores nothing then.
    """
    if not can_answer(user):
        raise PermissionDenied("Only social managers can answer replies.")
    text = text.strip()
    reason = voice_override_reason.strip()
    problems = text_problems(text)
    if problems:
        raise ValidationError(problems)
    with transaction.atomic():
        # The item's row lock orders two submissions of one answer (a double click):
        # the second sees the first and is refused as a repeat.
        item = (
            ConversationItem.objects.select_for_update(of=("self",))
            .select_related("post__account", "post__story")
            .get(pk=item.pk)
        )
        why_not = refusal(item)
        if why_not:
            raise ValidationError(why_not)
        result = posts.check_answer_text(text, item.post.story, item.post.account)
        if result["validation"].errors:
            raise ValidationError(result["validation"].errors)
        salesy = result["voice"].is_salesy
        if salesy and not reason:
            raise ValidationError(
                "The voice check reads this answer as selling. Rewrite it, or say why it "
                "should go out anyway."
            )
        if repeats(item, text):
            raise ValidationError("This item already has an answer saying the same.")
        post = posts.create_post(
            story=item.post.story,
            account=item.post.account,
            text=text,
            user=user,
            voice_override_reason=reason if salesy else "",
            reply_to_ref=dict(item.remote_ref),
        )
        return Answer.objects.create(item=item, post=post, created_by=user)


def repeats(item: ConversationItem, text: str) -> bool:
    """True when an answer to ``item`` with the same words is out or on its way.

    Besides sparing the person a double post, it keeps the engine's read-back
    unambiguous: an answer is found again by what it replies to and what it says.
    """
    wanted = comparable(text)
    earlier = (
        Answer.objects.filter(item=item)
        .exclude(post__state__in=SETTLED_FOR_NOTHING)
        .values_list("post__text", flat=True)
    )
    return any(comparable(other) == wanted for other in earlier)
