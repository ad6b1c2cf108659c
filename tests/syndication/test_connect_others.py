"""Connecting Bluesky, LinkedIn and X accounts, against recorded shapes of their answers."""

import io
from urllib.parse import parse_qs, urlsplit

from django.core.management import CommandError, call_command

import pytest
import responses

from syndication import connect
from syndication.models import ChannelAccount, Network
from tests.syndication.test_bluesky_adapter import (
    DID,
    HANDLE,
    PDS,
    XRPC,
    describes_a_pds,
    session_answer,
)

pytestmark = pytest.mark.django_db


@responses.activate
def test_bluesky_connects_with_an_app_password_and_keeps_the_session():
    describes_a_pds(responses)
    responses.post(f"{XRPC}/com.atproto.server.createSession", json=session_answer())
    responses.get(
        f"{XRPC}/app.bsky.actor.getProfile",
        json={"did": DID, "handle": HANDLE, "displayName": "Storyloom"},
    )
    account = connect.bluesky_connect(HANDLE, "abcd-efgh-ijkl-mnop", PDS)
    assert account.network == Network.BLUESKY
    assert account.remote_id == DID and account.display_name == "Storyloom"
    assert account.tokens["app_password"] == "abcd-efgh-ijkl-mnop"
    assert account.token_expires_at is not None  # read from the access JWT
    assert "abcd-efgh" not in account.encrypted_tokens


@responses.activate
def test_a_wrong_bluesky_password_is_a_clear_error_and_saves_nothing():
    describes_a_pds(responses)
    responses.post(
        f"{XRPC}/com.atproto.server.createSession",
        status=401,
        json={"error": "AuthenticationRequired", "message": "Invalid identifier or password"},
    )
    with pytest.raises(connect.ConnectError, match="did not accept"):
        connect.bluesky_connect(HANDLE, "wrong", PDS)
    assert not ChannelAccount.objects.exists()


@responses.activate
def test_the_command_connects_bluesky_from_a_password_file(tmp_path):
    describes_a_pds(responses)
    responses.post(f"{XRPC}/com.atproto.server.createSession", json=session_answer())
    responses.get(f"{XRPC}/app.bsky.actor.getProfile", json={"did": DID, "handle": HANDLE})
    secret = tmp_path / "password"
    secret.write_text("abcd-efgh-ijkl-mnop\n")
    out = io.StringIO()
    call_command(
        "connect_channel",
        "bluesky",
        "--handle",
        HANDLE,
        "--app-password-file",
        str(secret),
        "--service",
        PDS,
        stdout=out,
    )
    assert f"Connected {HANDLE}" in out.getvalue()
    assert "abcd" not in out.getvalue()
    with pytest.raises(CommandError, match="Cannot read"):
        call_command(
            "connect_channel",
            "bluesky",
            "--handle",
            HANDLE,
            "--app-password-file",
            str(tmp_path / "missing"),
        )


@responses.activate
def test_linkedin_oauth_round_trip_checks_state_and_saves_the_member(settings):
    settings.LINKEDIN_CLIENT_ID, settings.LINKEDIN_CLIENT_SECRET = "client", "secret"
    url, flow = connect.oauth_start(Network.LINKEDIN, "https://stories.example/cb/")
    query = parse_qs(urlsplit(url).query)
    assert query["state"] == [flow["state"]] and "w_member_social" in query["scope"][0]
    with pytest.raises(connect.ConnectError, match="does not belong"):
        connect.oauth_finish(Network.LINKEDIN, flow, {"code": "c", "state": "forged"})
    responses.post(
        "https://www.linkedin.com/oauth/v2/accessToken",
        json={
            "access_token": "AQV-token",
            "expires_in": 5184000,
            "scope": "openid,profile,w_member_social",
        },
    )
    responses.get(
        "https://api.linkedin.com/v2/userinfo",
        json={"sub": "782bbtaQ", "name": "Storyloom Team", "given_name": "Storyloom"},
    )
    account = connect.oauth_finish(Network.LINKEDIN, flow, {"code": "c", "state": flow["state"]})
    assert account.remote_id == "urn:li:person:782bbtaQ"
    assert account.tokens["access_token"] == "AQV-token"
    assert account.token_expires_at is not None
    assert "code=c" in responses.calls[0].request.body


def test_linkedin_is_refused_clearly_when_the_app_is_not_configured(settings):
    settings.LINKEDIN_CLIENT_ID = ""
    with pytest.raises(connect.ConnectError, match="LINKEDIN_CLIENT_ID"):
        connect.oauth_start(Network.LINKEDIN, "https://stories.example/cb/")


@responses.activate
def test_x_oauth1_round_trip(settings):
    settings.X_CONSUMER_KEY, settings.X_CONSUMER_SECRET = "ck", "cs"
    responses.post(
        "https://api.x.com/oauth/request_token",
        body="oauth_token=req-token&oauth_token_secret=req-secret&oauth_callback_confirmed=true",
        content_type="application/x-www-form-urlencoded",
    )
    url, flow = connect.oauth_start(Network.X, "https://stories.example/cb/")
    assert "oauth_token=req-token" in url
    with pytest.raises(connect.ConnectError, match="does not belong"):
        connect.oauth_finish(Network.X, flow, {"oauth_token": "other", "oauth_verifier": "v"})
    responses.post(
        "https://api.x.com/oauth/access_token",
        body="oauth_token=user-token&oauth_token_secret=user-secret&user_id=42&screen_name=brand",
        content_type="application/x-www-form-urlencoded",
    )
    responses.get(
        "https://api.x.com/2/users/me",
        json={"data": {"id": "42", "name": "Brand", "username": "brand"}},
    )
    account = connect.oauth_finish(
        Network.X, flow, {"oauth_token": "req-token", "oauth_verifier": "v"}
    )
    assert account.remote_id == "42" and account.handle == "brand"
    assert account.tokens == {"oauth_token": "user-token", "oauth_token_secret": "user-secret"}
