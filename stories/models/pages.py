import copy
import functools

from django import forms
from django.core.exceptions import ValidationError
from django.core.paginator import EmptyPage, PageNotAnInteger, Paginator
from django.db import models
from django.http import Http404
from django.shortcuts import get_object_or_404

from modelcluster.fields import ParentalKey, ParentalManyToManyField
from wagtail.admin.forms import WagtailAdminPageForm
from wagtail.admin.panels import FieldPanel, InlinePanel, MultiFieldPanel
from wagtail.api import APIField
from wagtail.blocks import StreamValue
from wagtail.contrib.routable_page.models import RoutablePageMixin, path
from wagtail.fields import StreamField
from wagtail.models import Orderable, Page, PageViewRestriction
from wagtail.search import index
from wagtail.url_routing import RouteResult

from rest_framework import serializers

from stories import reading, voice_review
from stories.blocks import AUDIENCE_PREVIEW_PREFIX, StoryStreamBlock, block_texts
from stories.linking import find_link_problems
from stories.page_cache import (
    INTERESTS,
    STORIES,
    CachedPageMixin,
    TaggedLRU,
    context_interests,
    conversation_tag,
    image_tag,
    index_tag,
    interest_stories_tag,
    page_tag,
    series_tag,
    stream_tags,
)
from stories.panels import VoiceCheckPanel
from stories.reading_stats import count_words, reading_minutes
from stories.render_cache import per_structure

from .snippets import AudienceInterest, StorySeries
from .voice import check_with_site_options, options_for, publication_block

STORIES_PER_PAGE = 12


def is_being_published(page) -> bool:
    """Whether this write of ``page``'s row (before it is written) is Wagtail publishing
    a revision: publishing sets the live revision before it saves, so it differs from
    the stored one. A live page written by a script, an import or ``add_child`` is not."""
    if not (page.pk and page.live and page.live_revision_id):
        return False
    stored = Page.objects.filter(pk=page.pk).values_list("live_revision_id", flat=True)
    return stored.first() != page.live_revision_id


def paginate(request, queryset, per_page=STORIES_PER_PAGE):
    """A page of ``queryset`` for ``?page=``; a bad or out-of-range number is a 404."""
    paginator = Paginator(queryset, per_page)
    raw = request.GET.get("page", "1")
    if len(raw) > 9:
        raise Http404("There is no such page of stories.")
    try:
        return paginator.page(raw)
    except (PageNotAnInteger, EmptyPage):
        raise Http404("There is no such page of stories.") from None


def _route_to_child(parent, model, request, path_components):
    """Route to a live child of ``model`` in one query, else fall back to Wagtail's.

    Wagtail's own route costs two queries per level (the page, then its specific
    row); reading pages go through here so a story needs one.
    """
    if path_components:
        child = model.objects.live().child_of(parent).filter(slug=path_components[0]).first()
        if child is not None:
            child._cached_parent_obj = parent
            return child.route(request, path_components[1:])
    return Page.route(parent, request, path_components)


# Live stories as routing finds them (with picture and series), by index and slug, each
# kept while the story, its picture and its series are unchanged (their tags'
# versions: stories.page_cache.parts), so publishing another story leaves it kept.
# What routing needs before (the site, the index, restrictions) is kept by the
# structure version (stories.render_cache).
ROUTED_STORIES = TaggedLRU(500)


def _routed_story_tags(story):
    """What a routed story shows: itself, its picture, its series. Not found: not kept
    (the story published there next must be found)."""
    if story is None:
        return None
    tags = {page_tag(story.pk)}
    if story.hero_image_id:
        tags.add(image_tag(story.hero_image_id))
    if story.series_id:
        tags.add(series_tag(story.series_id))
    return tags


