"""Collecting the replies and quotes under a published post on X: real HTTP to a small X API
v2 in this process (``x_server``: lookup, recent search, quote posts, signed requests),
the real collector, the test database (PostgreSQL when DATABASE_URL names one)."""

import datetime
import json

from django.utils import timezone

import pytest

from cms.models import QuarantinedMessage
from syndication.conversation import collect, sanitise
from syndication.conversation import x as reader
from syndication.conversation.models import CollectionState, ConversationItem, InboxState
from syndication.models import ChannelAccount
from tests.factories import ChannelAccountFactory

from .test_collect import items, published, run
from .x_server import XTestServer

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def quick(settings):
    settings.SYNDICATION_HTTP_TIMEOUT = 2
    settings.X_CONSUMER_KEY = "consumer-key"
    settings.X_CONSUMER_SECRET = "consumer-secret"
    settings.CONVERSATION_X_ENABLED = True


@pytest.fixture
def x(monkeypatch):
    with XTestServer() as server:
        monkeypatch.setattr("syndication.channels.x.API", f"{server.url}/2")
        yield server


@pytest.fixture
def brand(x):
    return ChannelAccountFactory(
        network="x",
        instance_url="",
        remote_id=x.user("brand")["id"],
        handle="brand",
        max_characters=None,
        tokens=x.token("brand"),
    )


@pytest.fixture
def post(x, brand, make_story):
    return published(brand, x.post("brand", "A story worth a read."), story=make_story())


# --- Collected once, then only what is new ------------------------------------------------
def test_replies_at_any_depth_and_quotes_are_collected_once(x, post):
    first = x.reply(post.remote_id, "Lovely story!", as_user="alice")
    second = x.reply(post.remote_id, "Is part two coming?", as_user="bob")
    nested = x.reply(first, "Agreed &amp; more", as_user="carol")
    quote = x.post("dave", "Everyone should read this", quote=post.remote_id)

    outcome = run(post)

    assert (outcome["outcome"], outcome["added"]) == ("collected", 4)
    replies = {row.remote_id: row for row in items(post, kind="reply")}
    assert set(replies) == {first, second, nested}
    assert (replies[first].parent_remote_id, replies[nested].parent_remote_id) == ("", first)
    alice = replies[first]
    assert (alice.text, alice.html) == ("Lovely story!", "<p>Lovely story!</p>")
    assert (alice.author_name, alice.author_handle) == ("Alice", "@alice")
    assert alice.author_url == "https://x.com/alice"
    assert alice.author_avatar_url == "https://pbs.twimg.example/alice_normal.jpg"
    assert alice.url == f"https://x.com/alice/status/{first}"
    assert alice.remote_ref == {"id": first}
    assert alice.created_at == x.posts[first]["_moment"].replace(
        microsecond=x.posts[first]["_moment"].microsecond // 1000 * 1000
    )
    assert alice.edited_at is None
    # X sends text HTML-escaped: read as the words, escaped once for the HTML.
    assert replies[nested].text == "Agreed & more"
    assert replies[nested].html == "<p>Agreed &amp; more</p>"
    quoted = items(post, kind="quote").get()
    assert (quoted.remote_id, quoted.text, quoted.remote_ref) == (
        quote,
        "Everyone should read this",
        {"id": quote},
    )
    state = CollectionState.objects.get(post=post)
    assert state.cursor == {"since_id": max(first, second, nested, key=int), "quotes": 1}

    again = run(post)

    assert (again["added"], again["updated"], again["deleted"]) == (0, 0, 0)
    assert ConversationItem.objects.count() == 4
    assert (x.hits["lookup"], x.hits["search"], x.hits["quotes"]) == (2, 2, 1)
    assert x.read == 4  # nothing read twice: each post read costs money


