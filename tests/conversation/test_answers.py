"""Answering a reply from Storyloom on Mastodon-API servers: the service
(``conversation.answers``), the publishing engine in-process (as tests/syndication/
test_publish.py runs it) and real HTTP to the Mastodon test server."""

import datetime
import time

from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

import pytest

from syndication import states
from syndication.channels.base import Rejected
from syndication.channels.bluesky import answer_refs
from syndication.channels.mastodon import comparable, html_text, is_answer
from syndication.conversation import answers, collect
from syndication.conversation.models import Answer, CollectionState, ConversationItem
from syndication.models import ChannelAccount, PostAttempt
from syndication.posts import render_post
from syndication.testing.mastodon import profiles
from syndication.testing.mastodon_server import MastodonTestServer
from tests.syndication.conftest import make_user

from .answering import PITCH, THANKS, Thread, nothing_stored, reload, run_due

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def quick_engine(settings):
    settings.SYNDICATION_HTTP_TIMEOUT = 1
    settings.SYNDICATION_RETRY_BASE = 1
    settings.SYNDICATION_RETRY_CAP = 2
    settings.SYNDICATION_RECONCILE_AFTER = 0
    settings.SYNDICATION_MAX_FAILURES = 6


@pytest.fixture
def manager(django_user_model):
    return make_user(django_user_model, "sam", "Social managers")


@pytest.fixture
def editor(django_user_model):
    return make_user(django_user_model, "eddie", "Editors")


@pytest.fixture
def thread(mastodon_server, make_story):
    return Thread(mastodon_server, make_story)


@pytest.fixture
def takahe_thread(make_story):
    """The same on a server that does not honour Idempotency-Key: only the read-back
    stands between a lost answer and a second one."""
    with MastodonTestServer(profile=profiles.TAKAHE) as server:
        yield Thread(server, make_story)


# --- The answer goes out once, as a reply ------------------------------------------------
def test_an_answer_goes_out_once_as_a_reply_to_the_item(thread, manager):
    made = answers.answer(thread.item, THANKS, user=manager)

    post = made.post
    assert made.item == thread.item and made.created_by == manager
    assert post.reply_to_ref == {"id": thread.reply_id}
    assert post.story == thread.post.story and post.account == thread.account
    assert post.state == states.SCHEDULED and post.due_at <= timezone.now()
    # Sent as written: no story link, no UTM tags.
    assert render_post(post) == (THANKS, "")
    assert post.link == ""

    assert run_due() == ["published"]
    [status] = thread.answers_on_server()
    assert status["text"] == THANKS and "utm_" not in status["text"]
    post = reload(post)
    assert post.state == states.PUBLISHED
    assert post.remote_id == status["id"] and post.remote_url == status["url"]
    assert thread.item.answers.get().post.remote_url == status["url"]
    # Nothing more on later ticks.
    assert run_due() == []
    assert len(thread.answers_on_server()) == 1


@pytest.mark.parametrize("fault", ["drop_after_create", "timeout_after_create", "500_after_create"])
def test_a_lost_answer_is_found_again_not_sent_twice(thread, manager, fault):
    """Mastodon 4 honours the key too; the read-back settles it before any resend."""
    post = answers.answer(thread.item, THANKS, user=manager).post
    thread.server.fail_next(fault)
    assert run_due() == ["unconfirmed"]
    assert len(thread.answers_on_server()) == 1  # it did go out
    creates = thread.server.create_calls

    assert run_due(timezone.now() + datetime.timedelta(seconds=1)) == ["published"]
    post = reload(post)
    [status] = thread.answers_on_server()
    assert post.remote_id == status["id"]
    assert thread.server.create_calls == creates  # found, not sent again
    assert [a.outcome for a in post.attempts.all()][-1] == PostAttempt.Outcome.CONFIRMED
    assert thread.server.duplicates() == {}


