"""Collecting the conversation under a published post from a Mastodon-API server: real
HTTP to the Mastodon test server, the real collector in-process, the test database
(PostgreSQL when DATABASE_URL names one)."""

import dataclasses
import datetime

from django.utils import timezone

import pytest
import requests

from cms.models import QuarantinedMessage
from syndication import states
from syndication.conversation import collect, sanitise
from syndication.conversation.models import CollectionState, ConversationItem, InboxState
from syndication.models import ChannelAccount
from syndication.testing.mastodon import profiles
from syndication.testing.mastodon_server import MastodonTestServer
from tests.factories import ChannelAccountFactory, SyndicationPostFactory

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def quick(settings):
    settings.SYNDICATION_HTTP_TIMEOUT = 2


def connect(server, username="brand"):
    remote_id, token = server.create_account(username)
    account = ChannelAccountFactory(
        instance_url=server.url,
        remote_id=remote_id,
        handle=f"@{username}",
        tokens={"access_token": token},
    )
    return account, token


def status_on(server, token, text="A story worth a read.", reply_to=None):
    data = {"status": text, **({"in_reply_to_id": reply_to} if reply_to else {})}
    response = requests.post(
        f"{server.url}/api/v1/statuses",
        data=data,
        headers={"Authorization": f"Bearer {token}"},
        timeout=5,
    )
    response.raise_for_status()
    return response.json()["id"]


def published(account, remote_id, *, hours_ago=1, story=None, **extra):
    return SyndicationPostFactory(
        account=account,
        state=states.PUBLISHED,
        remote_id=remote_id,
        published_at=timezone.now() - datetime.timedelta(hours=hours_ago),
        **({"story": story} if story else {}),
        **extra,
    )


def run(post, now=None):
    """One collection of ``post`` as beat and a worker do it, due or not."""
    now = now or timezone.now()
    collect.ensure_states(now)
    CollectionState.objects.filter(post=post).update(next_due_at=now, backoff_until=None)
    claimed = dict(collect.claim_due(now))
    assert post.pk in claimed
    # Other posts claimed on the way wait for their own run.
    CollectionState.objects.exclude(post=post).update(claim=None, claimed_at=None)
    return collect.collect_post(post.pk, claimed[post.pk], now=now)


def items(post, **filters):
    return ConversationItem.objects.filter(post=post, **filters)


@pytest.fixture
def brand(mastodon_server):
    return connect(mastodon_server)


@pytest.fixture
def post(mastodon_server, brand, make_story):
    account, token = brand
    return published(account, status_on(mastodon_server, token), story=make_story())


def key(server, *parts):
    return "/".join([server.domain, *map(str, parts)])


# --- Collected once --------------------------------------------------------------------
def test_replies_at_any_depth_boosts_and_likes_are_collected_once(mastodon_server, post):
    server = mastodon_server
    first = server.reply(post.remote_id, "Lovely story!", as_user="alice")
    second = server.reply(post.remote_id, "Is part two coming?", as_user="bob")
    nested = server.reply(first, "Agreed, @alice", as_user="carol")
    deeper = server.reply(nested, "Me too", as_user="dave")
    server.reblog(post.remote_id, "erin")
    server.favourite(post.remote_id, "alice")
    server.favourite(post.remote_id, "frank")

    outcome = run(post)

    assert outcome["outcome"] == "collected"
    assert outcome["added"] == 7
    replies = {row.remote_id: row for row in items(post, kind="reply")}
    assert set(replies) == {key(server, i) for i in (first, second, nested, deeper)}
    assert replies[key(server, first)].parent_remote_id == ""
    assert replies[key(server, nested)].parent_remote_id == key(server, first)
    assert replies[key(server, deeper)].parent_remote_id == key(server, nested)
    alice = replies[key(server, first)]
    assert alice.text == "Lovely story!"
    assert alice.html == "<p>Lovely story!</p>"
    assert alice.author_name == "Alice"
    assert alice.author_handle == f"@alice@{mastodon_server.domain}"
    assert alice.author_url == f"{server.url}/@alice"
    assert alice.author_avatar_url.startswith(server.url)
    assert alice.url == f"{server.url}/@alice/{first}"
    assert alice.created_at is not None
    assert (alice.state, alice.approved, alice.deleted) == (InboxState.UNREAD, False, False)
    # What answering needs: the status id on our account's server.
    assert alice.remote_ref == {"id": first}
    assert replies[key(server, deeper)].remote_ref == {"id": deeper}
    assert {row.remote_ref["id"] for row in items(post, kind="reply")} == {
        first,
        second,
        nested,
        deeper,
    }
    assert [row.remote_ref for row in items(post, kind__in=["like", "boost"])] == [{}, {}, {}]
    assert {row.author_handle for row in items(post, kind="like")} == {
        f"@alice@{mastodon_server.domain}",
        f"@frank@{mastodon_server.domain}",
    }
    assert [row.author_handle for row in items(post, kind="boost")] == [
        f"@erin@{mastodon_server.domain}"
    ]
    state = CollectionState.objects.get(post=post)
    assert state.cursor == {"replies": 2, "reblogs": 1, "favourites": 2, "quotes": 0}
    assert state.claim is None and state.failures == 0
    assert state.next_due_at is not None


