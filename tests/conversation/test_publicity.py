"""'What people said' on the story page: approved replies only, opt-in per story, safe.

Moderation goes through ``syndication.conversation.publicity`` (approve, hide,
show_on_page); the page is read as anonymous readers get it, through the page cache
(docs/conversation.md, "What people said").
"""

import itertools
import re

from django.contrib.auth.models import Group
from django.core.exceptions import PermissionDenied
from django.db import IntegrityError, connection, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

import pytest

from stories.page_cache import purge_all
from syndication import states
from syndication.conversation import collect, publicity, tasks
from syndication.conversation.models import CollectionState, ConversationItem, StoryConversation
from tests.conversation.test_collect import connect, published, status_on
from tests.factories import ChannelAccountFactory
from tests.stories.test_page_cache import PageCacheClient
from tests.syndication.test_conversation import post_for, publish

pytestmark = pytest.mark.django_db

POST_URL = "https://social.example/@storyloom/113000000000000001"
_ids = itertools.count(1)


# --- Helpers (the h-entry and Redis tests use them too) ------------------------------------
def said(post, *, approved=False, minutes_ago=10, **fields) -> ConversationItem:
    """A reply to ``post`` as collection stores it (written straight to the database)."""
    n = next(_ids)
    values = {
        "network": post.account.network,
        "remote_id": f"social.example/{900000 + n}",
        "kind": "reply",
        "author_name": f"Reader {n}",
        "author_handle": f"@reader{n}@elsewhere.example",
        "author_url": f"https://elsewhere.example/@reader{n}",
        "author_avatar_url": f"https://elsewhere.example/avatars/{n}.png",
        "html": f"<p>Reply number {n}, with thanks.</p>",
        "text": f"Reply number {n}, with thanks.",
        "url": f"https://elsewhere.example/@reader{n}/{900000 + n}",
        "created_at": timezone.now() - timezone.timedelta(minutes=minutes_ago),
        "approved": approved,
        **fields,
    }
    return ConversationItem.objects.create(post=post, **values)


def shown(story):
    StoryConversation.objects.update_or_create(story=story, defaults={"show_on_page": True})


def people_said(html: str) -> str:
    """The "What people said" block of a page, or "" when there is none."""
    match = re.search(r'<section aria-labelledby="people-said-heading".*?</section>', html, re.S)
    return match.group(0) if match else ""


def page(client, story) -> str:
    response = client.get(story.url)
    assert response.status_code == 200
    return response.content.decode()


def hit(response) -> bool:
    return response.get("X-Cache") == "hit"


# --- Fixtures ------------------------------------------------------------------------------
@pytest.fixture
def client():
    return PageCacheClient(HTTP_HOST="localhost")


@pytest.fixture
def manager(django_user_model):
    user = django_user_model.objects.create_user("sam", "sam@example.com", "pw")
    user.groups.add(Group.objects.get(name="Social managers"))
    return user


@pytest.fixture
def editor(django_user_model):
    user = django_user_model.objects.create_user("eddie", "eddie@example.com", "pw")
    user.groups.add(Group.objects.get(name="Editors"))
    return user


@pytest.fixture
def story(make_story):
    return make_story(title="The drip in the hallway")


@pytest.fixture
def post(story):
    post = post_for(story, ChannelAccountFactory(remote_id="1"))
    publish(post, POST_URL)
    return post


@pytest.fixture
def committed(django_capture_on_commit_callbacks):
    """Run what waits for the commit (the purges), as a real commit would."""

    def run():
        return django_capture_on_commit_callbacks(execute=True)

    return run


# --- What the page shows -------------------------------------------------------------------
def test_an_approved_reply_shows_its_author_network_words_date_and_original(client, story, post):
    reply = said(
        post, approved=True, author_name="Ada Lovelace", html="<p>Very <em>useful</em></p>"
    )
    shown(story)
    block = people_said(page(client, story))

    assert '<h2 id="people-said-heading">What people said</h2>' in block
    assert (
        '<a class="p-author h-card people-said__author" href="https://elsewhere.example/' in block
    )
    assert "Ada Lovelace" in block
    assert "on Mastodon" in block
    assert "<p>Very <em>useful</em></p>" in block
    assert f'href="{reply.url}"' in block and "Original on Mastodon" in block
    assert 'class="dt-published" datetime="' in block
    assert reply.created_at.strftime("%-d %B %Y") in block
    # The avatar is never hot-linked: no <img>, no address of the picture.
    assert "<img" not in block and "avatars/" not in block
    # Inside the story's h-entry, after "Join the conversation", before what to read next.
    html = page(client, story)
    assert html.index("conversation-heading") < html.index("people-said-heading")
    assert html.index("people-said-heading") < html.index('class="story__next')


