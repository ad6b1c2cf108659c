"""One reply in its context: our post, the replies above it, the item with its tone and
the words that decided it, the replies under it, our answers; and what people do with it
(mark read, unread or done; approve or hide it for the story page; switch the story's
"What people said" on or off; acknowledge an alert)."""

from django.core.exceptions import PermissionDenied
from django.db.models import Count
from django.http import Http404, HttpResponseForbidden
from django.shortcuts import get_object_or_404, redirect
from django.urls import reverse
from django.utils.dateparse import parse_datetime
from django.utils.html import escape, format_html
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.safestring import mark_safe
from django.views import View
from django.views.generic import TemplateView

from wagtail.admin import messages
from wagtail.admin.views.generic.base import WagtailAdminTemplateMixin

from .. import alerts, answers, sanitise
from ..forms import AnswerForm
from ..models import (
    ConversationAlert,
    ConversationItem,
    InboxState,
    ItemKind,
    StoryConversation,
)
from ..permissions import can_acknowledge, can_answer, can_moderate, can_sort, can_view
from .inbox import INBOX_INDEX, WRITTEN

#: Replies shown under the item at most (a thread can hold thousands).
SHOWN_BELOW = 200


def highlight(text: str, spans) -> str:
    """``text`` escaped, with the ``[start, end]`` spans that decided its tone marked."""
    found = []
    for span in spans if isinstance(spans, list) else []:
        try:
            start, end = int(span[0]), int(span[1])
        except (TypeError, ValueError, IndexError, KeyError):
            continue  # a row written by something else: leave it unmarked
        found.append((start, end))
    parts, at = [], 0
    for start, end in sorted(found):
        if start < at or end <= start or end > len(text):
            continue  # overlapping or out of range: leave it unmarked
        parts.append(escape(text[at:start]))
        parts.append(format_html("<mark>{}</mark>", text[start:end]))
        at = end
    parts.append(escape(text[at:]))
    return mark_safe("".join(str(part) for part in parts))  # noqa: S308 (escaped above)


def safe_html(item) -> str:
    """The item's stored HTML, cleaned again at render time whatever wrote the row."""
    cleaned, _ = sanitise.clean_html(item.html or "")
    return mark_safe(cleaned)  # noqa: S308 (nh3's allowlist)


def _answer_form(item):
    """The answer form for the thread, or None when the item cannot be answered (a
    tombstone, no reference to answer, the account needs reconnecting: the thread says
    why)."""
    if answers.refusal(item):
        return None
    form = AnswerForm(item=item)
    form.check_initial()
    return form


class ThreadView(WagtailAdminTemplateMixin, TemplateView):
    template_name = "conversation/admin/thread.html"
    header_icon = "comment"

    def dispatch(self, request, *args, **kwargs):
        if not can_view(request.user):
            raise PermissionDenied
        return super().dispatch(request, *args, **kwargs)

    def get_page_title(self):
        return "Conversation"

    def get_breadcrumbs_items(self):
        return self.breadcrumbs_items + [
            {"url": reverse(INBOX_INDEX), "label": "Inbox"},
            {"url": "", "label": self.get_page_subtitle()},
        ]

    def get_page_subtitle(self):
        return self.item.author_name or self.item.author_handle or "A reply"

    def get(self, request, pk):
        self.item = get_object_or_404(
            ConversationItem.objects.visible().select_related("post__story", "post__account"),
            pk=pk,
            kind__in=WRITTEN,
        )
        if self.item.state == InboxState.UNREAD and can_sort(request.user):
            # Opening it is reading it.
            ConversationItem.objects.filter(pk=pk, state=InboxState.UNREAD).update(
                state=InboxState.READ
            )
            self.item.state = InboxState.READ
        return super().get(request, pk=pk)

    def get_context_data(self, **kwargs):
        item, user = self.item, self.request.user
        post = item.post
        written = list(
            ConversationItem.objects.visible()
            .filter(post=post, kind__in=WRITTEN)
            .order_by("created_at", "pk")
        )
        by_id = {row.remote_id: row for row in written}
        above, parent = [], by_id.get(item.parent_remote_id)
        while parent is not None and parent not in above and len(above) < 50:
            above.append(parent)
            parent = by_id.get(parent.parent_remote_id)
        above.reverse()
        below = _descendants(item, written)[:SHOWN_BELOW]
        counts = dict.fromkeys(ItemKind.values, 0)
        counted = ConversationItem.objects.visible().filter(post=post).values("kind")
        for row in counted.annotate(n=Count("pk")).order_by():
            counts[row["kind"]] = row["n"]
        setting = StoryConversation.objects.filter(story_id=post.story_id).first()
        context = super().get_context_data(**kwargs)
        context.update(
            item=item,
            post=post,
            story=post.story,
            above=[(row, safe_html(row)) for row in above],
            below=[(row, depth, safe_html(row)) for row, depth in below],
            item_html=safe_html(item),
            why=highlight(item.text, item.tone_words),
            counts=counts,
            answers=list(item.answers.select_related("post", "created_by")),
            alerts=list(
                ConversationAlert.objects.filter(
                    story_id=post.story_id, acknowledged_at__isnull=True
                ).select_related("story")
            ),
            shown_on_page=bool(setting and setting.show_on_page),
            can_sort=can_sort(user),
            can_answer=can_answer(user),
            answer_refusal=answers.refusal(item) if can_answer(user) else "",
            can_moderate=can_moderate(user),
            can_acknowledge=can_acknowledge(user),
            answer_form=_answer_form(item) if can_answer(user) else None,
            states=InboxState.choices,
            forget_reasons=FORGET_REASONS,
            inbox_url=reverse(INBOX_INDEX),
        )
        return context