def test_search_asks_only_for_what_is_new_since_the_last_run(x, post):
    first = x.reply(post.remote_id, "First")
    run(post)
    read_before = x.read

    later = x.reply(post.remote_id, "Later", as_user="bob")
    outcome = run(post)

    assert (outcome["added"], x.read - read_before) == (1, 1)
    assert {row.remote_id for row in items(post)} == {first, later}
    assert CollectionState.objects.get(post=post).cursor["since_id"] == later


def test_a_run_cut_at_the_page_cap_goes_on_below_the_oldest_it_read(x, post, monkeypatch):
    monkeypatch.setattr(reader, "MAX_PAGES", 2)
    replies = [x.reply(post.remote_id, f"Reply {n}", as_user=f"r{n}") for n in range(250)]

    first = run(post)
    cursor = CollectionState.objects.get(post=post).cursor
    newer = x.reply(post.remote_id, "Newer", as_user="late")
    second = run(post)

    assert first["added"] == 200
    assert cursor["until_id"] == replies[50] and cursor["newest"] == replies[-1]
    assert second["added"] == 50  # the oldest 50, not the newer one yet (since_id held)
    assert CollectionState.objects.get(post=post).cursor == {"since_id": replies[-1], "quotes": 0}
    assert run(post)["added"] == 1
    assert items(post).count() == 251 and items(post).filter(remote_id=newer).exists()


def test_x_never_marks_a_reply_deleted(x, post):
    doomed = x.reply(post.remote_id, "Regrettable", as_user="eve")
    x.reply(post.remote_id, "Keep me", as_user="bob")
    run(post)

    x.delete(doomed)
    x.now += datetime.timedelta(days=8)  # and the rest fell out of search's week
    outcome = run(post)

    assert outcome["deleted"] == 0
    assert items(post).visible().count() == 2
    assert not items(post, deleted=True).exists()


def test_an_edit_updates_the_row_of_the_first_version(x, post):
    reply = x.reply(post.remote_id, "Great read")
    run(post)
    items(post).update(approved=True, state=InboxState.DONE)

    newest = x.edit(reply, "Actually, this is wrong")
    outcome = run(post)

    row = items(post).get()
    assert (outcome["added"], outcome["updated"]) == (0, 1)
    assert (row.remote_id, row.remote_ref) == (reply, {"id": newest})
    assert row.text == "Actually, this is wrong" and row.edited_at is not None
    assert (row.approved, row.state) == (False, InboxState.UNREAD)


def test_our_own_posts_in_the_thread_are_left_out_and_replies_to_them_kept(x, post):
    ours = x.reply(post.remote_id, "Thanks, we are on it", as_user="brand")
    under = x.reply(ours, "Great, thank you", as_user="alice")

    run(post)

    assert [(row.remote_id, row.parent_remote_id) for row in items(post)] == [(under, ours)]


def test_quotes_are_read_only_when_their_counter_moved(x, post):
    run(post)
    run(post)
    assert x.hits["quotes"] == 0

    x.post("dave", "Look", quote=post.remote_id)
    run(post)
    run(post)

    assert x.hits["quotes"] == 1 and items(post, kind="quote").count() == 1


def test_our_post_deleted_on_x_stops_collection(x, post):
    x.reply(post.remote_id, "Nice")
    run(post)

    x.delete(post.remote_id)
    outcome = run(post)

    assert outcome["outcome"] == "gone"
    assert CollectionState.objects.get(post=post).next_due_at is None


# --- Off unless enabled, and never past 7 days ---------------------------------------------
def test_x_is_off_by_default_and_makes_no_request(x, brand, settings):
    del settings.CONVERSATION_X_ENABLED
    post = published(brand, x.post("brand", "Hello"))
    x.reply(post.remote_id, "Hi")
    now = timezone.now()

    assert collect.dispatch(lambda *args: pytest.fail("queued"), now=now) == {
        "new": 0,
        "queued": 0,
    }
    # A state made while it was on is neither claimed nor read.
    CollectionState.objects.create(post=post, next_due_at=now)
    assert collect.claim_due(now) == []
    CollectionState.objects.filter(post=post).update(claim="8c1e0b1e-5f43-4c0e-9b5b-5b1f2a7c9d10")
    outcome = collect.collect_post(post.pk, "8c1e0b1e-5f43-4c0e-9b5b-5b1f2a7c9d10", now=now)

    assert outcome["outcome"] == "not collected"
    assert "CONVERSATION_X_ENABLED" in CollectionState.objects.get(post=post).last_error
    assert sum(x.hits.values()) == 0


