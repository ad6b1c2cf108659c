"""A newcomer's first look, in a real Chromium, at the site ``make run`` starts.

The demo as ``make run`` loads it (``load_demo``: stories, the demo network with the
brand's posts and their conversation, sixty days of readers), served with a real Celery
worker and beat beside it. The newcomer reads: the home page, a story, "Continue the
story"; then signs in as the social manager and finds the product at work: the
dashboard's conversation and engaged stories, the engagement report's charts, the post
queue's published posts with what they drew, and the story page's conversation.
"""

import re

from django.core.management import call_command

import pytest

from stories.demo.loader import DEMO_PASSWORD
from stories.models import StoryLink, StoryPage
from syndication import states
from syndication.conversation.models import ConversationItem, StoryConversation
from syndication.demo import living
from syndication.models import SyndicationPost
from tests.browser.conftest import sign_in, worker_and_beat

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]

REACTIONS = re.compile(r"(\d+) repl(?:y|ies) · (\d+) reposts? · (\d+) likes?")


def test_a_newcomer_reads_a_story_then_sees_the_product_at_work(
    live_server, browser_page, tree, tmp_path, settings
):
    settings.ENGAGEMENT_REDIS_URL = ""  # the readers' events go straight to the database
    # load_demo refuses production by settings.SETTINGS_MODULE, which any settings
    # override hides (Django's UserSettingsHolder has None): the last override says it.
    settings.SETTINGS_MODULE = "cms.settings.test"
    call_command("load_demo", verbosity=0)
    posts = list(SyndicationPost.objects.filter(state=states.PUBLISHED).select_related("story"))
    assert posts, "the demo published no post"
    continues = dict(
        StoryLink.objects.filter(kind=StoryLink.CONTINUES).values_list("page_id", "target_id")
    )
    page = browser_page
    url = live_server.url

    with worker_and_beat(tmp_path):
        # The home page; a story on it that goes on to another.
        page.goto(url + "/")
        page.get_by_role("heading", name="Latest stories").wait_for()
        on_home = set(page.locator(".card__title a").all_inner_texts())
        story = next(
            s
            for s in StoryPage.objects.live().filter(pk__in=continues).order_by("pk")
            if s.title in on_home
        )
        page.locator(".card__title a", has_text=story.title).first.click()
        page.wait_for_url(f"**{story.url}")
        assert page.get_by_role("heading", level=1).inner_text() == story.title

        # "Continue the story" leads on.
        following = StoryPage.objects.get(pk=continues[story.pk])
        section = page.get_by_role("region", name="Continue the story")
        section.get_by_role("link", name=following.title).click()
        page.wait_for_url(f"**{following.url}")
        assert page.get_by_role("heading", level=1).inner_text() == following.title

        # The admin, as the social manager: the dashboard has the posts' conversation
        # and this week's readers.
        sign_in(page, url, "socialmanager", DEMO_PASSWORD)
        conversation = page.locator("#conversation-panel-section")
        replies = conversation.locator("table tbody tr")
        assert replies.count() > 0, conversation.inner_text()
        stories_posted = {post.story.title for post in posts}
        assert set(replies.locator("td:last-child").all_inner_texts()) <= stories_posted
        engaged = page.locator("#syndication-engaged-stories-section")
        assert engaged.locator("table tbody tr").count() > 0, engaged.inner_text()

        # The engagement report: both charts drawn from figures.
        page.goto(f"{url}/admin/reports/engagement/")
        charts = page.locator(".engagement-report__charts figure svg")
        charts.first.wait_for()
        assert charts.count() == 2
        assert page.locator(".engagement-report__charts rect").count() > 0
        assert page.locator(".engagement-report__charts polyline").count() > 0
        assert "No data" not in page.locator(".engagement-report__charts").inner_text()

        # The post queue, newest first, a page at a time: the posts made on the demo
        # network today lead (each with its link there), then the brand's two months of
        # past posts (made for send times, never sent anywhere): all published, each with
        # what it drew.
        on_network = [p for p in posts if p.remote_id]
        assert len(on_network) == len(living.POSTED)
        page.goto(f"{url}/admin/syndication/posts/")
        rows = page.locator("table.listing tbody tr")
        rows.first.wait_for()
        assert rows.count() == min(len(posts), 50)
        drawn, links = 0, []
        for row in rows.all():
            text = row.inner_text()
            assert "Published" in text or "PUBLISHED" in text, text
            figures = REACTIONS.search(text)
            assert figures, text
            drawn += sum(int(n) for n in figures.groups())
            links.append(row.get_by_role("link", name="View post").count())
        assert drawn > 0
        assert links[: len(on_network)] == [1] * len(on_network)
        assert sum(links) == len(on_network)

        # A story that went out shows its conversation: where it is, and what people
        # said there once the social manager approved it.
        shown = set(
            StoryConversation.objects.filter(show_on_page=True).values_list("story", flat=True)
        )
        post = next((p for p in on_network if p.story_id in shown), on_network[0])
        page.goto(url + post.story.url)
        region = page.get_by_role("region", name="Join the conversation")
        link = region.get_by_role("link", name=re.compile("Discuss on Mastodon"))
        assert link.get_attribute("href") == post.remote_url
        assert shown, "the demo shows no story's conversation"
        said = page.get_by_role("region", name="What people said").locator("li")
        approved = ConversationItem.objects.filter(post__story=post.story, approved=True)
        assert 0 < said.count() <= approved.count()
