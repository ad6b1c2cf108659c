"""Syndication in the admin: who sees what, the post queue, accounts, the dashboard, connecting."""

import datetime
import re
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit

from django.contrib.auth.models import Group
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

import pytest
import requests

from syndication import states
from syndication.models import ChannelAccount, PostAttempt, SyndicationPost
from syndication.views.connect import CONNECT_SESSION_KEY
from tests.factories import BlueskyAccountFactory, ChannelAccountFactory
from tests.syndication.conftest import make_user

pytestmark = pytest.mark.django_db

QUEUE = "/admin/syndication/posts/"
ACCOUNTS = "/admin/syndication/accounts/"
CONNECT = "/admin/syndication/connect/"
TOKEN = "secret-access-token-never-shown"


@pytest.fixture
def moderator(django_user_model):
    """Edits pages, has no syndication permission at all."""
    return make_user(django_user_model, "moe", "Moderators")


@pytest.fixture
def account(db):
    return ChannelAccountFactory(remote_id="1", tokens={"access_token": TOKEN})


@pytest.fixture
def other_account(db):
    return BlueskyAccountFactory(remote_id="did:plc:other", handle="other.bsky.social")


def make_post(story, account, state=states.SCHEDULED, hours=2, **fields):
    when = timezone.now() + datetime.timedelta(hours=hours)
    return SyndicationPost.objects.create(
        story=story,
        account=account,
        text="A boiler that sang. {story_url}",
        scheduled_at=when,
        due_at=when,
        state=state,
        **fields,
    )


def local(when):
    return timezone.localtime(when).strftime("%Y-%m-%d %H:%M")


def messages_of(response):
    return [str(message) for message in response.context["messages"]]


def denied(response):
    """Wagtail's answer to a page someone may not open: back to the dashboard."""
    return response.status_code == 302 and response["Location"] == "/admin/"


# --- Who sees what ------------------------------------------------------------------
@pytest.fixture
def urls(make_story, account):
    story = make_story()
    post = make_post(story, account, state=states.FAILED)
    return {
        "accounts": ACCOUNTS,
        "connect": CONNECT,
        "disconnect": f"{ACCOUNTS}{account.pk}/disconnect/",
        "reconnect": f"{ACCOUNTS}{account.pk}/reconnect/",
        "queue": QUEUE,
        "inspect": f"{QUEUE}inspect/{post.pk}/",
        "retry": f"{QUEUE}{post.pk}/retry/",
        "compose": f"/admin/syndication/compose/{story.pk}/",
    }


@pytest.mark.parametrize(
    "name",
    ["accounts", "connect", "disconnect", "reconnect", "queue", "inspect", "retry", "compose"],
)
def test_anonymous_people_are_sent_to_the_login(client, urls, name):
    response = client.get(urls[name])
    assert response.status_code == 302
    assert response["Location"].startswith("/admin/login/?next=")


def test_social_managers_can_open_everything(client, social_manager, urls):
    client.force_login(social_manager)
    for name, url in urls.items():
        assert client.get(url).status_code == 200, name


@pytest.mark.parametrize(
    "name", ["accounts", "connect", "callback", "disconnect", "reconnect", "retry"]
)
def test_editors_cannot_open_accounts_or_queue_actions(client, editor, urls, name):
    client.force_login(editor)
    session = client.session
    session[CONNECT_SESSION_KEY] = {"network": "mastodon", "flow": {"state": "s"}}
    session.save()
    url = urls.get(name, f"{CONNECT}mastodon/callback/?code=c&state=s")
    assert denied(client.get(url))
    assert not ChannelAccount.objects.exclude(handle="@storyloom").exists()


def test_editors_see_the_queue_and_compose_but_no_actions(client, editor, urls):
    client.force_login(editor)
    queue = client.get(urls["queue"])
    assert queue.status_code == 200
    html = queue.content.decode()
    assert "A story worth reading" in html
    assert "/retry/" not in html and "/cancel/" not in html
    inspect = client.get(urls["inspect"]).content.decode()
    assert "/retry/" not in inspect
    assert client.get(urls["compose"]).status_code == 200