def test_a_post_is_not_read_after_seven_days(x, brand):
    post = published(brand, x.post("brand", "Old"), hours_ago=24 * 7 + 1)
    x.reply(post.remote_id, "Late reply")

    outcome = run(post)

    assert outcome["outcome"] == "finished"
    assert sum(x.hits.values()) == 0
    assert CollectionState.objects.get(post=post).next_due_at is None


def test_the_schedule_ends_at_seven_days(x, brand):
    post = published(brand, x.post("brand", "Six days old"), hours_ago=24 * 7 - 2)

    run(post)

    state = CollectionState.objects.get(post=post)
    assert state.next_due_at == post.published_at + datetime.timedelta(days=7)


# --- Bad input ---------------------------------------------------------------------------
def test_hostile_replies_are_stored_safely(x, post):
    evil = x.reply(
        post.remote_id,
        '<script>alert(1)</script> <a href="javascript:alert(2)">win</a>\x00 \ud800 ok',
        as_user="mallory",
    )
    x.user(
        "mallory",
        name="<b>Mallory</b>\x00\u202e",
        profile_image_url="javascript:alert(3)",
        username="mallory<script>",
    )
    huge = x.reply(post.remote_id, "a" * 100_000, as_user="bob")

    outcome = run(post)

    assert (outcome["added"], outcome["refused"]) == (2, 0)
    row = ConversationItem.objects.get(remote_id=evil)
    assert "<script>" not in row.html and "<a" not in row.html
    assert "\x00" not in row.text and "\ufffd" in row.text
    assert row.author_name == "Mallory" and row.author_avatar_url == ""
    # A username that is not one makes no address and no handle.
    assert (row.author_handle, row.author_url) == ("", "")
    assert row.url == f"https://x.com/i/web/status/{evil}"
    big = ConversationItem.objects.get(remote_id=huge)
    assert big.truncated and len(big.text) == sanitise.MAX_TEXT


def test_posts_of_the_wrong_shape_are_quarantined_and_the_rest_stored(x, post):
    good = x.reply(post.remote_id, "Fine")
    numeric = x.reply(post.remote_id, "x", as_user="bob")
    x.raw[numeric] = {"author_id": 10**30}
    listed = x.reply(post.remote_id, "x", as_user="carol")
    x.raw[listed] = {"text": ["not", "text"]}
    history = x.reply(post.remote_id, "x", as_user="dave")
    x.raw[history] = {"edit_history_tweet_ids": "lots"}
    x.inject("garbage")
    x.inject({"id": "9" * 30, "conversation_id": post.remote_id, "author_id": "1"})
    x.inject({"id": "12345678901", "conversation_id": "99", "author_id": "1", "text": "x"})

    outcome = run(post)

    assert outcome["refused"] == 6
    assert [row.remote_id for row in items(post)] == [good]
    reasons = sorted(m.error for m in QuarantinedMessage.objects.filter(consumer="conversation"))
    assert reasons == [
        "Refused a reply: an edit history that is not one.",
        "Refused a reply: no author.",
        "Refused a reply: no usable id.",
        "Refused a reply: not a post.",
        "Refused a reply: not in this conversation.",
        "Refused a reply: text that is not text.",
    ]


def test_huge_counters_are_unknown_and_cost_nothing(x, post):
    x.post("dave", "Look", quote=post.remote_id)
    x.raw[post.remote_id] = {"public_metrics": {"quote_count": 10**40}}

    run(post)

    assert x.hits["quotes"] == 0
    assert CollectionState.objects.get(post=post).cursor["quotes"] is None


