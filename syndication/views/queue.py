"""The post queue: what goes out when and what happened, a post in full, and the
actions people take on one (schedule, retry, reschedule, cancel)."""

from django import forms
from django.core.exceptions import ValidationError
from django.db.models import Case, F, IntegerField, OuterRef, Subquery, Value, When
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect
from django.urls import reverse
from django.utils.functional import cached_property
from django.utils.html import format_html, format_html_join
from django.utils.http import url_has_allowed_host_and_scheme, urlencode
from django.utils.text import Truncator
from django.views.generic import FormView

from wagtail.admin import messages
from wagtail.admin.filters import WagtailFilterSet
from wagtail.admin.ui.menus import MenuItem
from wagtail.admin.ui.tables import Column, StatusTagColumn, TitleColumn
from wagtail.admin.views.generic import IndexView, InspectView
from wagtail.admin.views.generic.base import WagtailAdminTemplateMixin
from wagtail.admin.widgets.button import Button

import django_filters

from cms.admin_ui import IdChoiceFilter, LocalTimeColumn, local_time
from stories.models import StoryPage

from .. import posts, states
from ..engagement.models import ChannelMetricSnapshot
from ..forms import QueueActionForm, preview
from ..links import web_url
from ..models import ChannelAccount, PostAttempt, SyndicationPost
from ..story_pictures import preview_spec
from .base import refuse

QUEUE_INDEX = "syndication_posts:index"

ACTION_LABELS = {
    "schedule": ("Schedule", "calendar-check"),
    "retry": ("Retry", "resubmit"),
    "reschedule": ("Reschedule", "calendar-alt"),
    "cancel": ("Cancel", "cross"),
}


def queue_url(**filters) -> str:
    url = reverse(QUEUE_INDEX)
    return f"{url}?{urlencode(filters, doseq=True)}" if filters else url


class LinkColumn(Column):
    def __init__(self, name, text, **kwargs):
        super().__init__(name, **kwargs)
        self.text = text

    def get_value(self, instance):
        url = web_url(super().get_value(instance))  # http(s) only, whatever was stored
        if not url:
            return ""
        return format_html('<a href="{}" target="_blank" rel="noopener">{}</a>', url, self.text)


#: What the network last reported for a published post (its latest snapshot), as the
#: queue shows it: (annotation, field, one, many).
REACTIONS = [
    ("reaction_replies", "replies", "reply", "replies"),
    ("reaction_reposts", "reposts", "repost", "reposts"),
    ("reaction_likes", "likes", "like", "likes"),
]


def with_reactions(queryset):
    """Each post with its latest metric snapshot's figures (``None`` before the first),
    in the listing's one query."""
    latest = ChannelMetricSnapshot.objects.filter(post_id=OuterRef("pk")).order_by(
        "-taken_at", "-pk"
    )
    return queryset.annotate(
        **{name: Subquery(latest.values(field)[:1]) for name, field, _, _ in REACTIONS}
    )


def reactions_label(post) -> str:
    """ "2 replies · 1 repost · 5 likes"; "" when the network has reported nothing yet."""
    figures = [(getattr(post, name, None), one, many) for name, _, one, many in REACTIONS]
    if all(value is None for value, _, _ in figures):
        return ""
    return " · ".join(f"{value or 0} {one if value == 1 else many}" for value, one, many in figures)


def story_label(post) -> str:
    """The story's title; an answer to a reply in the conversation says so."""
    return f"Answer · {post.story.title}" if post.reply_to_ref else post.story.title


class PostFilterSet(WagtailFilterSet):
    account = IdChoiceFilter(
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
    story = IdChoiceFilter(
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
        return with_reactions(super().get_base_queryset().select_related("story", "account"))

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
                accessor=story_label,
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
            Column("reactions", label="Reactions", accessor=reactions_label),
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
        spec = preview_spec(self.object.account.network)
        context["pictures"] = [
            {
                "picture": picture,
                "preview": preview(picture.image, spec) if picture.image else None,
            }
            for picture in self.object.pictures.select_related("image").order_by("role", "position")
        ]
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
