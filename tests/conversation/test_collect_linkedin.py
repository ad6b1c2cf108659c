"""Collecting the comments under a published LinkedIn post: real HTTP to a small Comments API
in this process (``linkedin_server``, the versioned REST API's shapes), the real collector,
the test database (PostgreSQL when DATABASE_URL names one)."""

import datetime
import json

from django.utils import timezone

import pytest

from cms.models import QuarantinedMessage
from syndication.conversation import collect, sanitise
from syndication.conversation import linkedin as reader
from syndication.conversation.models import CollectionState, ConversationItem, InboxState
from syndication.models import ChannelAccount
from tests.factories import ChannelAccountFactory

from .linkedin_server import LinkedInTestServer
from .test_collect import items, published, run

pytestmark = pytest.mark.django_db

ORG = "urn:li:organization:2414183"
SCOPE = "r_organization_social,w_organization_social"


@pytest.fixture(autouse=True)
def quick(settings):
    settings.SYNDICATION_HTTP_TIMEOUT = 2
    settings.LINKEDIN_API_VERSION = "202601"


@pytest.fixture
def linkedin(monkeypatch):
    with LinkedInTestServer() as server:
        monkeypatch.setattr("syndication.channels.linkedin.API", f"{server.url}/rest")
        yield server


def account(linkedin, remote_id=ORG, scope=SCOPE, **fields):
    tokens = {"access_token": linkedin.token(), **({"scope": scope} if scope else {})}
    return ChannelAccountFactory(
        network="linkedin",
        instance_url="",
        remote_id=remote_id,
        handle="Storyloom",
        max_characters=None,
        tokens=tokens,
        **fields,
    )


@pytest.fixture
def brand(linkedin):
    return account(linkedin)


@pytest.fixture
def post(linkedin, brand, make_story):
    return published(brand, linkedin.post(), story=make_story())


def test_comments_and_comments_on_comments_are_collected_once(linkedin, post):
    first = linkedin.comment(post.remote_id, "Lovely story!", actor="urn:li:person:alice")
    second = linkedin.comment(post.remote_id, "Is part two coming?", actor="urn:li:person:bob")
    nested = linkedin.comment(first, "Agreed", actor="urn:li:person:carol")
    deeper = linkedin.comment(nested, "Me too", actor="urn:li:person:dave")

    outcome = run(post)

    assert (outcome["outcome"], outcome["added"]) == ("collected", 4)
    rows = {row.remote_id: row for row in items(post)}
    assert set(rows) == {first, second, nested, deeper}
    assert {row.kind for row in rows.values()} == {"reply"}
    assert (rows[first].parent_remote_id, rows[nested].parent_remote_id) == ("", first)
    assert rows[deeper].parent_remote_id == nested
    alice = rows[first]
    assert (alice.text, alice.html) == ("Lovely story!", "<p>Lovely story!</p>")
    # No name without profile access: a member stays "A LinkedIn member", known by URN.
    assert (alice.author_name, alice.author_handle) == ("A LinkedIn member", "urn:li:person:alice")
    assert alice.author_url == "" and alice.author_avatar_url == ""
    assert alice.url.startswith(f"https://www.linkedin.com/feed/update/{post.remote_id}/")
    assert alice.created_at is not None and alice.edited_at is None
    assert alice.remote_ref == {"urn": first, "object": post.remote_id}
    assert rows[deeper].remote_ref == {"urn": deeper, "object": post.remote_id}
    assert (alice.state, alice.approved, alice.deleted) == (InboxState.UNREAD, False, False)
    # The post's listing, and one listing for each comment that has comments.
    assert linkedin.hits == {post.remote_id: 1, first: 1, nested: 1}
    headers = linkedin.requests[-1]
    assert headers["LinkedIn-Version"] == "202601"
    assert headers["X-Restli-Protocol-Version"] == "2.0.0"

    again = run(post)

    assert (again["added"], again["updated"], again["deleted"]) == (0, 0, 0)
    assert ConversationItem.objects.count() == 4


def test_many_comments_are_read_page_by_page(linkedin, post):
    for n in range(230):
        linkedin.comment(post.remote_id, f"Comment {n}", actor=f"urn:li:person:p{n}")

    run(post)

    assert items(post).count() == 230
    assert linkedin.hits[post.remote_id] == 3


def test_pages_shorter_than_asked_for_are_not_taken_for_the_end(linkedin, post):
    linkedin.page_cap = 40
    urns = [linkedin.comment(post.remote_id, f"Comment {n}") for n in range(130)]
    run(post)
    assert items(post).count() == 130 and linkedin.hits[post.remote_id] == 4

    linkedin.delete(urns[0])
    outcome = run(post)

    assert outcome["deleted"] == 1
    assert items(post).visible().count() == 129


