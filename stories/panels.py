from django import forms
from django.urls import reverse

from wagtail.admin.panels import Panel


class VoiceCheckPanel(Panel):
    """Shows the voice check of the story being written, updated as the editor types."""

    class BoundPanel(Panel.BoundPanel):
        template_name = "stories/admin/voice_check_panel.html"

        def get_context_data(self, parent_context=None):
            context = super().get_context_data(parent_context)
            context["endpoint"] = reverse("stories_voice_check")
            context["page_id"] = self.instance.pk or ""
            parent = getattr(self.form, "parent_page", None)
            context["parent_id"] = parent.pk if parent else ""
            return context

        @property
        def media(self):
            return forms.Media(
                js=["stories/js/voice-check.js"],
                css={"all": ["stories/css/voice-check.css"]},
            )
