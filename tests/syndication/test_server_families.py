"""The compatibility matrix: every server family the Mastodon test server plays ×
connecting through OAuth, publishing, reading back, metrics, a lost answer, an answer
held past the client's timeout, a revoked token and the length limit. Real HTTP, the
real engine in-process (tests/integration/ has the same in worker processes).

What each family does, and where that comes from, is in
``syndication/testing/mastodon/profiles.py``; docs/syndication.md has the table.
"""

import dataclasses
import datetime
import json
import time
from urllib.parse import parse_qs, urlsplit

from django.utils import timezone

import pytest
import requests

from syndication import connect, publishing, states
from syndication.channels import fediverse
from syndication.channels.base import AuthExpired, PublishRequest
from syndication.channels.mastodon import instance_info
from syndication.models import ChannelAccount, PostAttempt, SyndicationPost
from syndication.testing.mastodon import profiles
from syndication.testing.mastodon_server import MastodonTestServer

pytestmark = pytest.mark.django_db

CALLBACK = "http://storyloom.test/admin/syndication/connect/mastodon/callback/"
TIMEOUT = 0.5
MARGIN = 1.5

#: What Storyloom must make of each family: (family, scopes asked, honours the key,
#: batch reads, how the server counts).
EXPECTED = {
    "mastodon-4": ("mastodon", fediverse.SCOPES_PROFILE, True, True, fediverse.GRAPHEMES_URLS_23),
    "mastodon-3": ("mastodon", fediverse.SCOPES_READ_ACCOUNTS, True, False, None),
    "gotosocial": ("gotosocial", fediverse.SCOPES_READ_ACCOUNTS, False, False, "code"),
    "akkoma": ("pleroma", fediverse.SCOPES_READ_ACCOUNTS, True, True, fediverse.GRAPHEMES),
    "pleroma": ("pleroma", fediverse.SCOPES_READ_ACCOUNTS, True, True, fediverse.GRAPHEMES),
    "takahe": ("takahe", fediverse.BROAD_SCOPES, False, False, "code"),
    "sharkey": ("unknown", fediverse.BROAD_SCOPES, False, False, fediverse.STRICTEST),
    "unknown": ("unknown", fediverse.BROAD_SCOPES, False, False, fediverse.STRICTEST),
}
FAMILIES = sorted(profiles.PROFILES)


@pytest.fixture(autouse=True)
def quick_engine(settings):
    settings.SYNDICATION_HTTP_TIMEOUT = TIMEOUT
    settings.SYNDICATION_INFLIGHT_MARGIN = MARGIN
    settings.SYNDICATION_RETRY_BASE = 1
    settings.SYNDICATION_RETRY_CAP = 2
    settings.SYNDICATION_RECONCILE_AFTER = 0
    settings.SYNDICATION_MAX_FAILURES = 6


@pytest.fixture(params=FAMILIES)
def server(request):
    family = profiles.PROFILES[request.param]
    with MastodonTestServer(profile=family) as running:
        running.auto_approve = True
        running.slow_seconds = 1.5
        yield running


def approve(authorization_url: str) -> dict:
    answer = requests.get(authorization_url, allow_redirects=False, timeout=5)
    assert answer.status_code == 302, answer.text
    return {k: v[0] for k, v in parse_qs(urlsplit(answer.headers["Location"]).query).items()}


def connect_through_oauth(server) -> ChannelAccount:
    authorization_url, flow = connect.mastodon_start(server.url, CALLBACK)
    flow = json.loads(json.dumps(flow))  # what the session keeps
    try:
        return connect.mastodon_finish(flow, approve(authorization_url))
    except connect.BroaderScopesNeeded as needed:
        return connect.mastodon_finish(needed.flow, approve(needed.url))


@pytest.fixture
def account(server):
    return connect_through_oauth(server)


