"""Facebook Pages: after Facebook's dialog, the person picks which Pages to connect.

Facebook's callback lands in ``connect.connect_callback``, which hands it to
``after_consent``: the code becomes Page tokens at once (a code lives minutes), and the
Pages wait in the person's session, encrypted like stored tokens, for ten minutes,
until the person picks the ones to connect here.
"""

import time

from django import forms
from django.shortcuts import redirect
from django.urls import reverse
from django.views.generic import FormView

from wagtail.admin import messages
from wagtail.admin.views.generic.base import WagtailAdminTemplateMixin

from .. import crypto
from ..crypto import TokenDecryptionError
from .base import ACCOUNTS_INDEX, ACCOUNTS_ONLY, can_manage_accounts, refuse

#: Where the Pages wait between Facebook's callback and the person's choice.
PAGES_SESSION_KEY = "syndication_facebook_pages"
PAGES_WAIT_SECONDS = 600


def after_consent(request, flow: dict, params: dict):
    """Turn Facebook's answer into the Pages to choose from, and show the choice."""
    from .. import connect

    try:
        grants = connect.facebook_pages(flow, params)
    except connect.ConnectError as error:
        messages.error(request, f"Could not connect: {error}")
        return redirect("syndication_admin:connect")
    request.session[PAGES_SESSION_KEY] = crypto.encrypt(
        {"pages": [grant.as_dict() for grant in grants], "at": time.time()}
    )
    return redirect("syndication_admin:connect_facebook_pages")


def waiting_pages(request) -> list:
    """The Pages Facebook granted, while they may still be chosen; [] otherwise."""
    from ..channels.facebook import PageGrant

    try:
        data = crypto.decrypt(request.session.get(PAGES_SESSION_KEY, ""))
    except TokenDecryptionError:
        return []
    if not data or time.time() - float(data.get("at") or 0) > PAGES_WAIT_SECONDS:
        return []
    return [PageGrant.from_dict(page) for page in data.get("pages") or []]


class FacebookPagesForm(forms.Form):
    pages = forms.MultipleChoiceField(
        label="Pages to connect",
        widget=forms.CheckboxSelectMultiple,
        error_messages={"required": "Choose at least one Page."},
    )

    def __init__(self, *args, grants=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.grants = list(grants)
        field = self.fields["pages"]
        field.choices = [(grant.profile.remote_id, _choice_label(grant)) for grant in self.grants]
        field.initial = [grant.profile.remote_id for grant in self.grants if grant.can_post]
        field.help_text = (
            "Each Page becomes its own account, posting as the Page. Storyloom keeps each "
            "Page's token encrypted and never your own Facebook login."
        )


def _choice_label(grant) -> str:
    if grant.can_post:
        return grant.profile.display_name
    return f"{grant.profile.display_name} (you may not create content on this Page)"


class FacebookPagesView(WagtailAdminTemplateMixin, FormView):
    page_title = "Choose Facebook Pages"
    header_icon = "globe"
    template_name = "syndication/admin/connect_facebook_pages.html"
    form_class = FacebookPagesForm

    def dispatch(self, request, *args, **kwargs):
        if not can_manage_accounts(request.user):
            return refuse(request, ACCOUNTS_ONLY)
        self.grants = waiting_pages(request)
        if not self.grants:
            messages.error(request, "No Facebook Pages are waiting to be chosen; connect again.")
            return redirect("syndication_admin:connect")
        return super().dispatch(request, *args, **kwargs)

    def get_breadcrumbs_items(self):
        return [
            *self.breadcrumbs_items,
            {"url": reverse(ACCOUNTS_INDEX), "label": "Channel accounts"},
            {"url": reverse("syndication_admin:connect"), "label": "Connect an account"},
            {"url": "", "label": self.page_title},
        ]

    def get_form_kwargs(self):
        return {**super().get_form_kwargs(), "grants": self.grants}

    def form_valid(self, form):
        from .. import connect

        try:
            accounts = connect.facebook_connect_pages(
                self.grants, form.cleaned_data["pages"], self.request.user
            )
        except connect.ConnectError as error:
            form.add_error("pages", str(error))
            return self.form_invalid(form)
        self.request.session.pop(PAGES_SESSION_KEY, None)
        names = ", ".join(str(account) for account in accounts)
        messages.success(self.request, f"Connected {names}.")
        return redirect(ACCOUNTS_INDEX)
