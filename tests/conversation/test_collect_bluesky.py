"""Collecting the conversation under a published Bluesky post: real HTTP to a small PDS +
AppView in this process (``bluesky_server``, the lexicons' shapes), the real collector,
the test database (PostgreSQL when DATABASE_URL names one). The same against the AT
Protocol's reference network: tests/syndication/atproto/test_conversation.py."""

import datetime
import json

from django.utils import timezone

import pytest

from cms.models import QuarantinedMessage
from syndication.conversation import bluesky as reader
from syndication.conversation import collect, sanitise
from syndication.conversation.models import CollectionState, ConversationItem, InboxState
from syndication.models import ChannelAccount
from tests.factories import BlueskyAccountFactory

from .bluesky_server import BlueskyTestServer
from .test_collect import items, published, run

pytestmark = pytest.mark.django_db

THREAD = "app.bsky.feed.getPostThread"
REL = 'rel="nofollow ugc noopener noreferrer"'


@pytest.fixture(autouse=True)
def quick(settings):
    settings.SYNDICATION_HTTP_TIMEOUT = 2


@pytest.fixture
def bluesky():
    with BlueskyTestServer() as server:
        yield server


@pytest.fixture
def brand(bluesky):
    tokens = bluesky.session("brand")
    return BlueskyAccountFactory(
        instance_url=bluesky.url,
        remote_id=tokens["did"],
        handle="brand.bsky.social",
        tokens=tokens,
    )


@pytest.fixture
def post(bluesky, brand, make_story):
    return published(brand, bluesky.post("brand", "A story worth a read."), story=make_story())


def ref(bluesky, uri) -> dict:
    return {"uri": uri, "cid": bluesky.posts[uri]["cid"]}


def link(text: str, part: str, url: str) -> dict:
    """A link facet over ``part`` of ``text``, in UTF-8 bytes as Bluesky counts."""
    start = len(text[: text.index(part)].encode("utf-8", "surrogatepass"))
    return {
        "index": {
            "byteStart": start,
            "byteEnd": start + len(part.encode("utf-8", "surrogatepass")),
        },
        "features": [{"$type": "app.bsky.richtext.facet#link", "uri": url}],
    }


# --- Collected once --------------------------------------------------------------------
def test_replies_at_any_depth_quotes_reposts_and_likes_are_collected_once(bluesky, post):
    first = bluesky.reply(post.remote_id, "Lovely story!", as_user="alice")
    second = bluesky.reply(post.remote_id, "Is part two coming?", as_user="bob")
    nested = bluesky.reply(first, "Agreed, @alice", as_user="carol")
    deeper = bluesky.reply(nested, "Me too", as_user="dave")
    quote = bluesky.post("erin", "Everyone should read this", quote=post.remote_id)
    bluesky.repost(post.remote_id, "frank")
    bluesky.like(post.remote_id, "alice")
    bluesky.like(post.remote_id, "gina")

    outcome = run(post)

    assert outcome["outcome"] == "collected"
    assert outcome["added"] == 8
    replies = {row.remote_id: row for row in items(post, kind="reply")}
    assert set(replies) == {first, second, nested, deeper}
    assert replies[first].parent_remote_id == ""
    assert replies[nested].parent_remote_id == first
    assert replies[deeper].parent_remote_id == nested
    alice = replies[first]
    assert alice.text == "Lovely story!"
    assert alice.html == "<p>Lovely story!</p>"
    assert alice.author_name == "Alice"
    assert alice.author_handle == "@alice.bsky.social"
    assert alice.author_url == "https://bsky.app/profile/alice.bsky.social"
    assert alice.author_avatar_url == "https://cdn.bsky.example/avatar/alice.jpg"
    rkey = first.rsplit("/", 1)[1]
    assert alice.url == f"https://bsky.app/profile/alice.bsky.social/post/{rkey}"
    assert alice.created_at is not None and alice.edited_at is None
    assert (alice.state, alice.approved, alice.deleted) == (InboxState.UNREAD, False, False)
    # What answering needs: the item's strong reference and its thread's root (our post).
    ours = ref(bluesky, post.remote_id)
    assert alice.remote_ref == {**ref(bluesky, first), "root": ours}
    assert replies[deeper].remote_ref == {**ref(bluesky, deeper), "root": ours}
    quoted = items(post, kind="quote").get()
    assert (quoted.remote_id, quoted.text) == (quote, "Everyone should read this")
    # A quote is a post of its own: its own thread's root.
    assert quoted.remote_ref == {**ref(bluesky, quote), "root": ref(bluesky, quote)}
    like_keys = {row.remote_id for row in items(post, kind="like")}
    assert like_keys == {
        f"like/{post.remote_id}/{bluesky.person(name)['did']}" for name in ("alice", "gina")
    }
    (repost,) = items(post, kind="boost")
    assert repost.remote_id == f"repost/{post.remote_id}/{bluesky.person('frank')['did']}"
    assert (repost.author_handle, repost.remote_ref, repost.text) == ("@frank.bsky.social", {}, "")
    state = CollectionState.objects.get(post=post)
    assert state.cursor == {"replies": 2, "reposts": 1, "likes": 2, "quotes": 1}
    assert state.claim is None and state.failures == 0 and state.next_due_at is not None


