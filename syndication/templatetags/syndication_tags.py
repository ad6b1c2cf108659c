"""Template tags readers see: "Join the conversation" under a story."""

import uuid

from django import template
from django.core.cache import cache
from django.db import transaction
from django.db.models import F
from django.db.models.signals import post_save
from django.dispatch import receiver

from stories.render_cache import KeptForVersion
from syndication import states
from syndication.links import web_url
from syndication.models import Network, SyndicationPost

register = template.Library()

#: Which stories have any post at all. Most stories never get one, so their pages skip
#: the query for the block: a fresh story page keeps the reading pages' query budget.
SYNDICATED_VERSION_KEY = "storyloom:syndicated-stories:version"
#: A safety net for posts made where the signal below is not connected: the list is
#: read again from the database at least this often.
SYNDICATED_TIMEOUT = 10 * 60
# The list for the version last read, kept in this process (a page then reads only the
# version from the shared cache); a minute at most, within the safety net above.
_syndicated_kept = KeptForVersion(60)


def syndicated_story_ids() -> frozenset:
    """Ids of stories with at least one post in any state, from the cache when it has them.

    The list is stored under a version key, and a new post moves the version on (after
    its transaction commits), so a list read while the post was being saved is never
    mistaken for a current one.
    """
    version = cache.get(SYNDICATED_VERSION_KEY)
    if version is None:
        cache.add(SYNDICATED_VERSION_KEY, uuid.uuid4().hex, None)
        version = cache.get(SYNDICATED_VERSION_KEY)
    return _syndicated_kept.get(version, lambda: _syndicated_story_ids(version))


def _syndicated_story_ids(version) -> frozenset:
    key = f"storyloom:syndicated-stories:{version}"
    ids = cache.get(key)
    if ids is None:
        ids = frozenset(
            SyndicationPost.objects.order_by().values_list("story_id", flat=True).distinct()
        )
        cache.set(key, ids, SYNDICATED_TIMEOUT)
    return ids


def forget_syndicated_stories(**kwargs) -> None:
    cache.set(SYNDICATED_VERSION_KEY, uuid.uuid4().hex, None)


@receiver(post_save, sender=SyndicationPost, dispatch_uid="syndication_new_post_story")
def _new_post(sender, instance, created, raw=False, **kwargs):
    # Connected when this library loads, which every process rendering templates does;
    # the compose view also calls forget_syndicated_stories itself. Once now and again
    # after the commit: a page read in between may have listed the stories without it.
    if created and not raw:
        forget_syndicated_stories()
        transaction.on_commit(forget_syndicated_stories)


def public_handle(account) -> str:
    """How people write the account: ``@name@server`` on Mastodon, ``@name`` elsewhere."""
    name = account.handle.lstrip("@")
    if account.network == Network.MASTODON and "@" not in name and account.instance_url:
        return f"@{name}@{account.instance_host}"
    if account.network == Network.LINKEDIN:
        return account.display_name or name
    if account.network == Network.FACEBOOK:
        return account.display_name or name  # a Page is known by its name
    return f"@{name}"


@register.inclusion_tag("syndication/includes/conversation.html")
def conversation(page):
    """Links to where this story was posted, newest first; nothing when it was not.

    At most one query, and none for a story that never had a post. When a post goes
    live the publishing engine purges the story's cached page
    (``stories.page_cache.purge_conversation``), so it picks the link up.
    """
    if page.pk not in syndicated_story_ids():
        return {"links": []}
    published = (
        # Answers to replies are not where the story was posted: they link nowhere here.
        SyndicationPost.objects.filter(story_id=page.pk, state=states.PUBLISHED, reply_to_ref={})
        .exclude(remote_url="")
        .select_related("account")
        .order_by(F("published_at").desc(nulls_last=True), "-pk")
    )
    return {
        "links": [
            {
                "url": url,
                "network": post.account.get_network_display(),
                "handle": public_handle(post.account),
            }
            for post in published
            # Stored before addresses were checked on the way in: never a javascript: link.
            if (url := web_url(post.remote_url))
        ]
    }
