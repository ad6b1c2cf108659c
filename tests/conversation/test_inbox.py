"""The inbox in Wagtail's admin: what it lists, its filters, a thread in its context, who
may sort, moderate and acknowledge, the menu count and the dashboard panel."""

import datetime

from django.core.cache import cache
from django.urls import reverse
from django.utils import timezone

import pytest

from syndication import states
from syndication.conversation import viewsets
from syndication.conversation.models import (
    ConversationAlert,
    ConversationItem,
    InboxState,
    ItemKind,
    Tone,
)
from tests.factories import AudienceInterestFactory, BlueskyAccountFactory, SyndicationPostFactory
from tests.syndication.conftest import make_user

pytestmark = pytest.mark.django_db

INBOX = "conversation_inbox:index"


@pytest.fixture(autouse=True)
def no_cached_count():
    cache.delete(viewsets.UNREAD_CACHE_KEY)
    yield
    cache.delete(viewsets.UNREAD_CACHE_KEY)


@pytest.fixture
def post(make_story):
    return SyndicationPostFactory(
        story=make_story(title="Fixing a leaky tap"),
        state=states.PUBLISHED,
        remote_id="900",
        remote_url="https://social.example/@storyloom/900",
        published_at=timezone.now() - datetime.timedelta(hours=2),
    )


def said(post, number, text, *, kind=ItemKind.REPLY, parent="", minutes_ago=60, **fields):
    return ConversationItem.objects.create(
        post=post,
        network=post.account.network,
        remote_id=f"social.example/{number}",
        parent_remote_id=parent,
        kind=kind,
        author_name=fields.pop("author_name", f"Person {number}"),
        author_handle=fields.pop("author_handle", f"@person{number}@elsewhere.example"),
        html=fields.pop("html", f"<p>{text}</p>"),
        text=text,
        created_at=timezone.now() - datetime.timedelta(minutes=minutes_ago),
        **fields,
    )


@pytest.fixture
def thread(post):
    """A reply, a reply to it, one under that; a quote; a boost; a tombstone."""
    top = said(post, 1, "Why did my tap still drip?", tone=Tone.COMPLAINT, minutes_ago=50)
    middle = said(
        post, 2, "Same here, any tips?", parent=top.remote_id, tone=Tone.QUESTION, minutes_ago=40
    )
    bottom = said(post, 3, "Washers!", parent=middle.remote_id, minutes_ago=30)
    quote = said(post, 4, "Lovely read", kind=ItemKind.QUOTE, tone=Tone.PRAISE, minutes_ago=20)
    boost = said(post, 5, "", kind=ItemKind.BOOST, html="")
    gone = said(post, 6, "", deleted=True, html="", author_name="", author_handle="")
    return {
        "top": top,
        "middle": middle,
        "bottom": bottom,
        "quote": quote,
        "boost": boost,
        "gone": gone,
    }


def listed(response):
    assert response.status_code == 200
    return {item.pk for item in response.context["object_list"]}


def test_the_inbox_lists_what_people_wrote_newest_first(client, social_manager, thread):
    client.force_login(social_manager)
    response = client.get(reverse(INBOX))
    rows = list(response.context["object_list"])
    assert [row.pk for row in rows] == [
        thread[name].pk for name in ("quote", "bottom", "middle", "top")
    ]
    # Boosts and likes are counts in the thread; tombstones are shown nowhere.
    assert thread["boost"].pk not in listed(response)
    assert thread["gone"].pk not in listed(response)
    assert b"Lovely read" in response.content


