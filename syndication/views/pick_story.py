"""Syndicate a story, starting from the story: live stories to pick from."""

from django.core.paginator import Paginator
from django.db.models import Count
from django.views.generic import TemplateView

from wagtail.admin.views.generic.base import WagtailAdminTemplateMixin

from stories.models import StoryPage

from .. import posts, states
from ..models import SyndicationPost
from .base import refuse


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
            SyndicationPost.objects.filter(
                story_id__in=[story.pk for story in page], reply_to_ref={}
            )
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
