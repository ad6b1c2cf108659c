"""Channel accounts: the listing (social managers only), reconnecting and disconnecting."""

from django.shortcuts import get_object_or_404, redirect
from django.urls import reverse
from django.utils.decorators import method_decorator
from django.utils.functional import cached_property
from django.utils.text import Truncator
from django.views.decorators.debug import sensitive_post_parameters
from django.views.generic import TemplateView

from wagtail.admin import messages
from wagtail.admin.ui.menus import MenuItem
from wagtail.admin.ui.tables import Column, StatusTagColumn
from wagtail.admin.views.generic import IndexView
from wagtail.admin.views.generic.base import WagtailAdminTemplateMixin

from cms.admin_ui import LocalTimeColumn

from .. import slots, states
from ..forms import AccountAudienceForm, BlueskyConnectForm, PostingSlotsForm
from ..models import ChannelAccount, Network
from .base import ACCOUNTS_INDEX, ACCOUNTS_ONLY, can_manage_accounts, refuse
from .connect import finish_bluesky, oauth_networks, start_mastodon, start_oauth


class ChannelAccountIndexView(IndexView):
    """Connected accounts. Social managers only: nobody else sees that they exist."""

    any_permission_required = ["add"]
    page_title = "Channel accounts"

    @cached_property
    def add_item_label(self):
        return "Connect an account"

    @cached_property
    def columns(self):
        return [
            self._get_title_column("handle"),
            # As the network shows it (the demo network's says it is not a real server).
            Column("display_name", label="Name"),
            Column("network", label="Network", accessor="get_network_display"),
            Column("instance_host", label="Server"),
            Column("software", label="Software", accessor=self.software_text),
            Column("audience_interest", label="Audience", accessor=self.audience_text),
            StatusTagColumn(
                "status",
                label="Status",
                accessor=self.status_text,
                sort_key="status",
                primary=lambda account: (
                    account.status != ChannelAccount.Status.ACTIVE or bool(account.metrics_error)
                ),
            ),
            LocalTimeColumn(
                "token_expires_at",
                label="Token expires",
                sort_key="token_expires_at",
                empty="Never",
            ),
        ]

    @staticmethod
    def status_text(account):
        label = account.get_status_display()
        if account.status != ChannelAccount.Status.ACTIVE and account.status_reason:
            return f"{label}: {Truncator(account.status_reason).chars(90)}"
        if account.metrics_error:
            # Publishing works, reading metrics does not: say so where people look.
            return f"{label}; metrics not read: {Truncator(account.metrics_error).chars(90)}"
        return label

    @staticmethod
    def audience_text(account):
        interest = account.audience_interest
        return interest.name if interest else ""

    def get_base_queryset(self):
        return super().get_base_queryset().select_related("audience_interest")

    @staticmethod
    def software_text(account):
        """What the account's server runs, as detected (Mastodon-API servers)."""
        server = account.server if account.network == Network.MASTODON else None
        return server.label if server else ""

    def get_list_more_buttons(self, instance):
        return [
            *(
                [
                    MenuItem(
                        "Server and metrics",
                        url=reverse("syndication_accounts:server", args=[instance.pk]),
                        icon_name="info-circle",
                        priority=5,
                    )
                ]
                if instance.network == Network.MASTODON
                else []
            ),
            MenuItem(
                "Audience",
                url=reverse("syndication_accounts:audience", args=[instance.pk]),
                icon_name="group",
                priority=7,
            ),
            MenuItem(
                "Posting slots",
                url=reverse("syndication_accounts:slots", args=[instance.pk]),
                icon_name="time",
                priority=8,
            ),
            MenuItem(
                "Reconnect",
                url=reverse("syndication_accounts:reconnect", args=[instance.pk]),
                icon_name="resubmit",
                priority=10,
            ),
            *(
                [
                    MenuItem(
                        "Disconnect",
                        url=reverse("syndication_accounts:disconnect", args=[instance.pk]),
                        icon_name="cross",
                        priority=20,
                    )
                ]
                if instance.status != ChannelAccount.Status.DISCONNECTED
                else []
            ),
        ]


class AccountActionView(WagtailAdminTemplateMixin, TemplateView):
    header_icon = "user"

    def dispatch(self, request, pk):
        if not can_manage_accounts(request.user):
            return refuse(request, ACCOUNTS_ONLY)
        self.account = get_object_or_404(ChannelAccount, pk=pk)
        return super().dispatch(request, pk)

    def get_page_subtitle(self):
        return str(self.account)

    def get_breadcrumbs_items(self):
        return [
            *self.breadcrumbs_items,
            {"url": reverse(ACCOUNTS_INDEX), "label": "Channel accounts"},
            {"url": "", "label": self.get_page_title(), "sublabel": str(self.account)},
        ]

    def get_context_data(self, **kwargs):
        return super().get_context_data(account=self.account, **kwargs)