def test_collecting_again_adds_and_changes_nothing(bluesky, post):
    bluesky.reply(bluesky.reply(post.remote_id, "First!"), "Second", as_user="bob")
    bluesky.like(post.remote_id, "carol")
    bluesky.repost(post.remote_id, "carol")
    bluesky.post("dave", "Look", quote=post.remote_id)
    run(post)
    before = list(items(post).order_by("pk").values())

    again = run(post)

    assert (again["added"], again["updated"], again["deleted"]) == (0, 0, 0)
    assert list(items(post).order_by("pk").values()) == before
    assert ConversationItem.objects.count() == 5
    # The thread is read every run; the lists only when their counter moved.
    assert bluesky.hits[THREAD] == 2
    for nsid in ("getLikes", "getRepostedBy", "getQuotes"):
        assert bluesky.hits[f"app.bsky.feed.{nsid}"] == 1, nsid


def test_many_likes_are_read_through_every_page(bluesky, post):
    for n in range(250):
        bluesky.like(post.remote_id, f"fan{n}")

    run(post)

    assert items(post, kind="like").count() == 250
    assert bluesky.hits["app.bsky.feed.getLikes"] == 3  # 100 + 100 + 50


def test_a_listing_cut_at_the_page_cap_deletes_nothing(bluesky, post, monkeypatch):
    for n in range(250):
        bluesky.like(post.remote_id, f"fan{n}")
    run(post)
    monkeypatch.setattr(reader, "MAX_PAGES", 2)

    bluesky.like(post.remote_id, "fan0", undo=True)
    outcome = run(post)

    assert outcome["deleted"] == 0
    assert items(post, kind="like").visible().count() == 250


# --- Deletions and rewrites --------------------------------------------------------------
def test_a_reply_deleted_remotely_disappears_with_the_replies_under_it(bluesky, post):
    kept = bluesky.reply(post.remote_id, "Keep me", as_user="bob")
    doomed = bluesky.reply(post.remote_id, "Regrettable", as_user="eve")
    under = bluesky.reply(doomed, "Replying to the regrettable one", as_user="carol")
    run(post)
    ConversationItem.objects.filter(remote_id=doomed).update(approved=True)

    bluesky.delete(doomed)
    outcome = run(post)

    assert outcome["deleted"] == 2
    assert [row.remote_id for row in items(post).visible()] == [kept]
    tombstone = ConversationItem.objects.get(remote_id=doomed)
    assert tombstone.deleted and not tombstone.approved
    for name in ("text", "html", "author_name", "author_handle", "author_url", "url"):
        assert getattr(tombstone, name) == "", name
    assert tombstone.remote_ref == {}
    assert ConversationItem.objects.get(remote_id=under).deleted