def test_a_deleted_comment_becomes_a_tombstone_with_the_comments_under_it(linkedin, post):
    kept = linkedin.comment(post.remote_id, "Keep me")
    doomed = linkedin.comment(post.remote_id, "Regrettable", actor="urn:li:person:eve")
    under = linkedin.comment(doomed, "Replying to it", actor="urn:li:person:carol")
    run(post)
    ConversationItem.objects.filter(remote_id=doomed).update(approved=True)

    linkedin.delete(doomed)
    outcome = run(post)

    assert outcome["deleted"] == 2
    assert [row.remote_id for row in items(post).visible()] == [kept]
    tombstone = ConversationItem.objects.get(remote_id=doomed)
    assert tombstone.deleted and not tombstone.approved
    for name in ("text", "html", "author_name", "author_handle", "url"):
        assert getattr(tombstone, name) == "", name
    assert tombstone.remote_ref == {}
    assert ConversationItem.objects.get(remote_id=under).deleted


def test_a_listing_not_read_whole_deletes_nothing(linkedin, post, monkeypatch):
    parents = [linkedin.comment(post.remote_id, f"Top {n}") for n in range(3)]
    for parent in parents:
        linkedin.comment(parent, "Under", actor="urn:li:person:bob")
    run(post)
    monkeypatch.setattr(reader, "MAX_LISTINGS", 1)

    linkedin.delete(parents[0])
    outcome = run(post)

    assert outcome["deleted"] == 0
    assert items(post).visible().count() == 6


def test_an_edited_comment_is_read_again_and_loses_its_approval(linkedin, post):
    comment = linkedin.comment(post.remote_id, "Great read")
    run(post)
    items(post).update(approved=True, state=InboxState.DONE)

    linkedin.edit(comment, "Actually, this is wrong")
    outcome = run(post)

    row = items(post).get()
    assert outcome["updated"] == 1
    assert row.text == "Actually, this is wrong"
    assert (row.approved, row.state) == (False, InboxState.UNREAD)


def test_our_own_pages_comments_are_left_out_and_those_under_them_kept(linkedin, post):
    ours = linkedin.comment(post.remote_id, "Thanks, we are on it", actor=ORG)
    under = linkedin.comment(ours, "Great, thank you", actor="urn:li:person:alice")

    run(post)

    assert [(row.remote_id, row.parent_remote_id) for row in items(post)] == [(under, ours)]


def test_a_name_linkedin_sends_is_used_and_a_page_is_a_page(linkedin, post):
    named = linkedin.comment(post.remote_id, "Hello", actor="urn:li:person:ann")
    linkedin.raw[named] = {
        "actor~": {"localizedFirstName": "<b>Ann</b>", "localizedLastName": "Lee\x00"}
    }
    page = linkedin.comment(post.remote_id, "Hi", actor="urn:li:organization:99")

    run(post)

    assert ConversationItem.objects.get(remote_id=named).author_name == "Ann Lee"
    assert ConversationItem.objects.get(remote_id=page).author_name == "A LinkedIn page"


# --- What LinkedIn does not allow -------------------------------------------------------------
def test_an_account_without_the_read_scope_is_not_called_and_its_state_says_why(linkedin):
    scopeless = account(linkedin, scope="w_organization_social")
    post = published(scopeless, linkedin.post())
    linkedin.comment(post.remote_id, "Hello")

    outcome = run(post)

    assert outcome["outcome"] == "not collected"
    assert linkedin.requests == []
    state = CollectionState.objects.get(post=post)
    assert state.last_error == reader.NEEDS_SCOPE
    assert "r_organization_social" in state.last_error and state.failures == 0
    # Looked at again later: a reconnect may bring the scope.
    assert state.next_due_at is not None and state.claim is None
    assert not items(post).exists()


def test_the_newer_scope_name_or_the_connected_scopes_allow_reading(linkedin, make_story):
    newer = account(linkedin, remote_id="urn:li:organization:1", scope="r_organization_social_feed")
    asked = account(
        linkedin, remote_id="urn:li:organization:2", scope="", scopes="r_organization_social"
    )
    for owner in (newer, asked):
        post = published(owner, linkedin.post())
        linkedin.comment(post.remote_id, "Hello")
        assert run(post)["added"] == 1


def test_a_members_posts_are_never_read(linkedin):
    member = account(linkedin, remote_id="urn:li:person:782bbtaQ", scope="w_member_social")
    post = published(member, linkedin.post())

    outcome = run(post)

    assert outcome["outcome"] == "not collected"
    assert linkedin.requests == []
    state = CollectionState.objects.get(post=post)
    assert state.last_error == reader.MEMBER_POSTS
    assert state.next_due_at is None  # a member's account never becomes a page


# --- Bad input ---------------------------------------------------------------------------
def test_hostile_comments_are_stored_safely(linkedin, post):
    evil = linkedin.comment(
        post.remote_id,
        '<script>alert(1)</script><a href="javascript:alert(2)">win</a>\x00 \ud800 ok',
        actor="urn:li:person:mallory",
    )
    huge = linkedin.comment(post.remote_id, "a" * 100_000, actor="urn:li:person:bob")
    linkedin.raw[huge] = {"created": {"time": 10**40}, "commentsSummary": {"x": 10**40}}

    outcome = run(post)

    assert (outcome["added"], outcome["refused"]) == (2, 0)
    row = ConversationItem.objects.get(remote_id=evil)
    assert "<script>" not in row.html and "<a" not in row.html
    assert row.html.startswith("<p>&lt;script&gt;alert(1)&lt;/script&gt;&lt;a href=")
    assert "\x00" not in row.text and "\ufffd" in row.text
    assert row.text.startswith("<script>alert(1)</script>")
    big = ConversationItem.objects.get(remote_id=huge)
    assert big.truncated and len(big.text) == sanitise.MAX_TEXT and big.created_at is None