@pytest.mark.parametrize(
    "name",
    ["connect_mastodon", "connect_bluesky", "disconnect", "reconnect", "retry", "cancel"],
)
def test_editors_posting_anyway_get_a_403_and_nothing_changes(client, editor, urls, account, name):
    post = SyndicationPost.objects.get()
    url = {
        "connect_mastodon": f"{CONNECT}mastodon/",
        "connect_bluesky": f"{CONNECT}bluesky/",
        "cancel": f"{QUEUE}{post.pk}/cancel/",
    }.get(name) or urls[name]
    client.force_login(editor)
    response = client.post(
        url,
        {
            "mastodon-instance": "https://social.example",
            "bluesky-handle": "someone.bsky.social",
            "bluesky-app_password": "abcd-efgh-ijkl-mnop",
            "bluesky-service_url": "https://bsky.social",
        },
    )
    assert response.status_code == 403
    post.refresh_from_db()
    account.refresh_from_db()
    assert post.state == states.FAILED
    assert account.status == ChannelAccount.Status.ACTIVE and account.encrypted_tokens


def test_the_syndication_menu_shows_only_what_a_person_may_use(
    client, social_manager, editor, moderator
):
    client.force_login(social_manager)
    html = client.get("/admin/").content.decode()
    assert "Post queue" in html and "Channel accounts" in html
    client.force_login(editor)
    html = client.get("/admin/").content.decode()
    assert "Post queue" in html and "Channel accounts" not in html
    client.force_login(moderator)
    html = client.get("/admin/").content.decode()
    assert "Post queue" not in html and "Channel accounts" not in html


# --- Channel accounts -------------------------------------------------------------------
def test_accounts_list_status_expiry_and_never_tokens(client, social_manager, account):
    broken = ChannelAccount.objects.create(
        network="mastodon",
        instance_url="https://other.example",
        remote_id="2",
        handle="@broken",
        status=ChannelAccount.Status.NEEDS_RECONNECT,
        status_reason="The server no longer accepts the token.",
        token_expires_at=timezone.now() + datetime.timedelta(days=3),
    )
    broken.set_tokens({"access_token": TOKEN})
    broken.save()
    client.force_login(social_manager)
    response = client.get(ACCOUNTS)
    html = response.content.decode()
    assert "@storyloom" in html and "social.example" in html
    assert "Needs reconnecting: The server no longer accepts the token." in html
    assert timezone.localtime(broken.token_expires_at).strftime("%H:%M") in html
    assert "Never" in html  # the Mastodon token does not expire
    assert "Connect an account" in html and CONNECT in html
    assert TOKEN not in html and account.encrypted_tokens not in html
    assert "/edit/" not in html  # no form where a token could show
    assert client.get(f"{ACCOUNTS}new/").status_code == 404
    assert client.get(f"{ACCOUNTS}edit/{account.pk}/").status_code == 404

    filtered = client.get(ACCOUNTS, {"status": "needs_reconnect"}).content.decode()
    assert "@broken" in filtered and "@storyloom" not in filtered


def test_disconnecting_wipes_the_tokens(client, social_manager, account, make_story):
    make_post(make_story(), account)
    client.force_login(social_manager)
    page = client.get(f"{ACCOUNTS}{account.pk}/disconnect/").content.decode()
    assert "1 scheduled post will wait" in page
    response = client.post(f"{ACCOUNTS}{account.pk}/disconnect/", follow=True)
    account.refresh_from_db()
    assert account.status == ChannelAccount.Status.DISCONNECTED
    assert account.encrypted_tokens == ""
    assert account.tokens == {}
    assert any("is disconnected" in m for m in messages_of(response))


# --- The post queue ---------------------------------------------------------------------
def test_queue_shows_local_times_states_links_and_errors(
    client, social_manager, account, make_story
):
    story = make_story(title="The boiler that sang")
    scheduled = make_post(story, account)
    make_post(
        story,
        account,
        state=states.PUBLISHED,
        hours=-5,
        remote_url="https://social.example/@storyloom/99",
    )
    make_post(story, account, state=states.FAILED, hours=-1, last_error="Mastodon refused: 422")
    client.force_login(social_manager)
    html = client.get(QUEUE).content.decode()
    shown = timezone.localtime(scheduled.scheduled_at)
    assert f"{shown:%H:%M} {shown.tzname()}" in html
    assert "Scheduled" in html and "Published" in html and "Failed" in html
    assert 'href="https://social.example/@storyloom/99"' in html
    assert "Mastodon refused: 422" in html