def test_an_undone_like_or_repost_disappears(bluesky, post):
    bluesky.like(post.remote_id, "alice")
    bluesky.like(post.remote_id, "bob")
    bluesky.repost(post.remote_id, "bob")
    run(post)

    bluesky.like(post.remote_id, "bob", undo=True)
    bluesky.repost(post.remote_id, "bob", undo=True)
    run(post)

    assert [r.author_handle for r in items(post, kind="like").visible()] == ["@alice.bsky.social"]
    assert not items(post, kind="boost").visible().exists()


def test_a_record_rewritten_through_the_api_is_read_as_an_edit(bluesky, post):
    reply = bluesky.reply(post.remote_id, "Great read")
    run(post)
    row = items(post).get()
    ConversationItem.objects.filter(pk=row.pk).update(approved=True, state=InboxState.DONE)

    bluesky.posts[reply]["record"]["text"] = "Actually, this is wrong"
    outcome = run(post)

    row.refresh_from_db()
    assert (outcome["updated"], outcome["added"]) == (1, 0)
    assert row.text == "Actually, this is wrong"
    assert (row.approved, row.state, row.edited_at) == (False, InboxState.UNREAD, None)


def test_our_post_deleted_on_the_network_takes_its_conversation_and_stops(bluesky, post):
    bluesky.reply(post.remote_id, "Nice")
    bluesky.like(post.remote_id, "alice")
    run(post)

    bluesky.delete(post.remote_id)
    outcome = run(post)

    assert outcome["outcome"] == "gone"
    assert not items(post).visible().exists()
    assert CollectionState.objects.get(post=post).next_due_at is None
    assert bluesky.hits["com.atproto.repo.getRecord"] == 1  # confirmed on the PDS


def test_a_post_the_appview_does_not_show_yet_is_not_taken_for_gone(bluesky, post):
    bluesky.reply(post.remote_id, "Nice")
    run(post)
    bluesky.answer_next(THREAD, 400, '{"error": "NotFound", "message": "Post not found"}')

    outcome = run(post)

    assert outcome["outcome"] == "failed"
    state = CollectionState.objects.get(post=post)
    assert "does not show the post yet" in state.last_error
    assert state.next_due_at is not None
    assert items(post).visible().count() == 1


def test_deleted_and_blocked_entries_in_a_thread_are_skipped(bluesky, post):
    kept = bluesky.reply(post.remote_id, "Hello")
    bluesky.inject(
        post.remote_id,
        {"$type": reader.NOT_FOUND, "uri": f"{post.remote_id}x", "notFound": True},
    )
    bluesky.inject(
        kept,
        {
            "$type": reader.BLOCKED,
            "uri": post.remote_id.replace("brand", "x") + "b",
            "blocked": True,
            "author": {"did": "did:plc:blocker", "viewer": {"blockedBy": True}},
        },
    )

    outcome = run(post)

    assert (outcome["added"], outcome["refused"]) == (1, 0)
    assert [row.remote_id for row in items(post)] == [kept]