def test_comments_of_the_wrong_shape_are_quarantined_and_the_rest_stored(linkedin, post):
    good = linkedin.comment(post.remote_id, "Fine")
    no_actor = linkedin.comment(post.remote_id, "x", actor="urn:li:person:bob")
    linkedin.raw[no_actor] = {"actor": {"urn": "bob"}}
    listed = linkedin.comment(post.remote_id, "x", actor="urn:li:person:carol")
    linkedin.raw[listed] = {"message": {"text": ["not", "text"]}}
    linkedin.inject(post.remote_id, "garbage")
    linkedin.inject(
        post.remote_id, {"commentUrn": "javascript:alert(1)", "actor": "urn:li:person:x"}
    )
    linkedin.inject(post.remote_id, {"commentUrn": 10**30, "message": "hi"})

    outcome = run(post)

    assert outcome["refused"] == 5
    assert [row.remote_id for row in items(post)] == [good]
    reasons = sorted(m.error for m in QuarantinedMessage.objects.filter(consumer="conversation"))
    assert reasons == [
        "Refused a reply: no author.",
        "Refused a reply: no usable commentUrn.",
        "Refused a reply: no usable commentUrn.",
        "Refused a reply: not a comment.",
        "Refused a reply: text that is not text.",
    ]


@pytest.mark.parametrize(
    ("body", "content_type"),
    [
        ("<html><body>Welcome to nginx</body></html>", "text/html"),
        ('{"elements": "lots"}', "application/json"),
        ("[1, 2, 3]", "application/json"),
        ("", ""),
        ("[" * 100_000 + "]" * 100_000, "application/json"),
    ],
)
def test_a_garbage_answer_fails_the_run_with_a_reason_and_stores_nothing(
    linkedin, post, body, content_type
):
    linkedin.comment(post.remote_id, "Hello")
    linkedin.answer_next(200, body, content_type=content_type)
    started = timezone.now()

    outcome = run(post, now=started)

    assert outcome["outcome"] == "failed"
    state = CollectionState.objects.get(post=post)
    assert "LinkedIn answered" in state.last_error
    assert state.failures == 1 and state.backoff_until > started
    assert not items(post).exists()
    assert run(post)["added"] == 1


# --- Errors ----------------------------------------------------------------------------------
def test_a_rate_limit_pauses_the_account(linkedin, post):
    linkedin.answer_next(
        429, json.dumps({"status": 429, "message": "Too many"}), **{"Retry-After": "600"}
    )
    now = timezone.now()

    outcome = run(post, now=now)

    assert outcome["outcome"] == "failed"
    account_row = ChannelAccount.objects.get(pk=post.account_id)
    assert account_row.paused_until >= now + datetime.timedelta(seconds=590)


def test_a_server_error_backs_off_no_sooner_than_retry_after(linkedin, post):
    linkedin.answer_next(503, "Down", content_type="text/plain", **{"Retry-After": "900"})
    now = timezone.now()

    outcome = run(post, now=now)

    assert outcome["outcome"] == "failed" and "server error" in outcome["error"]
    state = CollectionState.objects.get(post=post)
    assert state.backoff_until >= now + datetime.timedelta(seconds=900)
    assert collect.claim_due(now + datetime.timedelta(seconds=600)) == []


def test_a_revoked_token_asks_for_a_reconnect(linkedin, post, brand):
    linkedin.tokens.clear()

    outcome = run(post)

    assert outcome["outcome"] == "needs reconnecting"
    assert ChannelAccount.objects.get(pk=brand.pk).status == "needs_reconnect"


def test_each_comment_gets_its_tone(linkedin, post):
    linkedin.comment(post.remote_id, "Still waiting for my refund after three weeks.")
    linkedin.comment(
        post.remote_id, "Love this story, thanks for sharing!", actor="urn:li:person:b"
    )

    run(post)

    assert sorted(items(post).values_list("tone", flat=True)) == ["complaint", "praise"]


def test_storing_costs_the_same_queries_for_five_comments_or_fifty(linkedin, brand):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    counts = []
    for comments in (5, 50):
        post = published(brand, linkedin.post())
        urns = [
            linkedin.comment(post.remote_id, f"Comment {n}", actor=f"urn:li:person:c{n}")
            for n in range(comments)
        ]
        run(post)
        for n, urn in enumerate(urns):
            linkedin.edit(urn, f"Edited {n}")
        with CaptureQueriesContext(connection) as queries:
            outcome = run(post)
        assert outcome["updated"] == comments
        counts.append(len(queries))
    if connection.vendor == "sqlite":
        assert counts[0] <= counts[1] <= counts[0] + 2, counts
    else:
        assert counts[0] == counts[1]
