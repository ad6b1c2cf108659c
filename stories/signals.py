"""Keep derived state in step with content changes (see ``stories.render_cache``)."""

from django.db.models.signals import post_delete, post_save

from wagtail.models import Page, Site
from wagtail.signals import page_published, page_unpublished, post_page_move

from stories.models import AudienceInterest, StorySeries
from stories.render_cache import bump_content_version


def connect():
    page_published.connect(bump_content_version, dispatch_uid="stories-version-published")
    page_unpublished.connect(bump_content_version, dispatch_uid="stories-version-unpublished")
    post_page_move.connect(bump_content_version, dispatch_uid="stories-version-moved")
    # Deleting a page row fires post_delete for Page and for its specific class.
    post_delete.connect(bump_content_version, sender=Page, dispatch_uid="stories-version-deleted")
    for model in (AudienceInterest, StorySeries, Site):
        post_save.connect(
            bump_content_version, sender=model, dispatch_uid=f"v-save-{model.__name__}"
        )
        post_delete.connect(
            bump_content_version, sender=model, dispatch_uid=f"v-del-{model.__name__}"
        )
