"""Remove exactly the demo data (``manage.py remove_demo``): the rows ``cms.DemoRecord``
names, what hangs off them (posts, their conversation and metrics, rollups, revisions,
deliveries), the demo network's saved state, and then the records themselves.

What a person made on the site is never recorded, so it stays; the site is left as
``migrate`` leaves it, ready for real content or for ``load_demo`` again.
"""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.db import transaction

from wagtail.images import get_image_model
from wagtail.models import Page

from cms.models import DemoRecord
from stories.demo import marks
from stories.models import AudienceInterest, StoryPage, StorySeries
from stories.page_cache import purge_all
from syndication.engagement.models import FlushedBatch
from syndication.models import ChannelAccount, MastodonApp, SyndicationPost
from syndication.newsletter.models import Edition, Subscriber

from .network import state_path

#: (kind, model) in the order they are deleted: what refers to something goes first.
ORDER = [
    ("edition", Edition),
    ("subscriber", Subscriber),
    ("post", SyndicationPost),
    ("past post", SyndicationPost),
]


def remove() -> dict:
    counts = {}
    with transaction.atomic():
        for kind, model in ORDER:
            counts[kind] = _delete(model.objects.filter(pk__in=marks.int_ids(kind)))
        accounts = ChannelAccount.objects.filter(pk__in=marks.int_ids("account"))
        # Posts anyone made on the demo account go with it (PROTECT would refuse).
        counts["post"] += _delete(SyndicationPost.objects.filter(account__in=accounts))
        counts["account"] = _delete(accounts)
        counts["mastodon app"] = _delete(
            MastodonApp.objects.filter(pk__in=marks.int_ids("mastodon app"))
        )
        counts["story"] = _delete_pages(marks.int_ids("story"))
        counts["series"] = _delete(StorySeries.objects.filter(pk__in=marks.int_ids("series")))
        counts["image"] = _delete_images(marks.int_ids("image"))
        counts["interest"] = _delete(
            AudienceInterest.objects.filter(pk__in=marks.int_ids("interest"))
        )
        counts["user"] = _delete(get_user_model().objects.filter(pk__in=marks.int_ids("user")))
        counts["history batch"] = _delete(
            FlushedBatch.objects.filter(pk__in=marks.int_ids("history batch"))
        )
        DemoRecord.objects.all().delete()
    state_path().unlink(missing_ok=True)
    purge_all()
    return counts


def _delete(queryset) -> int:
    return queryset.delete()[1].get(queryset.model._meta.label, 0)


def _delete_pages(ids: list[int]) -> int:
    """Wagtail pages leave the tree with Treebeard's delete (parents' child counts kept)."""
    found = Page.objects.filter(pk__in=ids, content_type__model="storypage")
    count = StoryPage.objects.filter(pk__in=ids).count()
    found.delete()
    return count


def _delete_images(ids: list[int]) -> int:
    """Images one by one, so Wagtail takes each file (and its renditions) off the disk."""
    count = 0
    for image in get_image_model().objects.filter(pk__in=ids):
        image.delete()
        count += 1
    return count