def test_filters_narrow_the_inbox(client, social_manager, thread, post, make_story):
    other_interest = AudienceInterestFactory(name="Gardens")
    other = SyndicationPostFactory(
        story=make_story(title="Roses", interests=[other_interest]),
        account=BlueskyAccountFactory(),
        state=states.PUBLISHED,
        remote_id="at://did:plc:x/app.bsky.feed.post/1",
    )
    rose = said(other, 10, "Roses!", tone=Tone.PRAISE)
    rose.network = "bluesky"
    rose.save()
    ConversationItem.objects.filter(pk=thread["bottom"].pk).update(state=InboxState.DONE)
    client.force_login(social_manager)
    url = reverse(INBOX)
    assert listed(client.get(url, {"tone": "complaint"})) == {thread["top"].pk}
    assert listed(client.get(url, {"state": "done"})) == {thread["bottom"].pk}
    assert listed(client.get(url, {"network": "bluesky"})) == {rose.pk}
    assert listed(client.get(url, {"story": other.story_id})) == {rose.pk}
    assert listed(client.get(url, {"post": post.pk})) == {
        thread[name].pk for name in ("top", "middle", "bottom", "quote")
    }
    assert listed(client.get(url, {"interest": other_interest.pk})) == {rose.pk}
    assert listed(client.get(url, {"kind": "quote"})) == {thread["quote"].pk}
    assert listed(client.get(url, {"q": "washers"})) == {thread["bottom"].pk}


def test_a_thread_shows_the_reply_in_its_context_and_is_read_by_opening_it(
    client, social_manager, thread
):
    client.force_login(social_manager)
    response = client.get(reverse("conversation_thread", args=[thread["middle"].pk]))
    assert response.status_code == 200
    assert [row.pk for row, _ in response.context["above"]] == [thread["top"].pk]
    assert [(row.pk, depth) for row, depth, _ in response.context["below"]] == [
        (thread["bottom"].pk, 1)
    ]
    assert response.context["counts"] == {"reply": 3, "quote": 1, "boost": 1, "like": 0}
    thread["middle"].refresh_from_db()
    assert thread["middle"].state == InboxState.READ


def test_the_words_that_decided_the_tone_are_marked_and_remote_html_stays_clean(
    client, social_manager, post
):
    item = said(
        post,
        20,
        "The app crashes <b>again</b>",
        tone=Tone.COMPLAINT,
        tone_words=[[8, 15], [99, 120], [4, 5], "junk"],
        html='<p onclick="x()">The app <script>alert(1)</script><a href="javascript:alert(2)">'
        "crashes</a> <img src=https://tracker.example/p.gif></p>",
    )
    client.force_login(social_manager)
    response = client.get(reverse("conversation_thread", args=[item.pk]))
    body = response.content.decode()
    assert "<mark>crashes</mark>" in body
    # The text around the marks is escaped, out-of-range spans are ignored.
    assert "&lt;b&gt;again&lt;/b&gt;" in body
    assert "<script>alert(1)" not in body
    assert "javascript:alert(2)" not in body
    assert "onclick" not in body
    assert "tracker.example" not in body


def test_marking_and_moderating_take_the_right_permission(client, social_manager, editor, thread):
    item = thread["top"]
    state_url = reverse("conversation_state", args=[item.pk])
    client.force_login(editor)
    page = client.get(reverse("conversation_thread", args=[item.pk]))
    assert page.status_code == 200  # editors read the inbox
    assert b"Mark done" not in page.content and b"Approve for the story page" not in page.content
    item.refresh_from_db()
    assert item.state == InboxState.UNREAD  # reading it as an editor sorts nothing
    assert client.post(state_url, {"state": "done"}).status_code == 403
    moderate = reverse("conversation_moderate", args=[item.pk])
    assert client.post(moderate, {"action": "approve"}).status_code == 403
    item.refresh_from_db()
    assert (item.state, item.approved) == (InboxState.UNREAD, False)

    client.force_login(social_manager)
    assert b"Mark done" in client.get(reverse("conversation_thread", args=[item.pk])).content
    response = client.post(state_url, {"state": "done"})
    assert response.status_code == 302
    item.refresh_from_db()
    assert item.state == InboxState.DONE
    client.post(state_url, {"state": "nonsense"})
    item.refresh_from_db()
    assert item.state == InboxState.DONE