def test_queue_shows_what_the_network_last_reported_for_each_published_post(
    client, social_manager, account, make_story, django_assert_max_num_queries
):
    from syndication.engagement.models import ChannelMetricSnapshot

    story = make_story(title="The boiler that sang")
    heard = make_post(story, account, state=states.PUBLISHED, hours=-5)
    make_post(story, account, state=states.PUBLISHED, hours=-4)  # nothing reported yet
    make_post(story, account)  # scheduled
    earlier = timezone.now() - datetime.timedelta(hours=2)
    ChannelMetricSnapshot.objects.create(post=heard, taken_at=earlier, replies=1, likes=1)
    ChannelMetricSnapshot.objects.create(post=heard, replies=2, reposts=1, likes=5)
    client.force_login(social_manager)
    html = client.get(QUEUE).content.decode()
    assert "Reactions" in html
    # The latest snapshot only (they are running totals), in words.
    assert html.count("2 replies · 1 repost · 5 likes") == 1
    assert "1 reply" not in html
    assert html.count(" replies · ") == 1
    # One query for the listing however many posts have figures.
    for _ in range(5):
        post = make_post(story, account, state=states.PUBLISHED, hours=-3)
        ChannelMetricSnapshot.objects.create(post=post, likes=1)
    client.get(QUEUE)
    with CaptureQueriesContext(connection) as counted:
        client.get(QUEUE)
    few = len(counted.captured_queries)
    for _ in range(5):
        post = make_post(story, account, state=states.PUBLISHED, hours=-3)
        ChannelMetricSnapshot.objects.create(post=post, likes=1)
    with django_assert_max_num_queries(few):
        assert client.get(QUEUE).content.decode().count("0 replies · 0 reposts · 1 like") == 10


def test_queue_and_inspect_never_link_an_address_that_is_not_http(
    client, social_manager, account, make_story
):
    post = make_post(
        make_story(),
        account,
        state=states.PUBLISHED,
        hours=-1,
        remote_url="javascript:alert(document.cookie)",
    )
    client.force_login(social_manager)
    for page in (QUEUE, f"{QUEUE}inspect/{post.pk}/"):
        html = client.get(page).content.decode()
        assert 'href="javascript:' not in html.replace(" ", "").lower(), page
    inspect = client.get(f"{QUEUE}inspect/{post.pk}/").content.decode()
    assert "javascript:alert(document.cookie)" in inspect  # shown as text, for the record


def test_queue_lists_upcoming_first(client, social_manager, account, make_story):
    story = make_story()
    published = make_post(story, account, state=states.PUBLISHED, hours=-1)
    later = make_post(story, account, hours=30)
    sooner = make_post(story, account, hours=1)
    draft = make_post(story, account, state=states.DRAFT, hours=5)
    client.force_login(social_manager)
    listed = list(client.get(QUEUE).context["object_list"])
    assert listed == [sooner, draft, later, published]


def test_queue_filters_by_state_account_story_and_title(
    client, social_manager, account, other_account, make_story
):
    boiler, cats = make_story(title="The boiler that sang"), make_story(title="Why cats hide")
    failed = make_post(boiler, account, state=states.FAILED)
    missed = make_post(cats, other_account, state=states.MISSED)
    scheduled = make_post(cats, account)
    client.force_login(social_manager)

    def listed(**params):
        return set(client.get(QUEUE, params).context["object_list"])

    assert listed(state=["failed", "missed"]) == {failed, missed}
    assert listed(account=other_account.pk) == {missed}
    assert listed(story=boiler.pk) == {failed}
    assert listed(q="cats") == {missed, scheduled}
    assert listed(story=cats.pk, account=account.pk) == {scheduled}
    # Filtering reloads only the results; an action still returns to the whole listing.
    fragment = client.get(f"{QUEUE}results/", {"state": "failed", "_w_filter_fragment": "1"})
    assert f"/{failed.pk}/retry/?next=%2Fadmin%2Fsyndication%2Fposts%2F%3Fstate%3Dfailed" in (
        fragment.content.decode()
    )


