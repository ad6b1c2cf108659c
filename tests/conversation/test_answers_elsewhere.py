"""An answer is a SyndicationPost with a story; the screens and figures about a story's
posts must not take it for one of them (issue 20, point 3)."""

import datetime

from django.utils import timezone

import pytest

from syndication import states
from syndication.engagement import collect, metrics
from syndication.engagement.models import ChannelMetricSnapshot
from syndication.templatetags.syndication_tags import conversation
from tests.factories import ChannelAccountFactory, SyndicationPostFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def story_posts(make_story):
    """A story's published post and a published answer to a reply under it."""
    story = make_story(title="The fox who stayed")
    account = ChannelAccountFactory(instance_url="https://social.example")
    now = timezone.now() - datetime.timedelta(hours=1)
    post = SyndicationPostFactory(
        story=story,
        account=account,
        state=states.PUBLISHED,
        published_at=now,
        remote_id="1",
        remote_url="https://social.example/@brand/1",
    )
    answer = SyndicationPostFactory(
        story=story,
        account=account,
        text="Thanks Alice!",
        state=states.PUBLISHED,
        published_at=now,
        remote_id="3",
        remote_url="https://social.example/@brand/3",
        reply_to_ref={"id": "2"},
    )
    return story, post, answer


def test_the_queue_labels_answers(client, social_manager, story_posts):
    client.defaults["HTTP_HOST"] = "localhost"
    client.force_login(social_manager)
    body = client.get("/admin/syndication/posts/").content.decode()
    # The answer's row says so; the story's own post is listed by its title alone.
    assert body.count("Answer · ") == 1
    assert "Answer · The fox who stayed" in body


def test_join_the_conversation_links_only_the_storys_posts(story_posts):
    story, post, answer = story_posts
    urls = [link["url"] for link in conversation(story)["links"]]
    assert urls == [post.remote_url]


def test_answers_are_neither_measured_nor_counted_as_posts(story_posts):
    story, post, answer = story_posts
    assert list(collect.posts_to_measure()) == [post]
    for each in (post, answer):
        ChannelMetricSnapshot.objects.create(
            post=each, taken_at=timezone.now(), reposts=1, replies=2, likes=3, quotes=0
        )
    today = timezone.localdate()
    found = metrics.load_inputs(today - datetime.timedelta(days=2), today)[story.pk]
    assert (found.posts, found.reposts, found.replies, found.likes) == (1, 1, 2, 3)