# --- Bad input ---------------------------------------------------------------------------
def test_hostile_replies_are_stored_safely(bluesky, post):
    text = "Hi\x00 there \ud800 win a prize at evil.example or see good.example/story — ok"
    facets = [
        link(text, "prize", "javascript:alert(document.cookie)"),
        link(text, "good.example/story", 'https://good.example/story?a=1&b="2"'),
        # Overlapping the good link, past the end, inside a character, of the wrong types.
        link(text, "example/story — ok", "https://overlap.example"),
        {"index": {"byteStart": 0, "byteEnd": 10**9}, "features": [{"uri": "https://x.example"}]},
        {
            "index": {
                "byteStart": len(text[: text.index("—")].encode("utf-8", "surrogatepass")) + 1,
                "byteEnd": len(text.encode("utf-8", "surrogatepass")),
            },
            "features": [{"$type": reader.LINK, "uri": "https://mid.example"}],
        },
        {"index": {"byteStart": True, "byteEnd": "5"}, "features": "link"},
        "not a facet",
    ]
    evil = bluesky.reply(post.remote_id, text, as_user="mallory", facets=facets)
    bluesky.person(
        "mallory",
        displayName="<b>Mallory</b>\x00\u202e",
        handle="handle.invalid",
        avatar="data:image/svg+xml,<svg onload=alert(3)>",
    )
    bluesky.raw[evil] = {"record": {"createdAt": "0001-01-01T00:00:00+05:00"}}
    huge = bluesky.reply(post.remote_id, "a" * 100_000, as_user="bob")
    script = bluesky.reply(post.remote_id, "<script>alert(1)</script> & <b>hi</b>", as_user="carol")

    outcome = run(post)

    assert (outcome["added"], outcome["refused"]) == (3, 0)
    row = ConversationItem.objects.get(remote_id=evil)
    assert row.html == (
        "<p>Hi there \ufffd win a prize at evil.example or see "
        f'<a href="https://good.example/story?a=1&amp;b=&quot;2&quot;" {REL}>good.example/story</a>'
        " — ok</p>"
    )
    assert row.text == "Hi there \ufffd win a prize at evil.example or see good.example/story — ok"
    assert "javascript" not in row.html and "\x00" not in row.text
    assert row.author_name == "Mallory"
    assert row.author_handle == "@handle.invalid"
    did = bluesky.person("mallory")["did"]
    # An invalid handle makes no address: the DID does.
    assert row.author_url == f"https://bsky.app/profile/{did}"
    assert row.url == f"https://bsky.app/profile/{did}/post/{evil.rsplit('/', 1)[1]}"
    assert row.author_avatar_url == ""
    assert row.created_at is not None  # the indexing time, the record's own was nonsense
    big = ConversationItem.objects.get(remote_id=huge)
    assert big.truncated and len(big.text) == sanitise.MAX_TEXT
    escaped = ConversationItem.objects.get(remote_id=script)
    assert (
        escaped.html == "<p>&lt;script&gt;alert(1)&lt;/script&gt; &amp; &lt;b&gt;hi&lt;/b&gt;</p>"
    )
    assert escaped.text == "<script>alert(1)</script> & <b>hi</b>"


def test_items_of_the_wrong_shape_are_quarantined_and_the_rest_stored(bluesky, post):
    good = bluesky.reply(post.remote_id, "Fine")
    no_author = bluesky.reply(post.remote_id, "no author", as_user="bob")
    bluesky.raw[no_author] = {"author": "bob"}
    listed = bluesky.reply(post.remote_id, "text", as_user="carol")
    bluesky.raw[listed] = {"record": {"text": ["not", "text"]}}
    no_cid = bluesky.reply(post.remote_id, "no cid", as_user="dave")
    bluesky.raw[no_cid] = {"cid": None}
    under = bluesky.reply(no_author, "Under a broken one", as_user="erin")
    bluesky.inject(post.remote_id, "garbage")
    bluesky.inject(post.remote_id, {"$type": reader.THREAD_VIEW, "post": {"uri": "javascript:x"}})
    bluesky.like(post.remote_id, "frank")
    bluesky.inject(post.remote_id, {"$type": reader.THREAD_VIEW, "post": {"uri": "x"}})

    outcome = run(post)

    assert outcome["refused"] == 6
    assert {row.remote_id for row in items(post, kind="reply")} == {good, under}
    # A reply under a refused one keeps its place in the thread.
    assert items(post).get(remote_id=under).parent_remote_id == no_author
    reasons = sorted(m.error for m in QuarantinedMessage.objects.filter(consumer="conversation"))
    assert reasons == [
        "Refused a reply: no author.",
        "Refused a reply: no usable CID.",
        "Refused a reply: no usable at:// URI.",
        "Refused a reply: no usable at:// URI.",
        "Refused a reply: not a post.",
        "Refused a reply: text that is not text.",
    ]