def schedule(account, make_story) -> SyndicationPost:
    now = timezone.now()
    return SyndicationPost.objects.create(
        story=make_story(),
        account=account,
        text="A story worth a read.\n\n{story_url}",
        scheduled_at=now,
        due_at=now,
        state=states.SCHEDULED,
    )


def run_due() -> list[str]:
    """One beat tick, far enough ahead that every waiting post is due."""
    claimed = []
    later = timezone.now() + datetime.timedelta(hours=1)
    publishing.dispatch_due_posts(lambda pk, claim: claimed.append((pk, claim)), later)
    return [publishing.publish_post(pk, claim) for pk, claim in claimed]


def family_of(server) -> str:
    return server.profile.name


# --- Knowing the server ---------------------------------------------------------------
def test_the_server_is_detected_and_its_capabilities_follow(server):
    family, scopes, honours, batch, counting = EXPECTED[family_of(server)]
    profile = instance_info(server.url).profile
    assert profile.family == family
    assert profile.software == (server.profile.software or "")
    assert profile.version == server.profile.version
    assert profile.scopes == scopes
    assert profile.honours_idempotency_key is honours
    assert profile.batch_reads is batch
    assert profile.max_characters == server.max_characters
    if counting == "code":
        assert profile.counting == fediverse.CODE_POINTS
    elif counting:
        assert profile.counting == counting


# --- Connecting -------------------------------------------------------------------------
def test_connect_through_oauth_with_the_scopes_the_server_takes(server, account):
    family, scopes, *_ = EXPECTED[family_of(server)]
    account.refresh_from_db()
    assert account.status == ChannelAccount.Status.ACTIVE
    assert account.scopes == scopes
    assert account.handle == "@storyloom"
    assert account.max_characters == server.max_characters
    assert account.server.family == family
    assert account.server.label.startswith(server.profile.software or "")
    # The token works for what Storyloom does: posting and reading the account.
    adapter = account.adapter(timeout=2)
    posted = adapter.publish(_request(1))
    assert adapter.find_published(_request(1, sent_at=timezone.now())) == posted


# --- Publishing and reading back ---------------------------------------------------------
def test_publish_once_with_an_address_people_can_follow(server, account, make_story):
    post = schedule(account, make_story)
    assert run_due() == ["published"]
    post.refresh_from_db()
    [status] = server.statuses
    assert post.remote_id == status["id"]
    # Takahē writes https:// while answering on http: the stored address is the one
    # that opens (the account's own host, on the scheme it is reached by).
    assert post.remote_url == f"{server.url}/@storyloom/{status['id']}"
    assert requests.get(post.remote_url, timeout=5).status_code == 200


def test_the_read_back_pages_to_before_the_post_was_sent(server, account):
    adapter = account.adapter(timeout=2)
    sent_at = timezone.now()
    ours = adapter.publish(_request(7))
    for number in range(100, 190):  # 90 newer statuses push ours to the third page
        adapter.publish(_request(number))
    assert adapter.find_published(_request(7, sent_at=sent_at)) == ours
    # A post that never arrived is "not found" once the pages reach back past sent_at.
    assert adapter.find_published(_request(8, sent_at=sent_at)) is None


# --- Metrics -----------------------------------------------------------------------------
def test_metrics_are_read_and_a_refused_batch_read_is_remembered(server, account):
    adapter = account.adapter(timeout=2)
    ids = [adapter.publish(_request(n)).id for n in range(3)]
    server.set_counts(ids[0], reblogs=1, favourites=1, replies=1)

    metrics = adapter.fetch_metrics([*ids, "999999999999999999"])

    assert set(metrics) == set(ids)
    assert (metrics[ids[0]].reposts, metrics[ids[0]].likes, metrics[ids[0]].replies) == (1, 1, 1)
    account.refresh_from_db()
    assert account.metrics_read_at is not None and account.metrics_error == ""
    _, _, _, batch, _ = EXPECTED[family_of(server)]
    assert account.server.batch_reads is batch
    if server.profile.batch_refusal is not None and batch is False:
        # Known not to have it: never asked.
        assert server.hits["statuses_batch"] == 0