def test_collecting_again_adds_and_changes_nothing(mastodon_server, post):
    server = mastodon_server
    server.reply(server.reply(post.remote_id, "First!"), "Second", as_user="bob")
    server.favourite(post.remote_id, "carol")
    run(post)
    before = list(items(post).order_by("pk").values())

    again = run(post)

    assert (again["added"], again["updated"], again["deleted"]) == (0, 0, 0)
    assert list(items(post).order_by("pk").values()) == before
    assert ConversationItem.objects.count() == 3
    # Unchanged counters: the boosts and likes lists are not read again.
    assert server.hits["favourited_by"] == 1
    assert server.hits["status_context"] == 2


def test_many_likes_are_read_through_every_page(mastodon_server, post):
    for n in range(170):
        mastodon_server.favourite(post.remote_id, f"fan{n}")

    run(post)

    assert items(post, kind="like").count() == 170
    assert mastodon_server.hits["favourited_by"] == 3  # 80 + 80 + 10


# --- Edits and deletions ---------------------------------------------------------------
def test_an_edit_updates_the_row_and_takes_back_its_approval(mastodon_server, post):
    reply = mastodon_server.reply(post.remote_id, "Great read")
    run(post)
    row = items(post).get()
    ConversationItem.objects.filter(pk=row.pk).update(approved=True, state=InboxState.DONE)

    mastodon_server.edit(reply, "Actually, this is wrong")
    outcome = run(post)

    row.refresh_from_db()
    assert outcome["updated"] == 1 and outcome["added"] == 0
    assert row.text == "Actually, this is wrong"
    assert row.edited_at is not None
    assert (row.approved, row.state) == (False, InboxState.UNREAD)
    assert ConversationItem.objects.count() == 1


def test_a_reply_deleted_remotely_disappears_with_the_replies_under_it(mastodon_server, post):
    server = mastodon_server
    kept = server.reply(post.remote_id, "Keep me", as_user="bob")
    doomed = server.reply(post.remote_id, "Regrettable", as_user="eve")
    under = server.reply(doomed, "Replying to the regrettable one", as_user="carol")
    run(post)
    ConversationItem.objects.filter(remote_id=key(server, doomed)).update(approved=True)

    server.delete(doomed)
    outcome = run(post)

    assert outcome["deleted"] == 2
    assert [row.remote_id for row in items(post).visible()] == [key(server, kept)]
    tombstone = ConversationItem.objects.get(remote_id=key(server, doomed))
    assert tombstone.deleted and tombstone.deleted_at is not None
    assert not tombstone.approved
    # Nothing of what eve said or who she is remains.
    for name in ("text", "html", "author_name", "author_handle", "author_url", "url"):
        assert getattr(tombstone, name) == "", name
    assert ConversationItem.objects.get(remote_id=key(server, under)).deleted


def test_an_undone_like_or_boost_disappears(mastodon_server, post):
    mastodon_server.favourite(post.remote_id, "alice")
    mastodon_server.favourite(post.remote_id, "bob")
    mastodon_server.reblog(post.remote_id, "bob")
    run(post)

    mastodon_server.favourite(post.remote_id, "bob", undo=True)
    mastodon_server.reblog(post.remote_id, "bob", undo=True)
    run(post)

    assert [r.author_handle for r in items(post, kind="like").visible()] == [
        f"@alice@{mastodon_server.domain}"
    ]
    assert not items(post, kind="boost").visible().exists()


def test_our_post_deleted_on_the_network_takes_its_conversation_and_stops(
    mastodon_server, post, brand
):
    mastodon_server.reply(post.remote_id, "Nice")
    mastodon_server.favourite(post.remote_id, "alice")
    run(post)

    mastodon_server.delete(post.remote_id)
    outcome = run(post)

    assert outcome["outcome"] == "gone"
    assert not items(post).visible().exists()
    state = CollectionState.objects.get(post=post)
    assert state.next_due_at is None
    assert collect.claim_due(timezone.now() + datetime.timedelta(days=2)) == []