def _fresh_text(story):
    """Give a copy of a kept story a text of its own, read from the stored data.

    The blocks of a text keep what they load when first read (the stories its cards
    show, its pictures); a kept story is kept while the story itself is unchanged, so
    a text shared between requests would show a linked story's old title after that
    story was published again. The rendered text is kept by what it shows
    (``story_text``).
    """
    body = story.__dict__.get("body")
    if isinstance(body, StreamValue) and body.is_lazy:
        story.__dict__["body"] = StreamValue(body.stream_block, list(body.raw_data), is_lazy=True)


# Every interest (the home page's chips and sections), kept per process until an
# interest changes (``interests``: stories.signals). Shared: read only.
ALL_INTERESTS = TaggedLRU(1)


class ReadingPageMixin:
    """What every reading page shares: no restriction queries on a site without any."""

    def get_view_restrictions(self):
        """Wagtail asks this before serving (two queries: the ancestors, then their
        restrictions). While no page of the site has a view restriction the answer is
        known to be empty; the check is one ``exists()`` per structure version."""
        if not per_structure("any restriction", PageViewRestriction.objects.exists):
            return PageViewRestriction.objects.none()
        return super().get_view_restrictions()


class HomePage(ReadingPageMixin, CachedPageMixin, Page):
    intro = models.TextField(
        blank=True,
        max_length=400,
        help_text="A sentence or two under the site name saying what readers will find here.",
    )

    content_panels = [*Page.content_panels, FieldPanel("intro")]
    subpage_types = ["stories.StoryIndexPage"]
    max_count = 1

    def route(self, request, path_components):
        if path_components:
            # The story index, kept for the structure version: a story costs one query.
            slug = path_components[0]
            index = per_structure(
                ("index", self.pk, slug),
                lambda: StoryIndexPage.objects.live().child_of(self).filter(slug=slug).first(),
            )
            if index is not None:
                index = copy.copy(index)  # each request routes and renders its own
                index._cached_parent_obj = self
                return index.route(request, path_components[1:])
        return _route_to_child(self, StoryIndexPage, request, path_components)

    def cache_tags(self, context):
        # The latest stories, the interests' chips, and each interest's newest stories.
        tags = {STORIES, INTERESTS}
        tags.update(interest_stories_tag(i.pk) for i in context_interests(context))
        return tags

    def get_context(self, request, *args, **kwargs):
        context = super().get_context(request, *args, **kwargs)

        def load():
            return reading.home_context(
                request,
                story_index=per_structure(
                    ("first index", self.pk),
                    lambda: StoryIndexPage.objects.live().child_of(self).first(),
                ),
                interests=ALL_INTERESTS.get_or_load(
                    "all", lambda: list(AudienceInterest.objects.all()), lambda kept: {INTERESTS}
                ),
                stories=StoryPage.objects.live(),
            )

        if getattr(request, "is_preview", False):
            context.update(load())
        else:
            # What it lists changes only with the content version (publishing, interests,
            # pictures: stories.signals); kept per process for it and the site's address.
            key = ("home", self.pk, request.get_host(), request.scheme)
            context.update(reading.LISTINGS.get_or_load(key, load))
        return context


