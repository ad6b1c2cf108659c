"""Bluesky against the AT Protocol's reference implementation (PLC + PDS + AppView).

Storyloom's side runs as in production: connect (``syndication.connect``), the engine
(``syndication.publishing``), metrics collection (``syndication.engagement.collect``),
over real HTTP through the guarded client. The other side is ``@atproto/dev-env``:
what it stores and indexes is read back with plain XRPC calls and checked.
"""

import base64
import datetime
import hashlib
import hmac
import json
import time

from django.utils import timezone

import pytest
import requests

from syndication import connect, publishing, states
from syndication.channels.base import PublishRequest, Rejected
from syndication.channels.bluesky import record_key
from syndication.engagement.collect import collect_account
from syndication.models import ChannelAccount, SyndicationPost
from syndication.posts import render_post

from .proxy import LossyProxy

pytestmark = [pytest.mark.django_db, pytest.mark.integration]

#: dev-env signs access tokens with this secret (``@atproto/dev-env`` const.ts).
DEV_ENV_JWT_SECRET = b"jwt-secret"
FAMILY = "\U0001f468\u200d\U0001f469\u200d\U0001f467"


@pytest.fixture(autouse=True)
def quick_engine(settings):
    settings.SYNDICATION_HTTP_TIMEOUT = 10
    settings.SYNDICATION_RECONCILE_AFTER = 0
    settings.SYNDICATION_RETRY_BASE = 1
    settings.SYNDICATION_RETRY_CAP = 2


def xrpc(base, nsid, *, token=None, body=None, **params):
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    if body is not None:
        answer = requests.post(f"{base}/xrpc/{nsid}", json=body, headers=headers, timeout=30)
    else:
        answer = requests.get(f"{base}/xrpc/{nsid}", params=params, headers=headers, timeout=30)
    assert answer.status_code == 200, (nsid, answer.status_code, answer.text)
    return answer.json()


def sign_in(network, name):
    account = network.accounts[name]
    return xrpc(
        network.pds,
        "com.atproto.server.createSession",
        body={"identifier": account["handle"], "password": account["password"]},
    )


@pytest.fixture
def alice(atproto):
    """alice.test connected the way a person does: handle and app password only."""
    return connect.bluesky_connect("alice.test", atproto.accounts["alice"]["appPassword"])


@pytest.fixture
def schedule(make_story):
    def schedule(account, text="{story_url}", **story):
        now = timezone.now()
        story.setdefault("title", "The fox who stayed")
        story.setdefault("intro", "A story about staying put when everyone else moves on.")
        return SyndicationPost.objects.create(
            story=make_story(**story),
            account=account,
            text=text,
            scheduled_at=now,
            due_at=now,
            state=states.SCHEDULED,
        )

    return schedule


def run_due() -> list[str]:
    claimed = []
    publishing.dispatch_due_posts(lambda post_id, claim: claimed.append((post_id, claim)))
    return [publishing.publish_post(post_id, claim) for post_id, claim in claimed]


def stored_posts(network, did) -> list[dict]:
    """Every post record in the repository, straight from the PDS."""
    return xrpc(
        network.pds,
        "com.atproto.repo.listRecords",
        repo=did,
        collection="app.bsky.feed.post",
        limit=100,
    )["records"]


def reload(post) -> SyndicationPost:
    return SyndicationPost.objects.get(pk=post.pk)


# --- Connecting --------------------------------------------------------------------------
def test_connect_by_handle_finds_the_pds_through_the_did_document(atproto, alice):
    did = atproto.accounts["alice"]["did"]
    assert alice.remote_id == did
    assert alice.handle == "alice.test"
    # The PDS came from the DID document on the PLC directory: nobody typed it.
    document = requests.get(f"{atproto.plc}/{did}", timeout=10).json()
    (service,) = [s for s in document["service"] if s["id"] == "#atproto_pds"]
    assert alice.instance_url == service["serviceEndpoint"].rstrip("/") == atproto.pds
    assert alice.tokens["app_password"] == atproto.accounts["alice"]["appPassword"]
    assert alice.token_expires_at > timezone.now() + datetime.timedelta(minutes=30)


