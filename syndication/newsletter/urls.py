from django.urls import path

from .views import for_you, subscribing

app_name = "newsletter"

urlpatterns = []

# Subscribing (views/subscribing.py, docs/newsletter.md).
urlpatterns += [
    path("", subscribing.subscribe, name="subscribe"),
    path("confirm/<str:token>/", subscribing.confirm, name="confirm"),
    path("preferences/", subscribing.request_link, name="request_link"),
    path("preferences/<str:token>/", subscribing.preferences, name="preferences"),
    path("preferences/<str:token>/data/", subscribing.download_data, name="data"),
    path("preferences/<str:token>/delete/", subscribing.delete_data, name="delete"),
    path("unsubscribe/<str:token>/", subscribing.unsubscribe, name="unsubscribe"),
]

# Newsletter links and "For you" on the site (views/for_you.py).
urlpatterns += [
    path("c/<str:token>/", for_you.click, name="click"),
    path("for-you/", for_you.for_you, name="for_you"),
    path("for-you/consent/", for_you.consent, name="consent"),
    path("for-you/forget/", for_you.forget, name="forget"),
]
