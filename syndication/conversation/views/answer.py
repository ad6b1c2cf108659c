"""Answer one reply (or quote) from Storyloom: the text, the voice check with its reasons,
and a reason to send it anyway when the check reads it as selling. Posting makes the
answer (``answers.answer``); the publishing engine sends it (docs/conversation.md,
"Answering")."""

from django.core.exceptions import ValidationError
from django.shortcuts import get_object_or_404, redirect
from django.urls import NoReverseMatch, reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.generic import FormView

from wagtail.admin import messages
from wagtail.admin.views.generic.base import WagtailAdminTemplateMixin

from syndication.views.base import refuse

from .. import answers
from ..forms import AnswerForm
from ..models import ConversationItem


def thread_url(item) -> str:
    """The item's thread, when that screen is installed; else ""."""
    try:
        return reverse("conversation_thread", args=[item.pk])
    except NoReverseMatch:
        return ""


class AnswerView(WagtailAdminTemplateMixin, FormView):
    template_name = "conversation/admin/answer.html"
    page_title = "Answer"
    header_icon = "comment"
    form_class = AnswerForm

    def dispatch(self, request, pk):
        if not answers.can_answer(request.user):
            return refuse(request, "Only social managers can answer replies.")
        self.item = get_object_or_404(
            ConversationItem.objects.select_related("post__story", "post__account"), pk=pk
        )
        return super().dispatch(request, pk)

    def get_page_subtitle(self):
        return self.item.author_name or self.item.author_handle or "A reply"

    def get_form_kwargs(self):
        return {**super().get_form_kwargs(), "item": self.item}

    def get(self, request, *args, **kwargs):
        form = self.get_form()
        if not answers.refusal(self.item):
            form.check_initial()
        return self.render_to_response(self.get_context_data(form=form))

    def form_valid(self, form):
        data = form.cleaned_data
        try:
            answers.answer(
                self.item,
                data["text"],
                user=self.request.user,
                voice_override_reason=data.get("override_reason", ""),
            )
        except ValidationError as error:
            for message in error.messages:
                form.add_error(None, message)
            return self.form_invalid(form)
        messages.success(
            self.request,
            f"Answer to {self.get_page_subtitle()} scheduled; it goes out in a moment.",
        )
        return redirect(self.next_url())

    def form_invalid(self, form):
        messages.error(self.request, "The answer was not sent; correct the problems below.")
        return super().form_invalid(form)

    def next_url(self) -> str:
        """The thread, when it is installed; else where the person came from."""
        url = thread_url(self.item)
        if url:
            return url
        back = self.request.POST.get("next") or self.request.META.get("HTTP_REFERER", "")
        if back and url_has_allowed_host_and_scheme(
            back, allowed_hosts={self.request.get_host()}, require_https=self.request.is_secure()
        ):
            return back
        return reverse("conversation_answer", args=[self.item.pk])

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context.update(
            item=self.item,
            refusal=answers.refusal(self.item),
            thread_url=thread_url(self.item),
            earlier=list(self.item.answers.select_related("post", "created_by")),
        )
        return context