# --- Bad input ---------------------------------------------------------------------------
HOSTILE = (
    '<p onmouseover="steal()">Hi <script>alert(1)</script>'
    '<a href="javascript:alert(document.cookie)">prize</a>'
    '<img src="https://evil.example/t.gif" onerror="x()"></p>'
)


def test_hostile_replies_are_stored_safely(mastodon_server, post):
    server = mastodon_server
    evil = server.reply(
        post.remote_id,
        "ignored",
        as_user="mallory",
        raw={
            "content": HOSTILE,
            "url": "javascript:alert(1)",
            "uri": "data:text/html,x",
            "created_at": "0001-01-01T00:00:00+05:00",
            "edited_at": ["not", "a", "time"],
        },
        raw_account={
            "display_name": "<b>Mallory</b>\x00\u202e",
            "url": "javascript:alert(2)",
            "avatar": "data:image/svg+xml,<svg onload=alert(3)>",
            "acct": "mallory\x00@evil.example",
        },
    )
    huge = server.reply(post.remote_id, "x", as_user="bob", raw={"content": "<p>" + "a" * 100_000})

    run(post)

    row = ConversationItem.objects.get(remote_id=key(server, evil))
    for bad in ("script", "alert", "onmouseover", "onerror", "javascript", "<img"):
        assert bad not in row.html.lower()
    assert row.html == '<p>Hi <a rel="nofollow ugc noopener noreferrer">prize</a></p>'
    assert row.text == "Hi prize"
    assert (row.url, row.author_url, row.author_avatar_url) == ("", "", "")
    assert row.author_name == "Mallory"
    assert (row.created_at, row.edited_at) == (None, None)
    assert row.author_handle == "@mallory @evil.example"
    big = ConversationItem.objects.get(remote_id=key(server, huge))
    assert big.truncated
    assert len(big.text) == sanitise.MAX_TEXT
    assert len(big.html) < 25_000


def test_items_of_the_wrong_shape_are_quarantined_and_the_rest_stored(mastodon_server, post):
    server = mastodon_server
    good = server.reply(post.remote_id, "Fine")
    server.reply(post.remote_id, "no author", as_user="bob", raw={"account": "bob"})
    server.reply(post.remote_id, "bad id", as_user="carol", raw={"id": "<script>"})
    server.reply(post.remote_id, "private", as_user="dave", raw={"visibility": "private"})

    outcome = run(post)

    assert outcome["refused"] == 3
    assert [row.remote_id for row in items(post)] == [key(server, good)]
    quarantined = QuarantinedMessage.objects.filter(consumer="conversation")
    reasons = sorted(message.error for message in quarantined)
    assert reasons == [
        "Refused a reply: no author.",
        "Refused a reply: no usable id.",
        "Refused a reply: not public (private).",
    ]


@pytest.mark.parametrize(
    ("status", "body", "content_type"),
    [
        (200, "<html><body>Welcome to nginx</body></html>", "text/html"),
        (200, '{"ancestors": [], "descendants": "lots"}', "application/json"),
        (200, "[1, 2, 3]", "application/json"),
        (200, "", ""),
    ],
)
def test_a_garbage_answer_fails_the_run_with_a_reason_and_keeps_everything(
    mastodon_server, post, status, body, content_type
):
    first = mastodon_server.reply(post.remote_id, "Hello")
    run(post)
    cursor = CollectionState.objects.get(post=post).cursor
    mastodon_server.reply(first, "Nested hello", as_user="bob")
    mastodon_server.answer_next("status_context", status, body, content_type=content_type)
    started = timezone.now()

    outcome = run(post, now=started)

    assert outcome["outcome"] == "failed"
    state = CollectionState.objects.get(post=post)
    assert state.failures == 1
    assert "answered" in state.last_error
    assert state.cursor == cursor
    assert state.backoff_until > started
    assert state.claim is None
    assert items(post).count() == 1 and not items(post, deleted=True).exists()
    # The next run after the backoff collects what was missed.
    assert run(post)["added"] == 1
    assert CollectionState.objects.get(post=post).failures == 0


