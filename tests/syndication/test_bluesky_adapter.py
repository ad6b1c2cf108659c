"""The Bluesky adapter against recorded shapes of the PDS's XRPC answers."""

import base64
import dataclasses
import json
import time
from types import SimpleNamespace
from urllib.parse import parse_qs, urlsplit

import pytest
import responses

from syndication.channels.base import (
    AuthExpired,
    NotAChannel,
    NotSent,
    PublishRequest,
    RateLimited,
    Rejected,
    Unconfirmed,
)
from syndication.channels.bluesky import (
    BlueskyAdapter,
    SessionExpired,
    connect,
    jwt_expiry,
    record_key,
)

PDS = "https://pds.example"
XRPC = f"{PDS}/xrpc"
DID = "did:plc:ewvi7nxzyoun6zhxrhs64oiz"
HANDLE = "storyloom.bsky.social"
FAMILY = "\U0001f468\u200d\U0001f469\u200d\U0001f467"


def jwt(exp: int, scope="com.atproto.access") -> str:
    """A JWT shaped like the PDS's (unsigned here: the adapter never verifies it)."""

    def part(data):
        return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()

    header = part({"typ": "at+jwt", "alg": "ES256K"})
    claims = part({"scope": scope, "sub": DID, "iat": exp - 7200, "exp": exp, "aud": "did:web:x"})
    return f"{header}.{claims}.c2lnbmF0dXJl"


def session_answer(access_exp=2_000_000_000, suffix="2"):
    """``createSession``/``refreshSession`` as the PDS answers them."""
    return {
        "accessJwt": jwt(access_exp),
        "refreshJwt": jwt(access_exp + 86400 * 60, scope="com.atproto.refresh") + suffix,
        "handle": HANDLE,
        "did": DID,
        "didDoc": {"id": DID},
        "email": "team@storyloom.example",
        "emailConfirmed": True,
        "active": True,
    }


def post_view(uri, *, likes=0, reposts=0, replies=0, quotes=0, record=None):
    """One ``app.bsky.feed.defs#postView`` from ``app.bsky.feed.getPosts``."""
    return {
        "uri": uri,
        "cid": "bafyreib2rxk3rh6kzwq" + uri[-4:],
        "author": {
            "did": DID,
            "handle": HANDLE,
            "displayName": "Storyloom",
            "followersCount": 98765,
        },
        "record": record or {"$type": "app.bsky.feed.post", "text": "hi", "createdAt": "x"},
        "replyCount": replies,
        "repostCount": reposts,
        "likeCount": likes,
        "quoteCount": quotes,
        "indexedAt": "2025-01-01T00:00:00.000Z",
        "labels": [],
    }


def xrpc_error(name, message):
    return {"error": name, "message": message}


@pytest.fixture
def api():
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        yield mock


@pytest.fixture
def account():
    return SimpleNamespace(
        network="bluesky",
        instance_url=PDS,
        remote_id=DID,
        handle=HANDLE,
        max_characters=None,
        tokens={
            "access_jwt": "access-1",
            "refresh_jwt": "refresh-1",
            "did": DID,
            "app_password": "abcd-efgh-ijkl-mnop",
            "expires_at": 1_900_000_000,
        },
    )


@pytest.fixture
def adapter(account):
    return BlueskyAdapter(account)


def make_request(text="Hello", **kwargs):
    defaults = {
        "post_id": 7,
        "text": text,
        "link": "https://stories.example/fox/?utm_content=7",
        "idempotency_key": "4a7c0d7e-1b9a-4f43-9d1e-2b1f4d7e9a10",
        "marker": "utm_content=7",
        "link_title": "The fox who stayed",
        "link_description": "A story about staying.",
    }
    defaults.update(kwargs)
    return PublishRequest(**defaults)


def created(rkey):
    return {
        "uri": f"at://{DID}/app.bsky.feed.post/{rkey}",
        "cid": "bafyreie5737gdxlw5i64vzichcalba3z2v5n6icifvx5xytvske7mr3hpm",
        "commit": {"cid": "bafyreib2rxk3", "rev": "3lbqoohe5nk2m"},
        "validationStatus": "valid",
    }


def sent_json(call):
    return json.loads(call.request.body)


