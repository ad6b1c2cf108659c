"""Collecting the conversation of a Bluesky post against the AT Protocol's reference
network (``@atproto/dev-env``): our post published through the adapter, other accounts
replying (nested too), quoting, reposting and liking with plain XRPC calls to the PDS,
the AppView indexing it, and Storyloom's collector reading it back through the PDS with
the account's session, as in production."""

import secrets
import uuid

from django.utils import timezone

import pytest

from syndication import connect, states
from syndication.channels.base import PublishRequest
from syndication.conversation.models import CollectionState, ConversationItem
from tests.conversation.test_collect import items, published, run

from .test_devenv import sign_in, xrpc

pytestmark = [pytest.mark.django_db, pytest.mark.integration]


@pytest.fixture(autouse=True)
def quick(settings):
    settings.SYNDICATION_HTTP_TIMEOUT = 10


@pytest.fixture
def alice(atproto):
    return connect.bluesky_connect("alice.test", atproto.accounts["alice"]["appPassword"])


def person(network, name: str) -> dict:
    """A new account on the network's PDS (a handle of its own per test), signed in."""
    handle = f"{name}{secrets.token_hex(3)}.test"
    return xrpc(
        network.pds,
        "com.atproto.server.createAccount",
        body={"handle": handle, "email": f"{handle}@example.test", "password": "pw-" + name},
    )


def write(network, who: dict, collection: str, record: dict) -> dict:
    """A record in ``who``'s repository; its strong reference ``{uri, cid}``."""
    record = {"createdAt": timezone.now().isoformat().replace("+00:00", "Z"), **record}
    made = xrpc(
        network.pds,
        "com.atproto.repo.createRecord",
        token=who["accessJwt"],
        body={"repo": who["did"], "collection": collection, "record": record},
    )
    return {"uri": made["uri"], "cid": made["cid"]}


def reply(network, who, text, parent, root) -> dict:
    record = {"text": text, "reply": {"root": root, "parent": parent}}
    return write(network, who, "app.bsky.feed.post", record)


def delete(network, who, uri) -> None:
    _repo, collection, rkey = uri.removeprefix("at://").split("/")
    xrpc(
        network.pds,
        "com.atproto.repo.deleteRecord",
        token=who["accessJwt"],
        body={"repo": who["did"], "collection": collection, "rkey": rkey},
    )


