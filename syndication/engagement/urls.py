"""The collector's URLs; ``cms.urls`` includes them at the site root."""

from django.urls import path

from .views import reader

app_name = "engagement"

urlpatterns = [
    path("e/", reader.collect, name="collect"),
    path("e/share/", reader.share, name="share"),
]
