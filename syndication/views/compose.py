"""Syndicate a story: one post per account, drafted or scheduled together, and the
length and voice check the form asks for as people type."""

from django.core.exceptions import ObjectDoesNotExist, ValidationError
from django.db import transaction
from django.http import JsonResponse
from django.shortcuts import get_object_or_404, redirect
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST
from django.views.generic import TemplateView

from wagtail.admin import messages
from wagtail.admin.views.generic.base import WagtailAdminTemplateMixin
from wagtail.images import get_image_model

from cms.admin_ui import local_time
from stories.models import StoryPage

from .. import pictures, posts, slots, story_pictures
from ..forms import ComposeForm, check_summary, picture_traits, preview, remarks_for
from ..models import ChannelAccount
from ..sendtimes import advice_for
from ..templatetags.syndication_tags import forget_syndicated_stories
from .base import can_manage_accounts, refuse
from .queue import queue_url


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
        queue = request.POST.get("action") == "queue"
        form = self.form(request.POST)
        if form.is_valid():
            created = self.save(form, schedule, queue=queue)
            if created:
                message = queued_message(created) if queue else None
                messages.success(request, message or self.success_message(created, schedule))
                return redirect(queue_url(story=self.story.pk))
        messages.error(request, "Nothing was saved; correct the problems below.")
        return self.render_to_response(self.get_context_data(form=form), status=200)

    def save(self, form, schedule, queue=False):
        data = form.cleaned_data
        reason = data.get("override_reason", "").strip()
        salesy = {account.pk for account in form.salesy}
        related = form.related()
        created = []
        try:
            with transaction.atomic():
                for account in form.included():
                    try:
                        # "Add to the queue": the account's next free posting slot.
                        when = slots.take_next_free(account) if queue else data.get("when")
                        created.append(
                            posts.create_post(
                                story=self.story,
                                account=account,
                                text=data[form.text_name(account)],
                                user=self.request.user,
                                when=when,
                                schedule=schedule,
                                related=related,
                                thread_with_previous=data.get("thread_with_previous", False),
                                voice_override_reason=reason if account.pk in salesy else "",
                                audience_interest=data.get(form.interest_name(account)),
                                pictures=form.pictures_chosen.get(account.pk, []),
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
            picture_preview_url=reverse("syndication_admin:picture_preview"),
            queue_url=queue_url(story=self.story.pk),
            can_manage_accounts=can_manage_accounts(self.request.user),
            send_time_advice=advice_for(self.accounts),
        )
        return context


def queued_message(created) -> str:
    """Where each post landed in its account's queue."""
    where = "; ".join(f"{post.account} at {local_time(post.scheduled_at)}" for post in created)
    noun = "post" if len(created) == 1 else "posts"
    return f"{len(created)} {noun} added to the queue: {where}."


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


@require_GET
def picture_preview(request):
    """A library picture as ``account``'s network shows it, and the alt text it starts
    with, for the compose form when someone chooses one."""
    if not posts.can_propose(request.user):
        return JsonResponse({"error": "You cannot propose posts."}, status=403)
    try:
        account = ChannelAccount.objects.get(pk=int(request.GET["account"]))
        image = get_image_model().objects.get(pk=int(request.GET["image"]))
    except (KeyError, ValueError, OverflowError, ChannelAccount.DoesNotExist):
        return JsonResponse({"error": "Send an account and a picture."}, status=400)
    except ObjectDoesNotExist:
        return JsonResponse({"error": "That picture is not in the image library."}, status=404)
    shown = preview(image, story_pictures.preview_spec(account.network))
    remarks = remarks_for(picture_traits(image), pictures.limits_for(account))
    if not shown:
        remarks.insert(0, "No preview: the picture's file cannot be read.")
    return JsonResponse(
        {
            "title": image.title,
            "alt": story_pictures.image_alt(image),
            "preview": shown,
            "error": " ".join(remarks),
        }
    )
