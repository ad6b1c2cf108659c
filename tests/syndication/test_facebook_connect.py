"""Connecting Facebook Pages through the Graph test server's consent dialog, over sockets."""

import datetime
import re
from html import unescape
from urllib.parse import parse_qs, urlsplit

from django.urls import reverse
from django.utils import timezone

import pytest
import requests

from syndication import connect
from syndication.channels.base import PublishRequest
from syndication.models import ChannelAccount, Network
from syndication.testing.facebook import FacebookTestServer
from syndication.views.connect import CONNECT_SESSION_KEY
from syndication.views.connect_facebook import PAGES_SESSION_KEY

pytestmark = pytest.mark.django_db

CALLBACK = "http://localhost/admin/syndication/connect/facebook/callback/"


@pytest.fixture
def graph(settings):
    with FacebookTestServer() as server:
        settings.FACEBOOK_GRAPH_URL = server.url
        settings.FACEBOOK_DIALOG_URL = server.url
        settings.FACEBOOK_APP_ID = server.app_id
        settings.FACEBOOK_APP_SECRET = server.app_secret
        settings.FACEBOOK_API_VERSION = "v25.0"
        yield server


def consent(dialog_url: str, *, pages=None, decision="continue") -> str:
    """What a person does in Facebook's dialog: read the page, tick Pages, press a
    button. Returns where Facebook sends the browser back to."""
    page = requests.get(dialog_url, timeout=5)
    assert page.status_code == 200, page.text
    form = re.search(r'<form method="post" action="([^"]+)">(.*?)</form>', page.text, re.S)
    fields = dict(re.findall(r'<input type="hidden" name="(\w+)" value="([^"]*)">', form[2]))
    fields = {name: unescape(value) for name, value in fields.items()}
    listed = re.findall(r'name="pages" value="(\d+)" checked', form[2])
    answer = requests.post(
        urlsplit(dialog_url)._replace(path=form[1], query="").geturl(),
        data={**fields, "pages": listed if pages is None else pages, "decision": decision},
        allow_redirects=False,
        timeout=5,
    )
    assert answer.status_code == 302
    return answer.headers["Location"]


def start(client) -> str:
    response = client.post(reverse("syndication_admin:connect_oauth", args=["facebook"]))
    assert response.status_code == 302
    return response["Location"]


def back(client, location: str):
    parts = urlsplit(location)
    assert f"{parts.scheme}://{parts.netloc}{parts.path}" == CALLBACK
    return client.get(parts.path, parse_qs(parts.query))


def test_a_person_connects_the_pages_they_choose(client, social_manager, graph):
    client.force_login(social_manager)
    offered = client.get(reverse("syndication_admin:connect"))
    assert b"Continue to Facebook Page" in offered.content

    dialog = start(client)
    parts = urlsplit(dialog)
    assert parts.path == "/v25.0/dialog/oauth"
    query = parse_qs(parts.query)
    assert query["client_id"] == [graph.app_id]
    assert query["redirect_uri"] == [CALLBACK]
    assert set(query["scope"][0].split(",")) == {
        "pages_show_list",
        "pages_manage_posts",
        "pages_read_engagement",
        "pages_manage_engagement",
        "pages_read_user_engagement",
    }

    landed = back(client, consent(dialog))
    assert landed["Location"] == reverse("syndication_admin:connect_facebook_pages")
    # The Pages wait encrypted in the session, never their tokens in the clear.
    waiting = client.session[PAGES_SESSION_KEY]
    assert "EAA" not in waiting and graph.page_ids[0] not in waiting

    choice = client.get(landed["Location"])
    assert choice.status_code == 200
    assert b"Storyloom Stories" in choice.content and b"Storyloom Recipes" in choice.content

    stories, recipes = graph.page_ids
    done = client.post(landed["Location"], {"pages": [stories]})
    assert done.status_code == 302 and done["Location"] == reverse("syndication_accounts:index")

    [account] = ChannelAccount.objects.all()
    assert (account.network, account.remote_id) == (Network.FACEBOOK, stories)
    assert account.handle == account.display_name == "Storyloom Stories"
    assert account.connected_by == social_manager
    assert account.token_expires_at is None  # debug_token said expires_at 0: never
    token = account.tokens["access_token"]
    assert token.startswith("EAA") and token not in account.encrypted_tokens
    assert "pages_manage_posts" in account.scopes.split()
    assert PAGES_SESSION_KEY not in client.session
    # The stored token is the Page's own: it posts as the Page.
    request = PublishRequest(
        post_id=1, text="Hello https://s.example/?utm_content=1", link="", idempotency_key="k"
    )
    account.adapter(timeout=2).publish(request)
    [post] = graph.posts
    assert post["page_id"] == stories
    assert recipes not in ChannelAccount.objects.values_list("remote_id", flat=True)


def test_a_page_token_that_expires_gets_its_expiry_from_debug_token(graph):
    graph.page_token_lifetime = 60 * 86400
    url, flow = connect.oauth_start(Network.FACEBOOK, CALLBACK)
    params = {k: v[0] for k, v in parse_qs(urlsplit(consent(url)).query).items()}

    grants = connect.facebook_pages(flow, params)
    accounts = connect.facebook_connect_pages(grants, [g.profile.remote_id for g in grants])

    assert len(accounts) == 2
    soon = timezone.now() + datetime.timedelta(days=60)
    for account in accounts:
        assert abs((account.token_expires_at - soon).total_seconds()) < 60
    assert graph.hits["debug_token"] == 2
    assert graph.refused_fields == []


