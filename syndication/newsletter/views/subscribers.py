"""Subscribers in Wagtail's admin: Newsletter → Subscribers.

A ``ModelViewSet`` with filters (status, interest), search by address, CSV/XLSX export
and an inspect view. Adding someone invites them (the confirmation email; they are
subscribed only once they confirm); editing changes their interests and makes the
status changes a person may ask for by mail: pause, resume, unsubscribe. Deleting
removes the subscriber with everything kept about them. "Download data" hands over the
same JSON the subscriber gets from their preferences page, for answering a request.

Gathered by ``SubscriberViewSet`` (``viewsets.py``). Who may: social managers
(``newsletter.*_subscriber``, granted by the migrations); nobody else sees addresses.
"""

import json

from django import forms
from django.http import HttpResponse
from django.shortcuts import get_object_or_404
from django.urls import reverse
from django.utils.functional import cached_property
from django.views.generic import View

from wagtail.admin.filters import WagtailFilterSet
from wagtail.admin.ui.menus import MenuItem
from wagtail.admin.ui.tables import Column, StatusTagColumn
from wagtail.admin.views.generic import CreateView, IndexView
from wagtail.admin.views.generic.permissions import PermissionCheckedMixin
from wagtail.log_actions import log

import django_filters

from cms.admin_ui import IdChoiceFilter, LocalTimeColumn
from stories.models import AudienceInterest

from .. import subscriptions
from ..models import Subscriber

Status = Subscriber.Status


def interest_names(subscriber: Subscriber) -> str:
    # From the prefetched interests: no query per row.
    return ", ".join(interest.name for interest in subscriber.interests.all())


class SubscriberFilterSet(WagtailFilterSet):
    status = django_filters.MultipleChoiceFilter(
        choices=Status.choices, label="Status", widget=forms.CheckboxSelectMultiple
    )
    interest = IdChoiceFilter(
        field_name="interests",
        queryset=AudienceInterest.objects.all(),
        label="Interest",
        empty_label="Any interest",
    )

    class Meta:
        model = Subscriber
        fields = []


class SubscriberIndexView(IndexView):
    page_title = "Subscribers"
    add_item_label = "Invite a subscriber"
    default_ordering = "-created_at"

    def get_base_queryset(self):
        return super().get_base_queryset().prefetch_related("interests")

    @cached_property
    def columns(self):
        return [
            self._get_title_column("email"),
            StatusTagColumn(
                "status",
                label="Status",
                accessor="get_status_display",
                sort_key="status",
                primary=lambda subscriber: subscriber.status == Status.ACTIVE,
            ),
            Column("interests", label="Interests", accessor=interest_names),
            LocalTimeColumn("created_at", label="Signed up", sort_key="created_at"),
            LocalTimeColumn(
                "confirmed_at", label="Confirmed", sort_key="confirmed_at", empty="Not yet"
            ),
        ]

    def to_row_dict(self, item):
        # Labels people read, not stored values; interests from the prefetched rows.
        row = {
            "email": item.email,
            "status": item.get_status_display(),
            "interests": interest_names(item),
            "created_at": item.created_at,
            "confirmed_at": item.confirmed_at,
        }
        return {field: row[field] for field in self.list_export}

    def get_list_more_buttons(self, instance):
        return [
            *super().get_list_more_buttons(instance),
            MenuItem(
                "Download data",
                url=reverse("newsletter_subscribers:data", args=[instance.pk]),
                icon_name="download",
                priority=30,
            ),
        ]


class SubscriberCreateView(CreateView):
    """Invite: the confirmation email goes out; they are subscribed once they confirm."""

    def save_instance(self):
        signup = subscriptions.subscribe(
            self.form.cleaned_data["email"], self.form.cleaned_data["interests"]
        )
        log(instance=signup.subscriber, action="wagtail.create", content_changed=True)
        self.outcome = signup.outcome
        return signup.subscriber

    def get_success_message(self, instance):
        if self.outcome is subscriptions.Outcome.THROTTLED:
            return (
                f"Added {instance.email}, but an email went to this address minutes ago, "
                "so no invitation was sent now. They can sign up on the site to get one."
            )
        return f"Invited {instance.email}: they are subscribed once they confirm by email."

    def form_valid(self, form):
        try:
            return super().form_valid(form)
        except subscriptions.MailNotSent:
            form.add_error(None, "The invitation could not be sent; nobody was added.")
            return self.form_invalid(form)


class SubscriberDataView(PermissionCheckedMixin, View):
    """The subscriber's data as JSON, for answering a request made by mail."""

    permission_required = "view"

    def get(self, request, pk):
        subscriber = get_object_or_404(Subscriber, pk=pk)
        body = json.dumps(subscriptions.export_data(subscriber), indent=2, ensure_ascii=False)
        response = HttpResponse(body, content_type="application/json; charset=utf-8")
        response["Content-Disposition"] = (
            f'attachment; filename="subscriber-{subscriber.pk}-data.json"'
        )
        return response