@pytest.mark.parametrize(
    ("handle", "service", "says"),
    [
        ("nobody.test", "", "No Bluesky account has the handle nobody.test"),
        ("alice.test", "{pds}/profile/alice.test", "is a page, not a server"),
        ("alice.test", "{plc}", "does not answer like a Bluesky server"),
        ("alice.test", "{appview}", "does not answer like a Bluesky server"),
        # https is assumed: this PDS speaks plain http, so nothing answers there.
        ("alice.test", "{pds_host}", "Could not reach that server"),
    ],
)
def test_bad_input_gives_a_clear_message_and_saves_nothing(atproto, handle, service, says):
    service = service.format(
        pds=atproto.pds,
        plc=atproto.plc,
        appview=atproto.appview,
        pds_host=atproto.pds.split("://", 1)[1],
    )
    password = atproto.accounts["alice"]["appPassword"]
    with pytest.raises(connect.ConnectError, match=says):
        connect.bluesky_connect(handle, password, service)
    assert not ChannelAccount.objects.exists()


def test_the_connect_screen_needs_only_the_handle_and_app_password(atproto, client, social_manager):
    client.force_login(social_manager)
    password = atproto.accounts["alice"]["appPassword"]
    fields = {"bluesky-handle": "@alice.test", "bluesky-app_password": password}

    refused = client.post(
        "/admin/syndication/connect/bluesky/",
        {**fields, "bluesky-service_url": f"{atproto.pds}/profile/alice.test"},
    )
    assert refused.status_code == 200
    assert "is a page, not a server" in refused.content.decode()
    assert password not in refused.content.decode()  # never sent back
    assert not ChannelAccount.objects.exists()

    connected = client.post("/admin/syndication/connect/bluesky/", fields)
    assert connected.status_code == 302
    account = ChannelAccount.objects.get()
    assert (account.handle, account.instance_url) == ("alice.test", atproto.pds)
    assert account.connected_by == social_manager


def test_a_wrong_app_password_is_refused_and_saves_nothing(atproto):
    with pytest.raises(connect.ConnectError, match="did not accept that handle and app password"):
        connect.bluesky_connect("alice.test", "aaaa-bbbb-cccc-dddd")
    assert not ChannelAccount.objects.exists()


# --- Publishing --------------------------------------------------------------------------
def test_a_post_is_stored_with_its_facets_and_link_card(atproto, alice, schedule):
    post = schedule(
        alice,
        text=f"Café ☕ {FAMILY} a story worth a read:\n\n{{story_url}}\n\n#Foxes #SmallWins",
        title="The fox who stayed",
        intro="A story about staying put.",
    )
    assert run_due() == ["published"]
    post = reload(post)
    _text, story_link = render_post(post)
    did = atproto.accounts["alice"]["did"]
    rkey = record_key(str(post.idempotency_key))
    assert post.remote_id == f"at://{did}/app.bsky.feed.post/{rkey}"
    assert post.remote_url == f"https://bsky.app/profile/alice.test/post/{rkey}"

    record = xrpc(
        atproto.pds,
        "com.atproto.repo.getRecord",
        repo=did,
        collection="app.bsky.feed.post",
        rkey=rkey,
    )["value"]
    text = record["text"]
    encoded = text.encode("utf-8")
    spans = {
        encoded[f["index"]["byteStart"] : f["index"]["byteEnd"]].decode("utf-8"): f["features"]
        for f in record["facets"]
    }
    # The link is shown short; its facet carries the whole address with the UTM tags.
    (shown_link,) = [span for span in spans if not span.startswith("#")]
    assert shown_link in text and "utm_" not in text and shown_link.startswith("localhost/")
    (link,) = spans[shown_link]
    assert link == {"$type": "app.bsky.richtext.facet#link", "uri": story_link}
    assert "utm_source=bluesky" in story_link and f"utm_content={post.pk}" in story_link
    assert spans["#Foxes"] == [{"$type": "app.bsky.richtext.facet#tag", "tag": "Foxes"}]
    assert spans["#SmallWins"] == [{"$type": "app.bsky.richtext.facet#tag", "tag": "SmallWins"}]
    assert record["embed"] == {
        "$type": "app.bsky.embed.external",
        "external": {
            "uri": story_link,
            "title": "The fox who stayed",
            "description": "A story about staying put.",
        },
    }
    # And the AppView, which readers see, renders the same facets and the card.
    atproto.process_all()
    (view,) = xrpc(atproto.appview, "app.bsky.feed.getPosts", uris=[post.remote_id])["posts"]
    assert view["record"]["facets"] == record["facets"]
    assert view["embed"]["$type"] == "app.bsky.embed.external#view"
    assert view["embed"]["external"]["uri"] == story_link