def test_a_posts_conversation_is_collected_once_and_follows_deletions(atproto, alice, make_story):
    # Our post, published through the adapter, and what others did with it.
    adapter = alice.adapter()
    request = PublishRequest(
        post_id=0, text="A story worth a read.", link="", idempotency_key=str(uuid.uuid4())
    )
    post = published(alice, adapter.publish(request).id, story=make_story())
    ours = {
        "uri": post.remote_id,
        "cid": xrpc(
            atproto.pds,
            "com.atproto.repo.getRecord",
            repo=alice.remote_id,
            collection="app.bsky.feed.post",
            rkey=post.remote_id.rsplit("/", 1)[1],
        )["cid"],
    }
    bob, carol, dave = (person(atproto, name) for name in ("bob", "carol", "dave"))
    first = reply(atproto, bob, "Lovely story!", ours, ours)
    nested = reply(atproto, carol, "Agreed with Bob", first, ours)
    deeper = reply(atproto, dave, "Me too", nested, ours)
    quote = write(
        atproto,
        carol,
        "app.bsky.feed.post",
        {
            "text": "Everyone should read this",
            "embed": {"$type": "app.bsky.embed.record", "record": ours},
        },
    )
    write(atproto, bob, "app.bsky.feed.repost", {"subject": ours})
    bob_like = write(atproto, bob, "app.bsky.feed.like", {"subject": ours})
    write(atproto, carol, "app.bsky.feed.like", {"subject": ours})
    # Our own next chapter, threaded under the post: its replies are its own.
    signed_in = sign_in(atproto, "alice")
    chapter = reply(atproto, signed_in, "Chapter two", ours, ours)
    published(alice, chapter["uri"], story=post.story)
    reply(atproto, dave, "About chapter two", chapter, ours)
    atproto.process_all()

    outcome = run(post)

    assert outcome["outcome"] == "collected", outcome
    assert (outcome["added"], outcome["refused"]) == (7, 0)
    replies = {row.remote_id: row for row in items(post, kind="reply")}
    assert set(replies) == {first["uri"], nested["uri"], deeper["uri"]}
    assert replies[first["uri"]].parent_remote_id == ""
    assert replies[nested["uri"]].parent_remote_id == first["uri"]
    assert replies[deeper["uri"]].parent_remote_id == nested["uri"]
    bobs = replies[first["uri"]]
    assert (bobs.text, bobs.html) == ("Lovely story!", "<p>Lovely story!</p>")
    assert bobs.author_handle == f"@{bob['handle']}"
    assert bobs.author_url == f"https://bsky.app/profile/{bob['handle']}"
    rkey = first["uri"].rsplit("/", 1)[1]
    assert bobs.url == f"https://bsky.app/profile/{bob['handle']}/post/{rkey}"
    assert bobs.created_at is not None
    # What answering needs, exactly as the network has it.
    assert bobs.remote_ref == {**first, "root": ours}
    assert replies[deeper["uri"]].remote_ref == {**deeper, "root": ours}
    quoted = items(post, kind="quote").get()
    assert (quoted.remote_id, quoted.text) == (quote["uri"], "Everyone should read this")
    assert quoted.remote_ref == {**quote, "root": quote}
    assert [row.remote_id for row in items(post, kind="boost")] == [
        f"repost/{post.remote_id}/{bob['did']}"
    ]
    assert {row.remote_id for row in items(post, kind="like")} == {
        f"like/{post.remote_id}/{bob['did']}",
        f"like/{post.remote_id}/{carol['did']}",
    }
    state = CollectionState.objects.get(post=post)
    assert state.cursor == {"replies": 2, "reposts": 1, "likes": 2, "quotes": 1}

    # Again: nothing new, nothing doubled.
    again = run(post)
    assert (again["added"], again["updated"], again["deleted"]) == (0, 0, 0)
    assert ConversationItem.objects.filter(post=post).count() == 7

    # Carol deletes her reply (Dave's under it leaves the thread too); Bob unlikes.
    delete(atproto, carol, nested["uri"])
    delete(atproto, bob, bob_like["uri"])
    atproto.process_all()

    after = run(post)

    assert after["deleted"] == 3, after
    assert {row.remote_id for row in items(post, kind="reply").visible()} == {first["uri"]}
    tombstone = ConversationItem.objects.get(remote_id=nested["uri"])
    assert tombstone.deleted and (tombstone.text, tombstone.author_handle) == ("", "")
    assert tombstone.remote_ref == {}
    assert ConversationItem.objects.get(remote_id=deeper["uri"]).deleted
    assert [row.author_handle for row in items(post, kind="like").visible()] == [
        f"@{carol['handle']}"
    ]
    assert items(post, kind="quote").visible().count() == 1
    assert items(post, kind="boost").visible().count() == 1


def test_our_post_deleted_on_the_network_ends_its_collection(atproto, alice, make_story):
    adapter = alice.adapter()
    request = PublishRequest(
        post_id=0, text="Here today.", link="", idempotency_key=str(uuid.uuid4())
    )
    post = published(alice, adapter.publish(request).id, story=make_story())
    bob = person(atproto, "bob")
    ours = {
        "uri": post.remote_id,
        "cid": xrpc(
            atproto.pds,
            "com.atproto.repo.getRecord",
            repo=alice.remote_id,
            collection="app.bsky.feed.post",
            rkey=post.remote_id.rsplit("/", 1)[1],
        )["cid"],
    }
    reply(atproto, bob, "Nice", ours, ours)
    atproto.process_all()
    assert run(post)["added"] == 1

    delete(atproto, sign_in(atproto, "alice"), post.remote_id)
    atproto.process_all()
    outcome = run(post)

    assert outcome["outcome"] == "gone", outcome
    assert not items(post).visible().exists()
    assert CollectionState.objects.get(post=post).next_due_at is None
    assert post.state == states.PUBLISHED