def test_without_idempotency_a_lost_answer_is_found_by_what_it_replies_to_and_says(
    takahe_thread, manager, settings
):
    thread = takahe_thread
    settings.SYNDICATION_INFLIGHT_MARGIN = 0
    # An earlier answer to the same reply, published: it must not be taken for this one.
    earlier = answers.answer(thread.item, "Hello again Alice.", user=manager).post
    assert run_due() == ["published"]
    post = answers.answer(thread.item, THANKS, user=manager).post
    thread.server.fail_next("drop_after_create")
    assert run_due() == ["unconfirmed"]
    # Past the moment a resend would be allowed: only the read-back prevents a second.
    time.sleep(1.2)

    assert run_due() == ["published"]
    post = reload(post)
    statuses = {status["text"]: status["id"] for status in thread.answers_on_server()}
    assert statuses == {"Hello again Alice.": reload(earlier).remote_id, THANKS: post.remote_id}
    assert thread.server.duplicates() == {}


def test_an_answer_whose_thread_cannot_be_read_is_found_in_the_accounts_statuses(
    takahe_thread, manager, settings
):
    thread = takahe_thread
    settings.SYNDICATION_INFLIGHT_MARGIN = 0
    post = answers.answer(thread.item, THANKS, user=manager).post
    thread.server.fail_next("500_after_create")
    assert run_due() == ["unconfirmed"]
    time.sleep(1.2)
    thread.server.answer_next("status_context", 404, '{"error": "Record not found"}')

    assert run_due() == ["published"]
    [status] = thread.answers_on_server()
    assert reload(post).remote_id == status["id"]
    assert thread.server.hits["account_statuses"] >= 1


def test_an_answer_that_never_arrived_waits_then_goes_out_once(takahe_thread, manager, settings):
    thread = takahe_thread
    settings.SYNDICATION_INFLIGHT_MARGIN = 1
    post = answers.answer(thread.item, THANKS, user=manager).post
    thread.server.fail_next("500")  # nothing made, but the engine cannot know that
    assert run_due() == ["unconfirmed"]
    # Too early: the first request could still arrive, so nothing is sent.
    assert run_due(reload(post).due_at) == ["unconfirmed"]
    assert thread.answers_on_server() == []
    assert "does not honour the idempotency key" in reload(post).last_error
    time.sleep(2.2)  # timeout (1 s) + margin (1 s)
    assert run_due(reload(post).due_at) == ["published"]
    assert len(thread.answers_on_server()) == 1
    assert reload(post).send_count == 2


def test_read_back_compares_words_not_markup():
    """Mastodon shows ``@alice@elsewhere.example`` as ``@alice`` in a link, cuts long
    links into spans and writes line breaks as markup."""
    text = "@alice@elsewhere.example Thanks!\n\nMore at https://stories.example/fox-who-stayed"
    content = (
        '<p><span class="h-card" translate="no"><a href="https://elsewhere.example/@alice" '
        'class="u-url mention">@<span>alice</span></a></span> Thanks!</p><p>More at '
        '<a href="https://stories.example/fox-who-stayed" rel="nofollow noopener" '
        'translate="no" target="_blank"><span class="invisible">https://</span><span class="">'
        'stories.example/fox-who-stayed</span><span class="invisible"></span></a></p>'
    )
    status = {"id": "9", "in_reply_to_id": "7", "content": content}
    assert is_answer(status, {"id": "7"}, text)
    assert not is_answer({**status, "in_reply_to_id": "8"}, {"id": "7"}, text)
    assert not is_answer(status, {"id": "7"}, "@alice Thanks! More next week")
    assert html_text("<p>a<br />b</p><p>c &amp; d</p>") == "a\nb\n\nc & d\n\n"
    assert comparable("🦊🦊") == "🦊🦊" != comparable("🦊")


# --- Refused, with nothing stored -------------------------------------------------------
def test_the_voice_check_refuses_a_pitch_without_a_reason(thread, manager):
    with pytest.raises(ValidationError, match="voice check reads this answer as selling"):
        answers.answer(thread.item, PITCH, user=manager)
    assert nothing_stored()

    made = answers.answer(thread.item, PITCH, user=manager, voice_override_reason="Alice asked")
    assert made.post.voice_override_reason == "Alice asked"
    assert made.post.voice_score >= 0.5