# --- validate ----------------------------------------------------------------------------
def test_validate_counts_graphemes_not_code_points(adapter):
    text = FAMILY * 100 + "e\u0301" * 200  # families and decomposed accents
    assert len(text) == 900
    result = adapter.validate(text)
    assert result.ok, result.errors
    assert result.length == 300
    assert result.limit == 300


def test_validate_refuses_301_graphemes(adapter):
    result = adapter.validate("\U0001f1ec\U0001f1e7" * 300 + "a")  # 300 flags and a letter
    assert not result.ok
    assert result.length == 301
    assert "300" in result.errors[0]
    assert adapter.validate("a" * 301).length == 301
    assert not adapter.validate("a" * 301).ok


def test_validate_refuses_more_than_3000_bytes(adapter):
    result = adapter.validate(FAMILY * 200)  # 200 graphemes, 3600 bytes
    assert result.length == 200
    assert [error for error in result.errors if "bytes" in error]


def test_validate_refuses_empty_text_and_too_many_images(adapter):
    assert not adapter.validate("   ").ok
    assert adapter.validate("fine", media=[1, 2, 3, 4]).ok
    assert not adapter.validate("fine", media=[1, 2, 3, 4, 5]).ok


def test_validate_uses_the_accounts_own_limit(account):
    account.max_characters = 10
    assert not BlueskyAdapter(account).validate("a" * 11).ok


# --- publish -----------------------------------------------------------------------------
def test_publish_writes_the_record_with_byte_offset_facets_and_a_card(api, adapter):
    url = "https://stories.example/fox/?utm_content=7"
    text = f"Café ☕ {FAMILY} Ça va? Read {url}. #Foxes"
    rkey = record_key("4a7c0d7e-1b9a-4f43-9d1e-2b1f4d7e9a10")
    api.post(f"{XRPC}/com.atproto.repo.createRecord", json=created(rkey))

    remote = adapter.publish(make_request(text))

    assert remote.id == f"at://{DID}/app.bsky.feed.post/{rkey}"
    assert remote.url == f"https://bsky.app/profile/{HANDLE}/post/{rkey}"
    call = api.calls[0]
    assert call.request.headers["Authorization"] == "Bearer access-1"
    body = sent_json(call)
    assert body["repo"] == DID
    assert body["collection"] == "app.bsky.feed.post"
    assert body["rkey"] == rkey
    record = body["record"]
    assert record["$type"] == "app.bsky.feed.post"
    # The link is shown short, as Bluesky's app shows links; the facet holds all of it.
    shown = text.replace(url, "stories.example/fox/")
    assert record["text"] == shown
    assert record["langs"] == ["en-GB"]
    assert record["createdAt"].endswith("Z")
    encoded = shown.encode("utf-8")
    link, tag = record["facets"]
    start, end = link["index"]["byteStart"], link["index"]["byteEnd"]
    # Checked against the bytes themselves, not against character positions.
    assert encoded[start:end] == b"stories.example/fox/"
    assert start == encoded.index(b"stories.example") != shown.index("stories.example")
    assert link["features"] == [{"$type": "app.bsky.richtext.facet#link", "uri": url}]
    assert encoded[tag["index"]["byteStart"] : tag["index"]["byteEnd"]] == b"#Foxes"
    assert tag["features"] == [{"$type": "app.bsky.richtext.facet#tag", "tag": "Foxes"}]
    assert record["embed"] == {
        "$type": "app.bsky.embed.external",
        "external": {
            "uri": "https://stories.example/fox/?utm_content=7",
            "title": "The fox who stayed",
            "description": "A story about staying.",
        },
    }
    assert "reply" not in record


def test_every_url_gets_a_facet(api, adapter):
    text = "Ünï https://a.example/1 and 🦊 https://b.example/2"
    api.post(f"{XRPC}/com.atproto.repo.createRecord", json=created("3k"))
    adapter.publish(make_request(text, link=""))
    record = sent_json(api.calls[0])["record"]
    assert record["text"] == "Ünï a.example/1 and 🦊 b.example/2"
    encoded = record["text"].encode("utf-8")
    spans = [encoded[f["index"]["byteStart"] : f["index"]["byteEnd"]] for f in record["facets"]]
    assert spans == [b"a.example/1", b"b.example/2"]
    uris = [f["features"][0]["uri"] for f in record["facets"]]
    assert uris == ["https://a.example/1", "https://b.example/2"]
    assert "embed" not in record


