"""The newsletter's screens in Wagtail's admin: Newsletter → Editions and Subscribers.

Each viewset names its views (``views/editions.py``, ``views/subscribers.py``) and its
extra URLs; ``NewsletterViewSetGroup`` is the menu, registered by ``wagtail_hooks``.
Other newsletter screens join the menu by adding their viewset to
``NEWSLETTER_VIEWSETS`` before the admin starts.
"""

from django.urls import path

from wagtail.admin.viewsets.base import ViewSetGroup
from wagtail.admin.viewsets.model import ModelViewSet

from .forms import SubscriberCreateForm, SubscriberEditForm
from .models import Edition, Subscriber
from .views.editions import (
    EditionActionView,
    EditionCreateView,
    EditionDeleteView,
    EditionEditView,
    EditionForm,
    EditionIndexView,
    EditionPreviewView,
    EditionProgressDataView,
    EditionProgressView,
    EditionResendView,
)
from .views.subscribers import (
    SubscriberCreateView,
    SubscriberDataView,
    SubscriberFilterSet,
    SubscriberIndexView,
)


class EditionViewSet(ModelViewSet):
    model = Edition
    name = "newsletter_editions"
    url_prefix = "newsletter/editions"
    icon = "mail"
    menu_label = "Editions"
    index_view_class = EditionIndexView
    add_view_class = EditionCreateView
    edit_view_class = EditionEditView
    delete_view_class = EditionDeleteView
    list_filter = ["status"]
    search_fields = ["title"]
    search_backend_name = None
    list_per_page = 50
    copy_view_enabled = False
    inspect_view_enabled = False
    add_to_reference_index = False

    def get_form_class(self, for_update=False):
        return EditionForm

    def get_urlpatterns(self):
        policy = {"permission_policy": self.permission_policy}
        return [
            *super().get_urlpatterns(),
            path("<int:pk>/progress/", EditionProgressView.as_view(**policy), name="progress"),
            path(
                "<int:pk>/progress.json",
                EditionProgressDataView.as_view(**policy),
                name="progress_data",
            ),
            path("<int:pk>/preview/", EditionPreviewView.as_view(**policy), name="preview"),
            path("<int:pk>/resend/", EditionResendView.as_view(**policy), name="resend"),
            path("<int:pk>/<slug:action>/", EditionActionView.as_view(**policy), name="action"),
        ]


class SubscriberViewSet(ModelViewSet):
    model = Subscriber
    name = "newsletter_subscribers"
    url_prefix = "newsletter/subscribers"
    icon = "group"
    menu_label = "Subscribers"
    index_view_class = SubscriberIndexView
    add_view_class = SubscriberCreateView
    filterset_class = SubscriberFilterSet
    search_fields = ["email"]
    search_backend_name = None  # the database's icontains: addresses are not full text
    list_per_page = 50
    list_export = ["email", "status", "interests", "created_at", "confirmed_at"]
    export_headings = {
        "email": "Email",
        "status": "Status",
        "interests": "Interests",
        "created_at": "Signed up",
        "confirmed_at": "Confirmed",
    }
    export_filename = "newsletter-subscribers"
    inspect_view_enabled = True
    inspect_view_fields = [
        "email",
        "status",
        "interests",
        "created_at",
        "confirmed_at",
        "status_changed_at",
    ]
    copy_view_enabled = False
    add_to_reference_index = False

    def get_form_class(self, for_update=False):
        return SubscriberEditForm if for_update else SubscriberCreateForm

    def get_urlpatterns(self):
        return [
            *super().get_urlpatterns(),
            path(
                "data/<int:pk>/",
                SubscriberDataView.as_view(permission_policy=self.permission_policy),
                name="data",
            ),
        ]


#: The viewsets under Newsletter, in menu order.
NEWSLETTER_VIEWSETS = [EditionViewSet, SubscriberViewSet]


class NewsletterViewSetGroup(ViewSetGroup):
    menu_label = "Newsletter"
    menu_icon = "mail"
    menu_order = 175  # after Syndication (170)
    items = NEWSLETTER_VIEWSETS  # the list itself: read when the hook below runs