def test_huge_and_broken_counters_are_read_as_unknown(bluesky, post):
    bluesky.like(post.remote_id, "alice")
    bluesky.repost(post.remote_id, "bob")
    bluesky.raw[post.remote_id] = {
        "likeCount": 10**40,
        "repostCount": -1,
        "quoteCount": "many",
        "replyCount": 1e308,
    }

    run(post)
    run(post)

    state = CollectionState.objects.get(post=post)
    assert state.cursor == {"replies": None, "reposts": None, "likes": None, "quotes": None}
    # Unknown counters never look unchanged: the lists are read every run.
    assert bluesky.hits["app.bsky.feed.getLikes"] == 2
    assert items(post).count() == 2


def test_a_bad_like_is_refused_and_the_others_kept(bluesky, post):
    bluesky.like(post.remote_id, "alice")
    bluesky.like(post.remote_id, "bob")
    bluesky.person("bob", did="did:evil:<script>")

    outcome = run(post)

    assert outcome["refused"] == 1
    assert [row.author_handle for row in items(post)] == ["@alice.bsky.social"]
    (message,) = QuarantinedMessage.objects.filter(consumer="conversation")
    assert message.error == "Refused a like: not an account with a DID."


@pytest.mark.parametrize(
    ("nsid", "body", "content_type"),
    [
        (THREAD, "<html><body>Welcome to nginx</body></html>", "text/html"),
        (THREAD, '{"thread": "lots"}', "application/json"),
        (THREAD, '{"thread": {"$type": "app.bsky.feed.defs#threadViewPost"}}', "application/json"),
        (THREAD, "[1, 2, 3]", "application/json"),
        (THREAD, "", ""),
        (THREAD, "[" * 100_000 + "]" * 100_000, "application/json"),
        ("app.bsky.feed.getLikes", '{"likes": "lots"}', "application/json"),
    ],
)
def test_a_garbage_answer_fails_the_run_with_a_reason_and_keeps_everything(
    bluesky, post, nsid, body, content_type
):
    first = bluesky.reply(post.remote_id, "Hello")
    run(post)
    cursor = CollectionState.objects.get(post=post).cursor
    bluesky.reply(first, "Nested hello", as_user="bob")
    bluesky.like(post.remote_id, "carol")
    bluesky.answer_next(nsid, 200, body, content_type=content_type)
    started = timezone.now()

    outcome = run(post, now=started)

    assert outcome["outcome"] == "failed"
    state = CollectionState.objects.get(post=post)
    assert state.failures == 1
    assert "answered" in state.last_error
    assert state.cursor == cursor
    assert state.backoff_until > started and state.claim is None
    assert items(post).count() == 1 and not items(post, deleted=True).exists()
    assert run(post)["added"] == 2
    assert CollectionState.objects.get(post=post).failures == 0


@pytest.mark.parametrize(
    ("change", "says"),
    [
        ({"replies": "lots"}, "replies that are not a list"),
        ({"post": {"cid": None}}, "without our post in it"),
        ({"post": {"uri": "at://did:plc:someoneelse/app.bsky.feed.post/x"}}, "without our post"),
        ({"$type": reader.BLOCKED}, "without our post in it"),
    ],
)
def test_a_thread_of_the_wrong_shape_fails_the_run(bluesky, post, change, says):
    bluesky.reply(post.remote_id, "Hello")
    thread = {"$type": reader.THREAD_VIEW, "post": bluesky.view(post.remote_id), "replies": []}
    for key, value in change.items():
        if isinstance(value, dict):
            thread[key].update(value)
        else:
            thread[key] = value
    bluesky.answer_next(THREAD, 200, json.dumps({"thread": thread}))

    outcome = run(post)

    assert outcome["outcome"] == "failed"
    assert says in outcome["error"]
    assert not items(post).exists()