def test_the_record_key_is_a_tid_fixed_by_the_idempotency_key():
    key = record_key("4a7c0d7e-1b9a-4f43-9d1e-2b1f4d7e9a10")
    assert key == record_key("4a7c0d7e-1b9a-4f43-9d1e-2b1f4d7e9a10")
    assert key != record_key("4a7c0d7e-1b9a-4f43-9d1e-2b1f4d7e9a11")
    # The TID syntax from the AT Protocol spec.
    assert len(key) == 13
    assert key[0] in "234567abcdefghij"
    assert set(key) <= set("234567abcdefghijklmnopqrstuvwxyz")


def test_reply_refs_use_the_parents_root(api, adapter):
    root = {"uri": f"at://{DID}/app.bsky.feed.post/3root", "cid": "bafyroot"}
    parent_uri = f"at://{DID}/app.bsky.feed.post/3parent"
    parent_record = {
        "$type": "app.bsky.feed.post",
        "text": "chapter 2",
        "createdAt": "2025-01-01T00:00:00Z",
        "reply": {"root": root, "parent": root},
    }
    api.get(
        f"{XRPC}/app.bsky.feed.getPosts",
        json={"posts": [post_view(parent_uri, record=parent_record)]},
    )
    api.post(f"{XRPC}/com.atproto.repo.createRecord", json=created("3k"))

    adapter.publish(make_request(reply_to=parent_uri))

    assert parse_qs(urlsplit(api.calls[0].request.url).query)["uris"] == [parent_uri]
    reply = sent_json(api.calls[1])["record"]["reply"]
    assert reply == {
        "root": root,
        "parent": {"uri": parent_uri, "cid": post_view(parent_uri)["cid"]},
    }


def test_a_reply_to_a_top_level_post_uses_it_as_root_and_parent(api, adapter):
    parent_uri = f"at://{DID}/app.bsky.feed.post/3first"
    api.get(f"{XRPC}/app.bsky.feed.getPosts", json={"posts": [post_view(parent_uri)]})
    api.post(f"{XRPC}/com.atproto.repo.createRecord", json=created("3k"))
    adapter.publish(make_request(reply_to=parent_uri))
    reply = sent_json(api.calls[1])["record"]["reply"]
    expected = {"uri": parent_uri, "cid": post_view(parent_uri)["cid"]}
    assert reply == {"root": expected, "parent": expected}


def test_a_parent_the_appview_has_not_indexed_yet_is_read_from_the_pds(api, adapter):
    parent_uri = f"at://{DID}/app.bsky.feed.post/3fresh"
    api.get(f"{XRPC}/app.bsky.feed.getPosts", json={"posts": []})
    api.get(
        f"{XRPC}/com.atproto.repo.getRecord",
        json={"uri": parent_uri, "cid": "bafyfresh", "value": {"text": "just posted"}},
    )
    api.post(f"{XRPC}/com.atproto.repo.createRecord", json=created("3k"))
    adapter.publish(make_request(reply_to=parent_uri))
    reply = sent_json(api.calls[2])["record"]["reply"]
    assert reply["parent"] == reply["root"] == {"uri": parent_uri, "cid": "bafyfresh"}


def test_a_reply_to_a_deleted_post_is_rejected_before_writing(api, adapter):
    api.get(f"{XRPC}/app.bsky.feed.getPosts", json={"posts": []})
    api.get(
        f"{XRPC}/com.atproto.repo.getRecord",
        status=400,
        json=xrpc_error("RecordNotFound", "Could not locate record: at://..."),
    )
    create = api.post(f"{XRPC}/com.atproto.repo.createRecord", json=created("3k"))
    with pytest.raises(Rejected):
        adapter.publish(make_request(reply_to=f"at://{DID}/app.bsky.feed.post/3gone"))
    assert create.call_count == 0


# --- exactly once ------------------------------------------------------------------------
def test_a_resend_that_hits_the_existing_record_returns_it(api, adapter):
    request = make_request()
    rkey = record_key(request.idempotency_key)
    uri = f"at://{DID}/app.bsky.feed.post/{rkey}"
    # Today's PDS answers a create at an existing rkey with a 500.
    api.post(
        f"{XRPC}/com.atproto.repo.createRecord",
        status=500,
        json=xrpc_error("InternalServerError", "Internal Server Error"),
    )
    lookup = api.get(
        f"{XRPC}/com.atproto.repo.getRecord",
        json={"uri": uri, "cid": "bafyexisting", "value": {"text": "Hello"}},
    )

    remote = adapter.publish(request)

    assert remote.id == uri
    assert lookup.call_count == 1
    assert parse_qs(urlsplit(lookup.calls[0].request.url).query) == {
        "repo": [DID],
        "collection": ["app.bsky.feed.post"],
        "rkey": [rkey],
    }


