"""Connect an account: Mastodon and Bluesky forms, LinkedIn and X by OAuth, and the
callback networks send people back to."""

import secrets

from django.conf import settings
from django.http import Http404
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.decorators import method_decorator
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_POST
from django.views.generic import TemplateView

from wagtail.admin import messages
from wagtail.admin.views.generic.base import WagtailAdminTemplateMixin

from ..forms import BlueskyConnectForm, MastodonConnectForm
from ..models import Network
from .base import ACCOUNTS_INDEX, ACCOUNTS_ONLY, can_manage_accounts, refuse

#: Where a connect flow waits between leaving for the network and coming back.
CONNECT_SESSION_KEY = "syndication_connect"


def oauth_networks() -> list[tuple[str, str]]:
    """Threads, LinkedIn and X, offered only when the site has its own app keys for them."""
    offered = []
    if settings.THREADS_APP_ID:
        offered.append((Network.THREADS.value, Network.THREADS.label))
    if settings.LINKEDIN_CLIENT_ID:
        offered.append((Network.LINKEDIN.value, Network.LINKEDIN.label))
    if settings.X_CONSUMER_KEY:
        offered.append((Network.X.value, Network.X.label))
    if settings.FACEBOOK_APP_ID:
        offered.append((Network.FACEBOOK.value, Network.FACEBOOK.label))
    return offered


def callback_uri(request, network: str) -> str:
    return request.build_absolute_uri(reverse("syndication_admin:connect_callback", args=[network]))


def remember_flow(request, network: str, flow: dict) -> None:
    request.session[CONNECT_SESSION_KEY] = {"network": network, "flow": flow}


def start_mastodon(request, instance: str, form=None):
    """Send the person to their server to approve Storyloom.

    With ``form``, a server that is not Mastodon (or not reachable) becomes an error
    on its field and None is returned, so the form is shown again.
    """
    from .. import connect

    try:
        url, flow = connect.mastodon_start(instance, callback_uri(request, Network.MASTODON))
    except connect.ConnectError as error:
        if form is not None:
            form.add_error("instance", str(error))
            return None
        messages.error(request, f"Could not start connecting: {error}")
        return redirect(ACCOUNTS_INDEX)
    remember_flow(request, Network.MASTODON, flow)
    return redirect(url)


def start_oauth(request, network: str):
    from .. import connect

    try:
        url, flow = connect.oauth_start(network, callback_uri(request, network))
    except connect.ConnectError as error:
        messages.error(request, f"Could not start connecting: {error}")
        return redirect("syndication_admin:connect")
    remember_flow(request, network, flow)
    return redirect(url)


def finish_bluesky(request, form):
    """Connect with an app password; a redirect on success, None with form errors."""
    from .. import connect

    try:
        account = connect.bluesky_connect(
            form.cleaned_data["handle"],
            form.cleaned_data["app_password"],
            form.cleaned_data["service_url"],
            request.user,
        )
    except connect.ConnectError as error:
        form.add_error(None, str(error))
        return None
    messages.success(request, f"Connected {account}.")
    return redirect(ACCOUNTS_INDEX)


class ConnectView(WagtailAdminTemplateMixin, TemplateView):
    page_title = "Connect an account"
    header_icon = "globe"
    template_name = "syndication/admin/connect.html"

    def dispatch(self, request, *args, **kwargs):
        if not can_manage_accounts(request.user):
            return refuse(request, ACCOUNTS_ONLY)
        return super().dispatch(request, *args, **kwargs)

    def get_breadcrumbs_items(self):
        return [
            *self.breadcrumbs_items,
            {"url": reverse(ACCOUNTS_INDEX), "label": "Channel accounts"},
            {"url": "", "label": self.page_title},
        ]

    def get_context_data(self, **kwargs):
        kwargs.setdefault("mastodon_form", MastodonConnectForm(prefix="mastodon"))
        kwargs.setdefault("bluesky_form", BlueskyConnectForm(prefix="bluesky"))
        kwargs["oauth_networks"] = oauth_networks()
        return super().get_context_data(**kwargs)


class ConnectMastodonView(ConnectView):
    http_method_names = ["post"]

    def post(self, request):
        form = MastodonConnectForm(request.POST, prefix="mastodon")
        if form.is_valid():
            started = start_mastodon(request, form.cleaned_data["instance"], form)
            if started is not None:
                return started
        return self.render_to_response(self.get_context_data(mastodon_form=form))


@method_decorator(sensitive_post_parameters("bluesky-app_password"), name="dispatch")
class ConnectBlueskyView(ConnectView):
    http_method_names = ["post"]

    def post(self, request):
        form = BlueskyConnectForm(request.POST, prefix="bluesky")
        if form.is_valid():
            connected = finish_bluesky(request, form)
            if connected is not None:
                return connected
        return self.render_to_response(self.get_context_data(bluesky_form=form))


@require_POST
def connect_oauth(request, network):
    if not can_manage_accounts(request.user):
        return refuse(request, ACCOUNTS_ONLY)
    if network not in dict(oauth_networks()):
        raise Http404("That network is not set up on this site.")
    return start_oauth(request, network)


def connect_callback(request, network):
    """Where the network sends people back after they approved (or refused) Storyloom."""
    if not can_manage_accounts(request.user):
        return refuse(request, ACCOUNTS_ONLY)
    pending = request.session.pop(CONNECT_SESSION_KEY, None)
    if not pending or pending.get("network") != network:
        messages.error(
            request,
            "This connection was not started from here, or it expired. Start again.",
        )
        return redirect("syndication_admin:connect")
    flow, params = pending["flow"], request.GET.dict()
    # A server that refuses the granular scopes: mastodon_finish asks for the broad ones.
    scope_refused = network == Network.MASTODON and params.get("error") == "invalid_scope"
    if "error" in params and not scope_refused:
        reason = params.get("error_description") or params["error"]
        messages.error(request, f"The connection was not approved: {reason}.")
        return redirect("syndication_admin:connect")
    expected = flow.get("state") if isinstance(flow, dict) else None
    if expected and not secrets.compare_digest(str(params.get("state", "")), str(expected)):
        # Someone else's answer (or a forged one): never attach it to this session.
        messages.error(request, "The answer did not match this connection attempt. Start again.")
        return redirect("syndication_admin:connect")

    from .. import connect

    if network == Network.FACEBOOK:
        # Facebook grants Pages, not one account: the person picks which to connect.
        from .connect_facebook import after_consent

        return after_consent(request, flow, params)
    try:
        if network == Network.MASTODON:
            account = connect.mastodon_finish(flow, params, request.user)
        else:
            account = connect.oauth_finish(network, flow, params, request.user)
    except connect.BroaderScopesNeeded as needed:
        remember_flow(request, network, needed.flow)
        messages.warning(request, str(needed))
        return redirect(needed.url)
    except connect.ConnectError as error:
        messages.error(request, f"Could not connect: {error}")
        return redirect("syndication_admin:connect")
    messages.success(request, f"Connected {account}.")
    return redirect(ACCOUNTS_INDEX)
