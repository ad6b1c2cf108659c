"""Keep the story pages readers see in step with posts that change outside the engine.

"Join the conversation" under a story lists its published posts that have an address
(``templatetags.syndication_tags.conversation``), and cached pages hold that list
(``stories.page_cache``, tag ``conversation:<story>``). A post joining it is the
publishing engine's doing, which purges the story's page itself
(``publishing.refresh_story_page``). A post *leaving* it is not: it is deleted (by a
person, or with its story) or saved out of ``published`` or without its address (by
hand, in the Django admin or a shell). Those are caught here, and the story's page is
purged once the transaction commits — a rolled-back delete leaves the page alone.

Queryset ``update()`` calls send no signals: code that takes a post out of the list that
way must call ``publishing.refresh_story_page`` itself (the state machine never does:
``published`` is final).
"""

from functools import partial

from django.db import transaction
from django.db.models.signals import post_delete, post_save, pre_save

from . import states
from .models import SyndicationPost

#: The fields that decide whether, and under which story, a post is in the list.
SHOWN_FIELDS = frozenset({"story", "story_id", "state", "remote_url"})


def shown(story_id, state, remote_url) -> int | None:
    """The story whose "Join the conversation" lists a post in this state, or None."""
    return story_id if state == states.PUBLISHED and remote_url else None


def refresh_after_commit(*story_ids) -> None:
    from .publishing import refresh_story_page

    for story_id in sorted({pk for pk in story_ids if pk is not None}):
        # robust: a cache that is down must not turn a committed delete into an error.
        transaction.on_commit(partial(refresh_story_page, story_id), robust=True)


def _listed(post_row) -> int | None:
    return shown(*post_row) if post_row else None


def _remember(sender, instance, raw=False, update_fields=None, **kwargs):
    """Before an existing post is written, note what the list showed of it."""
    if raw or instance.pk is None:
        return
    if update_fields is not None and not SHOWN_FIELDS & set(update_fields):
        return
    instance._conversation_before = (
        SyndicationPost.objects.filter(pk=instance.pk)
        .values_list("story_id", "state", "remote_url")
        .first()
    )


def _saved(sender, instance, created=False, raw=False, **kwargs):
    if raw or ("_conversation_before" not in instance.__dict__ and not created):
        return
    before = instance.__dict__.pop("_conversation_before", None)
    after = (instance.story_id, instance.state, instance.remote_url)
    if before != after:
        refresh_after_commit(_listed(before), _listed(after))


def _deleted(sender, instance, **kwargs):
    refresh_after_commit(shown(instance.story_id, instance.state, instance.remote_url))


def connect() -> None:
    uid = "syndication-conversation"
    pre_save.connect(_remember, sender=SyndicationPost, dispatch_uid=f"{uid}-before")
    post_save.connect(_saved, sender=SyndicationPost, dispatch_uid=f"{uid}-saved")
    post_delete.connect(_deleted, sender=SyndicationPost, dispatch_uid=f"{uid}-deleted")
