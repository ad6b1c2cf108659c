"""Forgetting a person who asks: everything of theirs erased at once, story pages
refreshed, nothing of theirs collected again, and only a keyed hash kept."""

from django.urls import reverse

import pytest

from syndication.conversation import privacy, publicity
from syndication.conversation.models import ConversationItem, ForgottenAuthor, author_key

from .test_collect import connect, items, published, run, status_on

pytestmark = pytest.mark.django_db


@pytest.fixture
def brand(mastodon_server):
    return connect(mastodon_server)


@pytest.fixture
def post(mastodon_server, brand, make_story):
    account, token = brand
    return published(account, status_on(mastodon_server, token), story=make_story())


def test_forgetting_erases_everything_of_theirs_and_collects_nothing_again(
    mastodon_server, post, social_manager, monkeypatch
):
    first = mastodon_server.reply(post.remote_id, "Love this, thank you", as_user="alice")
    mastodon_server.reply(first, "And again", as_user="alice")
    mastodon_server.favourite(post.remote_id, "alice")
    mastodon_server.reply(post.remote_id, "Useful", as_user="frank")
    run(post)
    alice = f"@alice@{mastodon_server.domain}"
    assert items(post, author_handle=alice).count() == 3
    reply = items(post, author_handle=alice, text="Love this, thank you").get()
    ConversationItem.objects.filter(pk=reply.pk).update(approved=True)
    refreshed = []
    monkeypatch.setattr(publicity, "refresh_story_page", refreshed.append)

    assert privacy.forget(reply, social_manager, reason="They asked to be erased") == 3

    assert refreshed == [post.story_id]  # it was shown: the page is purged
    assert not items(post, author_handle=alice).exists()
    assert items(post, deleted=True).count() == 3
    for row in items(post, deleted=True):
        assert (row.text, row.author_name, row.url, row.approved) == ("", "", "", False)
    assert list(items(post, deleted=False).values_list("text", flat=True)) == ["Useful"]
    # Only a keyed hash is kept, never the handle.
    forgotten = ForgottenAuthor.objects.get()
    assert forgotten.author_key == author_key("mastodon", alice)
    assert "alice" not in forgotten.author_key and forgotten.forgotten_by == social_manager

    # They write again: nothing of theirs is stored; their tombstones stay tombstones.
    mastodon_server.reply(post.remote_id, "Me again", as_user="alice")
    mastodon_server.reply(post.remote_id, "Me too", as_user="erin")
    run(post)
    assert not ConversationItem.objects.filter(text="Me again").exists()
    assert items(post, deleted=True).count() == 3
    assert sorted(items(post, deleted=False).values_list("text", flat=True)) == ["Me too", "Useful"]


def test_the_same_handle_on_another_network_is_another_person(post, social_manager):
    def said(network, number):
        return ConversationItem.objects.create(
            post=post,
            network=network,
            remote_id=f"x/{number}",
            kind="reply",
            author_handle="@sam.example",
            text="Hello",
        )

    mastodon, bluesky = said("mastodon", 1), said("bluesky", 2)
    assert privacy.forget(mastodon, social_manager) == 1
    bluesky.refresh_from_db()
    assert not bluesky.deleted
    assert ForgottenAuthor.objects.among("bluesky", {"@sam.example"}) == set()
    assert ForgottenAuthor.objects.among("mastodon", {"@SAM.example"}) == {"@SAM.example"}


def test_only_social_managers_forget_and_only_when_they_confirm(
    client, post, social_manager, editor
):
    item = ConversationItem.objects.create(
        post=post, network="mastodon", remote_id="x/1", kind="reply", author_handle="@a@b.c"
    )
    url = reverse("conversation_forget", args=[item.pk])
    client.force_login(editor)
    assert client.post(url, {"confirm": "yes"}).status_code == 403
    client.force_login(social_manager)
    thread = client.get(reverse("conversation_thread", args=[item.pk])).content.decode()
    assert "Forget this person" in thread
    client.post(url, {"reason": "objection"})  # not confirmed
    item.refresh_from_db()
    assert not item.deleted and not ForgottenAuthor.objects.exists()
    response = client.post(url, {"confirm": "yes", "reason": "objection"})
    assert response.status_code == 302
    item.refresh_from_db()
    assert item.deleted and item.author_handle == ""
    assert ForgottenAuthor.objects.get().reason == "They objected to being shown or kept"
    # A tombstone has nothing left to forget by.
    assert client.post(url, {"confirm": "yes"}).status_code == 404