# --- Servers and sessions ------------------------------------------------------------------
def test_a_server_error_backs_off_no_sooner_than_retry_after(bluesky, post):
    bluesky.answer_next(THREAD, 503, "Down", content_type="text/plain", **{"Retry-After": "900"})
    now = timezone.now()

    outcome = run(post, now=now)

    state = CollectionState.objects.get(post=post)
    assert outcome["outcome"] == "failed"
    assert state.backoff_until >= now + datetime.timedelta(seconds=900)
    assert collect.claim_due(now + datetime.timedelta(seconds=600)) == []


def test_a_rate_limit_pauses_the_account_until_the_reset(bluesky, post):
    now = timezone.now()
    reset = int(now.timestamp()) + 300
    bluesky.answer_next(
        THREAD,
        429,
        '{"error": "RateLimitExceeded", "message": "Rate Limit Exceeded"}',
        **{"RateLimit-Reset": str(reset)},
    )

    run(post, now=now)

    account = ChannelAccount.objects.get(pk=post.account_id)
    assert account.paused_until >= now + datetime.timedelta(seconds=290)
    assert CollectionState.objects.get(post=post).backoff_until >= account.paused_until


def test_a_revoked_session_asks_for_a_reconnect(bluesky, post, brand):
    bluesky.revoke(brand.tokens["access_jwt"])

    outcome = run(post)

    assert outcome["outcome"] == "needs reconnecting"
    assert ChannelAccount.objects.get(pk=post.account_id).status == "needs_reconnect"


def test_a_session_the_pds_calls_expired_is_refreshed_and_the_thread_read(bluesky, post, brand):
    bluesky.reply(post.remote_id, "Hello")
    old = brand.tokens["access_jwt"]
    bluesky.expire(old)

    outcome = run(post)

    assert outcome["outcome"] == "collected" and outcome["added"] == 1
    brand.refresh_from_db()
    assert brand.tokens["access_jwt"] != old and brand.last_refreshed_at is not None
    assert bluesky.hits["com.atproto.server.refreshSession"] == 1


# --- Our own posts, the schedule, the cost ---------------------------------------------------
def test_a_chapter_threaded_under_the_post_keeps_its_own_replies(bluesky, brand):
    first = published(brand, bluesky.post("brand", "Chapter one"))
    second_uri = bluesky.reply(first.remote_id, "Chapter two", as_user="brand")
    second = published(brand, second_uri, story=first.story)
    on_first = bluesky.reply(first.remote_id, "About chapter one")
    on_second = bluesky.reply(second_uri, "About chapter two", as_user="bob")
    bluesky.reply(on_second, "Under chapter two", as_user="carol")
    bluesky.post("brand", "Our own quote", quote=first.remote_id)
    ours = published(brand, bluesky.order[-1])

    run(first)
    run(second)

    assert [r.remote_id for r in items(first)] == [on_first]
    assert {r.remote_id for r in items(second)} == {on_second, bluesky.order[-2]}
    # Chapter two is itself a reply: answers go to the thread's root, chapter one.
    row = items(second).get(remote_id=on_second)
    assert row.remote_ref["root"] == ref(bluesky, first.remote_id)
    assert not items(ours).exists()


def test_beat_collects_bluesky_and_mastodon_posts_alike(bluesky, post, mastodon_server):
    from .test_collect import connect, status_on

    account, token = connect(mastodon_server)
    toot = published(account, status_on(mastodon_server, token))
    mastodon_server.reply(toot.remote_id, "From the fediverse")
    bluesky.reply(post.remote_id, "From Bluesky")
    now = timezone.now()

    queued = {}
    assert collect.dispatch(lambda p, c: queued.update({p: c}), now=now) == {"new": 2, "queued": 2}
    for post_id, claim in queued.items():
        assert collect.collect_post(post_id, claim, now=now)["outcome"] == "collected"

    assert [r.text for r in items(post)] == ["From Bluesky"]
    assert [(r.network, r.text) for r in items(toot)] == [("mastodon", "From the fediverse")]
    assert items(post).get().network == "bluesky"