def test_a_refusal_carries_the_pds_own_reason(atproto, alice, schedule):
    # Storyloom's own check would stop this text; sent anyway, the PDS's lexicon says why.
    adapter = alice.adapter()
    request = PublishRequest(post_id=1, text="a" * 301, link="", idempotency_key="too-long")
    with pytest.raises(Rejected) as caught:
        adapter.publish(request)
    assert caught.value.message.startswith(
        "Bluesky refused the request (HTTP 400): InvalidRequest: Invalid app.bsky.feed.post "
        "record: grapheme too big (maximum 300, got 301)"
    )


# --- Exactly once ------------------------------------------------------------------------
def test_a_lost_answer_makes_one_post(atproto, alice, schedule):
    did = atproto.accounts["alice"]["did"]
    before = len(stored_posts(atproto, did))
    with LossyProxy(atproto.pds) as proxy:
        ChannelAccount.objects.filter(pk=alice.pk).update(instance_url=proxy.url)
        proxy.drop_creates = True
        post = schedule(alice)
        outcome = run_due()
        post = reload(post)
        assert proxy.dropped == 1
        # Written, the answer lost, then found at its own record key.
        assert outcome == ["published"]
        assert post.state == states.PUBLISHED
        # Sent once more, as a worker would whose read-back had missed it: the same
        # record key, so the PDS refuses a second record and the first is returned.
        text, link = render_post(post)
        request = PublishRequest(
            post_id=post.pk, text=text, link=link, idempotency_key=str(post.idempotency_key)
        )
        alice.refresh_from_db()
        assert alice.adapter().publish(request).id == post.remote_id
        assert proxy.dropped == 2
    posts = stored_posts(atproto, did)
    assert len(posts) == before + 1
    assert post.remote_id in [record["uri"] for record in posts]


def test_an_answer_held_past_the_timeout_makes_one_post(atproto, alice, schedule, settings):
    settings.SYNDICATION_HTTP_TIMEOUT = 1
    did = atproto.accounts["alice"]["did"]
    before = len(stored_posts(atproto, did))
    with LossyProxy(atproto.pds) as proxy:
        ChannelAccount.objects.filter(pk=alice.pk).update(instance_url=proxy.url)
        proxy.hold_creates = 3
        post = schedule(alice)
        assert run_due() == ["published"]
        paths = [(path, status, while_held) for _m, path, status, while_held in proxy.forwarded]
    # One create, written; the client stopped waiting for its answer and read the
    # record at the post's key while that answer was still held.
    assert paths.count(("/xrpc/com.atproto.repo.createRecord", 200, False)) == 1
    assert ("/xrpc/com.atproto.repo.getRecord", 200, True) in paths
    posts = stored_posts(atproto, did)
    assert len(posts) == before + 1
    assert reload(post).remote_id in [record["uri"] for record in posts]


# --- Metrics -----------------------------------------------------------------------------
def test_metrics_count_what_a_second_account_did(atproto, alice, schedule):
    post = schedule(alice)
    assert run_due() == ["published"]
    post = reload(post)
    bob = sign_in(atproto, "bob")
    target = xrpc(
        atproto.pds,
        "com.atproto.repo.getRecord",
        repo=alice.remote_id,
        collection="app.bsky.feed.post",
        rkey=post.remote_id.rsplit("/", 1)[1],
    )
    subject = {"uri": target["uri"], "cid": target["cid"]}
    now = timezone.now().isoformat().replace("+00:00", "Z")
    for collection, record in [
        ("app.bsky.feed.repost", {"subject": subject, "createdAt": now}),
        ("app.bsky.feed.like", {"subject": subject, "createdAt": now}),
        (
            "app.bsky.feed.post",
            {"text": "Lovely.", "reply": {"root": subject, "parent": subject}, "createdAt": now},
        ),
        (
            "app.bsky.feed.post",
            {
                "text": "Read this.",
                "embed": {"$type": "app.bsky.embed.record", "record": subject},
                "createdAt": now,
            },
        ),
    ]:
        xrpc(
            atproto.pds,
            "com.atproto.repo.createRecord",
            token=bob["accessJwt"],
            body={"repo": bob["did"], "collection": collection, "record": record},
        )

    # The AppView indexes asynchronously: ask it to catch up, and look until a deadline.
    deadline = time.monotonic() + 30
    while True:
        atproto.process_all()
        metrics = alice.adapter().fetch_metrics([post.remote_id])[post.remote_id]
        counts = (metrics.reposts, metrics.likes, metrics.replies, metrics.quotes)
        if counts == (1, 1, 1, 1) or time.monotonic() > deadline:
            break
        time.sleep(0.5)
    assert counts == (1, 1, 1, 1)

    # The collection the beat runs stores them.
    assert collect_account(alice, [post]) == (1, "ok")
    snapshot = post.metric_snapshots.get()
    assert (snapshot.reposts, snapshot.likes, snapshot.replies, snapshot.quotes) == (1, 1, 1, 1)


