"""The conversation on Wagtail's dashboard: open alerts, what is unread, the newest replies."""

from django.urls import reverse

from wagtail.admin.ui.components import Component

from .models import ConversationAlert, ConversationItem, InboxState, Tone
from .views.inbox import WRITTEN

SHOWN = 5


class ConversationPanel(Component):
    name = "conversation_panel"
    template_name = "conversation/admin/dashboard_panel.html"
    # After the post queue's panel (230), before engagement (240).
    order = 235

    def get_context_data(self, parent_context):
        unread = ConversationItem.objects.visible().filter(
            kind__in=WRITTEN, state=InboxState.UNREAD
        )
        inbox = reverse("conversation_inbox:index")
        return {
            "alerts": list(
                ConversationAlert.objects.filter(acknowledged_at__isnull=True).select_related(
                    "story"
                )[:10]
            ),
            "unread": unread.count(),
            "complaints": unread.filter(tone=Tone.COMPLAINT).count(),
            "latest": [
                (item, reverse("conversation_thread", args=[item.pk]))
                for item in unread.select_related("post__story", "post__account")[:SHOWN]
            ],
            "inbox_url": inbox,
            "unread_url": f"{inbox}?state={InboxState.UNREAD}",
            "complaints_url": f"{inbox}?state={InboxState.UNREAD}&tone={Tone.COMPLAINT}",
        }
