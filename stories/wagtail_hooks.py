"""Admin registration for stories: the Stories listing and the interest/series snippets."""

from django import forms

from wagtail import hooks
from wagtail.admin.ui.tables import Column
from wagtail.admin.views.pages.listing import IndexView, PageFilterSet
from wagtail.admin.viewsets.pages import PageListingViewSet
from wagtail.snippets.views.snippets import SnippetViewSet, SnippetViewSetGroup

import django_filters

from stories.models import AudienceInterest, StoryPage, StorySeries


class StoryPageFilterSet(PageFilterSet):
    interests = django_filters.ModelMultipleChoiceFilter(
        queryset=AudienceInterest.objects.all(),
        widget=forms.CheckboxSelectMultiple,
        label="Interest",
    )
    purpose = django_filters.ChoiceFilter(
        choices=StoryPage.PURPOSES, label="Purpose", empty_label="Any"
    )

    class Meta:
        model = StoryPage
        fields = []


class StoryPageListingViewSet(PageListingViewSet):
    """A flat list of every story, filterable by interest and purpose."""

    model = StoryPage
    icon = "doc-full-inverse"
    menu_label = "Stories"
    menu_order = 150
    add_to_admin_menu = True
    name = "stories"
    filterset_class = StoryPageFilterSet
    columns = [
        *IndexView.base_columns,
        Column("purpose", label="Purpose", accessor="get_purpose_display"),
        Column("reading_time", label="Minutes"),
    ]


class AudienceInterestViewSet(SnippetViewSet):
    model = AudienceInterest
    icon = "tag"
    menu_label = "Interests"
    list_display = ["name", "slug", "description"]
    search_fields = ["name"]
    ordering = ["name"]


class StorySeriesViewSet(SnippetViewSet):
    model = StorySeries
    icon = "list-ol"
    menu_label = "Series"
    list_display = ["name"]


class StoryVocabularyGroup(SnippetViewSetGroup):
    menu_label = "Story vocabulary"
    menu_icon = "tag"
    menu_order = 160
    items = (AudienceInterestViewSet, StorySeriesViewSet)


@hooks.register("register_admin_viewset")
def register_story_listing():
    return StoryPageListingViewSet()


@hooks.register("register_admin_viewset")
def register_story_vocabulary():
    return StoryVocabularyGroup()
