from django.urls import path

from . import reader, views

app_name = "newsletter"

urlpatterns = []

# Subscribing (syndication/newsletter/views.py, docs/newsletter.md).
urlpatterns += [
    path("", views.subscribe, name="subscribe"),
    path("confirm/<str:token>/", views.confirm, name="confirm"),
    path("preferences/", views.request_link, name="request_link"),
    path("preferences/<str:token>/", views.preferences, name="preferences"),
    path("preferences/<str:token>/data/", views.download_data, name="data"),
    path("preferences/<str:token>/delete/", views.delete_data, name="delete"),
    path("unsubscribe/<str:token>/", views.unsubscribe, name="unsubscribe"),
]

# Newsletter links and "For you" on the site (syndication/newsletter/reader.py).
urlpatterns += [
    path("c/<str:token>/", reader.click, name="click"),
    path("for-you/", reader.for_you, name="for_you"),
    path("for-you/consent/", reader.consent, name="consent"),
    path("for-you/forget/", reader.forget, name="forget"),
]