class StoryIndexPage(ReadingPageMixin, CachedPageMixin, RoutablePageMixin, Page):
    intro = models.TextField(blank=True, max_length=400)

    content_panels = [*Page.content_panels, FieldPanel("intro")]
    parent_page_types = ["stories.HomePage"]
    subpage_types = ["stories.StoryPage"]

    def route(self, request, path_components):
        if len(path_components) == 1:
            slug = path_components[0]
            # Kept per process while the story, its picture and series are unchanged;
            # each request renders its own copy.
            story = ROUTED_STORIES.get_or_load(
                (self.pk, slug),
                lambda: (
                    StoryPage.objects.live()
                    .child_of(self)
                    .filter(slug=slug)
                    .select_related("hero_image", "series")
                    .first()
                ),
                _routed_story_tags,
            )
            if story is not None:
                story = copy.copy(story)
                story._cached_parent_obj = self
                _fresh_text(story)
                return RouteResult(story)
        return super().route(request, path_components)

    def cache_tags(self, context):
        # Its listing (or one interest's hub of it), and the interests' chips.
        tags = {index_tag(self.pk)}
        interest = context.get("interest")
        if interest is not None:
            tags.add(interest_stories_tag(interest.pk))
        if "interests" in context:
            tags.add(INTERESTS)
        return tags

    def hub_url(self, interest_slug: str, request=None) -> str:
        return self.get_url(request) + self.reverse_subpage("interest_hub", args=[interest_slug])

    def _listing(self, request, what, load):
        """``load()``, kept per process for the content version (a listing changes only
        when stories are published, moved or taken down, or an interest or picture
        changes: stories.signals), the site's address and the page of the listing."""
        if getattr(request, "is_preview", False):
            return load()
        key = (what, self.pk, request.GET.get("page", "1"), request.get_host(), request.scheme)
        return reading.LISTINGS.get_or_load(key, load)

    @path("")
    def all_stories(self, request):
        def load():
            stories = self.stories().order_by("-first_published_at", "-pk").values_list("pk")
            return {
                "stories": reading.page_of_cards(paginate(request, stories), StoryPage),
                "interests": list(AudienceInterest.objects.all()),
            }

        return self.render(request, context_overrides=dict(self._listing(request, "all", load)))

    @path("interest/<slug:slug>/", name="interest_hub")
    def interest_hub(self, request, slug):
        def load():
            interest = get_object_or_404(AudienceInterest, slug=slug.lower())
            stories = (
                reading.with_interest(self.stories(), interest)
                .order_by("-first_published_at", "-pk")
                .values_list("pk")
            )
            return {
                "interest": interest,
                "stories": reading.page_of_cards(paginate(request, stories), StoryPage),
            }

        return self.render(
            request,
            template="stories/interest_hub.html",
            context_overrides=dict(self._listing(request, ("hub", slug.lower()), load)),
        )

    def stories(self):
        return StoryPage.objects.live().descendant_of(self)

    def get_context(self, request, *args, **kwargs):
        context = super().get_context(request, *args, **kwargs)
        context["story_index"] = self
        return context


