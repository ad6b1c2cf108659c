"""The inbox: every reply and quote our posts drew, newest first, with its tone and state
(docs/conversation.md, "The inbox"). Filters by network, story, post, interest, tone,
state and kind; open alerts sit above the listing."""

from django import forms
from django.urls import reverse
from django.utils.functional import cached_property
from django.utils.html import format_html
from django.utils.text import Truncator

from wagtail.admin.filters import WagtailFilterSet
from wagtail.admin.ui.tables import Column, StatusTagColumn, TitleColumn
from wagtail.admin.views.generic import IndexView

import django_filters

from cms.admin_ui import IdChoiceFilter, LocalTimeColumn
from stories.models import AudienceInterest, StoryPage
from syndication.models import Network, SyndicationPost

from ..models import ConversationAlert, ConversationItem, InboxState, ItemKind, Tone
from ..permissions import can_acknowledge

INBOX_INDEX = "conversation_inbox:index"
#: What the inbox lists: things people wrote. Boosts and likes are counted in the thread.
WRITTEN = (ItemKind.REPLY, ItemKind.QUOTE)


class InboxFilterSet(WagtailFilterSet):
    state = django_filters.MultipleChoiceFilter(
        choices=InboxState.choices, label="State", widget=forms.CheckboxSelectMultiple
    )
    tone = django_filters.MultipleChoiceFilter(
        choices=Tone.choices, label="Tone", widget=forms.CheckboxSelectMultiple
    )
    network = django_filters.MultipleChoiceFilter(
        choices=Network.choices, label="Network", widget=forms.CheckboxSelectMultiple
    )
    kind = django_filters.MultipleChoiceFilter(
        choices=[(kind.value, kind.label) for kind in WRITTEN],
        label="Kind",
        widget=forms.CheckboxSelectMultiple,
    )
    # Numbers, not selects: a site can have thousands of stories and posts.
    story = IdChoiceFilter(
        field_name="post__story",
        queryset=StoryPage.objects.all(),
        label="Story id",
        widget=forms.NumberInput(attrs={"min": 1}),
    )
    post = IdChoiceFilter(
        queryset=SyndicationPost.objects.all(),
        label="Post id",
        widget=forms.NumberInput(attrs={"min": 1}),
    )
    interest = IdChoiceFilter(
        field_name="post__story__interests",
        queryset=AudienceInterest.objects.all(),
        label="Interest",
        empty_label="Any interest",
        distinct=True,
    )

    class Meta:
        model = ConversationItem
        fields = []


def thread_url(item) -> str:
    return reverse("conversation_thread", args=[item.pk])


class SaidColumn(TitleColumn):
    """Who said what: the author and the first words, linking to the thread."""

    def get_value(self, instance):
        who = instance.author_name or instance.author_handle or "Someone"
        return f"{who}: {Truncator(instance.text).chars(140)}"


class StoryColumn(Column):
    def get_value(self, instance):
        story = instance.post.story
        url = reverse(INBOX_INDEX) + f"?story={story.pk}"
        return format_html('<a href="{}">{}</a>', url, story.title)


class InboxIndexView(IndexView):
    page_title = "Inbox"
    template_name = "conversation/admin/inbox.html"
    search_fields = ["text", "author_name", "author_handle"]
    search_backend_name = None
    default_ordering = "-created_at"

    def get_base_queryset(self):
        return (
            ConversationItem.objects.visible()
            .filter(kind__in=WRITTEN)
            .select_related("post__story", "post__account")
        )

    def order_queryset(self, queryset):
        if self.ordering:
            return super().order_queryset(queryset)
        return queryset.order_by("-created_at", "-pk")

    @cached_property
    def columns(self):
        return [
            SaidColumn("text", label="What they said", get_url=thread_url, classname="title"),
            StatusTagColumn(
                "tone",
                label="Tone",
                accessor="get_tone_display",
                sort_key="tone",
                primary=lambda item: item.tone == Tone.COMPLAINT,
            ),
            StoryColumn("story", label="Story"),
            Column("network", label="Network", accessor=lambda item: item.post.account),
            StatusTagColumn(
                "state",
                label="State",
                accessor="get_state_display",
                sort_key="state",
                primary=lambda item: item.state == InboxState.UNREAD,
            ),
            LocalTimeColumn("created_at", label="Written", sort_key="created_at"),
        ]

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["alerts"] = list(
            ConversationAlert.objects.filter(acknowledged_at__isnull=True).select_related("story")
        )
        context["can_acknowledge"] = can_acknowledge(self.request.user)
        return context