def test_an_explicit_already_exists_answer_also_returns_the_existing_post(api, adapter):
    request = make_request()
    uri = f"at://{DID}/app.bsky.feed.post/{record_key(request.idempotency_key)}"
    api.post(
        f"{XRPC}/com.atproto.repo.createRecord",
        status=400,
        json=xrpc_error("RecordAlreadyExists", "Record already exists"),
    )
    api.get(f"{XRPC}/com.atproto.repo.getRecord", json={"uri": uri, "cid": "c", "value": {}})
    assert adapter.publish(request).id == uri


def test_a_500_on_create_with_nothing_there_is_unconfirmed(api, adapter):
    api.post(
        f"{XRPC}/com.atproto.repo.createRecord",
        status=500,
        json=xrpc_error("InternalServerError", "Internal Server Error"),
    )
    api.get(
        f"{XRPC}/com.atproto.repo.getRecord",
        status=400,
        json=xrpc_error("RecordNotFound", "Could not locate record"),
    )
    with pytest.raises(Unconfirmed) as caught:
        adapter.publish(make_request())
    assert caught.value.status == 500
    assert caught.value.may_have_posted


def test_find_published_looks_at_this_posts_own_record_key(api, adapter):
    mine, other = make_request(), make_request(idempotency_key="other-key")
    mine_uri = f"at://{DID}/app.bsky.feed.post/{record_key(mine.idempotency_key)}"

    def answer(request):
        rkey = parse_qs(urlsplit(request.url).query)["rkey"][0]
        if rkey == record_key(mine.idempotency_key):
            return 200, {}, json.dumps({"uri": mine_uri, "cid": "c", "value": {}})
        return 400, {}, json.dumps(xrpc_error("RecordNotFound", "Could not locate record"))

    api.add_callback(responses.GET, f"{XRPC}/com.atproto.repo.getRecord", callback=answer)

    assert adapter.find_published(mine).id == mine_uri
    assert adapter.find_published(other) is None


# --- errors ------------------------------------------------------------------------------
def test_rate_limit_answer_gives_the_wait(api, adapter):
    reset = int(time.time()) + 120
    api.post(
        f"{XRPC}/com.atproto.repo.createRecord",
        status=429,
        json=xrpc_error("RateLimitExceeded", "Rate Limit Exceeded"),
        headers={
            "ratelimit-limit": "5000",
            "ratelimit-remaining": "0",
            "ratelimit-reset": str(reset),
            "ratelimit-policy": "5000;w=3600",
        },
    )
    with pytest.raises(RateLimited) as caught:
        adapter.publish(make_request())
    assert 115 <= caught.value.retry_after <= 120


@pytest.mark.parametrize(
    ("status", "body", "error"),
    [
        (401, xrpc_error("AuthenticationRequired", "Invalid token"), AuthExpired),
        (400, xrpc_error("InvalidToken", "Token could not be verified"), AuthExpired),
        (400, xrpc_error("ExpiredToken", "Token has expired"), SessionExpired),
        (400, xrpc_error("InvalidRequest", "Invalid app.bsky.feed.post record"), Rejected),
        (400, xrpc_error("ConcurrentWrites", "too many concurrent writes"), NotSent),
    ],
)
def test_create_errors_map_to_the_engines_words(api, adapter, status, body, error):
    api.post(f"{XRPC}/com.atproto.repo.createRecord", status=status, json=body)
    with pytest.raises(error) as caught:
        adapter.publish(make_request())
    assert type(caught.value) is error
    assert not caught.value.may_have_posted


def test_an_expired_session_is_retryable_not_a_reconnect(api, adapter):
    api.post(
        f"{XRPC}/com.atproto.repo.createRecord",
        status=400,
        json=xrpc_error("ExpiredToken", "Token has expired"),
    )
    with pytest.raises(NotSent) as caught:
        adapter.publish(make_request())
    assert caught.value.retryable
    assert not isinstance(caught.value, AuthExpired)