class AccountServerView(AccountActionView):
    """What Storyloom detected about a Mastodon-API account's server, what it learned
    since (a refused batch read, refused scopes) and how the last metrics read went."""

    page_title = "Server and metrics"
    template_name = "syndication/admin/account_server.html"

    def get_context_data(self, **kwargs):
        server = self.account.server
        rows = []
        if server is not None:
            rows = [
                ("Software", server.label),
                ("Known as", server.family),
                ("Scopes asked for", server.scopes),
                ("Granular scopes", _yes_no(server.granular_scopes)),
                (
                    "Idempotency-Key honoured",
                    f"yes, for {server.idempotency_seconds // 3600} h"
                    if server.honours_idempotency_key
                    else "no: a lost post is resent only after a read-back has missed it",
                ),
                (
                    "Batch status reads",
                    f"yes, {server.batch_size} at a time" if server.batch_reads else "no",
                ),
                ("Length counted as", server.counting),
                ("Post length limit", str(server.max_characters)),
                (
                    "A dead token answers",
                    ", ".join(f"HTTP {code}" for code in server.token_invalid_statuses),
                ),
            ]
        return super().get_context_data(server=server, rows=rows, **kwargs)


def _yes_no(value: bool) -> str:
    return "yes" if value else "no"


class AccountAudienceView(AccountActionView):
    """Who the account mostly speaks to (``ChannelAccount.audience_interest``)."""

    page_title = "Audience"
    header_icon = "group"
    template_name = "syndication/admin/account_audience.html"

    def get_context_data(self, **kwargs):
        kwargs.setdefault("form", AccountAudienceForm(instance=self.account))
        return super().get_context_data(**kwargs)

    def post(self, request, pk):
        form = AccountAudienceForm(request.POST, instance=self.account)
        if not form.is_valid():
            return self.render_to_response(self.get_context_data(form=form))
        # Only this column: the engine updates other columns of the row as it works.
        ChannelAccount.objects.filter(pk=self.account.pk).update(
            audience_interest=form.cleaned_data["audience_interest"]
        )
        interest = form.cleaned_data["audience_interest"]
        messages.success(
            request,
            f"Posts to {self.account} now start with the picture for {interest.name}, "
            "when a story has one."
            if interest
            else f"{self.account} has no particular audience: its posts start with the hero.",
        )
        return redirect(ACCOUNTS_INDEX)


class AccountSlotsView(AccountActionView):
    """The account's weekly posting slots, which "Add to the queue" fills in order."""

    page_title = "Posting slots"
    header_icon = "time"
    template_name = "syndication/admin/account_slots.html"

    def get_context_data(self, **kwargs):
        kwargs.setdefault("form", PostingSlotsForm(account=self.account))
        return super().get_context_data(
            zone=slots.site_zone().key, next_slot=slots.next_free_slot(self.account), **kwargs
        )

    def post(self, request, pk):
        form = PostingSlotsForm(request.POST, account=self.account)
        if not form.is_valid():
            messages.error(request, "The slots were not saved; correct the problems below.")
            return self.render_to_response(self.get_context_data(form=form), status=400)
        count = form.save()
        if count:
            noun = "slot" if count == 1 else "slots"
            messages.success(request, f"{self.account} has {count} weekly posting {noun}.")
        else:
            messages.success(
                request, f"{self.account} has no posting slots: posts to it need a time."
            )
        return redirect(reverse("syndication_accounts:slots", args=[self.account.pk]))


class DisconnectView(AccountActionView):
    page_title = "Disconnect"
    template_name = "syndication/admin/disconnect.html"

    def get_context_data(self, **kwargs):
        waiting = self.account.posts.filter(state=states.SCHEDULED).count()
        return super().get_context_data(waiting=waiting, **kwargs)

    def post(self, request, pk):
        # The tokens are wiped outright (not through set_tokens, which keeps old values).
        ChannelAccount.objects.filter(pk=self.account.pk).update(
            status=ChannelAccount.Status.DISCONNECTED,
            status_reason=f"Disconnected by {request.user}",
            encrypted_tokens="",
            token_expires_at=None,
        )
        messages.success(
            request,
            f"{self.account} is disconnected and Storyloom no longer holds its tokens. "
            "Scheduled posts for it wait until it is connected again.",
        )
        return redirect(ACCOUNTS_INDEX)


@method_decorator(sensitive_post_parameters("app_password"), name="dispatch")
class ReconnectView(AccountActionView):
    page_title = "Reconnect"
    template_name = "syndication/admin/reconnect.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        if self.account.network == Network.BLUESKY:
            context.setdefault(
                "bluesky_form",
                # The server is looked up from the handle again: it may have moved.
                BlueskyConnectForm(initial={"handle": self.account.handle.lstrip("@")}),
            )
        return context

    def post(self, request, pk):
        account = self.account
        if account.network == Network.MASTODON:
            return start_mastodon(request, account.instance_url)
        if account.network == Network.BLUESKY:
            form = BlueskyConnectForm(request.POST)
            if form.is_valid():
                connected = finish_bluesky(request, form)
                if connected is not None:
                    return connected
            return self.render_to_response(self.get_context_data(bluesky_form=form))
        if account.network in dict(oauth_networks()):
            return start_oauth(request, account.network)
        messages.error(request, f"{account.get_network_display()} is not set up on this site.")
        return redirect(ACCOUNTS_INDEX)
