from django.urls import path

from .feeds import InterestStoriesAtomFeed, InterestStoriesFeed, StoriesAtomFeed, StoriesFeed

app_name = "syndication"

urlpatterns = [
    path("feeds/stories/rss/", StoriesFeed(), name="stories_rss"),
    path("feeds/stories/atom/", StoriesAtomFeed(), name="stories_atom"),
    path("feeds/interest/<slug:slug>/rss/", InterestStoriesFeed(), name="interest_rss"),
    path("feeds/interest/<slug:slug>/atom/", InterestStoriesAtomFeed(), name="interest_atom"),
]