def test_a_batch_read_refused_by_a_server_said_to_have_one_falls_back_and_is_kept(server, account):
    if server.profile.batch_refusal is None:
        pytest.skip("this family answers batch reads")
    # The account says the server has batch reads (say, detected before a downgrade).
    stored = account.server.learned("test", batch_reads=True)
    account.remember_server(stored)
    adapter = account.adapter(timeout=2)
    ids = [adapter.publish(_request(n)).id for n in range(2)]
    server.set_counts(ids[1], favourites=4)

    assert adapter.fetch_metrics(ids)[ids[1]].likes == 4

    account.refresh_from_db()
    assert account.server.batch_reads is False
    assert any("Batch status reads refused" in note for note in account.server.notes)
    hits = server.hits["statuses_batch"]
    assert account.adapter(timeout=2).fetch_metrics(ids)[ids[1]].likes == 4
    assert server.hits["statuses_batch"] == hits  # remembered: not asked again


# --- Lost and held answers -----------------------------------------------------------------
def test_a_lost_answer_is_settled_by_reading_back_without_a_second_post(
    server, account, make_story
):
    post = schedule(account, make_story)
    server.fail_next("drop_after_create")
    assert run_due() == ["unconfirmed"]
    assert run_due() == ["published"]
    post.refresh_from_db()
    assert post.attempts.last().outcome == PostAttempt.Outcome.CONFIRMED
    assert server.count_with(f"utm_content={post.pk}") == 1
    assert server.duplicates() == {}


def test_an_answer_held_past_the_timeout_is_never_resent_blindly(server, account, make_story):
    """The create reaches the server after the client gave up (``create_after_timeout``):
    a read-back right away misses it. A server that replays the key may be asked again
    at once; any other waits until the request cannot be in flight, then finds it."""
    honours = EXPECTED[family_of(server)][2]
    post = schedule(account, make_story)
    server.fail_next("create_after_timeout")
    assert run_due() == ["unconfirmed"]

    second = run_due()

    post.refresh_from_db()
    if honours:
        assert second == ["published"]  # resent under the same key, replayed later
    else:
        assert second == ["unconfirmed"]
        assert "does not honour the idempotency key" in post.last_error
        assert server.create_calls == 1
    time.sleep(TIMEOUT + MARGIN + 0.2)
    run_due()
    post.refresh_from_db()
    assert post.state == states.PUBLISHED
    assert server.count_with(f"utm_content={post.pk}") == 1
    assert server.duplicates() == {}
    [status] = server.statuses_with(f"utm_content={post.pk}")
    assert post.remote_id == status["id"]


# --- A token that is not valid any more ---------------------------------------------------
def test_a_revoked_token_marks_the_account_needs_reconnecting(server, account, make_story):
    post = schedule(account, make_story)
    server.revoke(account.tokens["access_token"])

    assert run_due() == ["waiting"]

    account.refresh_from_db()
    post.refresh_from_db()
    assert account.status == ChannelAccount.Status.NEEDS_RECONNECT
    assert "reconnect" in account.status_reason
    assert post.state == states.SCHEDULED and post.last_error == account.status_reason
    assert server.statuses == []
    with pytest.raises(AuthExpired):
        account.adapter(timeout=2).fetch_metrics(["1"])
    account.refresh_from_db()
    assert "reconnect" in account.metrics_error


def test_a_refusal_that_is_not_about_the_token_stays_a_refusal(server, account):
    """A 400, 403 (or, from unknown software, 401) that may mean a dead token is
    confirmed first: a too-long post on Takahē or GoToSocial (400), or on Sharkey (401),
    is not taken for a dead token and leaves the account connected."""
    adapter = account.adapter(timeout=2)
    with pytest.raises(Exception) as raised:
        adapter.publish(_request(1, text="x" * 6000))
    assert not isinstance(raised.value, AuthExpired)
    account.refresh_from_db()
    assert account.status == ChannelAccount.Status.ACTIVE


