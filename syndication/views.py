"""Syndication in Wagtail's admin: accounts, the post queue, composing and connecting.

Every change to a post goes through ``syndication.posts`` (and so through the state
machine); these views only gather what people chose and report what happened.
"""

import secrets

from django import forms
from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db import transaction
from django.db.models import Case, Count, F, IntegerField, Value, When
from django.http import Http404, HttpResponseForbidden, JsonResponse
from django.shortcuts import get_object_or_404, redirect
from django.urls import reverse
from django.utils import dateformat, timezone
from django.utils.decorators import method_decorator
from django.utils.functional import cached_property
from django.utils.html import format_html, format_html_join
from django.utils.http import url_has_allowed_host_and_scheme, urlencode
from django.utils.text import Truncator
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_POST
from django.views.generic import FormView, TemplateView

from wagtail.admin import messages
from wagtail.admin.filters import WagtailFilterSet
from wagtail.admin.ui.menus import MenuItem
from wagtail.admin.ui.tables import Column, StatusTagColumn, TitleColumn
from wagtail.admin.views.generic import IndexView, InspectView
from wagtail.admin.views.generic.base import WagtailAdminTemplateMixin
from wagtail.admin.widgets.button import Button

import django_filters

from stories.models import StoryPage

from . import posts, states
from .forms import (
    BlueskyConnectForm,
    ComposeForm,
    MastodonConnectForm,
    QueueActionForm,
    check_summary,
)
from .links import web_url
from .models import ChannelAccount, Network, PostAttempt, SyndicationPost
from .templatetags.syndication_tags import forget_syndicated_stories

#: Where a connect flow waits between leaving for the network and coming back.
CONNECT_SESSION_KEY = "syndication_connect"
ACCOUNTS_INDEX = "syndication_accounts:index"
QUEUE_INDEX = "syndication_posts:index"

ACTION_LABELS = {
    "schedule": ("Schedule", "calendar-check"),
    "retry": ("Retry", "resubmit"),
    "reschedule": ("Reschedule", "calendar-alt"),
    "cancel": ("Cancel", "cross"),
}


def can_manage_accounts(user) -> bool:
    return user.has_perm("syndication.add_channelaccount")


ACCOUNTS_ONLY = "Only social managers connect and disconnect accounts."


def refuse(request, message):
    """Say no the Wagtail way for a page (back to the dashboard with a message), and
    with a plain 403 for a POST, which no button offered this person."""
    if request.method == "POST":
        return HttpResponseForbidden(message)
    raise PermissionDenied(message)


def local_time(value, empty=""):
    """``value`` in the site's time zone, with the zone's name so nobody has to guess."""
    if value is None:
        return empty
    return dateformat.format(timezone.localtime(value), "j M Y, H:i T")


def queue_url(**filters) -> str:
    url = reverse(QUEUE_INDEX)
    return f"{url}?{urlencode(filters, doseq=True)}" if filters else url


# --- Columns -------------------------------------------------------------------------
class LocalTimeColumn(Column):
    """A date and time in the site's time zone, spelled out (not "3 hours ago")."""

    def __init__(self, name, empty="", **kwargs):
        super().__init__(name, **kwargs)
        self.empty = empty

    def get_value(self, instance):
        return local_time(super().get_value(instance), self.empty)


class LinkColumn(Column):
    def __init__(self, name, text, **kwargs):
        super().__init__(name, **kwargs)
        self.text = text

    def get_value(self, instance):
        url = web_url(super().get_value(instance))  # http(s) only, whatever was stored
        if not url:
            return ""
        return format_html('<a href="{}" target="_blank" rel="noopener">{}</a>', url, self.text)


