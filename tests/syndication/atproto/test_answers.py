"""Answering a Bluesky reply from Storyloom, against the AT Protocol's reference network
(``@atproto/dev-env``): the answer is a record with reply refs (the thread's root and the
item as parent), written once even when the answer to the create is lost."""

import datetime

from django.contrib.auth.models import Group
from django.utils import timezone

import pytest

from syndication import connect, publishing, states
from syndication.channels.base import PublishRequest
from syndication.conversation import answers
from syndication.conversation.models import ConversationItem
from syndication.models import ChannelAccount, SyndicationPost
from syndication.posts import render_post

from .proxy import LossyProxy
from .test_devenv import sign_in, stored_posts, xrpc

pytestmark = [pytest.mark.django_db, pytest.mark.integration]

# Plainly not selling: the voice check of issue 15 reads "…is out next week." after an
# exclamation as a soft pitch (a false flag, noted in docs/voice.md); not this test's subject.
THANKS = "Thank you Bob, glad you liked it. Part two follows next week."


@pytest.fixture(autouse=True)
def quick_engine(settings):
    settings.SYNDICATION_HTTP_TIMEOUT = 10
    settings.SYNDICATION_RECONCILE_AFTER = 0
    settings.SYNDICATION_RETRY_BASE = 1
    settings.SYNDICATION_RETRY_CAP = 2


@pytest.fixture
def manager(django_user_model):
    user = django_user_model.objects.create_user(username="sam", password="pw")
    user.groups.add(Group.objects.get(name="Social managers"))
    return user


@pytest.fixture
def alice(atproto):
    return connect.bluesky_connect("alice.test", atproto.accounts["alice"]["appPassword"])


def run_due() -> list[str]:
    claimed = []
    publishing.dispatch_due_posts(lambda post_id, claim: claimed.append((post_id, claim)))
    return [publishing.publish_post(post_id, claim) for post_id, claim in claimed]


def record(network, uri) -> dict:
    repo, collection, rkey = uri.removeprefix("at://").split("/")
    return xrpc(
        network.pds, "com.atproto.repo.getRecord", repo=repo, collection=collection, rkey=rkey
    )


@pytest.fixture
def thread(atproto, alice, make_story):
    """Alice's post of a story (through the engine), and Bob's reply under it, collected
    as an item with the reference answering needs."""
    now = timezone.now()
    post = SyndicationPost.objects.create(
        story=make_story(title="The fox who stayed", intro="A story about staying put."),
        account=alice,
        text="{story_url}",
        scheduled_at=now,
        due_at=now,
        state=states.SCHEDULED,
    )
    assert run_due() == ["published"]
    post.refresh_from_db()
    ours = record(atproto, post.remote_id)
    root = {"uri": ours["uri"], "cid": ours["cid"]}
    bob = sign_in(atproto, "bob")
    reply = xrpc(
        atproto.pds,
        "com.atproto.repo.createRecord",
        token=bob["accessJwt"],
        body={
            "repo": bob["did"],
            "collection": "app.bsky.feed.post",
            "record": {
                "text": "Lovely. Is there a part two?",
                "reply": {"root": root, "parent": root},
                "createdAt": now.isoformat().replace("+00:00", "Z"),
            },
        },
    )
    item = ConversationItem.objects.create(
        post=post,
        network="bluesky",
        remote_id=reply["uri"],
        kind="reply",
        author_handle="@bob.test",
        text="Lovely. Is there a part two?",
        created_at=now - datetime.timedelta(minutes=1),
        # As the collector stores it (Item.ref): the reply's strong ref and its root.
        remote_ref={"uri": reply["uri"], "cid": reply["cid"], "root": root},
    )
    return post, item, root, {"uri": reply["uri"], "cid": reply["cid"]}


def test_an_answer_is_a_reply_record_with_root_and_parent_written_once(
    atproto, alice, manager, thread
):
    post, item, root, parent = thread
    did = atproto.accounts["alice"]["did"]
    before = len(stored_posts(atproto, did))

    made = answers.answer(item, THANKS, user=manager)
    assert run_due() == ["published"]
    assert run_due() == []

    answer_post = SyndicationPost.objects.get(pk=made.post.pk)
    assert answer_post.state == states.PUBLISHED
    assert answer_post.remote_url.startswith("https://bsky.app/profile/alice.test/post/")
    written = record(atproto, answer_post.remote_id)["value"]
    assert written["text"] == THANKS
    assert written["reply"] == {"root": root, "parent": parent}
    assert "embed" not in written and "facets" not in written  # no story link, no card
    assert len(stored_posts(atproto, did)) == before + 1


def test_a_lost_answer_on_create_and_a_resend_make_one_record(atproto, alice, manager, thread):
    post, item, root, parent = thread
    did = atproto.accounts["alice"]["did"]
    before = len(stored_posts(atproto, did))
    with LossyProxy(atproto.pds) as proxy:
        ChannelAccount.objects.filter(pk=alice.pk).update(instance_url=proxy.url)
        proxy.drop_creates = True
        made = answers.answer(item, THANKS, user=manager)
        assert run_due() == ["published"]
        assert proxy.dropped == 1
        answer_post = SyndicationPost.objects.get(pk=made.post.pk)

        # Sent once more, as a worker whose read-back had missed it would: the same
        # record key, so the PDS refuses a second record and the first is returned.
        text, link = render_post(answer_post)
        request = PublishRequest(
            post_id=answer_post.pk,
            text=text,
            link=link,
            idempotency_key=str(answer_post.idempotency_key),
            reply_ref=answer_post.reply_to_ref,
        )
        alice.refresh_from_db()
        assert alice.adapter().publish(request).id == answer_post.remote_id
        assert proxy.dropped == 2

    records = stored_posts(atproto, did)
    assert len(records) == before + 1
    [written] = [r["value"] for r in records if r["uri"] == answer_post.remote_id]
    assert written["reply"] == {"root": root, "parent": parent}
