"""The collector's URLs; ``cms.urls`` includes them at the site root."""

from django.urls import path

from . import views

app_name = "engagement"

urlpatterns = [
    path("e/", views.collect, name="collect"),
    path("e/share/", views.share, name="share"),
]