def test_nothing_is_shown_until_the_story_opts_in(client, story, post):
    said(post, approved=True)
    assert people_said(page(client, story)) == ""
    StoryConversation.objects.create(story=story, show_on_page=False)
    purge_all()
    html = page(client, story)
    assert people_said(html) == "" and "What people said" not in html and "h-cite" not in html


def test_the_database_decides_when_the_cached_list_of_opted_in_stories_is_behind(
    client, story, post
):
    said(post, approved=True, author_name="Still approved")
    shown(story)
    assert "Still approved" in page(client, story)  # the list of opted-in stories is cached
    # Turned off by a bulk write that sends no signal: the cached list still names it.
    StoryConversation.objects.filter(story=story).update(show_on_page=False)
    assert story.pk in publicity.shown_story_ids()
    purge_all()
    assert "Still approved" not in page(client, story)


def test_an_opted_in_story_without_approved_replies_shows_no_empty_block(client, story, post):
    said(post)
    shown(story)
    assert "What people said" not in page(client, story)


def test_only_approved_replies_and_quotes_of_this_storys_published_posts(
    client, make_story, story, post
):
    shown(story)
    other_story = make_story(title="Another story")
    other_post = post_for(other_story, post.account)
    publish(other_post, "https://social.example/@storyloom/2")
    failed = post_for(story, post.account, state=states.FAILED, remote_url="https://s.example/3")

    said(post, approved=True, author_name="Shown reply")
    said(post, approved=True, kind="quote", author_name="Shown quote")
    said(post, approved=False, author_name="Never approved")
    said(post, approved=False, deleted=True, deleted_at=timezone.now(), author_name="Tombstone")
    said(post, approved=True, kind="boost", author_name="A boost", html="")
    said(post, approved=True, kind="like", author_name="A like", html="")
    said(other_post, approved=True, author_name="Other story's reply")
    said(failed, approved=True, author_name="Reply to a post that never went out")
    block = people_said(page(client, story))

    assert "Shown reply" in block and "Shown quote" in block
    assert block.count("quoted this on Mastodon") == 1
    for hidden in (
        "Never approved",
        "Tombstone",
        "A boost",
        "A like",
        "Other story",
        "never went out",
    ):
        assert hidden not in block
    assert block.count('class="people-said__item p-comment h-cite"') == 2


def test_the_database_refuses_an_approved_tombstone(post):
    with pytest.raises(IntegrityError), transaction.atomic():
        said(post, approved=True, deleted=True)


def test_a_reply_deleted_on_the_network_leaves_the_page(client, story, post, committed):
    reply = said(post, approved=True, author_name="Soon gone")
    shown(story)
    assert "Soon gone" in page(client, story)
    with committed():
        # What collection does to a reply missing from the thread (collect.ERASED).
        ConversationItem.objects.filter(pk=reply.pk).update(
            deleted=True, approved=False, author_name="", html="", url=""
        )
        publicity.refresh_story_page(story.pk)
    assert "Soon gone" not in page(client, story)
    assert "What people said" not in page(client, story)


# --- Hostile rows --------------------------------------------------------------------------
def test_hostile_rows_written_straight_to_the_database_are_shown_safely(client, story, post):
    shown(story)
    said(
        post,
        approved=True,
        author_name='<img src=x onerror="alert(1)">Mallory\u202e',
        author_url="javascript:alert(1)",
        url="javascript:alert(2)",
        html=(
            '<p onclick="alert(3)">Hi<script>alert(4)</script>'
            '<a href="javascript:alert(5)">click</a>'
            '<a href="https://ok.example/">fine</a>'
            '<img src="https://tracker.example/p.gif">'
            '<iframe src="https://evil.example/"></iframe>'
            "<style>body{display:none}</style></p>" + "A" * 100_000
        ),
        text="B" * 100_000,
    )
    said(post, approved=True, author_name="Data link", url="data:text/html,<b>x</b>")
    html = page(client, story)
    block = people_said(html)

    assert block.count("h-cite") == 2
    for bad in ("<script", "onclick", "onerror", "javascript:", "<iframe", "<style", "data:"):
        assert bad not in block.lower(), bad
    assert "<img" not in block and "tracker.example" not in block
    assert '<a href="https://ok.example/" rel="nofollow ugc noopener noreferrer">fine</a>' in block
    # The name is one line of text: markup and control characters (an RTL override) go.
    assert '<span class="p-name">Mallory</span>' in block
    # A link that is not http(s) is no link: no u-url, no "Original" for those replies.
    assert "u-url" not in block and "Original on" not in block
    # 100 KB of remote text is cut to what is kept (sanitise.MAX_SOURCE), not shown whole.
    assert block.count("A") < 21_000
    assert "B" * 100 not in html