@pytest.mark.parametrize(
    ("kind", "body", "content_type"),
    [
        ("search", "<html><body>Welcome to nginx</body></html>", "text/html"),
        ("search", '{"data": "lots"}', "application/json"),
        ("search", '{"data": [], "meta": {"next_token": "<script>"}}', "application/json"),
        ("search", "[1, 2, 3]", "application/json"),
        ("lookup", "", ""),
        ("lookup", '{"data": {"id": "1"}}', "application/json"),
        ("search", "[" * 100_000 + "]" * 100_000, "application/json"),
    ],
)
def test_a_garbage_answer_fails_the_run_with_a_reason_and_stores_nothing(
    x, post, kind, body, content_type
):
    x.reply(post.remote_id, "Hello")
    x.answer_next(kind, 200, body, content_type=content_type)
    started = timezone.now()

    outcome = run(post, now=started)

    assert outcome["outcome"] == "failed"
    state = CollectionState.objects.get(post=post)
    assert "X answered" in state.last_error
    assert state.failures == 1 and state.backoff_until > started and state.cursor == {}
    assert not items(post).exists()
    assert run(post)["added"] == 1


# --- Errors ----------------------------------------------------------------------------------
def test_a_rate_limit_pauses_the_account_until_x_rate_limit_reset(x, post):
    now = timezone.now()
    reset = int(now.timestamp()) + 300
    body = json.dumps({"title": "Too Many Requests", "status": 429, "detail": "Too Many Requests"})
    x.answer_next("search", 429, body, **{"x-rate-limit-reset": str(reset)})

    run(post, now=now)

    account = ChannelAccount.objects.get(pk=post.account_id)
    assert account.paused_until >= now + datetime.timedelta(seconds=290)
    assert CollectionState.objects.get(post=post).backoff_until >= account.paused_until


def test_a_server_error_backs_off_no_sooner_than_retry_after(x, post):
    x.answer_next("lookup", 503, "Down", content_type="text/plain", **{"Retry-After": "900"})
    now = timezone.now()

    outcome = run(post, now=now)

    assert outcome["outcome"] == "failed" and "server error" in outcome["error"]
    state = CollectionState.objects.get(post=post)
    assert state.backoff_until >= now + datetime.timedelta(seconds=900)


def test_a_revoked_token_asks_for_a_reconnect(x, post, brand):
    x.tokens.clear()

    outcome = run(post)

    assert outcome["outcome"] == "needs reconnecting"
    assert ChannelAccount.objects.get(pk=brand.pk).status == "needs_reconnect"


def test_each_reply_gets_its_tone(x, post):
    x.reply(post.remote_id, "Still waiting for my refund after three weeks.")
    x.reply(post.remote_id, "Love this story, thanks for sharing!", as_user="bob")

    run(post)

    assert sorted(items(post).values_list("tone", flat=True)) == ["complaint", "praise"]


def test_a_chapter_threaded_on_x_is_collected_with_its_first_post(x, brand):
    first = published(brand, x.post("brand", "Chapter one"))
    chapter = x.reply(first.remote_id, "Chapter two", as_user="brand")
    second = published(brand, chapter, story=first.story)
    on_first = x.reply(first.remote_id, "About chapter one")
    on_second = x.reply(chapter, "About chapter two", as_user="bob")
    quote = x.post("carol", "Chapter two is the best", quote=chapter)

    run(first)
    run(second)

    # X's conversation is the first post's: every reply in it is read there, once.
    assert {(r.remote_id, r.parent_remote_id) for r in items(first)} == {
        (on_first, ""),
        (on_second, ""),
    }
    # The chapter starts no conversation of its own (no search), but has its own quotes.
    assert [r.remote_id for r in items(second)] == [quote]
    assert x.hits["search"] == 1
