"""Editions in Wagtail's admin: Newsletter → Editions.

A ``ModelViewSet``: write an edition (title, intro, candidate window, stories per
reader, send time), preview what one subscriber would get, then "Send now" or
"Schedule"; "Cancel" stops a scheduled or sending one. While it goes out, the progress
page shows sent / total, what is left and failures grouped by the server's reason,
refreshed every two seconds from a small JSON view.

Every change of status goes through ``syndication.newsletter.lifecycle`` (its state
machine); these views only ask and report. An edition whose window holds no live story
cannot be sent or scheduled: the social manager is told why and nothing changes.

Gathered by ``EditionViewSet`` (``viewsets.py``). Who may: social managers
(``newsletter.*_edition``, granted by the migrations).
"""

import datetime

from django import forms
from django.contrib.admin.utils import quote
from django.db import transaction
from django.db.models import Count, Q
from django.http import Http404, JsonResponse
from django.shortcuts import get_object_or_404, redirect
from django.urls import reverse
from django.utils import timezone
from django.utils.functional import cached_property
from django.views.generic import FormView, TemplateView, View

from wagtail.admin import messages
from wagtail.admin.forms import WagtailAdminModelForm
from wagtail.admin.ui.menus import MenuItem
from wagtail.admin.ui.tables import Column, StatusTagColumn
from wagtail.admin.views.generic import CreateView, DeleteView, EditView, IndexView
from wagtail.admin.views.generic.base import WagtailAdminTemplateMixin
from wagtail.admin.views.generic.permissions import PermissionCheckedMixin
from wagtail.admin.widgets import AdminDateTimeInput

from cms.admin_ui import LocalTimeColumn, local_time

from .. import candidates, composing, lifecycle, progress, tasks, voice
from ..models import Delivery, Edition, Subscriber

Status = Edition.Status
INDEX = "newsletter_editions:index"

ACTIONS = {
    # action: (button label, icon, what it did)
    "send": ("Send now", "mail", "is being sent"),
    "schedule": ("Schedule", "calendar-check", "is scheduled"),
    "cancel": ("Cancel", "cross", "was cancelled"),
}


def override_field(required: bool) -> forms.CharField:
    return forms.CharField(
        label="Send anyway because…",
        required=required,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text="Only when the voice check reads the title or intro as selling: why it "
        "should go out as it is. Kept with the edition, for these words only.",
    )


