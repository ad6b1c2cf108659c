"""Connecting Mastodon accounts: the OAuth flow without a browser, and the command."""

import io
import json
import re
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

from django.core.management import CommandError, call_command
from django.db import connection
from django.utils import timezone

import pytest
import requests

from syndication import connect
from syndication.models import ChannelAccount, MastodonApp, SyndicationPost

pytestmark = pytest.mark.django_db

CALLBACK = "http://storyloom.test/admin/syndication/connect/mastodon/callback/"


def approve(authorization_url: str) -> dict:
    """What the person's browser brings back to the callback after approving."""
    answer = requests.get(authorization_url, allow_redirects=False, timeout=5)
    assert answer.status_code == 302, answer.text
    location = urlsplit(answer.headers["Location"])
    assert f"{location.scheme}://{location.netloc}{location.path}" == CALLBACK
    return {name: values[0] for name, values in parse_qs(location.query).items()}


def connect_through_oauth(server, user=None) -> ChannelAccount:
    authorization_url, flow = connect.mastodon_start(server.url, CALLBACK)
    return connect.mastodon_finish(json.loads(json.dumps(flow)), approve(authorization_url), user)


@pytest.fixture
def approving(mastodon_server):
    mastodon_server.auto_approve = True
    return mastodon_server


class _Page(BaseHTTPRequestHandler):
    status = 200

    def do_GET(self):
        body = b"<!doctype html><html><body><h1>Welcome to my blog</h1></body></html>"
        self.send_response(self.status)
        self.send_header("Content-Type", "text/html")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


class _Missing(_Page):
    status = 404