# --- Sessions ----------------------------------------------------------------------------
def expired_copy(token: str) -> str:
    """``token`` with its expiry in the past, signed as dev-env signs access tokens."""

    def decode(part):
        return json.loads(base64.urlsafe_b64decode(part + "=" * (-len(part) % 4)))

    def encode(data):
        raw = json.dumps(data, separators=(",", ":")).encode()
        return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()

    header, claims, _signature = token.split(".")
    claims = decode(claims)
    claims["exp"] = int(time.time()) - 60
    signed = f"{header}.{encode(claims)}"
    signature = hmac.new(DEV_ENV_JWT_SECRET, signed.encode(), hashlib.sha256).digest()
    return f"{signed}.{base64.urlsafe_b64encode(signature).rstrip(b'=').decode()}"


def expire_access_token(account) -> str:
    """Make the PDS see an expired access token while Storyloom's own record still says
    it lasts: the case where only the PDS's answer can tell."""
    expired = expired_copy(account.tokens["access_jwt"])
    account.set_tokens({"access_jwt": expired})
    account.save(update_fields=["encrypted_tokens"])
    assert account.token_expires_at > timezone.now() + datetime.timedelta(minutes=30)
    answer = requests.get(
        f"{account.instance_url}/xrpc/com.atproto.server.getSession",
        headers={"Authorization": f"Bearer {expired}"},
        timeout=10,
    )
    assert answer.json().get("error") == "ExpiredToken"
    return expired


def test_an_access_token_the_pds_calls_expired_is_refreshed_and_the_post_goes_out(
    atproto, alice, schedule
):
    old_refresh = alice.tokens["refresh_jwt"]
    expire_access_token(alice)
    post = schedule(alice)
    assert run_due() == ["published"]
    alice.refresh_from_db()
    assert alice.last_refreshed_at is not None
    assert alice.tokens["refresh_jwt"] != old_refresh
    assert reload(post).state == states.PUBLISHED


def test_a_revoked_session_signs_in_again_with_the_app_password(atproto, alice, schedule):
    # The refresh token is revoked (signed out elsewhere) and the access token expired.
    requests.post(
        f"{atproto.pds}/xrpc/com.atproto.server.deleteSession",
        headers={"Authorization": f"Bearer {alice.tokens['refresh_jwt']}"},
        timeout=10,
    ).raise_for_status()
    expire_access_token(alice)
    post = schedule(alice)
    assert run_due() == ["published"]
    assert reload(post).state == states.PUBLISHED
    alice.refresh_from_db()
    assert alice.status == ChannelAccount.Status.ACTIVE
    answer = requests.get(
        f"{atproto.pds}/xrpc/com.atproto.server.getSession",
        headers={"Authorization": f"Bearer {alice.tokens['access_jwt']}"},
        timeout=10,
    )
    assert answer.json()["did"] == alice.remote_id


def test_a_revoked_app_password_means_reconnecting_and_the_post_waits(atproto, schedule):
    # An app password of this test's own: the one the other tests use stays valid.
    owner = sign_in(atproto, "alice")
    password = xrpc(
        atproto.pds,
        "com.atproto.server.createAppPassword",
        token=owner["accessJwt"],
        body={"name": "revoked-by-test"},
    )["password"]
    alice = connect.bluesky_connect("alice.test", password)
    requests.post(
        f"{atproto.pds}/xrpc/com.atproto.server.revokeAppPassword",
        json={"name": "revoked-by-test"},
        headers={"Authorization": f"Bearer {owner['accessJwt']}"},
        timeout=10,
    ).raise_for_status()
    expire_access_token(alice)
    post = schedule(alice)
    run_due()
    alice.refresh_from_db()
    assert alice.status == ChannelAccount.Status.NEEDS_RECONNECT
    assert "app password" in alice.status_reason
    assert reload(post).state == states.SCHEDULED
    # Reconnecting needs a new app password; the old one is refused without saving.
    with pytest.raises(connect.ConnectError, match="did not accept"):
        connect.bluesky_connect("alice.test", password)
