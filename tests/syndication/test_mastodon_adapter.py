"""The Mastodon adapter over real HTTP against the Mastodon test server."""

import socket
from types import SimpleNamespace

import pytest
import responses

from syndication.channels import adapter_for
from syndication.channels.base import (
    AuthExpired,
    NotAChannel,
    NotSent,
    PublishRequest,
    RateLimited,
    Rejected,
    Unconfirmed,
)
from syndication.channels.mastodon import (
    MastodonAdapter,
    contains_marker,
    countable_length,
    instance_info,
    normalise_instance_url,
    scopes_for,
    verify_credentials,
)
from syndication.outbound import UNREACHABLE
from syndication.testing.mastodon_server import FAULT_KINDS

LINK = "https://stories.example/kitchens/a-story-about-small-kitchens/"


def account_on(server, username="brand", **extra):
    remote_id, token = server.create_account(username)
    return SimpleNamespace(
        network="mastodon",
        instance_url=server.url,
        remote_id=remote_id,
        handle=f"@{username}",
        tokens={"access_token": token},
        **{"max_characters": None, **extra},
    )


def request_for(post_id, text=None, **kwargs):
    marker = f"utm_content={post_id}"
    link = f"{LINK}?utm_source=mastodon&utm_medium=social&utm_campaign=c&{marker}"
    return PublishRequest(
        post_id=post_id,
        text=text if text is not None else f"A small kitchen, a big idea.\n\n{link}",
        link=link,
        idempotency_key=f"key-{post_id}",
        marker=marker,
        **kwargs,
    )


@pytest.fixture
def adapter(mastodon_server):
    mastodon_server.slow_seconds = 1.0
    return MastodonAdapter(account_on(mastodon_server), timeout=0.4)


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_the_registry_finds_the_mastodon_adapter(mastodon_server):
    adapter = adapter_for(account_on(mastodon_server))
    assert isinstance(adapter, MastodonAdapter)
    assert adapter.honours_idempotency_key and not adapter.refreshes_tokens


def test_publish_creates_one_public_status_and_returns_its_id_and_url(adapter, mastodon_server):
    posted = adapter.publish(request_for(1))
    [status] = mastodon_server.statuses
    assert posted.id == status["id"]
    assert posted.url == status["url"]
    assert status["visibility"] == "public"
    assert status["idempotency_key"] == "key-1"
    assert status["text"].startswith("A small kitchen")


def test_a_thread_reply_names_the_status_it_answers(adapter, mastodon_server):
    first = adapter.publish(request_for(1))
    second = adapter.publish(request_for(2, reply_to=first.id))
    assert mastodon_server.statuses[1]["id"] == second.id
    assert mastodon_server.statuses[1]["in_reply_to_id"] == first.id


def test_resending_with_the_same_idempotency_key_gives_the_same_post(adapter, mastodon_server):
    first = adapter.publish(request_for(1))
    again = adapter.publish(request_for(1))
    assert again == first
    assert mastodon_server.count_with("utm_content=1") == 1
    assert mastodon_server.create_calls == 2


ERRORS = {
    "429": RateLimited,
    "500": Unconfirmed,
    "502": Unconfirmed,
    "500_after_create": Unconfirmed,
    "timeout_before_create": Unconfirmed,
    "timeout_after_create": Unconfirmed,
    "drop_after_create": Unconfirmed,
    # The client cannot tell a drop before from a drop after: both may have posted.
    "drop_before_create": Unconfirmed,
    # Made after the client gave up: to the client, a timeout like any other.
    "create_after_timeout": Unconfirmed,
}


@pytest.mark.parametrize("kind", FAULT_KINDS)
def test_each_fault_maps_to_the_error_that_says_whether_the_post_may_exist(
    adapter, mastodon_server, kind
):
    mastodon_server.fail_next(kind)
    with pytest.raises(ERRORS[kind]) as raised:
        adapter.publish(request_for(5))
    assert type(raised.value) is ERRORS[kind]
    assert raised.value.may_have_posted == (kind != "429")
    if kind == "429":
        assert raised.value.retry_after == 1
    # Sending again with the same key never makes a second post.
    assert adapter.publish(request_for(5)).id == mastodon_server.statuses[0]["id"]
    assert mastodon_server.count_with("utm_content=5") == 1


