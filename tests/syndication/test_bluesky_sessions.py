"""Bluesky: addresses, refusals in the PDS's words, and sessions refreshed when needed."""

import datetime
import json

from django.utils import timezone

import pytest
import responses

from syndication import connect, tokens
from syndication.channels.base import AuthExpired, NotAChannel, NotSent, Rejected
from syndication.channels.bluesky import BlueskyAdapter, SessionExpired, short_link
from syndication.channels.bluesky_identity import normalise_service_url
from syndication.models import ChannelAccount, Network
from syndication.outbound import UNREACHABLE
from tests.syndication.test_bluesky_adapter import (
    DID,
    HANDLE,
    PDS,
    XRPC,
    created,
    make_request,
    session_answer,
    xrpc_error,
)


@pytest.fixture
def api():
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        yield mock


# --- One address form ------------------------------------------------------------------
@pytest.mark.parametrize(
    ("typed", "kept"),
    [
        ("pds.example", "https://pds.example"),
        ("  https://PDS.example/  ", "https://pds.example"),
        ("https://pds.example/xrpc", "https://pds.example"),
        ("https://pds.example/xrpc/com.atproto.server.describeServer", "https://pds.example"),
        ("https://pds.example:8443", "https://pds.example:8443"),
        ("", "https://bsky.social"),
    ],
)
def test_a_service_address_has_one_form(typed, kept):
    assert normalise_service_url(typed) == kept


@pytest.mark.parametrize(
    ("typed", "says"),
    [
        ("https://bsky.app/profile/someone.bsky.social", "is a page, not a server"),
        ("https://pds.example/?x=1", "is a page, not a server"),
        ("ftp://pds.example", "not an https address"),
        ("https://user:pw@pds.example", "Could not reach that server"),
        ("https://", "does not name a server"),
        ("https://pds.example:99999", "not a web address"),
    ],
)
def test_an_address_that_is_not_a_servers_is_refused_with_a_reason(typed, says, settings):
    settings.SYNDICATION_ALLOW_HTTP_INSTANCES = False
    with pytest.raises(NotAChannel, match=says):
        normalise_service_url(typed)


def bluesky_account(instance_url=PDS, **tokens_given) -> ChannelAccount:
    account = ChannelAccount(
        network=Network.BLUESKY,
        instance_url=instance_url,
        remote_id=DID,
        handle=HANDLE,
        token_expires_at=timezone.now() + datetime.timedelta(hours=2),
    )
    account.set_tokens(
        {
            "access_jwt": "access-1",
            "refresh_jwt": "refresh-1",
            "did": DID,
            "app_password": "abcd-efgh-ijkl-mnop",
            **tokens_given,
        }
    )
    account.save()
    return account


@pytest.mark.django_db
def test_an_account_saved_without_a_scheme_publishes_over_https(api):
    # Saved before addresses were normalised: the post goes to https, not "Unconfirmed".
    account = bluesky_account(instance_url="pds.example/")
    create = api.post(f"{XRPC}/com.atproto.repo.createRecord", json=created("3kabc"))
    account.adapter().publish(make_request())
    assert create.calls[0].request.url.startswith(f"{XRPC}/")


@pytest.mark.parametrize("url", ["pds.example/xrpc/x", "gopher://pds.example/xrpc/x"])
def test_an_address_requests_cannot_use_is_in_the_engines_words(url):
    # requests raises MissingSchema and InvalidSchema itself; the engine sees NotSent.
    with pytest.raises(NotSent) as caught:
        BlueskyAdapter(_plain_account()).request("POST", url, creates=True)
    assert caught.value.message == UNREACHABLE


@pytest.mark.django_db
def test_an_account_saved_with_an_address_no_rule_allows_needs_reconnecting(api, settings):
    # Never sent anywhere, and said in the engine's words (not an escaped InvalidSchema).
    settings.SYNDICATION_ALLOW_HTTP_INSTANCES = False
    for stored in ("ftp://pds.example", "http://pds.example"):
        account = bluesky_account(instance_url=stored)
        with pytest.raises(AuthExpired, match="reconnect the account"):
            account.adapter().publish(make_request())
        account.delete()
    assert not api.calls


@pytest.mark.django_db
@pytest.mark.parametrize(
    "service", ["https://bsky.app/profile/someone.bsky.social", "ftp://pds.example"]
)
def test_connecting_to_a_bad_address_says_why_and_saves_nothing(api, service):
    with pytest.raises(connect.ConnectError) as caught:
        connect.bluesky_connect(HANDLE, "abcd-efgh-ijkl-mnop", service)
    assert service in caught.value.message
    assert not api.calls  # nothing was asked of anyone
    assert not ChannelAccount.objects.exists()


def test_short_links_follow_bluesky_s_own_rule():
    assert short_link("https://stories.example/") == "stories.example"
    assert short_link("https://stories.example/fox/?utm_source=bluesky") == "stories.example/fox/"
    assert (
        short_link("https://stories.example/stories/the-fox-who-stayed/?utm_content=7")
        == "stories.example/stories/the-..."
    )