@pytest.fixture(params=[_Page, _Missing], ids=["html", "404"])
def website(request):
    """A plain web server that is not Mastodon: a blog page, or 404 for everything."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), request.param)
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}", request.param.status
    server.shutdown()
    server.server_close()


def test_start_then_finish_connects_the_account(approving, django_user_model):
    user = django_user_model.objects.create_user("editor")
    authorization_url, flow = connect.mastodon_start(approving.url, CALLBACK)
    query = parse_qs(urlsplit(authorization_url).query)
    assert query["code_challenge_method"] == ["S256"]
    assert query["scope"] == ["read:statuses write:statuses write:media profile"]
    assert query["state"] == [flow["state"]]
    assert json.loads(json.dumps(flow)) == flow

    account = connect.mastodon_finish(flow, approve(authorization_url), user)

    account.refresh_from_db()
    assert account.network == "mastodon"
    assert account.instance_url == approving.url
    assert account.handle == "@storyloom"
    assert account.remote_id == "1"  # @storyloom, the server's first account
    assert account.max_characters == 500
    assert account.scopes == "read:statuses write:statuses write:media profile"
    assert account.status == ChannelAccount.Status.ACTIVE
    assert account.connected_by == user
    token = account.tokens["access_token"]
    me = requests.get(
        f"{approving.url}/api/v1/accounts/verify_credentials",
        headers={"Authorization": f"Bearer {token}"},
        timeout=5,
    )
    assert me.json()["id"] == account.remote_id


def test_the_token_is_not_stored_in_clear(approving):
    account = connect_through_oauth(approving)
    token = account.tokens["access_token"]
    with connection.cursor() as cursor:
        table = connection.ops.quote_name(ChannelAccount._meta.db_table)
        cursor.execute(f"SELECT encrypted_tokens FROM {table} WHERE id = %s", [account.pk])  # noqa: S608
        [(stored,)] = cursor.fetchall()
    assert token and token not in stored
    assert "access_token" not in stored


def test_a_wrong_state_connects_nothing(approving):
    authorization_url, flow = connect.mastodon_start(approving.url, CALLBACK)
    params = approve(authorization_url)
    with pytest.raises(connect.ConnectError, match="state does not match.*start again"):
        connect.mastodon_finish(flow, {**params, "state": "someone-elses"})
    with pytest.raises(connect.ConnectError, match="state does not match"):
        connect.mastodon_finish(flow, {"code": params["code"]})
    assert not ChannelAccount.objects.exists()


def test_a_denied_consent_connects_nothing(mastodon_server):
    authorization_url, flow = connect.mastodon_start(mastodon_server.url, CALLBACK)
    page = requests.get(authorization_url, timeout=5)
    assert "Authorize Storyloom to use @storyloom?" in page.text
    fields = dict(re.findall(r'<input type="hidden" name="(\w+)" value="([^"]*)">', page.text))
    denied = requests.post(
        f"{mastodon_server.url}/oauth/authorize",
        data={**fields, "decision": "deny"},
        allow_redirects=False,
        timeout=5,
    )
    params = parse_qs(urlsplit(denied.headers["Location"]).query)
    with pytest.raises(connect.ConnectError, match="not granted"):
        connect.mastodon_finish(flow, {name: values[0] for name, values in params.items()})
    assert not ChannelAccount.objects.exists()


def test_a_failed_token_exchange_names_the_oauth_error_not_the_servers_words(approving):
    authorization_url, flow = connect.mastodon_start(approving.url, CALLBACK)
    params = approve(authorization_url)
    tampered = {**flow, "code_verifier": "x" * 43}
    with pytest.raises(connect.ConnectError) as raised:
        connect.mastodon_finish(tampered, params)
    assert "(invalid_grant)" in raised.value.message
    assert "authorization grant is invalid" not in raised.value.message
    assert not ChannelAccount.objects.exists()


def test_a_server_that_is_not_mastodon_is_named(website):
    url, status = website
    with pytest.raises(connect.ConnectError) as raised:
        connect.mastodon_start(url, CALLBACK)
    message = str(raised.value)
    assert message.startswith(f"{url.split('://')[1]} is not a Mastodon server")
    assert ("web page" in message) if status == 200 else ("HTTP 404" in message)
    assert not MastodonApp.objects.exists()


def test_an_unreachable_server_is_a_connect_error():
    with pytest.raises(connect.ConnectError, match="Could not reach"):
        connect.mastodon_start("http://127.0.0.1:9", CALLBACK)


def test_the_app_is_registered_once_per_instance(approving):
    approving.create_account("second")
    first = connect_through_oauth(approving)
    approving.approve_as = "second"
    second = connect_through_oauth(approving)
    assert approving.app_registrations == 1
    assert MastodonApp.objects.count() == 1
    assert {first.handle, second.handle} == {"@storyloom", "@second"}
    app = MastodonApp.objects.get()
    assert app.client_secret and app.client_secret not in app.encrypted_client_secret


def test_reconnecting_revives_the_same_account_and_keeps_its_posts(approving, make_story):
    account = connect_through_oauth(approving)
    old_token = account.tokens["access_token"]
    post = SyndicationPost.objects.create(
        story=make_story(), account=account, text="{story_url}", scheduled_at=timezone.now()
    )
    account.mark_needs_reconnect("The token was revoked.")
    approving.revoke(old_token)

    again = connect_through_oauth(approving)

    assert again.pk == account.pk
    account.refresh_from_db()
    assert account.status == ChannelAccount.Status.ACTIVE
    assert account.status_reason == ""
    assert account.tokens["access_token"] not in ("", old_token)
    assert list(account.posts.all()) == [post]


def test_connect_with_a_token(mastodon_server):
    remote_id, token = mastodon_server.create_account("handmade", display_name="Hand Made")
    account = connect.mastodon_connect_with_token(mastodon_server.url + "/", f" {token}\n")
    assert (account.remote_id, account.handle, account.display_name) == (
        remote_id,
        "@handmade",
        "Hand Made",
    )
    assert account.tokens["access_token"] == token
    mastodon_server.revoke(token)
    with pytest.raises(connect.ConnectError, match="does not accept this access token"):
        connect.mastodon_connect_with_token(mastodon_server.url, token)


# --- manage.py connect_channel -------------------------------------------------------
def run_command(*args, stdin=None):
    out = io.StringIO()
    call_command("connect_channel", *args, stdout=out, stdin=stdin)
    return out.getvalue()


def test_the_command_connects_from_a_token_file(mastodon_server, tmp_path):
    remote_id, token = mastodon_server.create_account("cli")
    token_file = tmp_path / "token.txt"
    token_file.write_text(token + "\n")
    output = run_command(
        "mastodon", "--instance", mastodon_server.url, "--token-file", str(token_file)
    )
    account = ChannelAccount.objects.get()
    assert output.strip() == f"Connected @cli on {mastodon_server.domain} (account id {account.pk})"
    assert token not in output
    assert account.remote_id == remote_id


def test_the_command_reads_the_token_from_stdin(mastodon_server):
    _, token = mastodon_server.create_account("piped")
    output = run_command(
        "mastodon", "--instance", mastodon_server.url, "--token-file", "-", stdin=io.StringIO(token)
    )
    assert "Connected @piped" in output
    assert ChannelAccount.objects.get().handle == "@piped"


def test_the_command_refuses_a_revoked_token(mastodon_server, tmp_path):
    _, token = mastodon_server.create_account("revoked")
    mastodon_server.revoke(token)
    token_file = tmp_path / "token.txt"
    token_file.write_text(token)
    with pytest.raises(CommandError, match="does not accept this access token") as raised:
        run_command("mastodon", "--instance", mastodon_server.url, "--token-file", str(token_file))
    assert token not in str(raised.value)
    assert not ChannelAccount.objects.exists()


def test_the_command_refuses_a_server_that_is_not_mastodon(website, tmp_path):
    token_file = tmp_path / "token.txt"
    token_file.write_text("anything")
    with pytest.raises(CommandError, match="is not a Mastodon server"):
        run_command("mastodon", "--instance", website[0], "--token-file", str(token_file))
    assert not ChannelAccount.objects.exists()


def test_the_command_refuses_a_missing_or_empty_token_file(mastodon_server, tmp_path):
    with pytest.raises(CommandError, match="Cannot read the token file"):
        run_command(
            "mastodon", "--instance", mastodon_server.url, "--token-file", str(tmp_path / "no")
        )
    (tmp_path / "empty").write_text("\n")
    with pytest.raises(CommandError, match="is empty"):
        run_command(
            "mastodon", "--instance", mastodon_server.url, "--token-file", str(tmp_path / "empty")
        )
    assert not ChannelAccount.objects.exists()