# --- Channel accounts ----------------------------------------------------------------
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
            Column("network", label="Network", accessor="get_network_display"),
            Column("instance_host", label="Server"),
            StatusTagColumn(
                "status",
                label="Status",
                accessor=self.status_text,
                sort_key="status",
                primary=lambda account: account.status != ChannelAccount.Status.ACTIVE,
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
        return label

    def get_list_more_buttons(self, instance):
        return [
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
                BlueskyConnectForm(
                    initial={
                        "handle": self.account.handle.lstrip("@"),
                        "service_url": self.account.instance_url or "https://bsky.social",
                    }
                ),
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


# --- Connecting ----------------------------------------------------------------------
def oauth_networks() -> list[tuple[str, str]]:
    """LinkedIn and X, offered only when the site has its own app keys for them."""
    offered = []
    if settings.LINKEDIN_CLIENT_ID:
        offered.append((Network.LINKEDIN.value, Network.LINKEDIN.label))
    if settings.X_CONSUMER_KEY:
        offered.append((Network.X.value, Network.X.label))
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
    from . import connect

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
    from . import connect

    try:
        url, flow = connect.oauth_start(network, callback_uri(request, network))
    except connect.ConnectError as error:
        messages.error(request, f"Could not start connecting: {error}")
        return redirect("syndication_admin:connect")
    remember_flow(request, network, flow)
    return redirect(url)


def finish_bluesky(request, form):
    """Connect with an app password; a redirect on success, None with form errors."""
    from . import connect

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
    if "error" in params:
        reason = params.get("error_description") or params["error"]
        messages.error(request, f"The connection was not approved: {reason}.")
        return redirect("syndication_admin:connect")
    expected = flow.get("state") if isinstance(flow, dict) else None
    if expected and not secrets.compare_digest(str(params.get("state", "")), str(expected)):
        # Someone else's answer (or a forged one): never attach it to this session.
        messages.error(request, "The answer did not match this connection attempt. Start again.")
        return redirect("syndication_admin:connect")

    from . import connect

    try:
        if network == Network.MASTODON:
            account = connect.mastodon_finish(flow, params, request.user)
        else:
            account = connect.oauth_finish(network, flow, params, request.user)
    except connect.ConnectError as error:
        messages.error(request, f"Could not connect: {error}")
        return redirect("syndication_admin:connect")
    messages.success(request, f"Connected {account}.")
    return redirect(ACCOUNTS_INDEX)


# --- The post queue ------------------------------------------------------------------
class PostFilterSet(WagtailFilterSet):
    account = django_filters.ModelChoiceFilter(
        queryset=ChannelAccount.objects.all(), label="Account", empty_label="Any account"
    )
    state = django_filters.MultipleChoiceFilter(
        # From the state machine itself: the stored values are its lower-case names.
        choices=list(states.LABELS.items()),
        label="State",
        widget=forms.CheckboxSelectMultiple,
    )
    # A number, not a select: a site can have thousands of stories. Searching the
    # listing finds stories by title.
    story = django_filters.ModelChoiceFilter(
        queryset=StoryPage.objects.all(),
        label="Story id",
        widget=forms.NumberInput(attrs={"min": 1}),
    )

    class Meta:
        model = SyndicationPost
        fields = []


class PostIndexView(IndexView):
    page_title = "Post queue"
    add_item_label = "Syndicate a story"
    search_fields = ["story__title"]
    search_backend_name = None

    def get_base_queryset(self):
        return super().get_base_queryset().select_related("story", "account")

    def order_queryset(self, queryset):
        if self.ordering:
            return super().order_queryset(queryset)
        # Upcoming first, soonest at the top; then everything settled, newest first.
        upcoming = Case(
            When(state__in=states.UPCOMING, then=Value(0)),
            default=Value(1),
            output_field=IntegerField(),
        )
        upcoming_at = Case(When(state__in=states.UPCOMING, then=F("scheduled_at")))
        return queryset.annotate(_upcoming=upcoming, _upcoming_at=upcoming_at).order_by(
            "_upcoming", F("_upcoming_at").asc(nulls_last=True), "-scheduled_at", "-pk"
        )

    @cached_property
    def columns(self):
        return [
            self._get_title_column_class(TitleColumn)(
                "story",
                label="Story",
                accessor="story.title",
                sort_key="story__title",
                get_url=self.get_inspect_url,
            ),
            Column("account", label="Account"),
            LocalTimeColumn("scheduled_at", label="Scheduled for", sort_key="scheduled_at"),
            StatusTagColumn(
                "state",
                label="State",
                accessor="state_label",
                sort_key="state",
                primary=lambda post: post.state in states.NEEDS_ATTENTION,
            ),
            LinkColumn("remote_url", "View post", label="Published"),
            Column(
                "last_error",
                label="Last error",
                accessor=lambda post: Truncator(post.last_error).chars(120),
            ),
        ]

    @cached_property
    def listing_url(self):
        """This listing with its filters, to come back to after an action.

        Not ``request.get_full_path()``: filtering reloads only the results fragment.
        """
        query = self.request.GET.copy()
        query.pop("_w_filter_fragment", None)
        return f"{reverse(QUEUE_INDEX)}?{query.urlencode()}" if query else reverse(QUEUE_INDEX)

    def get_list_more_buttons(self, instance):
        buttons = super().get_list_more_buttons(instance)
        if posts.can_schedule(self.request.user):
            next_url = self.listing_url
            for priority, action in enumerate(instance.actions, start=40):
                label, icon = ACTION_LABELS[action]
                url = reverse("syndication_posts:action", args=[instance.pk, action])
                buttons.append(
                    MenuItem(
                        label,
                        url=f"{url}?{urlencode({'next': next_url})}",
                        icon_name=icon,
                        priority=priority,
                    )
                )
        return buttons


class PostInspectView(InspectView):
    """A post in full: what it says, where it links, the voice check, what happened."""

    template_name = "syndication/admin/post_inspect.html"

    def get_object(self, queryset=None):
        return get_object_or_404(
            SyndicationPost.objects.select_related("story", "account", "created_by"),
            pk=self.pk,
        )

    LABELS = {
        "scheduled_at": "Scheduled for",
        "text": "Text (placeholders as written)",
        "link": "Story link",
        "remote_url": "Published post",
        "thread_with_previous": "Threaded with the previous chapter",
    }

    def get_field_label(self, field_name, field):
        return self.LABELS.get(field_name) or super().get_field_label(field_name, field)

    def get_thread_with_previous_display_value(self):
        return "Yes" if self.object.thread_with_previous else "No"

    def get_created_by_display_value(self):
        return str(self.object.created_by or "—")

    def get_state_display_value(self):
        return self.object.state_label

    def get_scheduled_at_display_value(self):
        return local_time(self.object.scheduled_at)

    def get_text_display_value(self):
        lines = self.object.text.splitlines()
        return format_html_join("", "{}<br>", ((line,) for line in lines))

    def get_link_display_value(self):
        return self._link(self.object.link)

    def get_remote_url_display_value(self):
        return self._link(self.object.remote_url) or "Not published yet"

    def get_voice_score_display_value(self):
        score = self.object.voice_score
        return "Not checked" if score is None else f"{score:.2f}"

    def get_voice_override_reason_display_value(self):
        return self.object.voice_override_reason or "No override"

    @staticmethod
    def _link(url):
        if not url:
            return ""
        if not web_url(url):  # not http(s): shown as what it is, never as a link
            return url
        return format_html('<a href="{}" target="_blank" rel="noopener">{}</a>', url, url)

    @cached_property
    def header_more_buttons(self):
        if not posts.can_schedule(self.request.user):
            return []
        next_url = self.request.get_full_path()
        buttons = []
        for priority, action in enumerate(self.object.actions, start=10):
            label, icon = ACTION_LABELS[action]
            url = reverse("syndication_posts:action", args=[self.object.pk, action])
            buttons.append(
                Button(
                    label,
                    url=f"{url}?{urlencode({'next': next_url})}",
                    icon_name=icon,
                    priority=priority,
                )
            )
        return buttons

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["attempts"] = [
            {
                "at": local_time(attempt.at),
                "outcome": attempt.get_outcome_display(),
                "http_status": attempt.http_status,
                "message": attempt.message,
            }
            for attempt in PostAttempt.objects.filter(post=self.object).order_by("at", "pk")
        ]
        return context


class PostActionView(WagtailAdminTemplateMixin, FormView):
    """Schedule, retry, reschedule or cancel one post (social managers only).

    GET asks (and, for a new time, shows the time field); POST does it.
    """

    template_name = "syndication/admin/post_action.html"
    header_icon = "calendar-alt"

    def dispatch(self, request, pk, action):
        if action not in states.ACTIONS:
            raise Http404("No such action.")
        if not posts.can_schedule(request.user):
            return refuse(request, "Only social managers can change scheduled posts.")
        self.action = action
        self.post_object = get_object_or_404(
            SyndicationPost.objects.select_related("story", "account"), pk=pk
        )
        return super().dispatch(request, pk, action)

    def get_page_title(self):
        return ACTION_LABELS[self.action][0]

    def get_page_subtitle(self):
        return str(self.post_object)

    def get_breadcrumbs_items(self):
        return [
            *self.breadcrumbs_items,
            {"url": reverse(QUEUE_INDEX), "label": "Post queue"},
            {
                "url": reverse("syndication_posts:inspect", args=[self.post_object.pk]),
                "label": str(self.post_object),
            },
            {"url": "", "label": self.get_page_title()},
        ]

    def get(self, request, *args, **kwargs):
        if self.action not in self.post_object.actions:
            label = self.post_object.state_label.lower()
            messages.error(
                request, f"This post is {label}; it cannot be {posts.DONE[self.action]}."
            )
            return redirect(self.next_url())
        return super().get(request, *args, **kwargs)

    def get_form_kwargs(self):
        return {**super().get_form_kwargs(), "action": self.action}

    def get_form_class(self):
        return QueueActionForm

    def next_url(self):
        candidate = self.request.POST.get("next") or self.request.GET.get("next")
        if candidate and url_has_allowed_host_and_scheme(
            candidate, allowed_hosts={self.request.get_host()}
        ):
            return candidate
        return reverse(QUEUE_INDEX)

    def get_context_data(self, **kwargs):
        return super().get_context_data(
            post=self.post_object,
            action=self.action,
            action_label=ACTION_LABELS[self.action][0],
            scheduled=local_time(self.post_object.scheduled_at),
            next=self.next_url(),
            **kwargs,
        )

    def form_valid(self, form):
        post = self.post_object
        try:
            moved = posts.apply_action(
                post, self.action, self.request.user, when=form.cleaned_data.get("when")
            )
        except ValidationError as error:
            messages.error(self.request, " ".join(error.messages))
            return redirect(self.next_url())
        if moved:
            done = posts.DONE[self.action]
            when = f" for {local_time(post.scheduled_at)}" if post.state == states.SCHEDULED else ""
            messages.success(self.request, f"Post {done}{when}: {post}.")
        else:
            messages.warning(
                self.request,
                f"The post changed while you were looking at it; it is now "
                f"{SyndicationPost.objects.get(pk=post.pk).state_label.lower()}.",
            )
        return redirect(self.next_url())


# --- Composing -----------------------------------------------------------------------
class _NothingSaved(Exception):
    """Raised inside the transaction so one refused post saves none of them."""


class ComposeView(WagtailAdminTemplateMixin, TemplateView):
    template_name = "syndication/admin/compose.html"
    page_title = "Syndicate"
    header_icon = "globe"

    def dispatch(self, request, page_id):
        if not posts.can_propose(request.user):
            return refuse(request, "You cannot propose posts.")
        self.story = get_object_or_404(
            StoryPage.objects.select_related("series").prefetch_related("interests"), pk=page_id
        )
        self.can_schedule = posts.can_schedule(request.user)
        self.accounts = list(
            ChannelAccount.objects.filter(status=ChannelAccount.Status.ACTIVE).order_by(
                "network", "handle"
            )
        )
        return super().dispatch(request, page_id)

    def get_page_subtitle(self):
        return self.story.title

    def get_breadcrumbs_items(self):
        return [
            *self.breadcrumbs_items,
            {
                "url": reverse("wagtailadmin_pages:edit", args=[self.story.pk]),
                "label": self.story.title,
            },
            {"url": "", "label": "Syndicate"},
        ]

    def form(self, data=None):
        return ComposeForm(data, story=self.story, accounts=self.accounts)

    def get(self, request, page_id):
        form = self.form()
        form.check_initial()
        return self.render_to_response(self.get_context_data(form=form))

    def post(self, request, page_id):
        schedule = (
            request.POST.get("action", "schedule" if self.can_schedule else "draft") != "draft"
        )
        if schedule and not self.can_schedule:
            return refuse(request, "Only social managers can schedule posts.")
        form = self.form(request.POST)
        if form.is_valid():
            created = self.save(form, schedule)
            if created:
                messages.success(request, self.success_message(created, schedule))
                return redirect(queue_url(story=self.story.pk))
        messages.error(request, "Nothing was saved; correct the problems below.")
        return self.render_to_response(self.get_context_data(form=form), status=200)

    def save(self, form, schedule):
        data = form.cleaned_data
        reason = data.get("override_reason", "").strip()
        salesy = {account.pk for account in form.salesy}
        related = form.related()
        created = []
        try:
            with transaction.atomic():
                for account in form.included():
                    try:
                        created.append(
                            posts.create_post(
                                story=self.story,
                                account=account,
                                text=data[form.text_name(account)],
                                user=self.request.user,
                                when=data.get("when"),
                                schedule=schedule,
                                related=related,
                                thread_with_previous=data.get("thread_with_previous", False),
                                voice_override_reason=reason if account.pk in salesy else "",
                            )
                        )
                    except ValidationError as error:
                        for message in error.messages:
                            form.add_error(None, f"{account}: {message}")
                        raise _NothingSaved from error
        except _NothingSaved:
            return []
        # The story page shows its posts once one is published: tell it this story has some.
        transaction.on_commit(forget_syndicated_stories)
        return created

    def success_message(self, created, schedule):
        count = len(created)
        noun = "post" if count == 1 else "posts"
        if schedule:
            return f"{count} {noun} scheduled for “{self.story.title}”."
        return (
            f"{count} draft {noun} saved for “{self.story.title}”; a social manager "
            "will schedule them."
        )

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context.update(
            story=self.story,
            can_schedule=self.can_schedule,
            accounts=self.accounts,
            check_url=reverse("syndication_admin:check"),
            queue_url=queue_url(story=self.story.pk),
            can_manage_accounts=can_manage_accounts(self.request.user),
        )
        return context


@require_POST
def check(request):
    """Length and voice check of one account's text, for the compose form as people type."""
    if not posts.can_propose(request.user):
        return JsonResponse({"error": "You cannot propose posts."}, status=403)
    try:
        story = StoryPage.objects.get(pk=int(request.POST["story"]))
        account = ChannelAccount.objects.get(pk=int(request.POST["account"]))
        related_ids = [int(value) for value in request.POST.getlist("related") if value][:2]
    except (KeyError, ValueError, StoryPage.DoesNotExist, ChannelAccount.DoesNotExist):
        return JsonResponse({"error": "Send a story, an account and a text."}, status=400)
    found = StoryPage.objects.live().in_bulk(related_ids)
    # In id order, as the publisher fills {related_url} and {related_url_2}.
    related = [found[pk] for pk in sorted(found)]
    template = request.POST.get("text", "")
    result = posts.check_text(template, story, account, related)
    return JsonResponse(check_summary(result, template, related))


# --- Picking a story to syndicate ------------------------------------------------------
class PickStoryView(WagtailAdminTemplateMixin, TemplateView):
    """Live stories, newest first, searchable by title: the way in for social managers,
    who need not have edit rights on the page tree to reach a story's Syndicate button."""

    template_name = "syndication/admin/pick_story.html"
    page_title = "Syndicate a story"
    header_icon = "globe"
    per_page = 20

    def dispatch(self, request, *args, **kwargs):
        if not posts.can_propose(request.user):
            return refuse(request, "You cannot propose posts.")
        return super().dispatch(request, *args, **kwargs)

    def get_context_data(self, **kwargs):
        query = self.request.GET.get("q", "").strip()[:200]
        stories = StoryPage.objects.live().order_by("-first_published_at", "-pk")
        if query:
            stories = stories.filter(title__icontains=query)
        page = Paginator(stories.only("pk", "title", "first_published_at"), self.per_page).get_page(
            self.request.GET.get("p")
        )
        counts = dict(
            SyndicationPost.objects.filter(story_id__in=[story.pk for story in page])
            .exclude(state=states.CANCELLED)
            .values_list("story_id")
            .annotate(count=Count("pk"))
        )
        return super().get_context_data(
            query=query,
            page_obj=page,
            rows=[(story, counts.get(story.pk, 0)) for story in page],
            **kwargs,
        )