def test_retry_moves_a_failed_post_back_to_scheduled(client, social_manager, account, make_story):
    post = make_post(make_story(), account, state=states.FAILED, last_error="HTTP 500")
    client.force_login(social_manager)
    page = client.get(f"{QUEUE}{post.pk}/retry/")
    assert page.status_code == 200 and "csrfmiddlewaretoken" in page.content.decode()
    response = client.post(f"{QUEUE}{post.pk}/retry/", {"next": QUEUE}, follow=True)
    post.refresh_from_db()
    assert post.state == states.SCHEDULED and post.last_error == ""
    assert any("Post retried" in m for m in messages_of(response))
    assert post.attempts.last().outcome == PostAttempt.Outcome.SCHEDULED


def test_cancel_stops_a_scheduled_post(client, social_manager, account, make_story):
    post = make_post(make_story(), account)
    client.force_login(social_manager)
    client.post(f"{QUEUE}{post.pk}/cancel/")
    post.refresh_from_db()
    assert post.state == states.CANCELLED


def test_an_action_that_no_longer_applies_is_an_error_message(
    client, social_manager, account, make_story
):
    post = make_post(make_story(), account, state=states.PUBLISHED)
    client.force_login(social_manager)
    response = client.post(f"{QUEUE}{post.pk}/cancel/", follow=True)
    assert any("cannot be cancelled now" in m for m in messages_of(response))
    asked = client.get(f"{QUEUE}{post.pk}/retry/", follow=True)
    assert any("it cannot be retried" in m for m in messages_of(asked))
    post.refresh_from_db()
    assert post.state == states.PUBLISHED


def test_reschedule_needs_a_future_time(client, social_manager, account, make_story):
    post = make_post(make_story(), account, hours=2)
    client.force_login(social_manager)
    url = f"{QUEUE}{post.pk}/reschedule/"

    empty = client.post(url, {"when": ""})
    assert empty.status_code == 200
    assert empty.context["form"].errors["when"] == ["This field is required."]
    past = client.post(url, {"when": local(timezone.now() - datetime.timedelta(hours=4))})
    assert "is in the past" in past.context["form"].errors["when"][0]
    post.refresh_from_db()
    assert post.state == states.SCHEDULED
    assert abs(post.scheduled_at - (timezone.now() + datetime.timedelta(hours=2))).seconds < 60

    new_time = timezone.now() + datetime.timedelta(days=2)
    assert client.post(url, {"when": local(new_time)}).status_code == 302
    post.refresh_from_db()
    assert local(post.scheduled_at) == local(new_time)
    assert post.due_at == post.scheduled_at


def test_inspect_shows_text_link_voice_and_the_attempt_log(
    client, social_manager, account, make_story
):
    post = make_post(
        make_story(),
        account,
        state=states.FAILED,
        voice_score=0.62,
        voice_override_reason="The offer is the story.",
        link="https://localhost/stories/x/?utm_content=1",
    )
    post.log(PostAttempt.Outcome.FAILED, "Mastodon refused the request", status=422, sent=True)
    client.force_login(social_manager)
    html = client.get(f"{QUEUE}inspect/{post.pk}/").content.decode()
    assert "A boiler that sang. {story_url}" in html
    assert "https://localhost/stories/x/?utm_content=1" in html
    assert "0.62" in html and "The offer is the story." in html
    log = html[html.index("Attempt log") :]
    assert "Failed" in log and "422" in log and "Mastodon refused the request" in log
    assert f"{QUEUE}{post.pk}/retry/" in html  # the manager's actions are offered