def test_storing_costs_the_same_queries_for_five_replies_or_fifty(bluesky, brand):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    counts = []
    for replies in (5, 50):
        post = published(brand, bluesky.post("brand", f"Post with {replies}"))
        uris = [
            bluesky.reply(post.remote_id, f"Reply {n}", as_user=f"r{n}") for n in range(replies)
        ]
        for n in range(replies):
            bluesky.like(post.remote_id, f"r{n}")
        run(post)
        for n, uri in enumerate(uris):
            bluesky.posts[uri]["record"]["text"] = f"Rewritten {n}"
        with CaptureQueriesContext(connection) as queries:
            outcome = run(post)
        assert outcome["updated"] == replies
        counts.append(len(queries))
    if connection.vendor == "sqlite":
        assert counts[0] <= counts[1] <= counts[0] + 2, counts
    else:
        assert counts[0] == counts[1]


def test_each_reply_gets_its_tone(bluesky, post):
    bluesky.reply(post.remote_id, "Still waiting for my refund after three weeks.")
    bluesky.like(post.remote_id, "alice")

    run(post)

    assert items(post, kind="reply").get().tone == "complaint"
    assert items(post, kind="like").get().tone == ""


# --- The text, on its own ------------------------------------------------------------------
@pytest.mark.parametrize(
    ("text", "facets", "html"),
    [
        ("", None, ""),
        ("one\ntwo", None, "<p>one<br>two</p>"),
        (
            "café ☕ x.example",
            [link("café ☕ x.example", "x.example", "https://x.example/")],
            (f'<p>café ☕ <a href="https://x.example/" {REL}>x.example</a></p>'),
        ),
        (
            "see data",
            [link("see data", "data", "data:text/html,<script>x</script>")],
            ("<p>see data</p>"),
        ),
        (
            "a b",
            [{"index": {"byteStart": 0, "byteEnd": 3}, "features": [{"$type": 1}]}],
            ("<p>a b</p>"),
        ),
    ],
)
def test_text_and_facets_make_safe_html(text, facets, html):
    safe, plain, cut = reader.rich_text(text, facets)
    assert (safe, cut) == (html, False)
    assert plain == sanitise.plain_text(safe)


def test_our_own_account_replying_by_hand_is_not_collected(bluesky, post):
    ours = bluesky.reply(post.remote_id, "Thanks, we are on it", as_user="brand")
    bluesky.reply(ours, "Great, thank you", as_user="alice")
    run(post)
    assert list(items(post).values_list("text", flat=True)) == ["Great, thank you"]


def test_an_author_who_refuses_logged_out_viewers_is_never_shown_on_the_story_page(
    bluesky, post, social_manager
):
    from syndication.conversation import publicity

    shy = bluesky.reply(post.remote_id, "Happy to help, but not in public", as_user="alice")
    bluesky.raw[shy] = {
        "author": {"labels": [{"src": "did:plc:x", "uri": "at://x", "val": "!no-unauthenticated"}]}
    }
    bluesky.reply(post.remote_id, "Great read", as_user="bob")
    run(post)
    refused = items(post, text="Happy to help, but not in public").get()
    assert refused.public_page_refused
    assert not items(post, text="Great read").get().public_page_refused
    with pytest.raises(publicity.Refused, match="not signed in"):
        publicity.approve(refused, social_manager)
    # Approved before the label came: the page stops showing it all the same.
    ConversationItem.objects.filter(pk=refused.pk).update(approved=True)
    publicity.show_on_page(post.story, True, social_manager)
    assert [said.text for said in publicity.shown_on_page(post.story_id)] == []