# --- metrics -----------------------------------------------------------------------------
def test_fetch_metrics_maps_counters_in_batches_of_25(api, adapter):
    uris = [f"at://{DID}/app.bsky.feed.post/3k{n:03d}" for n in range(30)]

    def answer(request):
        asked = parse_qs(urlsplit(request.url).query)["uris"]
        posts = [
            post_view(uri, likes=n + 1, reposts=2 * n, replies=3, quotes=n % 2)
            for n, uri in ((uris.index(uri), uri) for uri in asked)
        ]
        return 200, {}, json.dumps({"posts": posts})

    api.add_callback(responses.GET, f"{XRPC}/app.bsky.feed.getPosts", callback=answer)

    metrics = adapter.fetch_metrics(uris)

    assert [len(parse_qs(urlsplit(c.request.url).query)["uris"]) for c in api.calls] == [25, 5]
    assert len(metrics) == 30
    assert metrics[uris[11]].likes == 12
    assert metrics[uris[11]].reposts == 22
    assert metrics[uris[11]].replies == 3
    assert metrics[uris[11]].quotes == 1
    assert metrics[uris[11]].clicks is None


def test_fetch_metrics_never_returns_followers(api, adapter):
    uri = f"at://{DID}/app.bsky.feed.post/3kabc"
    api.get(f"{XRPC}/app.bsky.feed.getPosts", json={"posts": [post_view(uri, likes=4)]})
    [(found, metrics)] = adapter.fetch_metrics([uri]).items()
    assert found == uri
    values = dataclasses.asdict(metrics)
    assert set(values) == {"reposts", "replies", "likes", "quotes", "clicks"}
    assert 98765 not in values.values()


def test_deleted_posts_are_left_out_of_metrics(api, adapter):
    api.get(f"{XRPC}/app.bsky.feed.getPosts", json={"posts": []})
    assert adapter.fetch_metrics([f"at://{DID}/app.bsky.feed.post/3gone"]) == {}


# --- sessions ----------------------------------------------------------------------------
def test_refresh_rotates_both_tokens_and_keeps_the_app_password(api, adapter, account):
    answer = session_answer(access_exp=1_950_000_000, suffix="rotated")
    refresh = api.post(f"{XRPC}/com.atproto.server.refreshSession", json=answer)
    login = api.post(f"{XRPC}/com.atproto.server.createSession", json=session_answer())

    tokens = adapter.refresh(account.tokens)

    assert refresh.calls[0].request.headers["Authorization"] == "Bearer refresh-1"
    assert login.call_count == 0
    assert tokens["access_jwt"] == answer["accessJwt"]
    assert tokens["refresh_jwt"] == answer["refreshJwt"] != "refresh-1"
    assert tokens["did"] == DID
    assert tokens["app_password"] == "abcd-efgh-ijkl-mnop"
    assert tokens["expires_at"] == 1_950_000_000


def test_an_expired_refresh_token_signs_in_again_with_the_app_password(api, adapter, account):
    api.post(
        f"{XRPC}/com.atproto.server.refreshSession",
        status=400,
        json=xrpc_error("ExpiredToken", "Token has expired"),
    )
    login = api.post(f"{XRPC}/com.atproto.server.createSession", json=session_answer(1_960_000_000))

    tokens = adapter.refresh(account.tokens)

    assert sent_json(login.calls[0]) == {"identifier": DID, "password": "abcd-efgh-ijkl-mnop"}
    assert "Authorization" not in login.calls[0].request.headers
    assert tokens["expires_at"] == 1_960_000_000
    assert tokens["app_password"] == "abcd-efgh-ijkl-mnop"


def test_a_revoked_app_password_means_reconnect(api, adapter, account):
    api.post(
        f"{XRPC}/com.atproto.server.refreshSession",
        status=400,
        json=xrpc_error("InvalidToken", "Token has been revoked"),
    )
    api.post(
        f"{XRPC}/com.atproto.server.createSession",
        status=401,
        json=xrpc_error("AuthenticationRequired", "Invalid identifier or password"),
    )
    with pytest.raises(AuthExpired) as caught:
        adapter.refresh(account.tokens)
    assert "app password" in caught.value.message