def test_pages_picked_in_facebooks_dialog_are_the_only_ones_offered(graph):
    url, flow = connect.oauth_start(Network.FACEBOOK, CALLBACK)
    location = consent(url, pages=[graph.page_ids[1]])
    params = {k: v[0] for k, v in parse_qs(urlsplit(location).query).items()}

    grants = connect.facebook_pages(flow, params)

    assert [grant.profile.display_name for grant in grants] == ["Storyloom Recipes"]
    with pytest.raises(connect.ConnectError, match="Choose one or more"):
        connect.facebook_connect_pages(grants, [graph.page_ids[0]])
    assert not ChannelAccount.objects.exists()


def test_a_page_the_person_cannot_post_to_is_not_connected(graph):
    graph.add_page("Read only", tasks=("ANALYZE",))
    url, flow = connect.oauth_start(Network.FACEBOOK, CALLBACK)
    params = {k: v[0] for k, v in parse_qs(urlsplit(consent(url)).query).items()}
    grants = connect.facebook_pages(flow, params)
    [read_only] = [grant for grant in grants if not grant.can_post]

    with pytest.raises(connect.ConnectError, match="Read only"):
        connect.facebook_connect_pages(grants, [read_only.profile.remote_id])
    assert not ChannelAccount.objects.exists()


def test_cancelling_in_facebook_connects_nothing(client, social_manager, graph):
    client.force_login(social_manager)
    location = consent(start(client), decision="cancel")
    assert parse_qs(urlsplit(location).query)["error_reason"] == ["user_denied"]

    response = back(client, location)

    assert response["Location"] == reverse("syndication_admin:connect")
    assert not ChannelAccount.objects.exists()
    assert PAGES_SESSION_KEY not in client.session


def test_an_answer_for_someone_elses_attempt_is_refused(graph):
    url, flow = connect.oauth_start(Network.FACEBOOK, CALLBACK)
    params = {k: v[0] for k, v in parse_qs(urlsplit(consent(url)).query).items()}
    with pytest.raises(connect.ConnectError, match="does not belong"):
        connect.facebook_pages({**flow, "state": "another"}, params)


def test_a_code_used_twice_is_refused_with_a_clear_error(graph):
    url, flow = connect.oauth_start(Network.FACEBOOK, CALLBACK)
    params = {k: v[0] for k, v in parse_qs(urlsplit(consent(url)).query).items()}
    connect.facebook_pages(flow, params)
    with pytest.raises(connect.ConnectError, match="did not accept the sign-in"):
        connect.facebook_pages(flow, params)


def test_the_pages_screen_without_pages_waiting_sends_the_person_back(client, social_manager):
    client.force_login(social_manager)
    response = client.get(reverse("syndication_admin:connect_facebook_pages"))
    assert response["Location"] == reverse("syndication_admin:connect")


def test_editors_cannot_choose_pages(client, editor, graph):
    client.force_login(editor)
    response = client.post(reverse("syndication_admin:connect_facebook_pages"), {"pages": ["1"]})
    assert response.status_code == 403
    assert CONNECT_SESSION_KEY not in client.session


def test_facebook_is_not_offered_without_an_app(client, social_manager, settings):
    settings.FACEBOOK_APP_ID = ""
    client.force_login(social_manager)
    assert b"Facebook" not in client.get(reverse("syndication_admin:connect")).content
    response = client.post(reverse("syndication_admin:connect_oauth", args=["facebook"]))
    assert response.status_code == 404


def test_the_development_server_command_says_how_to_point_storyloom_at_it(monkeypatch):
    import io
    import socket

    from django.core.management import call_command

    seen = {}

    def stop(_seconds):
        # While it runs, the dialog answers on the port it printed.
        seen["dialog"] = requests.get(
            f"http://127.0.0.1:{port}/v25.0/dialog/oauth",
            params={"client_id": "42", "redirect_uri": "http://localhost/back/", "state": "s"},
            timeout=5,
        )
        raise KeyboardInterrupt

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    monkeypatch.setattr("time.sleep", stop)
    out = io.StringIO()
    call_command("facebook_test_server", "--port", str(port), "--app-id", "42", stdout=out)

    said = out.getvalue()
    assert f"FACEBOOK_GRAPH_URL=http://127.0.0.1:{port}" in said
    assert "FACEBOOK_APP_ID=42 FACEBOOK_APP_SECRET=storyloom-dev-secret" in said
    assert said.rstrip().endswith("Stopped.")
    assert seen["dialog"].status_code == 200 and "Storyloom Recipes" in seen["dialog"].text


def test_connecting_a_page_again_brings_its_account_back_with_a_new_token(graph):
    def connect_all():
        url, flow = connect.oauth_start(Network.FACEBOOK, CALLBACK)
        params = {k: v[0] for k, v in parse_qs(urlsplit(consent(url)).query).items()}
        grants = connect.facebook_pages(flow, params)
        return connect.facebook_connect_pages(grants, [graph.page_ids[0]])

    [first] = connect_all()
    old_token = first.tokens["access_token"]
    first.mark_needs_reconnect("Facebook no longer accepts this Page's token")

    [again] = connect_all()

    assert again.pk == first.pk and ChannelAccount.objects.count() == 1
    again.refresh_from_db()
    assert again.status == ChannelAccount.Status.ACTIVE and again.status_reason == ""
    assert again.tokens["access_token"] not in ("", old_token)