@pytest.mark.parametrize(
    ("change", "says"),
    [
        ({"deleted": True}, "deleted on the network"),
        ({"kind": "boost"}, "says nothing to answer"),
        ({"kind": "like"}, "says nothing to answer"),
        ({"remote_ref": {}}, "does not have this item's reference"),
        ({"remote_ref": {"id": "../../oauth/revoke"}}, "does not have this item's reference"),
    ],
)
def test_items_that_cannot_be_answered_are_refused(thread, manager, change, says):
    ConversationItem.objects.filter(pk=thread.item.pk).update(**change)
    with pytest.raises(ValidationError, match=says):
        answers.answer(thread.item, THANKS, user=manager)
    assert nothing_stored()


def test_an_account_that_needs_reconnecting_cannot_answer(thread, manager):
    ChannelAccount.objects.filter(pk=thread.account.pk).update(
        status=ChannelAccount.Status.NEEDS_RECONNECT
    )
    with pytest.raises(ValidationError, match="needs reconnecting"):
        answers.answer(thread.item, THANKS, user=manager)
    assert nothing_stored()


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("   \n ", "Write the answer"),
        ("Thanks\x00 Alice", "control characters"),
        ("Thanks \ud800 Alice", "lone surrogates"),
        ("Thanks \ufffd Alice", "could not be read"),
        ("x" * 100_000, "at most 10,000 characters"),
        ("x" * 501, "over Mastodon's 500-character limit"),
    ],
)
def test_text_the_network_would_refuse_is_refused(thread, manager, text, says):
    with pytest.raises(ValidationError, match=says):
        answers.answer(thread.item, text, user=manager)
    assert nothing_stored()


def test_the_same_answer_twice_is_refused(thread, manager):
    answers.answer(thread.item, THANKS, user=manager)
    with pytest.raises(ValidationError, match="already has an answer saying the same"):
        answers.answer(thread.item, "thank you alice - part two is out next week", user=manager)
    assert Answer.objects.count() == 1


def test_only_people_who_may_answer_can(thread, editor):
    with pytest.raises(PermissionDenied):
        answers.answer(thread.item, THANKS, user=editor)
    assert nothing_stored()


# --- In the thread, once ------------------------------------------------------------------
def test_the_collector_leaves_our_answer_out_of_the_thread(thread, manager):
    answers.answer(thread.item, THANKS, user=manager)
    assert run_due() == ["published"]
    [ours] = thread.answers_on_server()
    thread.server.reply(ours["id"], "You're welcome to it", as_user="bob")

    now = timezone.now()
    collect.ensure_states(now)
    CollectionState.objects.update(next_due_at=now)
    claimed = dict(collect.claim_due(now))
    outcome = collect.collect_post(thread.post.pk, claimed[thread.post.pk], now=now)

    assert outcome["outcome"] == "collected"
    collected = set(
        ConversationItem.objects.filter(post=thread.post).values_list("remote_id", flat=True)
    )
    # Alice's reply is there; our answer and what is said under it belong to the answer.
    assert f"{thread.server.domain}/{thread.reply_id}" in collected
    assert f"{thread.server.domain}/{ours['id']}" not in collected
    assert not ConversationItem.objects.filter(author_handle__startswith="@brand").exists()


def test_bluesky_reply_refs_come_from_the_items_stored_reference():
    parent = {"uri": "at://did:plc:bob/app.bsky.feed.post/3kabc", "cid": "bafyparent"}
    root = {"uri": "at://did:plc:brand/app.bsky.feed.post/3kroot", "cid": "bafyroot"}
    assert answer_refs({**parent, "root": {**root, "extra": "x"}, "more": 1}) == {
        "root": root,
        "parent": parent,
    }
    # A quote is a thread of its own: its own root.
    assert answer_refs(parent) == {"root": parent, "parent": parent}
    for broken in ({}, {"uri": parent["uri"]}, {"uri": "https://bsky.app/x", "cid": "c"}):
        with pytest.raises(Rejected):
            answer_refs(broken)