def test_without_a_stored_app_password_a_refused_refresh_means_reconnect(api, adapter, account):
    tokens = {key: value for key, value in account.tokens.items() if key != "app_password"}
    api.post(
        f"{XRPC}/com.atproto.server.refreshSession",
        status=400,
        json=xrpc_error("ExpiredToken", "Token has expired"),
    )
    login = api.post(f"{XRPC}/com.atproto.server.createSession", json=session_answer())
    with pytest.raises(AuthExpired):
        adapter.refresh(tokens)
    assert login.call_count == 0


@pytest.mark.parametrize(("status", "error"), [(429, RateLimited), (502, NotSent)])
def test_a_busy_server_during_refresh_is_transient(api, adapter, account, status, error):
    api.post(
        f"{XRPC}/com.atproto.server.refreshSession",
        status=status,
        json=xrpc_error("Busy", "try later"),
        headers={"ratelimit-reset": str(int(time.time()) + 30)},
    )
    login = api.post(f"{XRPC}/com.atproto.server.createSession", json=session_answer())
    with pytest.raises(error) as caught:
        adapter.refresh(account.tokens)
    assert not isinstance(caught.value, AuthExpired)
    assert login.call_count == 0


def test_jwt_expiry_reads_the_exp_claim():
    assert jwt_expiry(jwt(1_234_567_890)) == 1_234_567_890
    assert jwt_expiry("not a jwt") is None


# --- connecting --------------------------------------------------------------------------
def describes_a_pds(api):
    api.get(
        f"{XRPC}/com.atproto.server.describeServer",
        json={"did": "did:web:pds.example", "availableUserDomains": [".pds.example"]},
    )


def test_connect_opens_a_session_and_reads_the_profile(api):
    describes_a_pds(api)
    login = api.post(f"{XRPC}/com.atproto.server.createSession", json=session_answer())
    api.get(
        f"{XRPC}/app.bsky.actor.getProfile",
        json={"did": DID, "handle": HANDLE, "displayName": "Storyloom Stories"},
    )

    profile, tokens, service = connect("@Storyloom.bsky.social", "abcd-efgh-ijkl-mnop", PDS)

    assert service == PDS
    # Nothing is sent with the describeServer check, that the server is a PDS.
    assert "Authorization" not in api.calls[0].request.headers
    assert sent_json(login.calls[0]) == {
        "identifier": "storyloom.bsky.social",
        "password": "abcd-efgh-ijkl-mnop",
    }
    assert api.calls[2].request.headers["Authorization"] == f"Bearer {tokens['access_jwt']}"
    assert profile.remote_id == DID
    assert profile.handle == HANDLE
    assert profile.display_name == "Storyloom Stories"
    assert profile.url == f"https://bsky.app/profile/{HANDLE}"
    assert tokens["did"] == DID
    assert tokens["app_password"] == "abcd-efgh-ijkl-mnop"
    assert tokens["expires_at"] == 2_000_000_000


def test_connect_with_a_wrong_password_says_so(api):
    describes_a_pds(api)
    api.post(
        f"{XRPC}/com.atproto.server.createSession",
        status=401,
        json=xrpc_error("AuthenticationRequired", "Invalid identifier or password"),
    )
    with pytest.raises(AuthExpired) as caught:
        connect(HANDLE, "wrong", PDS)
    # The PDS's error name and status, never its free text (it may be any server's).
    assert "AuthenticationRequired, HTTP 401" in caught.value.message
    assert "Invalid identifier or password" not in caught.value.message
    assert "app password" in caught.value.message


@pytest.mark.parametrize(
    "answer",
    [
        {"status": 404, "body": "<html>Not Found"},
        {"status": 200, "body": "<html>Welcome"},
        {"status": 200, "json": {"did": "did:web:x"}},  # no availableUserDomains
        {"status": 200, "json": ["did:web:x"]},
    ],
)
def test_connect_to_something_that_is_not_a_pds(api, answer):
    api.get(f"{XRPC}/com.atproto.server.describeServer", **answer)
    login = api.post(f"{XRPC}/com.atproto.server.createSession", json=session_answer())
    with pytest.raises(NotAChannel, match="does not answer like a Bluesky server"):
        connect(HANDLE, "abcd-efgh-ijkl-mnop", PDS)
    # The app password never went to it.
    assert not login.calls


def test_connect_refuses_plain_http_unless_allowed(settings):
    settings.SYNDICATION_ALLOW_HTTP_INSTANCES = False
    with pytest.raises(NotAChannel):
        connect(HANDLE, "abcd-efgh-ijkl-mnop", "http://pds.example")