def test_a_closed_port_is_not_sent(mastodon_server):
    account = account_on(mastodon_server)
    account.instance_url = f"http://127.0.0.1:{closed_port()}"
    with pytest.raises(NotSent):
        MastodonAdapter(account, timeout=0.5).publish(request_for(1))


def test_a_revoked_token_means_reconnect(adapter, mastodon_server):
    mastodon_server.revoke(adapter.account.tokens["access_token"])
    with pytest.raises(AuthExpired, match="was revoked"):
        adapter.publish(request_for(1))
    assert mastodon_server.statuses == []


def test_the_servers_refusal_is_rejected_with_its_reason(adapter, mastodon_server):
    with pytest.raises(Rejected, match="character limit of 500 exceeded"):
        adapter.publish(request_for(1, text="x" * 501))


def test_find_published_settles_a_dropped_answer(adapter, mastodon_server):
    adapter.publish(request_for(12))  # A neighbour whose marker starts the same way.
    mastodon_server.fail_next("drop_after_create")
    with pytest.raises(Unconfirmed):
        adapter.publish(request_for(1))
    found = adapter.find_published(request_for(1))
    assert found is not None
    assert found.id == mastodon_server.statuses_with("utm_content=1")[0]["id"]


def test_find_published_matches_whole_markers_only(adapter, mastodon_server):
    adapter.publish(request_for(123))
    # The marker is there, &amp;-escaped and cut across spans in the visible text.
    assert "&amp;utm_content=123" in mastodon_server.statuses[0]["content"]
    assert adapter.find_published(request_for(123)) is not None
    assert adapter.find_published(request_for(12)) is None


def test_find_published_is_none_when_a_dropped_request_never_arrived(adapter, mastodon_server):
    mastodon_server.fail_next("drop_before_create")
    with pytest.raises(Unconfirmed):
        adapter.publish(request_for(1))
    assert adapter.find_published(request_for(1)) is None


def test_validate_counts_like_mastodon(adapter):
    url = "https://example.com/" + "x" * 200
    assert adapter.validate("a" * 476 + " " + url).ok
    assert adapter.validate("a" * 476 + " " + url).length == 500
    over = adapter.validate("a" * 477 + " " + url)
    assert over.errors == [f"1 character over Mastodon's 500-character limit on {adapter.host}."]
    assert countable_length("@someone@far.away.example hi") == len("@someone hi")
    # One family emoji is one character to Mastodon's server (a grapheme cluster).
    assert countable_length("👨\u200d👩\u200d👧") == 1
    assert not adapter.validate("   ").ok
    assert adapter.validate("fine", media=[1, 2, 3, 4, 5]).errors == [
        "Mastodon takes at most 4 images per post."
    ]


def test_validate_agrees_with_the_server_at_the_limit(adapter, mastodon_server):
    exactly = "b" * 470 + " @friend@elsewhere.example"
    assert adapter.validate(exactly).length == 478
    text = exactly + " " + "c" * 21
    assert adapter.validate(text).length == 500
    adapter.publish(request_for(1, text=text))
    with pytest.raises(Rejected):
        adapter.publish(request_for(2, text=text + "d"))
    assert not adapter.validate(text + "d").ok


def test_validate_uses_the_servers_own_limit(mastodon_server):
    adapter = MastodonAdapter(account_on(mastodon_server, max_characters=5000))
    assert adapter.validate("x" * 4000).ok
    assert adapter.validate("x" * 4000).limit == 5000


