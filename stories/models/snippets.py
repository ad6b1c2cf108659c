from django.db import models
from django.db.models.functions import Lower
from django.utils.text import slugify

from wagtail.admin.panels import FieldPanel
from wagtail.search import index

from stories.page_cache.tags import interest_tag, series_tag


class AudienceInterest(index.Indexed, models.Model):
    """One entry of the controlled vocabulary of interests a brand serves.

    Stories, subscribers and channel posts all speak it; readers browse it as hubs.
    """

    name = models.CharField(max_length=80)
    slug = models.SlugField(
        max_length=80,
        help_text="Used in web addresses such as /stories/interest/pets/. Lower case, unique.",
    )
    description = models.TextField(
        blank=True,
        help_text="Who this interest serves and what its stories help with. "
        "Shown to editors when they tag a story, and on the interest's page.",
    )

    panels = [FieldPanel("name"), FieldPanel("slug"), FieldPanel("description")]
    search_fields = [index.SearchField("name"), index.AutocompleteField("name")]

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(
                Lower("slug"),
                name="unique_interest_slug_ci",
                violation_error_message="An interest with this slug already exists.",
            )
        ]

    def __str__(self):
        return self.name

    def save(self, *args, **kwargs):
        self.slug = (self.slug or slugify(self.name)).lower()
        super().save(*args, **kwargs)

    def clean(self):
        self.slug = (self.slug or slugify(self.name)).lower()

    @property
    def page_cache_tag(self) -> str:
        """What a cached page showing this interest's name depends on (``stories.page_cache``)."""
        return interest_tag(self.pk)


class StorySeries(models.Model):
    """A named run of stories read in order; "Continue the story" walks it."""

    name = models.CharField(max_length=120, unique=True)
    description = models.TextField(blank=True)

    panels = [FieldPanel("name"), FieldPanel("description")]

    class Meta:
        ordering = ["name"]
        verbose_name_plural = "story series"

    def __str__(self):
        return self.name

    @property
    def page_cache_tag(self) -> str:
        """What a cached page showing this series depends on (``stories.page_cache``)."""
        return series_tag(self.pk)