# --- Moderation ----------------------------------------------------------------------------
def test_approve_shows_and_hide_takes_back_on_the_cached_page(
    client, story, post, manager, committed
):
    reply = said(post, author_name="Grace Hopper")
    publicity.show_on_page(story, True, manager)
    assert "Grace Hopper" not in page(client, story)
    assert hit(client.get(story.url))

    with committed():
        publicity.approve(reply, manager)
    response = client.get(story.url)
    assert not hit(response) and "Grace Hopper" in response.content.decode()
    assert hit(client.get(story.url))

    with committed():
        publicity.hide(reply, manager)
    response = client.get(story.url)
    assert not hit(response) and "Grace Hopper" not in response.content.decode()
    reply.refresh_from_db()
    assert reply.approved is False


def test_the_purge_waits_for_the_commit_and_touches_only_that_story(
    client, make_story, story, post, manager, django_capture_on_commit_callbacks
):
    other = make_story(title="Untouched")
    reply = said(post)
    shown(story)
    page(client, story), page(client, other)
    assert hit(client.get(story.url)) and hit(client.get(other.url))

    with django_capture_on_commit_callbacks(execute=False) as waiting:
        publicity.approve(reply, manager)
        assert hit(client.get(story.url))  # not committed: the old page stands
    assert waiting
    for callback in waiting:
        callback()
    assert not hit(client.get(story.url))
    assert hit(client.get(other.url))


def test_show_on_page_turns_the_block_on_and_off(client, story, post, manager, committed):
    said(post, approved=True, author_name="Katherine Johnson")
    assert "Katherine Johnson" not in page(client, story)

    with committed():
        row = publicity.show_on_page(story, True, manager)
    assert row.show_on_page is True and row.changed_by == manager
    assert "Katherine Johnson" in page(client, story)

    with committed():
        publicity.show_on_page(story, False, manager)
    assert "Katherine Johnson" not in page(client, story)
    assert StoryConversation.objects.get(story=story).show_on_page is False
    # The approval is kept: on again shows the same reply.
    with committed():
        publicity.show_on_page(story, True, manager)
    assert "Katherine Johnson" in page(client, story)


def test_an_unchanged_choice_purges_nothing(client, story, post, manager, committed):
    publicity.show_on_page(story, True, manager)
    reply = said(post, approved=True)
    page(client, story)
    with committed():
        publicity.show_on_page(story, True, manager)
        publicity.approve(reply, manager)
        publicity.hide(said(post), manager)
    assert hit(client.get(story.url))


@pytest.mark.parametrize(
    ("fields", "reason"),
    [
        ({"kind": "boost", "html": ""}, "boost has no words"),
        ({"kind": "like", "html": ""}, "like has no words"),
        ({"deleted": True, "deleted_at": timezone.now()}, "deleted on the network"),
    ],
)
def test_approve_refuses_what_may_not_be_shown(post, manager, fields, reason):
    item = said(post, **fields)
    with pytest.raises(publicity.Refused, match=reason):
        publicity.approve(item, manager)
    item.refresh_from_db()
    assert item.approved is False


def test_approve_refuses_another_storys_item(make_story, story, post, manager):
    item = said(post)
    with pytest.raises(publicity.Refused, match="another story"):
        publicity.approve(item, manager, story=make_story())
    with pytest.raises(publicity.Refused, match="another story"):
        publicity.hide(item, manager, story=make_story().pk)
    assert publicity.approve(item, manager, story=story).approved is True