# --- Dashboard --------------------------------------------------------------------------
def test_dashboard_lists_the_next_24_hours_and_what_needs_attention(
    client, social_manager, editor, moderator, account, make_story
):
    make_post(make_story(title="Due in three hours"), account, hours=3)
    make_post(make_story(title="Due in three days"), account, hours=72)
    make_post(make_story(title="Went wrong"), account, state=states.FAILED, hours=-2)
    make_post(make_story(title="Unknown fate"), account, state=states.UNCONFIRMED, hours=-1)
    ChannelAccount.objects.create(
        network="bluesky",
        remote_id="did:plc:x",
        handle="gone.bsky.social",
        status=ChannelAccount.Status.NEEDS_RECONNECT,
        status_reason="Session expired",
    )
    client.force_login(social_manager)
    html = client.get("/admin/").content.decode()
    panel = re.search(r'id="syndication-next-posts-section".*?</section>', html, re.DOTALL).group(0)
    assert "Due in three hours" in panel
    assert "Due in three days" not in panel
    assert "2 posts need attention" in panel
    assert "state=unconfirmed&amp;state=failed&amp;state=missed" in panel
    assert "gone.bsky.social" in panel and "Session expired" in panel

    client.force_login(editor)
    assert "Due in three hours" in client.get("/admin/").content.decode()
    client.force_login(moderator)
    assert "syndication-next-posts" not in client.get("/admin/").content.decode()


# --- The Syndicate button ---------------------------------------------------------------
def test_syndicate_button_on_a_storys_edit_page_and_listing(
    client, social_manager, moderator, make_story, story_index
):
    story = make_story()
    compose = f"/admin/syndication/compose/{story.pk}/"
    client.force_login(social_manager)
    assert compose in client.get(f"/admin/pages/{story.pk}/edit/").content.decode()
    assert compose in client.get(f"/admin/pages/{story_index.pk}/").content.decode()
    # Not on pages that are not stories.
    assert (
        "/admin/syndication/compose/"
        not in client.get(f"/admin/pages/{story_index.pk}/edit/").content.decode()
    )

    client.force_login(moderator)
    edit = client.get(f"/admin/pages/{story.pk}/edit/")
    assert edit.status_code == 200
    assert compose not in edit.content.decode()
    assert denied(client.get(compose))


# --- Connecting Mastodon ----------------------------------------------------------------
def start_connecting(client, instance):
    return client.post(f"{CONNECT}mastodon/", {"mastodon-instance": instance})


def test_connecting_a_mastodon_account(client, social_manager, mastodon_server):
    client.force_login(social_manager)
    started = start_connecting(client, mastodon_server.url)
    assert started.status_code == 302
    authorize = started["Location"]
    assert authorize.startswith(f"{mastodon_server.url}/oauth/authorize?")

    mastodon_server.auto_approve = True
    answer = requests.get(authorize, allow_redirects=False, timeout=5)
    callback = urlsplit(answer.headers["Location"])
    assert callback.path == f"{CONNECT}mastodon/callback/"

    response = client.get(f"{callback.path}?{callback.query}", follow=True)
    account = ChannelAccount.objects.get()
    assert account.handle == "@storyloom"
    assert account.instance_url == mastodon_server.url
    assert account.status == ChannelAccount.Status.ACTIVE
    assert account.connected_by == social_manager
    assert account.tokens["access_token"]
    assert any(m.startswith("Connected @storyloom") for m in messages_of(response))
    assert CONNECT_SESSION_KEY not in client.session
    assert account.tokens["access_token"] not in response.content.decode()


def test_a_callback_with_the_wrong_state_connects_nothing(client, social_manager, mastodon_server):
    client.force_login(social_manager)
    authorize = start_connecting(client, mastodon_server.url)["Location"]
    mastodon_server.auto_approve = True
    callback = urlsplit(
        requests.get(authorize, allow_redirects=False, timeout=5).headers["Location"]
    )
    forged = re.sub(r"state=[^&]+", "state=someone-elses", callback.query)
    response = client.get(f"{callback.path}?{forged}", follow=True)
    assert not ChannelAccount.objects.exists()
    assert any("did not match" in m or "does not belong" in m for m in messages_of(response))