# --- The PDS's own words ---------------------------------------------------------------
def test_a_refusal_carries_the_pds_message(api):
    adapter = BlueskyAdapter(_plain_account())
    api.post(
        f"{XRPC}/com.atproto.repo.createRecord",
        status=400,
        json=xrpc_error("InvalidRequest", "Invalid app.bsky.feed.post record: grapheme too big "),
    )
    with pytest.raises(Rejected) as caught:
        adapter.publish(make_request())
    assert caught.value.message == (
        "Bluesky refused the request (HTTP 400): InvalidRequest: "
        "Invalid app.bsky.feed.post record: grapheme too big."
    )


def _plain_account():
    from types import SimpleNamespace

    return SimpleNamespace(
        network="bluesky",
        instance_url=PDS,
        remote_id=DID,
        handle=HANDLE,
        max_characters=None,
        tokens={"access_jwt": "access-1", "refresh_jwt": "refresh-1", "did": DID},
    )


# --- Refreshing when needed ------------------------------------------------------------
@pytest.mark.django_db
def test_a_session_the_pds_calls_expired_early_is_refreshed_and_the_call_made_once_more(api):
    # Stored expiry two hours away, yet the PDS says the token expired (revoked, clock).
    account = bluesky_account()
    later = int((timezone.now() + datetime.timedelta(hours=2)).timestamp())
    new_session = session_answer(later, suffix="new")
    refresh = api.post(f"{XRPC}/com.atproto.server.refreshSession", json=new_session)
    answers = iter(
        [
            (400, {}, json.dumps(xrpc_error("ExpiredToken", "Token has expired"))),
            (200, {}, json.dumps(created("3kabc"))),
        ]
    )
    create = api.add_callback(
        "POST", f"{XRPC}/com.atproto.repo.createRecord", callback=lambda _request: next(answers)
    )
    adapter = account.adapter()
    assert tokens.ensure_fresh(account, adapter) is False  # not due by its stated expiry

    remote = adapter.publish(make_request())

    assert remote.id.endswith("/3kabc")
    assert len(refresh.calls) == 1
    assert refresh.calls[0].request.headers["Authorization"] == "Bearer refresh-1"
    sent_with = [call.request.headers["Authorization"] for call in create.calls]
    assert sent_with == ["Bearer access-1", f"Bearer {new_session['accessJwt']}"]
    stored = ChannelAccount.objects.get(pk=account.pk)
    assert stored.tokens["access_jwt"] == new_session["accessJwt"]
    assert stored.tokens["refresh_jwt"] == new_session["refreshJwt"]
    assert stored.last_refreshed_at is not None


@pytest.mark.django_db
def test_a_session_still_expired_after_refreshing_is_not_retried_again(api):
    account = bluesky_account()
    later = int((timezone.now() + datetime.timedelta(hours=2)).timestamp())
    create = api.post(
        f"{XRPC}/com.atproto.repo.createRecord",
        status=400,
        json=xrpc_error("ExpiredToken", "Token has expired"),
    )
    refresh = api.post(f"{XRPC}/com.atproto.server.refreshSession", json=session_answer(later))
    adapter = account.adapter()
    tokens.ensure_fresh(account, adapter)
    with pytest.raises(SessionExpired):
        adapter.publish(make_request())
    assert len(create.calls) == 2 and len(refresh.calls) == 1


@pytest.mark.django_db
def test_a_refused_renewal_marks_the_account_for_reconnecting(api):
    account = bluesky_account(app_password="")
    api.get(
        f"{XRPC}/app.bsky.feed.getPosts",
        status=400,
        json=xrpc_error("ExpiredToken", "Token has expired"),
    )
    api.post(
        f"{XRPC}/com.atproto.server.refreshSession",
        status=400,
        json=xrpc_error("ExpiredToken", "Token has been revoked"),
    )
    adapter = account.adapter()
    tokens.ensure_fresh(account, adapter)
    with pytest.raises(AuthExpired):
        adapter.fetch_metrics([f"at://{DID}/app.bsky.feed.post/3kabc"])
    assert ChannelAccount.objects.get(pk=account.pk).status == "needs_reconnect"


@pytest.mark.django_db
def test_another_workers_refresh_is_taken_instead_of_refreshing_again(api):
    account = bluesky_account()
    adapter = account.adapter()
    tokens.ensure_fresh(account, adapter)
    # Meanwhile another worker refreshed and stored a new session.
    other = ChannelAccount.objects.get(pk=account.pk)
    other.set_tokens({"access_jwt": "access-2", "refresh_jwt": "refresh-2"})
    other.save()
    refresh = api.post(f"{XRPC}/com.atproto.server.refreshSession", json=session_answer())
    assert tokens.renew(account, adapter) is False
    assert not refresh.calls
    assert account.tokens["access_jwt"] == "access-2"


@pytest.mark.django_db
def test_the_sweep_does_not_refresh_bluesky_sessions_ahead_of_time(api, monkeypatch):
    # About 1,440 refreshes a day per account when it did (a 2 h session, a 6 h window).
    account = bluesky_account()
    refresh = api.post(f"{XRPC}/com.atproto.server.refreshSession", json=session_answer())
    assert tokens.refresh_expiring() == {"refreshed": 0, "needs_reconnect": 0, "errors": 0}
    assert not refresh.calls
    # Used close to its expiry, it is refreshed before the call.
    ChannelAccount.objects.filter(pk=account.pk).update(token_expires_at=timezone.now())
    account.refresh_from_db()
    assert tokens.ensure_fresh(account, account.adapter()) is True
    assert len(refresh.calls) == 1
