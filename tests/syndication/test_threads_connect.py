"""Connecting a Threads profile through the Threads test server's consent page, over sockets."""

import datetime
import re
from html import unescape
from urllib.parse import parse_qs, urlsplit

from django.urls import reverse
from django.utils import timezone

import pytest
import requests

from syndication import connect
from syndication.models import ChannelAccount, Network
from syndication.testing.threads import PERMISSIONS, ThreadsTestServer
from syndication.tokens import refresh_expiring

pytestmark = pytest.mark.django_db

CALLBACK = "http://localhost/admin/syndication/connect/threads/callback/"


@pytest.fixture
def threads(settings):
    with ThreadsTestServer(usernames=("storyloom", "other")) as server:
        settings.THREADS_GRAPH_URL = server.url
        settings.THREADS_AUTHORIZE_URL = server.authorize_url
        settings.THREADS_APP_ID = server.app_id
        settings.THREADS_APP_SECRET = server.app_secret
        yield server


def consent(authorize_url: str, *, username="storyloom", decision="allow") -> str:
    """What a person does on the consent page: read it, pick the profile, press a
    button. Returns where Threads sends the browser back to."""
    page = requests.get(authorize_url, timeout=5)
    assert page.status_code == 200, page.text
    form = re.search(r'<form method="post" action="([^"]+)">(.*?)</form>', page.text, re.S)
    fields = dict(re.findall(r'<input type="hidden" name="(\w+)" value="([^"]*)">', form[2]))
    fields = {name: unescape(value) for name, value in fields.items()}
    answer = requests.post(
        urlsplit(authorize_url)._replace(path=form[1], query="").geturl(),
        data={**fields, "username": username, "decision": decision},
        allow_redirects=False,
        timeout=5,
    )
    assert answer.status_code == 302
    return answer.headers["Location"]


def start(client) -> str:
    response = client.post(reverse("syndication_admin:connect_oauth", args=["threads"]))
    assert response.status_code == 302
    return response["Location"]


def back(client, location: str):
    parts = urlsplit(location)
    assert f"{parts.scheme}://{parts.netloc}{parts.path}" == CALLBACK
    return client.get(parts.path, {k: v[0] for k, v in parse_qs(parts.query).items()})


def test_a_person_connects_a_threads_profile_with_a_long_lived_token(
    client, social_manager, threads
):
    client.force_login(social_manager)
    offered = client.get(reverse("syndication_admin:connect"))
    assert b"Threads" in offered.content

    authorize = start(client)
    parts = urlsplit(authorize)
    assert f"{parts.scheme}://{parts.netloc}{parts.path}" == threads.authorize_url
    query = parse_qs(parts.query)
    assert query["client_id"] == [threads.app_id]
    assert query["redirect_uri"] == [CALLBACK]
    assert query["response_type"] == ["code"]
    assert set(query["scope"][0].split(",")) == set(PERMISSIONS)

    done = back(client, consent(authorize, username="other"))
    assert done.status_code == 302, done.content
    assert done["Location"] == reverse("syndication_accounts:index")

    account = ChannelAccount.objects.get(network=Network.THREADS)
    assert account.remote_id == threads.user_id("other")
    assert account.handle == "@other"
    assert account.max_characters == 500
    token = account.tokens["access_token"]
    # The long-lived token, not the one-hour one the code bought; encrypted at rest.
    assert threads.token_info(token)["long_lived"] is True
    assert token not in account.encrypted_tokens
    left = account.token_expires_at - timezone.now()
    assert datetime.timedelta(days=59) < left <= datetime.timedelta(days=60)
    assert account.scopes.split() == list(PERMISSIONS)


def test_the_beat_sweep_refreshes_the_token_before_its_sixty_days_end(
    client, social_manager, threads
):
    client.force_login(social_manager)
    back(client, consent(start(client)))
    account = ChannelAccount.objects.get(network=Network.THREADS)
    before = account.tokens["access_token"]
    # 59 days and 20 hours later, on the server's clock and ours.
    later = datetime.timedelta(days=59, hours=20)
    threads.clock = lambda: timezone.now().timestamp() + later.total_seconds()
    counts = refresh_expiring(now=timezone.now() + later)
    assert counts == {"refreshed": 1, "needs_reconnect": 0, "errors": 0}
    account.refresh_from_db()
    assert account.tokens["access_token"] != before
    assert threads.token_info(before)["revoked"] is True
    new = threads.token_info(account.tokens["access_token"])
    # Sixty days from the refresh on the server; counted from our own clock here.
    assert new["expires_at"] - threads.clock() > datetime.timedelta(days=59).total_seconds()
    left = account.token_expires_at - timezone.now()
    assert datetime.timedelta(days=59) < left <= datetime.timedelta(days=60)
    assert account.last_refreshed_at is not None
    assert account.is_usable


def test_a_refused_refresh_asks_for_reconnecting(client, social_manager, threads):
    client.force_login(social_manager)
    back(client, consent(start(client)))
    account = ChannelAccount.objects.get(network=Network.THREADS)
    threads.revoke(account.tokens["access_token"])
    later = timezone.now() + datetime.timedelta(days=59, hours=20)
    assert refresh_expiring(now=later)["needs_reconnect"] == 1
    account.refresh_from_db()
    assert account.status == ChannelAccount.Status.NEEDS_RECONNECT
    assert "reconnect" in account.status_reason


def test_cancelling_on_the_consent_page_connects_nothing(client, social_manager, threads):
    client.force_login(social_manager)
    response = back(client, consent(start(client), decision="cancel"))
    assert response["Location"] == reverse("syndication_admin:connect")
    assert not ChannelAccount.objects.exists()


def test_an_answer_for_another_attempt_or_a_spent_code_is_refused(threads):
    url, flow = connect.oauth_start(Network.THREADS, CALLBACK)
    location = consent(url)
    params = {k: v[0] for k, v in parse_qs(urlsplit(location).query).items()}
    with pytest.raises(connect.ConnectError, match="does not belong"):
        connect.oauth_finish(Network.THREADS, flow, {**params, "state": "forged"})
    connect.oauth_finish(Network.THREADS, flow, params)
    # A code is good once.
    with pytest.raises(connect.ConnectError, match="did not accept"):
        connect.oauth_finish(Network.THREADS, flow, params)
    assert ChannelAccount.objects.count() == 1


def test_threads_is_not_offered_without_the_app_and_says_what_to_set(
    client, social_manager, settings
):
    settings.THREADS_APP_ID = ""
    client.force_login(social_manager)
    assert b"Threads" not in client.get(reverse("syndication_admin:connect")).content
    with pytest.raises(connect.ConnectError, match="THREADS_APP_ID"):
        connect.oauth_start(Network.THREADS, CALLBACK)