def test_a_callback_nobody_started_connects_nothing(client, social_manager):
    client.force_login(social_manager)
    response = client.get(f"{CONNECT}mastodon/callback/?code=abc&state=xyz", follow=True)
    assert not ChannelAccount.objects.exists()
    assert any("not started from here" in m for m in messages_of(response))


def test_a_refused_approval_connects_nothing(client, social_manager, mastodon_server):
    client.force_login(social_manager)
    authorize = start_connecting(client, mastodon_server.url)["Location"]
    query = urlsplit(authorize).query
    denied_answer = requests.post(
        f"{mastodon_server.url}/oauth/authorize?{query}",
        data={"decision": "deny"},
        allow_redirects=False,
        timeout=5,
    )
    callback = urlsplit(denied_answer.headers["Location"])
    response = client.get(f"{callback.path}?{callback.query}", follow=True)
    assert not ChannelAccount.objects.exists()
    assert any("not granted" in m or "not approved" in m for m in messages_of(response))


class NotMastodon(BaseHTTPRequestHandler):
    def do_GET(self):
        body = b"<html><body>A blog, not a Mastodon server</body></html>"
        self.send_response(404 if "/api/" in self.path else 200)
        self.send_header("Content-Type", "text/html")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


@pytest.fixture
def blog_server():
    server = ThreadingHTTPServer(("127.0.0.1", 0), NotMastodon)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def test_a_server_that_is_not_mastodon_is_a_form_error(client, social_manager, blog_server):
    client.force_login(social_manager)
    response = start_connecting(client, blog_server)
    assert response.status_code == 200
    errors = response.context["mastodon_form"].errors["instance"]
    assert "is not a Mastodon server" in errors[0]
    assert CONNECT_SESSION_KEY not in client.session
    junk = start_connecting(client, "ftp://files.example")
    assert junk.context["mastodon_form"].errors["instance"]


def test_reconnecting_sends_people_back_to_their_server(client, social_manager, mastodon_server):
    account = ChannelAccount.objects.create(
        network="mastodon",
        instance_url=mastodon_server.url,
        remote_id="1",
        handle="@storyloom",
        status=ChannelAccount.Status.NEEDS_RECONNECT,
        status_reason="Token revoked",
    )
    client.force_login(social_manager)
    assert "Token revoked" in client.get(f"{ACCOUNTS}{account.pk}/reconnect/").content.decode()
    started = client.post(f"{ACCOUNTS}{account.pk}/reconnect/")
    assert started["Location"].startswith(f"{mastodon_server.url}/oauth/authorize?")
    mastodon_server.auto_approve = True
    callback = urlsplit(
        requests.get(started["Location"], allow_redirects=False, timeout=5).headers["Location"]
    )
    client.get(f"{callback.path}?{callback.query}")
    account.refresh_from_db()
    assert ChannelAccount.objects.count() == 1
    assert account.status == ChannelAccount.Status.ACTIVE and account.status_reason == ""
    assert account.tokens["access_token"]


# --- Bluesky, LinkedIn and X (their connect functions are faked here) -------------------
def test_linkedin_and_x_are_offered_only_when_the_site_has_keys(client, social_manager, settings):
    client.force_login(social_manager)
    settings.LINKEDIN_CLIENT_ID, settings.X_CONSUMER_KEY = "", ""
    html = client.get(CONNECT).content.decode()
    assert "Continue to LinkedIn" not in html and "Continue to X" not in html
    assert client.post(f"{CONNECT}linkedin/start/").status_code == 404
    settings.LINKEDIN_CLIENT_ID = "storyloom-app"
    html = client.get(CONNECT).content.decode()
    assert "Continue to LinkedIn" in html and "Continue to X" not in html