# --- Length --------------------------------------------------------------------------------
LINK = "https://stories.example/kitchens/a-long-story-about-small-kitchens-and-light/"


@pytest.mark.parametrize("extra", [-3, -1, 0, 1, 3])
@pytest.mark.parametrize("kind", ["link", "plain", "emoji"])
def test_validate_never_passes_what_the_server_refuses(server, account, kind, extra):
    adapter = account.adapter(timeout=2)
    if kind == "link":
        body = f"{LINK}?utm_content=5"
    elif kind == "emoji":
        body = "👩‍👩‍👧 " * 5
    else:
        body = "small kitchens "
    fill = adapter.limit - adapter.text_length(f" {body}") + extra
    text = "y" * max(0, fill) + f" {body}"
    checked = adapter.validate(text)
    answer = requests.post(
        f"{server.url}/api/v1/statuses",
        data={"status": text},
        headers={"Authorization": f"Bearer {account.tokens['access_token']}"},
        timeout=5,
    )
    accepted = answer.status_code == 200
    if checked.ok:
        assert accepted, (text, checked.length, answer.text)
    if EXPECTED[family_of(server)][0] != "unknown":
        # Known software: Storyloom counts exactly as the server does.
        assert checked.ok == accepted, (checked.length, answer.text)


# --- Connecting where the granular scopes are refused -------------------------------------
def test_a_server_refusing_granular_scopes_is_connected_with_broad_ones_and_says_so():
    """Takahē behaviour behind a NodeInfo that claims Mastodon 4.3: the granular token
    is refused on verify_credentials (403 out_of_scope_for_token); Storyloom asks again
    for the broad scopes and notes it on the account."""
    disguised = dataclasses.replace(profiles.TAKAHE, software="mastodon", version="4.3.0")
    with MastodonTestServer(profile=disguised) as server:
        server.auto_approve = True
        authorization_url, flow = connect.mastodon_start(server.url, CALLBACK)
        with pytest.raises(connect.BroaderScopesNeeded) as needed:
            connect.mastodon_finish(flow, approve(authorization_url))
        assert "refused the narrower permissions" in needed.value.message
        assert "revoked" not in needed.value.message
        assert parse_qs(urlsplit(needed.value.url).query)["scope"] == ["read write"]
        account = connect.mastodon_finish(needed.value.flow, approve(needed.value.url))
    assert account.scopes == "read write"
    assert account.server.granular_scopes is False
    assert any("out_of_scope_for_token" in note for note in account.server.notes)


def test_invalid_scope_at_authorisation_asks_again_for_the_broad_scopes():
    """A server detected as granular-capable whose consent page refuses those scopes
    (``error=invalid_scope`` back to the callback, as Laravel Passport servers do)."""
    broad_only = frozenset({"read", "write", "follow", "push"})
    refusing = dataclasses.replace(profiles.GOTOSOCIAL, authorize_scopes=broad_only)
    with MastodonTestServer(profile=refusing) as server:
        server.auto_approve = True
        authorization_url, flow = connect.mastodon_start(server.url, CALLBACK)
        params = approve(authorization_url)
        assert params["error"] == "invalid_scope"
        with pytest.raises(connect.BroaderScopesNeeded) as needed:
            connect.mastodon_finish(flow, params)
        account = connect.mastodon_finish(needed.value.flow, approve(needed.value.url))
    assert account.scopes == "read write"
    assert any("invalid_scope at authorisation" in note for note in account.server.notes)


def test_a_refusal_of_the_broad_scopes_too_ends_with_that_reason():
    refusing = dataclasses.replace(profiles.TAKAHE, authorize_scopes=frozenset({"push"}))
    with MastodonTestServer(profile=refusing) as server:
        server.auto_approve = True
        authorization_url, flow = connect.mastodon_start(server.url, CALLBACK)
        with pytest.raises(connect.ConnectError, match="even the broad") as refused:
            connect.mastodon_finish(flow, approve(authorization_url))
        assert not isinstance(refused.value, connect.BroaderScopesNeeded)
        assert not ChannelAccount.objects.exists()