def test_a_server_error_backs_off_no_sooner_than_retry_after(mastodon_server, post):
    mastodon_server.answer_next(
        "status_context",
        503,
        "Down for maintenance",
        content_type="text/plain",
        **{"Retry-After": "900"},
    )
    now = timezone.now()

    outcome = run(post, now=now)

    state = CollectionState.objects.get(post=post)
    assert outcome["outcome"] == "failed"
    assert state.backoff_until >= now + datetime.timedelta(seconds=900)
    assert state.next_due_at >= state.backoff_until
    # Not due during the backoff, due after it.
    assert collect.claim_due(now + datetime.timedelta(seconds=600)) == []
    assert [p for p, _ in collect.claim_due(state.backoff_until)] == [post.pk]


def test_a_rate_limit_pauses_the_account_for_retry_after(mastodon_server, post):
    mastodon_server.answer_next(
        "status",
        429,
        '{"error": "Too many requests"}',
        content_type="application/json",
        **{"Retry-After": "300"},
    )
    now = timezone.now()

    run(post, now=now)

    account = ChannelAccount.objects.get(pk=post.account_id)
    assert account.paused_until >= now + datetime.timedelta(seconds=300)
    assert CollectionState.objects.get(post=post).backoff_until >= account.paused_until


def test_a_revoked_token_asks_for_a_reconnect(mastodon_server, post, brand):
    mastodon_server.revoke(brand[1])

    outcome = run(post)

    assert outcome["outcome"] == "needs reconnecting"
    assert ChannelAccount.objects.get(pk=post.account_id).status == "needs_reconnect"
    assert collect.claim_due(timezone.now() + datetime.timedelta(days=1)) == []


# --- The schedule, claims and a run cut short -------------------------------------------
def test_posts_are_collected_by_age_and_never_after_thirty_days(mastodon_server, brand):
    account, token = brand
    young = published(account, status_on(mastodon_server, token), hours_ago=1)
    week = published(account, status_on(mastodon_server, token), hours_ago=24 * 8)
    old = published(account, status_on(mastodon_server, token), hours_ago=24 * 31)
    draft = SyndicationPostFactory(account=account)
    now = timezone.now()

    queued = {}
    outcome = collect.dispatch(lambda post_id, claim: queued.update({post_id: claim}), now=now)

    assert outcome == {"new": 2, "queued": 2}
    assert sorted(queued) == sorted([young.pk, week.pk])
    assert not CollectionState.objects.filter(post__in=[old, draft]).exists()
    for post, every in ((young, datetime.timedelta(minutes=5)), (week, datetime.timedelta(1))):
        assert collect.collect_post(post.pk, queued[post.pk], now=now)["outcome"] == "collected"
        assert CollectionState.objects.get(post=post).next_due_at == now + every
    # Claimed and released: nothing is due again until its time.
    assert collect.dispatch(lambda *a: None, now=now) == {"new": 0, "queued": 0}
    later = now + datetime.timedelta(minutes=6)
    assert collect.dispatch(lambda *a: None, now=later) == {"new": 0, "queued": 1}


def test_one_claim_is_taken_once(mastodon_server, post):
    collect.ensure_states()
    ((post_id, claim),) = collect.claim_due()

    held = collect.take(post_id, claim)

    assert held is not None
    assert collect.take(post_id, claim) is None  # a second copy of the task
    assert collect.collect_post(post_id, claim) == {"post": post_id, "outcome": "not held"}
    # Still held: a new dispatch does not hand it out until the lease has passed.
    assert collect.claim_due() == []
    later = timezone.now() + collect.LEASE + datetime.timedelta(seconds=1)
    assert [p for p, _ in collect.claim_due(later)] == [post_id]


def test_a_run_cut_short_before_its_commit_loses_and_duplicates_nothing(
    mastodon_server, post, monkeypatch
):
    mastodon_server.reply(mastodon_server.reply(post.remote_id, "One"), "Two", as_user="bob")
    mastodon_server.favourite(post.remote_id, "carol")

    def killed(*args):
        raise SystemExit("worker killed")

    with monkeypatch.context() as patch:
        patch.setattr(collect.ops, "quarantine", killed)
        with pytest.raises(SystemExit):
            run(post)
    assert not ConversationItem.objects.exists()
    assert CollectionState.objects.get(post=post).cursor == {}

    later = timezone.now() + collect.LEASE + datetime.timedelta(seconds=1)
    outcome = run(post, now=later)

    assert outcome["added"] == 3
    assert ConversationItem.objects.count() == 3


def test_quotes_are_collected_where_the_server_lists_them(make_story):
    mastodon_4_5 = dataclasses.replace(profiles.MASTODON_4, version="4.5.0")
    with MastodonTestServer(profile=mastodon_4_5) as server:
        account, token = connect(server)
        post = published(account, status_on(server, token), story=make_story())
        quote = server.reply(post.remote_id, "Everyone should read this", quote=True)

        run(post)

        row = items(post).get()
        assert (row.kind, row.remote_id, row.text) == (
            "quote",
            key(server, quote),
            "Everyone should read this",
        )
        server.delete(quote)
        run(post)
        assert not items(post).visible().exists()