def test_nobody_else_sees_the_inbox(client, django_user_model, thread):
    nobody = make_user(django_user_model, "reader-only", "Moderators")
    nobody.groups.clear()
    nobody.user_permissions.clear()
    client.force_login(nobody)
    assert client.get(reverse(INBOX)).status_code in (302, 403)
    assert client.get(reverse("conversation_thread", args=[thread["top"].pk])).status_code in (
        302,
        403,
    )


def test_a_tombstone_or_a_boost_has_no_thread_page(client, social_manager, thread):
    client.force_login(social_manager)
    for name in ("gone", "boost"):
        assert client.get(reverse("conversation_thread", args=[thread[name].pk])).status_code == 404


def test_the_menu_counts_what_is_unread(client, social_manager, thread):
    client.force_login(social_manager)
    response = client.get(reverse("wagtailadmin_home"))
    assert b"Inbox (4)" in response.content
    ConversationItem.objects.update(state=InboxState.READ)
    cache.delete(viewsets.UNREAD_CACHE_KEY)
    response = client.get(reverse("wagtailadmin_home"))
    assert b"Inbox (" not in response.content
    assert b'"Inbox"' in response.content


def test_alerts_show_on_the_dashboard_and_in_the_inbox_until_acknowledged(
    client, social_manager, editor, thread, post
):
    alert = ConversationAlert.objects.create(
        story=post.story,
        window_start=timezone.now() - datetime.timedelta(minutes=40),
        window_end=timezone.now(),
        complaints=3,
    )
    client.force_login(editor)
    dashboard = client.get(reverse("wagtailadmin_home")).content.decode()
    assert "3 complaints about “Fixing a leaky tap”" in dashboard
    assert "4 unread replies" in dashboard
    inbox = client.get(reverse(INBOX)).content.decode()
    assert f'data-conversation-alert="{alert.pk}"' in inbox
    assert "Acknowledge" not in inbox  # editors read, social managers act
    acknowledge = reverse("conversation_acknowledge", args=[alert.pk])
    assert client.post(acknowledge).status_code == 403

    client.force_login(social_manager)
    assert "Acknowledge" in client.get(reverse(INBOX)).content.decode()
    assert client.post(acknowledge).status_code == 302
    alert.refresh_from_db()
    assert alert.acknowledged_by == social_manager
    assert "data-conversation-alert" not in client.get(reverse(INBOX)).content.decode()
    assert "complaints about" not in client.get(reverse("wagtailadmin_home")).content.decode()


def test_approving_takes_what_was_seen_and_switching_the_story_on(client, social_manager, thread):
    item = thread["top"]
    client.force_login(social_manager)
    page = client.get(reverse("conversation_thread", args=[item.pk])).content.decode()
    seen = item.updated_at.isoformat()
    assert f'name="seen" value="{seen}"' in page
    moderate = reverse("conversation_moderate", args=[item.pk])
    # Collection edited it after the page was shown: the approval is refused.
    ConversationItem.objects.filter(pk=item.pk).update(
        text="Something else", updated_at=timezone.now()
    )
    response = client.post(moderate, {"action": "approve", "seen": seen}, follow=True)
    assert "changed since you read it" in response.content.decode()
    item.refresh_from_db()
    assert not item.approved
    # Read again, then approved.
    response = client.post(
        moderate, {"action": "approve", "seen": item.updated_at.isoformat()}, follow=True
    )
    item.refresh_from_db()
    assert item.approved
    assert "Show approved replies on this story" in response.content.decode()
    show = reverse("conversation_story_show", args=[item.post.story_id])
    here = reverse("conversation_thread", args=[item.pk])
    response = client.post(show, {"show": "1", "next": here}, follow=True)
    assert "Stop showing replies on this story" in response.content.decode()
    client.post(moderate, {"action": "hide"})
    item.refresh_from_db()
    assert not item.approved