def test_a_hand_made_token_without_the_scope_is_told_as_a_scope_problem():
    with MastodonTestServer(profile=profiles.TAKAHE) as server:
        account_id, _ = server.create_account("brand")
        narrow = server._issue_token(account_id, "read:statuses write:statuses", None)
        with pytest.raises(connect.ConnectError) as refused:
            connect.mastodon_connect_with_token(server.url, narrow["access_token"])
        assert "HTTP 403" in refused.value.message and "read write" in refused.value.message
        assert "revoked" not in refused.value.message
        # A token it does not know at all: Takahē says 400, Storyloom says what that means.
        with pytest.raises(connect.ConnectError, match=r"does not accept this access token"):
            connect.mastodon_connect_with_token(server.url, "not-a-token")


def test_an_account_saved_before_detection_is_detected_at_first_use(server, account):
    ChannelAccount.objects.filter(pk=account.pk).update(server_profile={})
    account.refresh_from_db()
    assert account.server is None
    adapter = account.adapter(timeout=2)
    assert adapter.server.family == EXPECTED[family_of(server)][0]
    account.refresh_from_db()
    assert account.server.family == EXPECTED[family_of(server)][0]


def _request(post_id, text=None, sent_at=None) -> PublishRequest:
    marker = f"utm_content={post_id}"
    return PublishRequest(
        post_id=post_id,
        text=text or f"Post {post_id}. {LINK}?{marker}",
        link=f"{LINK}?{marker}",
        idempotency_key=f"key-{post_id}-{time.monotonic_ns()}",
        marker=marker,
        sent_at=sent_at,
    )


def test_reconnecting_detects_the_server_again():
    """The server was upgraded (or mis-detected) since: a reconnect replaces the profile,
    notes included, with what the server says now."""
    with MastodonTestServer(profile=profiles.MASTODON_4) as server:
        server.auto_approve = True
        account = connect_through_oauth(server)
        stale = fediverse.profile_for("mastodon", "3.5.3", {}).learned("old note")
        account.remember_server(stale)
        again = connect_through_oauth(server)
    assert again.pk == account.pk
    again.refresh_from_db()
    assert again.server.version == "4.3.0" and again.server.batch_reads
    assert again.server.notes == ()


def test_a_post_that_cannot_be_settled_by_reading_back_waits_for_a_person(
    make_story, monkeypatch, settings
):
    """The read-back cannot reach back to when the post was sent (here: one page allowed,
    45 newer statuses): never "not there", never a resend; after the allowed checks the
    post waits, unconfirmed, with the reason."""
    from syndication.channels import mastodon

    monkeypatch.setattr(mastodon, "READ_BACK_PAGES", 1)
    settings.SYNDICATION_MAX_FAILURES = 2
    with MastodonTestServer(profile=profiles.TAKAHE) as server:
        server.auto_approve = True
        account = connect_through_oauth(server)
        adapter = account.adapter(timeout=2)
        for number in range(100, 145):
            adapter.publish(_request(number))
        post = schedule(account, make_story)
        long_ago = timezone.now() - datetime.timedelta(minutes=30)
        SyndicationPost.objects.filter(pk=post.pk).update(
            state=states.UNCONFIRMED, send_count=1, request_sent_at=long_ago, due_at=long_ago
        )
        creates = server.create_calls

        assert run_due() == ["unconfirmed"]
        assert run_due() == ["unconfirmed"]
        assert run_due() == []

        post.refresh_from_db()
        assert server.create_calls == creates
    assert post.state == states.UNCONFIRMED and post.due_at is None
    assert "cannot be settled safely by reading back" in post.last_error
    assert "retry or cancel" in post.last_error