def test_an_oauth_network_round_trip_keeps_its_state(
    client, social_manager, settings, monkeypatch, account
):
    from syndication import connect

    settings.LINKEDIN_CLIENT_ID = "storyloom-app"
    finished = []

    def oauth_start(network, redirect_uri):
        assert redirect_uri == f"http://localhost{CONNECT}linkedin/callback/"
        return "https://www.linkedin.example/oauth?state=abc", {"state": "abc"}

    def oauth_finish(network, flow, params, user):
        finished.append((network, flow, params, user))
        return account

    monkeypatch.setattr(connect, "oauth_start", oauth_start, raising=False)
    monkeypatch.setattr(connect, "oauth_finish", oauth_finish, raising=False)
    client.force_login(social_manager)
    started = client.post(f"{CONNECT}linkedin/start/")
    assert started["Location"] == "https://www.linkedin.example/oauth?state=abc"
    client.get(f"{CONNECT}linkedin/callback/?code=c&state=wrong")
    assert finished == []  # a foreign state never reaches the network code
    client.post(f"{CONNECT}linkedin/start/")
    response = client.get(f"{CONNECT}linkedin/callback/?code=c&state=abc", follow=True)
    assert finished == [
        ("linkedin", {"state": "abc"}, {"code": "c", "state": "abc"}, social_manager)
    ]
    assert any(m.startswith("Connected") for m in messages_of(response))


def test_a_refused_bluesky_password_is_a_form_error_and_never_shown_again(
    client, social_manager, monkeypatch
):
    from syndication import connect

    def bluesky_connect(handle, app_password, service_url, user):
        assert (handle, service_url) == ("storyloom.bsky.social", "https://bsky.social")
        raise connect.ConnectError("Bluesky did not accept this handle and app password.")

    monkeypatch.setattr(connect, "bluesky_connect", bluesky_connect, raising=False)
    client.force_login(social_manager)
    response = client.post(
        f"{CONNECT}bluesky/",
        {
            "bluesky-handle": "@storyloom.bsky.social",
            "bluesky-app_password": "abcd-efgh-ijkl-mnop",
            "bluesky-service_url": "https://bsky.social",
        },
    )
    assert response.status_code == 200
    html = response.content.decode()
    assert "Bluesky did not accept this handle and app password." in html
    assert "abcd-efgh-ijkl-mnop" not in html
    assert not ChannelAccount.objects.exists()


def test_reconnecting_a_linkedin_account_starts_its_flow_again(
    client, social_manager, settings, monkeypatch
):
    from syndication import connect

    account = ChannelAccount.objects.create(
        network="linkedin",
        remote_id="urn:li:person:1",
        handle="Storyloom",
        status=ChannelAccount.Status.NEEDS_RECONNECT,
        status_reason="The 60-day token ended.",
    )
    started = []
    monkeypatch.setattr(
        connect,
        "oauth_start",
        lambda network, uri: started.append(network) or ("https://li.example/a", {"state": "s"}),
        raising=False,
    )
    client.force_login(social_manager)
    settings.LINKEDIN_CLIENT_ID = ""
    refused = client.post(f"{ACCOUNTS}{account.pk}/reconnect/", follow=True)
    assert any("not set up on this site" in m for m in messages_of(refused))
    settings.LINKEDIN_CLIENT_ID = "storyloom-app"
    response = client.post(f"{ACCOUNTS}{account.pk}/reconnect/")
    assert response["Location"] == "https://li.example/a" and started == ["linkedin"]
    assert client.session[CONNECT_SESSION_KEY] == {"network": "linkedin", "flow": {"state": "s"}}


def test_social_managers_pick_a_story_to_syndicate_without_page_rights(client, make_story):
    from django.contrib.auth import get_user_model

    from stories.models import StoryPage

    manager = get_user_model().objects.create_user("pat", password="a-long-password")
    manager.groups.add(Group.objects.get(name="Social managers"))
    client.force_login(manager)
    make_story(title="Mending a bike puncture")
    make_story(title="Growing basil on a sill")
    queue = client.get("/admin/syndication/posts/")
    assert "Syndicate a story" in queue.content.decode()
    page = client.get("/admin/syndication/compose/", {"q": "basil"})
    assert page.status_code == 200
    html = page.content.decode()
    assert "Growing basil on a sill" in html and "Mending a bike puncture" not in html
    basil = StoryPage.objects.get(title="Growing basil on a sill")
    assert f"/admin/syndication/compose/{basil.pk}/" in html
    assert client.get(f"/admin/syndication/compose/{basil.pk}/").status_code == 200
