"""The "Next 24 hours" dashboard panel for people who follow the post queue."""

import datetime

from django.urls import reverse
from django.utils import timezone
from django.utils.http import urlencode

from wagtail.admin.ui.components import Component

from . import states
from .models import ChannelAccount, SyndicationPost

WINDOW = datetime.timedelta(hours=24)
SHOWN = 10


class NextPostsPanel(Component):
    name = "syndication_next_posts"
    template_name = "syndication/admin/next_posts_panel.html"
    # After Wagtail's own moderation panels (210, 220), before recent edits (250).
    order = 230

    def get_context_data(self, parent_context):
        request = parent_context["request"]
        now = timezone.now()
        upcoming = (
            SyndicationPost.objects.filter(
                state__in=(states.SCHEDULED, states.PUBLISHING, states.UNCONFIRMED),
                scheduled_at__gte=now - datetime.timedelta(minutes=30),
                scheduled_at__lt=now + WINDOW,
            )
            .select_related("story", "account")
            .order_by("scheduled_at", "pk")
        )
        queue = reverse("syndication_posts:index")
        attention = SyndicationPost.objects.filter(state__in=states.NEEDS_ATTENTION).count()
        reconnect = list(
            ChannelAccount.objects.filter(status=ChannelAccount.Status.NEEDS_RECONNECT)
        )
        can_manage_accounts = request.user.has_perm("syndication.add_channelaccount")
        shown = list(upcoming[: SHOWN + 1])
        return {
            "posts": [
                {
                    "at": timezone.localtime(post.scheduled_at),
                    "story": post.story.title,
                    "account": post.account,
                    "state": post.state_label,
                    "url": reverse("syndication_posts:inspect", args=[post.pk]),
                }
                for post in shown[:SHOWN]
            ],
            "more": upcoming.count() - SHOWN if len(shown) > SHOWN else 0,
            "attention": attention,
            "attention_url": f"{queue}?{urlencode({'state': states.NEEDS_ATTENTION}, doseq=True)}",
            "reconnect": reconnect,
            "accounts_url": (
                f"{reverse('syndication_accounts:index')}?status="
                f"{ChannelAccount.Status.NEEDS_RECONNECT}"
                if can_manage_accounts
                else ""
            ),
            "queue_url": queue,
        }