def test_fetch_metrics_reads_counts_in_batches_of_twenty(adapter, mastodon_server):
    ids = [adapter.publish(request_for(n)).id for n in range(45)]
    mastodon_server.set_counts(ids[0], reblogs=3, replies=2, favourites=7, quotes=1)
    mastodon_server.set_counts(ids[44], favourites=4)
    before = mastodon_server.hits["statuses_batch"]
    metrics = adapter.fetch_metrics([*ids, "113999999999999999"])
    assert mastodon_server.hits["statuses_batch"] - before == 3
    assert set(metrics) == set(ids)
    first = metrics[ids[0]]
    assert (first.reposts, first.replies, first.likes, first.quotes) == (3, 2, 7, 1)
    assert first.clicks is None
    assert metrics[ids[44]].likes == 4
    assert metrics[ids[1]].likes == 0


@responses.activate
def test_fetch_metrics_falls_back_to_one_by_one_before_mastodon_4_3():
    base = "https://old.example"
    responses.get(f"{base}/api/v1/statuses", status=404, body="<h1>Not found</h1>")
    responses.get(f"{base}/api/v1/statuses/1", json={"id": "1", "reblogs_count": 2})
    responses.get(f"{base}/api/v1/statuses/2", status=404, json={"error": "Record not found"})
    account = SimpleNamespace(instance_url=base, remote_id="9", tokens={"access_token": "t"})
    adapter = MastodonAdapter(account)
    metrics = adapter.fetch_metrics(["1", "2"])
    assert list(metrics) == ["1"]
    assert metrics["1"].reposts == 2
    assert adapter.batch_reads is False


def test_contains_marker_reads_escaped_html():
    content = '<p><a href="https://a.example/?x=1&amp;utm_content=7">link</a></p>'
    assert contains_marker(content, "utm_content=7")
    assert not contains_marker(content, "utm_content=")
    assert not contains_marker(content.replace("=7", "=77"), "utm_content=7")


# --- Helpers used while connecting ---------------------------------------------------
@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("mastodon.social", "https://mastodon.social"),
        ("  https://Mastodon.Social/ ", "https://mastodon.social"),
        ("https://mastodon.social/@someone", "https://mastodon.social"),
        ("@someone@mastodon.social", "https://mastodon.social"),
        ("social.example.org:8443", "https://social.example.org:8443"),
        ("http://127.0.0.1:3000", "http://127.0.0.1:3000"),
    ],
)
def test_normalise_instance_url_accepts_what_people_type(typed, expected):
    assert normalise_instance_url(typed) == expected


@pytest.mark.parametrize(
    "typed", ["", "not a server", "ftp://files.example", "https://", "mastodon"]
)
def test_normalise_instance_url_refuses_garbage(typed):
    with pytest.raises(NotAChannel):
        normalise_instance_url(typed)


def test_plain_http_needs_the_setting(settings):
    settings.SYNDICATION_ALLOW_HTTP_INSTANCES = False
    with pytest.raises(NotAChannel, match="https"):
        normalise_instance_url("http://social.example")


def test_instance_info_reads_the_limit(mastodon_server):
    mastodon_server.max_characters = 1000
    info = instance_info(mastodon_server.url)
    assert (info.url, info.domain, info.max_characters) == (
        mastodon_server.url,
        mastodon_server.domain,
        1000,
    )
    assert info.characters_reserved_per_url == 23
    assert scopes_for(info.version) == "read:statuses write:statuses write:media profile"
    assert scopes_for("4.2.10") == "read:statuses write:statuses write:media read:accounts"


def test_instance_info_refuses_a_closed_port_with_the_one_neutral_message():
    with pytest.raises(NotAChannel) as raised:
        instance_info(f"http://127.0.0.1:{closed_port()}", timeout=1)
    assert raised.value.message == UNREACHABLE


def test_verify_credentials_returns_the_profile_or_auth_expired(mastodon_server):
    remote_id, token = mastodon_server.create_account("writer", display_name="The Writer")
    profile = verify_credentials(mastodon_server.url, token)
    assert (profile.remote_id, profile.handle, profile.display_name) == (
        remote_id,
        "@writer",
        "The Writer",
    )
    assert profile.url == f"{mastodon_server.url}/@writer"
    mastodon_server.revoke(token)
    with pytest.raises(AuthExpired):
        verify_credentials(mastodon_server.url, token)
