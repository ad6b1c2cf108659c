"""Engagement's admin URLs (the two reports and a story's page); ``wagtail_hooks`` adds them."""

from django.urls import path

from .views.journeys import ReaderJourneysView
from .views.report import EngagementReportView
from .views.story import StoryEngagementView

urlpatterns = [
    path(
        "reports/engagement/",
        EngagementReportView.as_view(),
        name=EngagementReportView.index_url_name,
    ),
    path(
        "reports/engagement/results/",
        EngagementReportView.as_view(results_only=True),
        name=EngagementReportView.index_results_url_name,
    ),
    path(
        "reports/reader-journeys/",
        ReaderJourneysView.as_view(),
        name=ReaderJourneysView.index_url_name,
    ),
    path(
        "reports/reader-journeys/results/",
        ReaderJourneysView.as_view(results_only=True),
        name=ReaderJourneysView.index_results_url_name,
    ),
    path(
        "engagement/story/<int:page_id>/",
        StoryEngagementView.as_view(),
        name="syndication_engagement_story",
    ),
]
