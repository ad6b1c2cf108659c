"""Admin registration for stories: listings, snippets, the voice check's endpoint and report."""

from django import forms
from django.db.models import F
from django.urls import path, reverse

from wagtail import hooks
from wagtail.admin.auth import permission_denied
from wagtail.admin.filters import WagtailFilterSet
from wagtail.admin.menu import MenuItem
from wagtail.admin.ui.tables import Column, TitleColumn
from wagtail.admin.views.pages.listing import IndexView, PageFilterSet
from wagtail.admin.views.reports import ReportView
from wagtail.admin.viewsets.pages import PageListingViewSet
from wagtail.snippets.views.snippets import SnippetViewSet, SnippetViewSetGroup

import django_filters

from cms.admin_ui import IdsChoiceFilter
from stories import views
from stories.models import AudienceInterest, StoryPage, StorySeries


class StoryFilterSet(WagtailFilterSet):
    """What editors filter stories by: the interests they serve and their purpose."""

    interests = IdsChoiceFilter(
        queryset=AudienceInterest.objects.all(),
        widget=forms.CheckboxSelectMultiple,
        label="Interest",
        distinct=True,
    )
    purpose = django_filters.ChoiceFilter(
        choices=StoryPage.PURPOSES, label="Purpose", empty_label="Any"
    )

    class Meta:
        model = StoryPage
        fields = []


class StoryPageFilterSet(PageFilterSet, StoryFilterSet):
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


class VoiceReportView(ReportView):
    """Live stories by how salesy their copy reads, with what the check found."""

    page_title = "Voice check"
    header_icon = "openquote"
    index_url_name = "stories_voice_report"
    index_results_url_name = "stories_voice_report_results"
    filterset_class = StoryFilterSet
    list_export = ["title", "voice_score", "voice_top_finding", "purpose", "url_path"]
    export_headings = {"voice_top_finding": "Top finding"}
    columns = [
        TitleColumn("title", label="Story", url_name="wagtailadmin_pages:edit"),
        Column("voice_score", label="Voice score"),
        Column("voice_top_finding", label="Top finding"),
        Column("purpose", label="Purpose", accessor="get_purpose_display"),
    ]

    def get_queryset(self):
        return StoryPage.objects.live().order_by(F("voice_score").desc(nulls_last=True), "title")


@hooks.register("register_admin_urls")
def register_voice_urls():
    return [
        path("stories/voice-check/", views.voice_check, name="stories_voice_check"),
        path("reports/voice/", VoiceReportView.as_view(), name="stories_voice_report"),
        path(
            "reports/voice/results/",
            VoiceReportView.as_view(results_only=True),
            name="stories_voice_report_results",
        ),
    ]


@hooks.register("register_reports_menu_item")
def register_voice_report_menu_item():
    return MenuItem(
        "Voice check", reverse("stories_voice_report"), icon_name="openquote", order=700
    )


@hooks.register("register_log_actions")
def register_voice_log_actions(actions):
    actions.register_action(
        "stories.voice_hold",
        "Held by the voice check",
        "Scheduled publishing held: the story reads as selling and has no voice review approval",
    )


@hooks.register("before_move_page")
def refuse_moves_to_people_who_may_not_move(request, page, destination):
    """Wagtail checks the move itself (the POST) but shows its confirmation page to anyone
    in the admin; someone who may not move the page does not get that far either."""
    if not page.permissions_for_user(request.user).can_move():
        return permission_denied(request)
    return None


@hooks.register("register_admin_viewset")
def register_story_listing():
    return StoryPageListingViewSet()


@hooks.register("register_admin_viewset")
def register_story_vocabulary():
    return StoryVocabularyGroup()
