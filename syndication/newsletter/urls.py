from django.urls import path  # noqa: F401 (the helpers below add their routes)

app_name = "newsletter"

urlpatterns = []