def test_approve_refuses_a_reply_changed_or_deleted_since_it_was_read(post, manager):
    edited, gone = said(post), said(post)
    # Collection edits one and tombstones the other after the manager read them.
    later = timezone.now() + timezone.timedelta(seconds=5)
    ConversationItem.objects.filter(pk=edited.pk).update(html="<p>Now rude</p>", updated_at=later)
    ConversationItem.objects.filter(pk=gone.pk).update(deleted=True, updated_at=later)
    with pytest.raises(publicity.Refused, match="changed since you read it"):
        publicity.approve(edited, manager)
    with pytest.raises(publicity.Refused, match="deleted on the network"):
        publicity.approve(gone, manager)
    assert not ConversationItem.objects.filter(approved=True).exists()


def test_approve_refuses_a_reply_to_a_post_not_published(story, post, manager):
    failed = post_for(story, post.account, state=states.FAILED)
    with pytest.raises(publicity.Refused, match="not published"):
        publicity.approve(said(failed), manager)


def test_only_people_who_may_moderate(story, post, editor):
    item = said(post)
    for change in (
        lambda: publicity.approve(item, editor),
        lambda: publicity.hide(item, editor),
        lambda: publicity.show_on_page(story, True, editor),
        lambda: publicity.approve(item, None),
    ):
        with pytest.raises(PermissionDenied):
            change()
    assert not StoryConversation.objects.exists()
    item.refresh_from_db()
    assert item.approved is False


def test_show_on_page_only_for_a_story(home, manager):
    with pytest.raises(publicity.Refused):
        publicity.show_on_page(home, True, manager)


# --- Queries -------------------------------------------------------------------------------
def block_queries(story_id) -> int:
    with CaptureQueriesContext(connection) as captured:
        publicity.shown_on_page(story_id)
    return len(captured)


def test_a_story_that_did_not_opt_in_costs_no_query(story, post):
    said(post, approved=True)
    publicity.shown_on_page(story.pk)  # the list of opted-in stories, cached once
    assert block_queries(story.pk) == 0


def test_the_replies_cost_one_query_however_many_and_however_nested(client, make_story, manager):
    account = ChannelAccountFactory(remote_id="1")

    def story_with(replies):
        story = make_story()
        post = post_for(story, account)
        publish(post, f"https://social.example/@storyloom/{story.pk}")
        parent = None
        for n in range(replies):
            extra = {"parent_remote_id": parent.remote_id} if parent and n % 2 else {}
            parent = said(post, approved=True, **extra)
        publicity.show_on_page(story, True, manager)
        return story

    one, many = story_with(1), story_with(12)
    publicity.shown_on_page(one.pk)
    assert block_queries(one.pk) == block_queries(many.pk) == 1

    def page_queries(story):
        page(client, story)
        purge_all()
        with CaptureQueriesContext(connection) as captured:
            assert client.get(story.url).status_code == 200
        return len(captured)

    assert page_queries(many) == page_queries(one)


# --- Collection takes approvals back -------------------------------------------------------
def test_an_approved_reply_edited_or_deleted_on_the_network_leaves_the_cached_page(
    client, mastodon_server, make_story, manager, committed, settings
):
    """The collection task purges the page of a story that shows replies when a run
    changed or deleted items: an edit takes the approval back, a deletion erases it."""
    settings.SYNDICATION_HTTP_TIMEOUT = 2
    server, story = mastodon_server, make_story()
    account, token = connect(server)
    post = published(account, status_on(server, token), story=story)
    edited = server.reply(post.remote_id, "Lovely story!", as_user="alice")
    deleted = server.reply(post.remote_id, "Thanks for this.", as_user="bob")

    def collected():
        now = timezone.now()
        collect.ensure_states(now)
        CollectionState.objects.filter(post=post).update(next_due_at=now, backoff_until=None)
        claim = dict(collect.claim_due(now))[post.pk]
        with committed():
            return tasks.collect_conversation(post.pk, claim)

    collected()
    with committed():
        publicity.show_on_page(story, True, manager)
        for item in ConversationItem.objects.filter(post=post):
            publicity.approve(item, manager)
    assert "Lovely story!" in page(client, story) and "Thanks for this." in page(client, story)
    assert hit(client.get(story.url))

    server.edit(edited, "Actually, this is all wrong")
    assert collected()["updated"] == 1
    html = page(client, story)
    assert "Lovely story!" not in html and "all wrong" not in html
    assert "Thanks for this." in html

    server.delete(deleted)
    assert collected()["deleted"] == 1
    assert "What people said" not in page(client, story)