def test_servers_without_quotes_are_not_asked_for_them(mastodon_server, post):
    mastodon_server.reply(post.remote_id, "Quoted", quote=True)

    run(post)

    assert mastodon_server.hits["status_quotes"] == 0
    assert not items(post).exists()


def test_a_chapter_threaded_under_the_post_keeps_its_own_replies(mastodon_server, brand):
    account, token = brand
    first = published(account, status_on(mastodon_server, token))
    second_id = status_on(mastodon_server, token, "Chapter two", reply_to=first.remote_id)
    second = published(account, second_id, story=first.story)
    on_first = mastodon_server.reply(first.remote_id, "About chapter one")
    on_second = mastodon_server.reply(second_id, "About chapter two", as_user="bob")

    run(first)
    run(second)

    assert [r.remote_id for r in items(first)] == [key(mastodon_server, on_first)]
    assert [r.remote_id for r in items(second)] == [key(mastodon_server, on_second)]


def test_beats_task_collects_every_due_post_through_its_own_task(mastodon_server, brand):
    from syndication.conversation import tasks

    account, token = brand
    posts = [published(account, status_on(mastodon_server, token)) for _ in range(3)]
    for post in posts:
        mastodon_server.reply(post.remote_id, f"On post {post.pk}")

    # Unit tests run Celery eagerly: each queued collect_conversation runs at once.
    assert tasks.collect_due_conversations() == {"new": 3, "queued": 3}

    for post in posts:
        assert [row.text for row in items(post)] == [f"On post {post.pk}"]
    assert tasks.collect_due_conversations() == {"new": 0, "queued": 0}


def test_storing_costs_the_same_queries_for_five_replies_or_fifty(mastodon_server, brand):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    account, token = brand
    counts = []
    for replies in (5, 50):
        post = published(account, status_on(mastodon_server, token))
        for n in range(replies):
            mastodon_server.reply(post.remote_id, f"Reply {n}", as_user=f"r{n}")
            mastodon_server.favourite(post.remote_id, f"r{n}")
        run(post)  # the first collection creates; the second updates every reply
        for n, row in enumerate(items(post, kind="reply")):
            mastodon_server.edit(row.remote_id.rsplit("/", 1)[1], f"Edited {n}")
        with CaptureQueriesContext(connection) as queries:
            outcome = run(post)
        assert outcome["updated"] == replies
        counts.append(len(queries))
    if connection.vendor == "sqlite":
        # Django splits a bulk write into batches within SQLite's 999 parameters: fifty
        # edited replies take one more UPDATE batch, never one query a reply.
        assert counts[0] <= counts[1] <= counts[0] + 2, counts
    else:
        assert counts[0] == counts[1]


def test_each_reply_gets_its_tone_with_the_words_that_decided_it(mastodon_server, post):
    """The tone is read as a reply is stored and again when it is edited; boosts, likes
    and tombstones have none."""
    server = mastodon_server
    reply = server.reply(post.remote_id, "Still waiting for my refund after three weeks.")
    server.reply(post.remote_id, "Lovely story, thank you!", as_user="bob")
    server.favourite(post.remote_id, "alice")
    run(post)
    assert items(post, kind="like").get().tone == ""
    complaint = items(post).get(text__startswith="Still waiting")
    assert complaint.tone == "complaint"
    assert complaint.tone_words, "the words that decided it"
    for start, end in complaint.tone_words:
        assert complaint.text[start:end].strip()
    assert items(post).get(text__startswith="Lovely").tone == "praise"

    server.edit(reply, "When does the next part come out?")
    run(post)
    complaint.refresh_from_db()
    assert complaint.tone == "question"

    server.delete(reply)
    run(post)
    gone = ConversationItem.objects.get(pk=complaint.pk)
    assert gone.deleted and (gone.tone, gone.tone_words) == ("", [])


def test_our_own_account_replying_by_hand_is_not_collected(mastodon_server, post):
    """Our account's replies (an answer not confirmed yet, or one written on the network
    by hand) are not the public's conversation; a reply to one of them still is."""
    ours = mastodon_server.reply(post.remote_id, "Thanks, we are on it", as_user="brand")
    mastodon_server.reply(ours, "Great, thank you", as_user="alice")
    run(post)
    assert list(items(post).values_list("text", flat=True)) == ["Great, thank you"]