class StoryPageForm(WagtailAdminPageForm):
    """Explains each interest as the editor picks it, and checks the links as a whole."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if "interests" in self.fields:
            self.fields["interests"].label_from_instance = _interest_label

    def clean(self):
        cleaned_data = super().clean()
        formset = self.formsets.get("story_links")
        if formset is None or not formset.is_valid():
            self._check_voice_before_publishing(cleaned_data)
            return cleaned_data
        rows = [
            form
            for form in formset.forms
            if form.cleaned_data and not form.cleaned_data.get("DELETE")
        ]
        links = [
            (getattr(form.cleaned_data.get("target"), "pk", None), form.cleaned_data.get("kind"))
            for form in rows
        ]
        for problem in self.instance.link_problems(links):
            rows[problem.index].add_error(problem.field, problem.message)
            self.add_error(None, problem.message)
        self._check_voice_before_publishing(cleaned_data)
        return cleaned_data

    def _check_voice_before_publishing(self, cleaned_data):
        """Publishing or scheduling salesy copy needs a voice review first."""
        if "action-publish" not in self.data or self.errors:
            return
        texts = voice_review.story_texts(
            cleaned_data.get("title"), cleaned_data.get("intro"), cleaned_data.get("body")
        )
        result = voice_review.check_texts(texts, options_for(self.instance))
        problem = publication_block(self.instance, result)
        if problem:
            self.add_error(None, problem)


def _interest_label(interest):
    return f"{interest.name} — {interest.description}" if interest.description else interest.name


class StoryPage(ReadingPageMixin, CachedPageMixin, Page):
    PURPOSES = [
        ("solve", "Solves a problem"),
        ("ease", "Eases a pain"),
        ("smile", "Brings a smile"),
    ]

    intro = models.TextField(
        max_length=300,
        help_text="One or two sentences that tell a reader why this story is worth their time. "
        "Also used as the description when the story is shared.",
    )
    hero_image = models.ForeignKey(
        "wagtailimages.Image",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text="Shown at the top of the story and on cards when it is shared.",
    )
    body = StreamField(StoryStreamBlock())
    interests = ParentalManyToManyField(
        AudienceInterest,
        related_name="stories",
        help_text="The audience interests this story serves. Readers find it on each "
        "interest's page and in newsletters for people who follow it; pick the ones a "
        "reader would recognise as theirs.",
    )
    purpose = models.CharField(
        max_length=10,
        choices=PURPOSES,
        help_text="Why this story deserves a reader's attention: it solves a problem, "
        "eases a pain or brings a smile. If it does none of these, it is probably an advert.",
    )
    series = models.ForeignKey(
        StorySeries,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="stories",
        help_text="Optional: a run of stories read in order.",
    )
    series_part = models.PositiveSmallIntegerField(
        null=True, blank=True, help_text="This story's place in its series (1, 2, 3…)."
    )
    voice_score = models.FloatField(
        null=True, editable=False, help_text="How salesy the live copy reads, 0–1."
    )
    voice_findings = models.JSONField(default=list, editable=False, blank=True)
    word_count = models.PositiveIntegerField(default=0, editable=False)
    reading_time = models.PositiveSmallIntegerField(
        default=1, editable=False, help_text="Minutes, rounded up."
    )

    base_form_class = StoryPageForm
    parent_page_types = ["stories.StoryIndexPage"]
    subpage_types = []

    content_panels = [
        VoiceCheckPanel(),
        *Page.content_panels,
        FieldPanel("intro"),
        FieldPanel("hero_image"),
        FieldPanel("body"),
        MultiFieldPanel(
            [
                FieldPanel("interests", widget=forms.CheckboxSelectMultiple),
                FieldPanel("purpose", widget=forms.RadioSelect),
            ],
            heading="Who it serves and why",
        ),
        MultiFieldPanel(
            [FieldPanel("series"), FieldPanel("series_part")],
            heading="Series",
        ),
        InlinePanel(
            "story_links",
            heading="Linked stories",
            label="Link",
            help_text="Where a reader goes next: the story this one continues into, "
            "background worth knowing, related reading.",
        ),
    ]

    search_fields = [
        *Page.search_fields,
        index.SearchField("intro"),
        index.SearchField("body"),
        index.FilterField("purpose"),
    ]

    api_fields = [
        APIField("intro"),
        APIField("purpose"),
        APIField("reading_time"),
        APIField("word_count"),
        APIField(
            "interests",
            serializer=serializers.SlugRelatedField(many=True, read_only=True, slug_field="slug"),
        ),
        APIField("story_links"),
        APIField("body"),
    ]

    class Meta:
        verbose_name = "story"
        verbose_name_plural = "stories"

    # Stored when the page row itself is written (creation and publishing) so readers
    # never pay for it. Saving a draft of a live story only writes revision
    # bookkeeping (``update_fields``), so the live figures stay those of the live text.
    def save(self, *args, **kwargs):
        if kwargs.get("update_fields") is None:
            words = count_words([self.intro, *block_texts(self.body)])
            self.word_count = words
            self.reading_time = reading_minutes(words)
            result = check_with_site_options(self)
            self.voice_score = round(result.score, 3)
            self.voice_findings = result.summary()
        return super().save(*args, **kwargs)

    def _is_being_published(self) -> bool:
        return is_being_published(self)

    @property
    def voice_top_finding(self) -> str:
        if not self.voice_findings:
            return ""
        first = self.voice_findings[0]
        return f"“{first['phrase']}” ({first['rule']})"

    def clean(self):
        """Links that make sense, and no salesy copy going live without a voice review.

        Wagtail's ``Page.save()`` runs ``full_clean()`` whenever it writes a live page,
        so both hold on every way a story goes live: the editor, a workflow's last
        approval, ``revision.publish()`` in code, scheduled publishing
        (https://docs.wagtail.org/en/stable/reference/models.html#wagtail.models.Page.save).
        The editor's form checks the same before anything is saved, next to the fields.
        """
        super().clean()
        links = [(link.target_id, link.kind) for link in self.story_links.all()]
        problems = [problem.message for problem in self.link_problems(links)]
        if self._is_being_published():
            salesy = publication_block(self)
            if salesy:
                problems.append(ValidationError(salesy, code="salesy"))
        if problems:
            raise ValidationError(problems)

    def link_problems(self, links):
        def continues_of():
            return dict(
                StoryLink.objects.filter(kind=StoryLink.CONTINUES)
                .exclude(page_id=self.pk)
                .values_list("page_id", "target_id")
            )

        return find_link_problems(self.pk, links, continues_of)

    def cache_tags(self, context):
        # "Join the conversation", "Next in the series", "More on…" (which tops up from
        # the newest stories sharing its interests) and what its text links and shows.
        # What the text shows was found when it was rendered or kept (``story_text``),
        # without reading its blocks again.
        text_tags = getattr(self, "_text_tags", None)
        if text_tags is None:
            text_tags = stream_tags(self.body)
        tags = {conversation_tag(self.pk), *text_tags}
        if self.series_id:
            tags.add(series_tag(self.series_id))
        tags.update(interest_stories_tag(i.pk) for i in context_interests(context))
        return tags

    # Previews never go through ``serve`` (nor its cache): Wagtail calls
    # ``serve_preview``, which renders the page afresh for the editor.
    # https://docs.wagtail.org/en/stable/reference/models.html#wagtail.models.PreviewableMixin.preview_modes
    @functools.cached_property
    def preview_modes(self):
        """The default, then one mode per interest for audience-variant blocks.

        Kept for the instance: Wagtail's editor asks for the modes several times, and
        one small query (the interests) is enough.
        """
        return [
            ("", "Default"),
            *(
                (f"{AUDIENCE_PREVIEW_PREFIX}{slug}", f"Readers who follow {name}")
                for slug, name in AudienceInterest.objects.values_list("slug", "name")
            ),
        ]

    def serve_preview(self, request, mode_name):
        # Audience-variant blocks read this to show that interest's variant.
        request.audience_interest = (
            mode_name.removeprefix(AUDIENCE_PREVIEW_PREFIX)
            if mode_name and mode_name.startswith(AUDIENCE_PREVIEW_PREFIX)
            else ""
        )
        return super().serve_preview(request, mode_name)

    def get_context(self, request, *args, **kwargs):
        context = super().get_context(request, *args, **kwargs)
        context.update(reading.story_context(self, request))
        if getattr(request, "is_preview", False):
            # Editors see the voice check above the story in the live preview.
            context["voice_check"] = check_with_site_options(self)
        return context


class StoryLink(Orderable):
    """An editor's link from one story to another, shown on the reading page."""

    CONTINUES = "continues"
    KINDS = [
        (CONTINUES, "Continues the story"),
        ("background", "Background"),
        ("related", "Related"),
    ]

    page = ParentalKey(StoryPage, on_delete=models.CASCADE, related_name="story_links")
    target = models.ForeignKey(
        StoryPage,
        on_delete=models.CASCADE,
        related_name="incoming_links",
        verbose_name="story",
    )
    kind = models.CharField(max_length=12, choices=KINDS, default="related")

    panels = [FieldPanel("target"), FieldPanel("kind")]
    api_fields = [APIField("target_id"), APIField("kind")]

    class Meta(Orderable.Meta):
        indexes = [models.Index(fields=["kind", "target"])]

    def __str__(self):
        return f"{self.page_id} → {self.target_id} ({self.kind})"
