"""Collecting the comments under a published Facebook Page post: real HTTP to the Graph
test server, the real collector, the test database."""

import datetime

from django.utils import timezone

import pytest

from cms.models import QuarantinedMessage
from syndication.conversation.models import ConversationItem, InboxState
from syndication.models import ChannelAccount
from syndication.testing.facebook import FacebookTestServer
from tests.factories import ChannelAccountFactory

from .test_collect import items, published, run

pytestmark = pytest.mark.django_db


@pytest.fixture
def graph(settings):
    settings.SYNDICATION_HTTP_TIMEOUT = 2
    with FacebookTestServer() as server:
        settings.FACEBOOK_GRAPH_URL = server.url
        settings.FACEBOOK_APP_ID = server.app_id
        settings.FACEBOOK_APP_SECRET = server.app_secret
        settings.FACEBOOK_API_VERSION = "v25.0"
        yield server


def page_account(graph, scopes="pages_show_list pages_manage_posts pages_read_engagement"):
    page_id = graph.page_ids[0]
    return ChannelAccountFactory(
        network="facebook",
        instance_url="",
        remote_id=page_id,
        handle="Storyloom Stories",
        max_characters=None,
        scopes=scopes,
        tokens={"access_token": graph.page_token(page_id)},
    )


def page_post(graph, account, make_story):
    """A post on the Page, as the engine would have made it."""
    adapter = account.adapter(timeout=2)
    from syndication.channels.base import PublishRequest

    remote = adapter.publish(
        PublishRequest(
            post_id=1, text="A story https://s.example/?utm_content=1", link="", idempotency_key=""
        )
    )
    return published(account, remote.id, story=make_story())


@pytest.fixture
def post(graph, make_story):
    return page_post(graph, page_account(graph), make_story)


def test_comments_and_replies_are_collected_once(graph, post):
    page_id = graph.page_ids[0]
    first = graph.comment(post.remote_id, "Lovely story!", name="Alice Example", user_id="101")
    second = graph.comment(post.remote_id, "Part two?", name="Bob Example", user_id="102")
    ours = graph.comment(first, "Thank you!", name="Storyloom Stories", user_id=page_id)
    under = graph.comment(first, "Agreed", name="Carol Example", user_id="103")

    outcome = run(post)

    assert (outcome["outcome"], outcome["added"]) == ("collected", 3)
    rows = {row.remote_id: row for row in items(post)}
    assert set(rows) == {first, second, under}  # the Page's own answer is not collected
    assert ours not in rows
    alice = rows[first]
    assert (alice.text, alice.html) == ("Lovely story!", "<p>Lovely story!</p>")
    assert (alice.author_name, alice.author_handle) == ("Alice Example", "101")
    assert alice.kind == "reply" and alice.parent_remote_id == ""
    assert rows[under].parent_remote_id == first
    assert alice.url == f"https://www.facebook.com/{post.remote_id}?comment_id={first}"
    assert alice.created_at is not None
    assert alice.remote_ref == {"id": first, "object": post.remote_id, "thread": first}
    # An answer to Carol goes under the thread's top comment: two levels deep.
    assert rows[under].remote_ref["thread"] == first
    assert (alice.state, alice.deleted) == (InboxState.UNREAD, False)
    [(route, fields)] = [pair for pair in graph.requested_fields if pair[0] == "read_comments"]
    assert "from{id,name}" in fields and graph.refused_fields == []

    again = run(post)

    assert (again["added"], again["updated"], again["deleted"]) == (0, 0, 0)
    assert ConversationItem.objects.count() == 3


def test_many_comments_are_read_page_by_page(graph, post):
    for number in range(230):
        graph.comment(post.remote_id, f"Comment {number}", user_id=str(200 + number))

    run(post)

    assert items(post).count() == 230
    assert graph.hits["read_comments"] == 3


def test_a_deleted_comment_becomes_a_tombstone_with_the_replies_under_it(graph, post):
    kept = graph.comment(post.remote_id, "Keep me")
    doomed = graph.comment(post.remote_id, "Regrettable", name="Eve Example")
    under = graph.comment(doomed, "Replying to it")
    run(post)

    graph.delete_comment(doomed)
    outcome = run(post)

    assert outcome["deleted"] == 2
    assert [row.remote_id for row in items(post).visible()] == [kept]
    tombstone = ConversationItem.objects.get(remote_id=doomed)
    assert tombstone.deleted and tombstone.author_name == "" and tombstone.text == ""
    assert ConversationItem.objects.get(remote_id=under).deleted


def test_a_broken_comment_is_quarantined_and_the_rest_kept(graph, post):
    good = graph.comment(post.remote_id, "Fine")
    broken = graph.comment(post.remote_id, "Broken")
    original = graph._comments[broken]
    original["id"] = "not-an-id"

    run(post)

    assert [row.remote_id for row in items(post)] == [good]
    assert QuarantinedMessage.objects.filter(error__contains="no usable id").exists()


def test_without_the_read_permission_nothing_is_asked(graph, make_story):
    account = page_account(graph, scopes="pages_show_list pages_manage_posts")
    post = page_post(graph, account, make_story)
    before = graph.hits["read_comments"]

    outcome = run(post)

    assert outcome["outcome"] == "not collected"
    assert "pages_read_engagement" in outcome["error"]
    assert graph.hits["read_comments"] == before


def test_an_expired_page_token_asks_for_a_reconnect(graph, post):
    graph.fail_next("token_expired", route="read_comments")

    outcome = run(post)

    assert outcome["outcome"] == "needs reconnecting"
    account = ChannelAccount.objects.get(pk=post.account_id)
    assert account.status == ChannelAccount.Status.NEEDS_RECONNECT


def test_a_post_deleted_on_facebook_is_gone(graph, post):
    graph.comment(post.remote_id, "Soon gone")
    run(post)
    graph.delete_post(post.remote_id)

    outcome = run(post)

    assert outcome["outcome"] == "gone", outcome
    assert items(post).visible().count() == 0  # its comments went with it


@pytest.mark.parametrize("fault", [None, "drop_after_create"])
def test_a_collected_comment_is_answered_once_as_the_page(graph, post, django_user_model, fault):
    """From the inbox to Facebook through the engine (in-process): the answer goes under
    the comment as the Page; a lost answer is found again by reading the replies."""
    from syndication import states
    from syndication.conversation import answers
    from tests.syndication.conftest import make_user

    from .answering import reload, run_due

    manager = make_user(django_user_model, "sam", "Social managers")
    question = graph.comment(post.remote_id, "How long does it take?", user_id="104")
    run(post)
    [item] = items(post)
    assert answers.refusal(item) == ""
    assert answers.reference_problem("facebook", {"id": "nope"}) == "no comment id"
    answer = answers.answer(item, "About ten minutes, with the heating off.", user=manager).post
    if fault:
        graph.fail_next(fault, route="reply")
        assert run_due() == ["unconfirmed"]
        post_reply_calls = graph.hits["reply"]
        answer.__class__.objects.filter(pk=answer.pk).update(due_at=timezone.now())

    assert run_due(timezone.now() + datetime.timedelta(seconds=1)) == ["published"]

    ours = [c for c in graph._comments.values() if c["parent_id"] == question]
    assert len(ours) == 1
    assert ours[0]["from"]["id"] == graph.page_ids[0]
    answer = reload(answer)
    assert answer.state == states.PUBLISHED and answer.remote_id == ours[0]["id"]
    if fault:
        assert graph.hits["reply"] == post_reply_calls  # found, not sent again
    assert len(graph.posts) == 1