class EditionForm(WagtailAdminModelForm):
    """An edition's words and plan; the voice check reads its title and intro.

    Findings are errors on their field only when saving would leave selling words
    scheduled without a reason; a draft is saved with a warning (``voice_warning``) and
    asked for the reason when it is sent or scheduled.
    """

    voice_override_reason = override_field(required=False)

    class Meta:
        model = Edition
        fields = ["title", "intro", "window_days", "k", "send_at"]
        widgets = {"send_at": AdminDateTimeInput}
        help_texts = {
            "title": "The email's subject and its heading.",
            "intro": "A few words above the stories; the same for every reader.",
            "send_at": "When it goes out once scheduled. Empty: send it by hand.",
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.voice_result = None
        given = self.instance.voice_override_reason
        if given:
            # Not filled in again: a reason covers the words it was given for.
            field = self.fields["voice_override_reason"]
            field.help_text += f" Given for the words as they are now: “{given}”."

    def clean_window_days(self):
        days = self.cleaned_data["window_days"]
        if days < 1:
            raise forms.ValidationError("The window must be at least one day.")
        return days

    def clean_k(self):
        k = self.cleaned_data["k"]
        if not 1 <= k <= 30:
            raise forms.ValidationError("Each reader gets between 1 and 30 stories.")
        return k

    def clean(self):
        cleaned = super().clean()
        self._check_voice(cleaned)
        if self.instance.pk and self.instance.status == Status.SCHEDULED:
            # Still scheduled after saving: it must have a time and something to send.
            if not cleaned.get("send_at"):
                self.add_error("send_at", "A scheduled edition needs a send time.")
            if cleaned.get("window_days"):
                probe = Edition(window_days=cleaned["window_days"])
                try:
                    candidates.check_candidates(probe)
                except candidates.NoCandidates as error:
                    self.add_error("window_days", str(error))
        return cleaned

    def _check_voice(self, cleaned):
        if "title" not in cleaned:
            return
        result = voice.check_edition(cleaned["title"], cleaned.get("intro", ""))
        self.voice_result = result
        reason = cleaned.get("voice_override_reason", "").strip()
        if not result.is_salesy:
            reason = ""
        elif not reason and voice.is_overridden(self.instance, result):
            return  # the words a reason was given for, unchanged
        elif not reason and self.instance.status == Status.SCHEDULED:
            # Saving keeps it scheduled: these words would go out without a reason.
            for name, problem in voice.field_problems(result).items():
                self.add_error(name, problem)
            self.add_error(
                "voice_override_reason",
                "This edition is scheduled and the voice check reads its words as selling. "
                "Rewrite them, or say why they should go out anyway.",
            )
        self.instance.voice_override_reason = reason
        self.instance.voice_override_hash = result.text_hash if reason else ""

    @property
    def voice_warning(self) -> str:
        """The findings of a saved edition that still needs a reason before it goes out."""
        result = self.voice_result
        if result is None or not result.findings or voice.is_overridden(self.instance, result):
            return ""
        where = "; ".join(
            f"{voice.FIELDS[name]}: {problem}"
            for name, problem in voice.field_problems(result).items()
        )
        if result.is_salesy:
            return (
                f"The voice check reads this edition as selling. {where} It is not sent or "
                "scheduled until it is rewritten or a reason is given."
            )
        return f"The voice check found sales speak. {where}"


def sent_of_total(edition) -> str:
    if edition.status in (Status.DRAFT, Status.SCHEDULED) or not edition.total:
        return ""
    return f"{edition.sent_count} / {edition.total}"


def actions_for(edition) -> list[str]:
    return [name for name, states in lifecycle.EDITION_ACTIONS.items() if edition.status in states]


class EditionIndexView(IndexView):
    page_title = "Editions"
    add_item_label = "New edition"

    def get_base_queryset(self):
        sent = Count("deliveries", filter=Q(deliveries__state=Delivery.State.SENT))
        return super().get_base_queryset().annotate(sent_count=sent)

    @cached_property
    def columns(self):
        return [
            self._get_title_column("title"),
            StatusTagColumn(
                "status",
                label="Status",
                accessor="get_status_display",
                sort_key="status",
                primary=lambda edition: edition.status in (Status.SCHEDULED, Status.SENDING),
            ),
            LocalTimeColumn("send_at", label="Send time", sort_key="send_at", empty="Not set"),
            Column("progress", label="Sent", accessor=sent_of_total),
        ]

    def get_edit_url(self, instance):
        if instance.status in lifecycle.EDITABLE:
            return super().get_edit_url(instance)
        return reverse("newsletter_editions:progress", args=[quote(instance.pk)])

    def get_list_more_buttons(self, instance):
        buttons = [
            MenuItem(
                "Progress",
                url=reverse("newsletter_editions:progress", args=[instance.pk]),
                icon_name="view",
                priority=5,
            ),
            MenuItem(
                "Preview",
                url=reverse("newsletter_editions:preview", args=[instance.pk]),
                icon_name="mail",
                priority=6,
            ),
        ]
        if self.user_has_permission("change"):
            for priority, action in enumerate(actions_for(instance), start=7):
                label, icon, _ = ACTIONS[action]
                buttons.append(
                    MenuItem(
                        label,
                        url=reverse("newsletter_editions:action", args=[instance.pk, action]),
                        icon_name=icon,
                        priority=priority,
                    )
                )
        return [*buttons, *super().get_list_more_buttons(instance)]


def warn_about_voice(request, form) -> None:
    if form.voice_warning:
        messages.warning(request, form.voice_warning)


class EditionCreateView(CreateView):
    def save_instance(self):
        instance = self.form.save(commit=False)
        instance.created_by = self.request.user
        instance.save()
        warn_about_voice(self.request, self.form)
        return instance

    def get_success_url(self):
        return reverse("newsletter_editions:preview", args=[self.object.pk])

    def get_success_message(self, instance):
        return f"“{instance}” saved as a draft: check the preview, then send or schedule it."


class EditionEditView(EditView):
    def dispatch(self, request, *args, **kwargs):
        edition = get_object_or_404(Edition, pk=kwargs.get("pk"))
        if edition.status not in lifecycle.EDITABLE:
            messages.warning(
                request,
                f"“{edition}” is {edition.get_status_display().lower()}: it cannot be changed.",
            )
            return redirect("newsletter_editions:progress", edition.pk)
        return super().dispatch(request, *args, **kwargs)

    def save_instance(self):
        instance = super().save_instance()
        warn_about_voice(self.request, self.form)
        return instance


class EditionDeleteView(DeleteView):
    def dispatch(self, request, *args, **kwargs):
        edition = get_object_or_404(Edition, pk=kwargs.get("pk"))
        if edition.status in (Status.SENDING, Status.SENT):
            messages.error(
                request,
                "A sending or sent edition is kept: its deliveries and picks are what "
                "clicks are counted against. Cancel it instead.",
            )
            return redirect("newsletter_editions:progress", edition.pk)
        return super().dispatch(request, *args, **kwargs)


class EditionViewMixin(PermissionCheckedMixin, WagtailAdminTemplateMixin):
    header_icon = "mail"

    def setup(self, request, *args, **kwargs):
        super().setup(request, *args, **kwargs)
        self.edition = get_object_or_404(Edition, pk=kwargs["pk"])

    def get_page_subtitle(self):
        return str(self.edition)

    def get_breadcrumbs_items(self):
        return [
            *self.breadcrumbs_items,
            {"url": reverse(INDEX), "label": "Editions"},
            {"url": "", "label": self.get_page_title()},
        ]


class ScheduleForm(forms.Form):
    send_at = forms.DateTimeField(label="Send at", widget=AdminDateTimeInput)

    def clean_send_at(self):
        when = self.cleaned_data["send_at"]
        if when < timezone.now() - datetime.timedelta(minutes=1):
            raise forms.ValidationError("Pick a time that has not passed.")
        return when


class EditionActionView(EditionViewMixin, FormView):
    """Send now, schedule or cancel one edition: GET asks, POST does it."""

    permission_required = "change"
    template_name = "newsletter/admin/edition_action.html"

    def setup(self, request, *args, **kwargs):
        super().setup(request, *args, **kwargs)
        self.action = kwargs["action"]
        if self.action not in ACTIONS:
            raise Http404("No such action.")
        self.voice_result = self.voice_block = None
        if self.action != "cancel":
            edition = self.edition
            self.voice_result = voice.check_edition(edition.title, edition.intro)
            self.voice_block = voice.sending_block(edition, self.voice_result)

    def get_page_title(self):
        return ACTIONS[self.action][0]

    def get(self, request, *args, **kwargs):
        return self._refuse() or super().get(request, *args, **kwargs)

    def post(self, request, *args, **kwargs):
        return self._refuse() or super().post(request, *args, **kwargs)

    def _refuse(self):
        if self.action in actions_for(self.edition):
            return None
        status = self.edition.get_status_display().lower()
        messages.error(self.request, f"“{self.edition}” is {status}: it cannot be {self.did}.")
        return redirect(INDEX)

    @property
    def did(self) -> str:
        return {"send": "sent now", "schedule": "scheduled", "cancel": "cancelled"}[self.action]

    def get_form_class(self):
        return ScheduleForm if self.action == "schedule" else forms.Form

    def get_form(self, form_class=None):
        form = super().get_form(form_class)
        if self.voice_block:
            # As compose does for a post: selling words go out only with a reason.
            form.fields["voice_override_reason"] = override_field(required=True)
        return form

    def get_initial(self):
        return {"send_at": self.edition.send_at or timezone.now() + datetime.timedelta(hours=1)}

    def get_context_data(self, **kwargs):
        return super().get_context_data(
            edition=self.edition,
            action=self.action,
            action_label=ACTIONS[self.action][0],
            subscribers=Subscriber.objects.filter(status=Subscriber.Status.ACTIVE).count(),
            candidates=candidates.candidate_stories(self.edition).count(),
            voice_block=self.voice_block,
            voice_problems=(
                [
                    (voice.FIELDS[name], problem)
                    for name, problem in voice.field_problems(self.voice_result).items()
                ]
                if self.voice_block
                else []
            ),
            **kwargs,
        )

    def form_valid(self, form):
        edition = self.edition
        if self.action == "cancel":
            if lifecycle.cancel_edition(edition.pk):
                messages.success(self.request, f"“{edition}” was cancelled.")
            else:
                messages.warning(self.request, f"“{edition}” changed meanwhile; nothing done.")
            return redirect(INDEX)
        try:
            candidates.check_candidates(edition)
        except candidates.NoCandidates as error:
            messages.error(self.request, f"“{edition}” was not {self.did}: {error}")
            return redirect(INDEX)
        when = timezone.now() if self.action == "send" else form.cleaned_data["send_at"]
        override = {}
        if self.voice_block:
            override = {
                "voice_override_reason": form.cleaned_data["voice_override_reason"].strip(),
                "voice_override_hash": self.voice_result.text_hash,
            }
        if not lifecycle.move_edition(edition.pk, "schedule", send_at=when, error="", **override):
            messages.warning(self.request, f"“{edition}” changed meanwhile; nothing done.")
            return redirect(INDEX)
        if self.action == "send":
            # Beat would start it within a minute; no need to wait. Claiming is a
            # conditional UPDATE, so beat starting it at the same moment is harmless.
            transaction.on_commit(tasks.send_due_editions.delay)
            messages.success(self.request, f"“{edition}” is going out now.")
            return redirect("newsletter_editions:progress", edition.pk)
        messages.success(self.request, f"“{edition}” is scheduled for {local_time(when)}.")
        return redirect(INDEX)


#: Uncertain deliveries listed on the progress page (the count covers them all).
UNCERTAIN_LISTED = 100


class EditionProgressView(EditionViewMixin, TemplateView):
    permission_required = "view"
    template_name = "newsletter/admin/edition_progress.html"
    page_title = "Progress"

    def get_context_data(self, **kwargs):
        numbers = progress.progress(self.edition)
        uncertain = []
        if numbers["uncertain"]:
            uncertain = list(progress.uncertain_deliveries(self.edition.pk)[:UNCERTAIN_LISTED])
        may_resend = self.request.user.has_perm("newsletter.change_edition")
        return super().get_context_data(
            edition=self.edition,
            progress=numbers,
            uncertain=uncertain,
            uncertain_more=max(0, numbers["uncertain"] - len(uncertain)),
            resend_url=(
                reverse("newsletter_editions:resend", args=[self.edition.pk])
                if uncertain and may_resend
                else ""
            ),
            data_url=reverse("newsletter_editions:progress_data", args=[self.edition.pk]),
            actions=[
                (name, *ACTIONS[name][:2])
                for name in actions_for(self.edition)
                if self.request.user.has_perm("newsletter.change_edition")
            ],
            **kwargs,
        )


class EditionResendView(PermissionCheckedMixin, View):
    """Send the edition again to its uncertain deliveries: one POST from the progress page."""

    permission_required = "change"
    http_method_names = ["post"]

    def post(self, request, pk):
        edition = get_object_or_404(Edition, pk=pk)
        count = progress.resend_uncertain(edition.pk)
        if count:
            messages.success(
                request, f"“{edition}” is going out again to {count} uncertain deliveries."
            )
        else:
            messages.warning(request, f"“{edition}” has no uncertain delivery to send again.")
        return redirect("newsletter_editions:progress", edition.pk)


class EditionProgressDataView(PermissionCheckedMixin, View):
    """The progress page's numbers, polled while an edition goes out."""

    permission_required = "view"

    def get(self, request, pk):
        edition = get_object_or_404(Edition, pk=pk)
        return JsonResponse(progress.progress(edition))


class EditionPreviewView(EditionViewMixin, TemplateView):
    """What one subscriber (the first active one, or ``?subscriber=<id>``) would get."""

    permission_required = "view"
    template_name = "newsletter/admin/edition_preview.html"
    page_title = "Preview"

    def get_context_data(self, **kwargs):
        subscribers = Subscriber.objects.filter(status=Subscriber.Status.ACTIVE)
        chosen = self.request.GET.get("subscriber", "")
        subscriber = (
            subscribers.filter(pk=chosen).first() if chosen.isdigit() else subscribers.first()
        )
        context = {"edition": self.edition, "subscriber": subscriber, "error": ""}
        try:
            preview = composing.preview(self.edition, subscriber)
        except candidates.NoCandidates as error:
            context["error"] = str(error)
        else:
            titles = {card.story_id: card.title for card in preview.cards}
            context["preview"] = preview
            context["picks"] = [
                {"pick": pick, "title": titles.get(pick.story_id, "")} for pick in preview.picks
            ]
        context["actions"] = [
            (name, *ACTIONS[name][:2])
            for name in actions_for(self.edition)
            if self.request.user.has_perm("newsletter.change_edition")
        ]
        return super().get_context_data(**context, **kwargs)