def _descendants(item, written):
    """Replies under ``item`` at any depth, in thread order, with their depth (1 = direct)."""
    children = {}
    for row in written:
        children.setdefault(row.parent_remote_id, []).append(row)
    out, seen = [], set()
    stack = [(child, 1) for child in reversed(children.get(item.remote_id, []))]
    while stack:
        row, depth = stack.pop()
        if row.pk in seen:
            continue
        seen.add(row.pk)
        out.append((row, depth))
        stack.extend((child, depth + 1) for child in reversed(children.get(row.remote_id, [])))
    return out


def _back(request, fallback: str):
    target = request.POST.get("next", "")
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return redirect(target)
    return redirect(fallback)


class ItemStateView(View):
    """POST ``state``: unread, read or done."""

    http_method_names = ["post"]

    def post(self, request, pk):
        if not can_sort(request.user):
            return HttpResponseForbidden("You may not sort the inbox.")
        target = request.POST.get("state", "")
        if target not in InboxState.values:
            messages.error(request, "Choose unread, read or done.")
        else:
            moved = ConversationItem.objects.visible().filter(pk=pk).update(state=target)
            if not moved:
                raise Http404("No such reply (it may have been deleted on its network).")
            messages.success(request, f"Marked {InboxState(target).label.lower()}.")
        return _back(request, reverse("conversation_thread", args=[pk]))


class ModerateView(View):
    """POST ``action``: approve or hide the item for the story page."""

    http_method_names = ["post"]

    def post(self, request, pk):
        if not can_moderate(request.user):
            return HttpResponseForbidden("You may not approve or hide replies.")
        from .. import publicity

        item = get_object_or_404(ConversationItem.objects.select_related("post"), pk=pk)
        # Approve what the person saw: the version the thread showed them, if it said.
        seen = parse_datetime(request.POST.get("seen", "") or "")
        if seen is not None:
            item.updated_at = seen
        action = request.POST.get("action", "")
        try:
            if action == "approve":
                publicity.approve(item, request.user)
                messages.success(request, "Approved: it shows on the story page.")
            elif action == "hide":
                publicity.hide(item, request.user)
                messages.success(request, "Hidden from the story page.")
            else:
                messages.error(request, "Choose approve or hide.")
        except ValueError as error:
            messages.error(request, str(error))
        return _back(request, reverse("conversation_thread", args=[pk]))


class StoryShowView(View):
    """POST ``show``: 1 or 0, the story's "What people said" on or off."""

    http_method_names = ["post"]

    def post(self, request, story_id):
        if not can_moderate(request.user):
            return HttpResponseForbidden("You may not change what a story page shows.")
        from stories.models import StoryPage

        from .. import publicity

        story = get_object_or_404(StoryPage, pk=story_id)
        show = request.POST.get("show") == "1"
        publicity.show_on_page(story, show, request.user)
        messages.success(
            request,
            "Approved replies now show on the story page."
            if show
            else "The story page shows no replies now.",
        )
        return _back(request, reverse(INBOX_INDEX) + f"?story={story.pk}")


class AcknowledgeView(View):
    """POST: close an open alert."""

    http_method_names = ["post"]

    def post(self, request, pk):
        if not can_acknowledge(request.user):
            return HttpResponseForbidden("You may not acknowledge alerts.")
        alert = get_object_or_404(ConversationAlert, pk=pk)
        if alerts.acknowledge(alert, request.user):
            messages.success(request, "Alert acknowledged.")
        else:
            messages.warning(request, "Someone had already acknowledged that alert.")
        return _back(request, reverse(INBOX_INDEX))


class ForgetView(View):
    """POST ``confirm``: erase everything the item's author said or did about our posts
    on that network, and never collect it again (``privacy.forget``)."""

    http_method_names = ["post"]

    def post(self, request, pk):
        if not can_moderate(request.user):
            return HttpResponseForbidden("You may not erase what people said.")
        from .. import privacy

        item = get_object_or_404(ConversationItem.objects.visible(), pk=pk)
        if request.POST.get("confirm") != "yes":
            messages.error(request, "Tick the box to confirm they asked to be forgotten.")
            return redirect("conversation_thread", pk=pk)
        reason = request.POST.get("reason", "")
        reason = dict(FORGET_REASONS).get(reason, FORGET_REASONS[0][1])
        try:
            erased = privacy.forget(item, request.user, reason=reason)
        except privacy.Refused as error:
            messages.error(request, str(error))
            return redirect(INBOX_INDEX)
        messages.success(
            request,
            f"Forgotten: {erased} item{'s' if erased != 1 else ''} erased; nothing of theirs "
            "will be collected again.",
        )
        return redirect(INBOX_INDEX)


FORGET_REASONS = [
    ("erasure", "They asked to be erased"),
    ("objection", "They objected to being shown or kept"),
]
