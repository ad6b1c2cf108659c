"""The Mastodon test server keeps the promises other tests rely on."""

import base64
import concurrent.futures
import hashlib
import re
import threading
import time
from urllib.parse import parse_qs, urlsplit

import pytest
import requests

from syndication.testing.mastodon_server import (
    FAULT_KINDS,
    FaultPlan,
    MastodonTestServer,
    countable_length,
)

CALLBACK = "http://storyloom.test/callback"


@pytest.fixture
def alice(mastodon_server):
    account_id, token = mastodon_server.create_account("alice", display_name="Alice")
    return account_id, token


def post(server, token, text="Hello", key=None, timeout=5, **data):
    headers = {"Authorization": f"Bearer {token}"}
    if key:
        headers["Idempotency-Key"] = key
    return requests.post(
        f"{server.url}/api/v1/statuses",
        data={"status": text, **data},
        headers=headers,
        timeout=timeout,
    )


def test_the_same_idempotency_key_replays_the_first_status(mastodon_server, alice):
    _, token = alice
    first = post(mastodon_server, token, "First words", key="post-1")
    again = post(mastodon_server, token, "Different words", key="post-1")
    other = post(mastodon_server, token, "First words", key="post-2")
    assert first.status_code == again.status_code == other.status_code == 200
    assert again.json()["id"] == first.json()["id"]
    assert other.json()["id"] != first.json()["id"]
    assert [s["text"] for s in mastodon_server.statuses] == ["First words", "First words"]
    assert mastodon_server.create_calls == 3


def test_idempotency_keys_belong_to_one_account(mastodon_server, alice):
    _, bob_token = mastodon_server.create_account("bob")
    first = post(mastodon_server, alice[1], key="shared")
    second = post(mastodon_server, bob_token, key="shared")
    assert first.json()["id"] != second.json()["id"]
    assert len(mastodon_server.statuses) == 2


def test_statuses_are_rendered_like_mastodon(mastodon_server, alice):
    link = "https://stories.example/a-long-story-about-kitchens?utm_source=x&utm_content=7"
    status = post(mastodon_server, alice[1], f"Read this:\n\n{link}").json()
    assert status["content"].startswith("<p>Read this:</p><p>")
    assert (
        'href="https://stories.example/a-long-story-about-kitchens?utm_source=x&amp;'
        in (status["content"])
    )
    assert status["url"] == f"{mastodon_server.url}/@alice/{status['id']}"
    assert status["account"]["username"] == "alice"
    assert status["reblogs_count"] == status["favourites_count"] == status["quotes_count"] == 0


def test_length_counts_urls_as_23_and_mentions_without_domain(mastodon_server, alice):
    url = "https://example.com/" + "x" * 200
    assert countable_length(f"{url} @someone@far.away.example") == 23 + 1 + len("@someone")
    fits = post(mastodon_server, alice[1], "a" * 476 + " " + url)
    too_long = post(mastodon_server, alice[1], "a" * 477 + " " + url)
    assert fits.status_code == 200
    assert too_long.status_code == 422
    assert too_long.json() == {"error": "Validation failed: Text character limit of 500 exceeded"}


def test_blank_text_and_unknown_reply_are_refused(mastodon_server, alice):
    assert post(mastodon_server, alice[1], "   ").status_code == 422
    assert post(mastodon_server, alice[1], "Hi", in_reply_to_id="999").status_code == 404
    assert mastodon_server.statuses == []


def test_replies_and_reading_back(mastodon_server, alice):
    account_id, token = alice
    first = post(mastodon_server, token, "One").json()
    second = post(mastodon_server, token, "Two", in_reply_to_id=first["id"]).json()
    assert second["in_reply_to_id"] == first["id"]
    base = mastodon_server.url
    one = requests.get(f"{base}/api/v1/statuses/{first['id']}", timeout=5).json()
    assert one["replies_count"] == 1
    batch = requests.get(
        f"{base}/api/v1/statuses", params={"id[]": [second["id"], "42", first["id"]]}, timeout=5
    ).json()
    assert [s["id"] for s in batch] == [second["id"], first["id"]]
    newest = requests.get(
        f"{base}/api/v1/accounts/{account_id}/statuses", params={"limit": 1}, timeout=5
    ).json()
    assert [s["id"] for s in newest] == [second["id"]]


def test_every_api_answer_has_rate_limit_headers(mastodon_server, alice):
    first = post(mastodon_server, alice[1])
    second = requests.get(f"{mastodon_server.url}/api/v2/instance", timeout=5)
    assert first.headers["X-RateLimit-Limit"] == "300"
    assert int(first.headers["X-RateLimit-Remaining"]) == 299
    assert re.fullmatch(
        r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", first.headers["X-RateLimit-Reset"]
    )
    assert "X-RateLimit-Remaining" in second.headers


def test_revoked_and_unknown_tokens_get_mastodons_401(mastodon_server, alice):
    _, token = alice
    mastodon_server.revoke(token)
    revoked = requests.get(
        f"{mastodon_server.url}/api/v1/accounts/verify_credentials",
        headers={"Authorization": f"Bearer {token}"},
        timeout=5,
    )
    unknown = post(mastodon_server, "nonsense")
    assert (revoked.status_code, revoked.json()) == (401, {"error": "The access token was revoked"})
    assert (unknown.status_code, unknown.json()) == (401, {"error": "The access token is invalid"})


# --- OAuth ---------------------------------------------------------------------------
def register(server, scopes="read:statuses write:statuses profile"):
    answer = requests.post(
        f"{server.url}/api/v1/apps",
        json={"client_name": "Storyloom", "redirect_uris": [CALLBACK], "scopes": scopes},
        timeout=5,
    )
    assert answer.status_code == 200
    return answer.json()


def authorize(server, app, verifier, **extra):
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest())
    params = {
        "response_type": "code",
        "client_id": app["client_id"],
        "redirect_uri": CALLBACK,
        "scope": " ".join(app["scopes"]),
        "state": "s1",
        "code_challenge": challenge.decode().rstrip("="),
        "code_challenge_method": "S256",
        **extra,
    }
    return requests.get(
        f"{server.url}/oauth/authorize", params=params, allow_redirects=False, timeout=5
    )


def exchange(server, app, code, verifier):
    return requests.post(
        f"{server.url}/oauth/token",
        data={
            "grant_type": "authorization_code",
            "code": code,
            "client_id": app["client_id"],
            "client_secret": app["client_secret"],
            "redirect_uri": CALLBACK,
            "code_verifier": verifier,
        },
        timeout=5,
    )


def code_from(response):
    assert response.status_code == 302
    location = urlsplit(response.headers["Location"])
    assert f"{location.scheme}://{location.netloc}{location.path}" == CALLBACK
    return parse_qs(location.query)


def test_token_exchange_checks_the_pkce_verifier_and_codes_are_single_use(mastodon_server):
    mastodon_server.auto_approve = True
    app = register(mastodon_server)
    verifier = "v" * 43
    query = code_from(authorize(mastodon_server, app, verifier))
    assert query["state"] == ["s1"]
    wrong = exchange(mastodon_server, app, query["code"][0], "w" * 43)
    assert wrong.status_code == 400
    assert wrong.json()["error"] == "invalid_grant"
    # The failed attempt used the code up: the right verifier is too late now.
    assert exchange(mastodon_server, app, query["code"][0], verifier).status_code == 400

    code = code_from(authorize(mastodon_server, app, verifier))["code"][0]
    token = exchange(mastodon_server, app, code, verifier)
    assert token.status_code == 200
    assert token.json()["token_type"] == "Bearer"
    assert token.json()["scope"] == "read:statuses write:statuses profile"
    me = requests.get(
        f"{mastodon_server.url}/api/v1/accounts/verify_credentials",
        headers={"Authorization": f"Bearer {token.json()['access_token']}"},
        timeout=5,
    )
    assert me.json()["username"] == "storyloom"
    assert mastodon_server.app_registrations == 1


def test_a_wrong_client_secret_is_invalid_client(mastodon_server):
    mastodon_server.auto_approve = True
    app = register(mastodon_server)
    code = code_from(authorize(mastodon_server, app, "v" * 43))["code"][0]
    answer = exchange(mastodon_server, {**app, "client_secret": "guess"}, code, "v" * 43)
    assert answer.status_code == 401
    assert answer.json()["error"] == "invalid_client"


def test_the_consent_page_asks_and_deny_redirects_with_access_denied(mastodon_server):
    app = register(mastodon_server)
    page = authorize(mastodon_server, app, "v" * 43)
    assert page.status_code == 200
    assert "Authorize Storyloom to use @storyloom?" in page.text
    fields = dict(re.findall(r'<input type="hidden" name="(\w+)" value="([^"]*)">', page.text))
    denied = requests.post(
        f"{mastodon_server.url}/oauth/authorize",
        data={**fields, "decision": "deny"},
        allow_redirects=False,
        timeout=5,
    )
    assert code_from(denied)["error"] == ["access_denied"]
    assert code_from(denied)["state"] == ["s1"]


def test_unknown_client_or_redirect_mismatch_is_a_400_page(mastodon_server):
    app = register(mastodon_server)
    assert authorize(mastodon_server, {**app, "client_id": "nope"}, "v" * 43).status_code == 400
    mismatch = authorize(mastodon_server, app, "v" * 43, redirect_uri="http://evil.test/cb")
    assert mismatch.status_code == 400
    assert "redirect uri" in mismatch.text


# --- Faults --------------------------------------------------------------------------
OUTCOMES = {
    "429": (429, 0),
    "500": (500, 0),
    "502": (502, 0),
    "500_after_create": (500, 1),
    "timeout_before_create": (requests.ReadTimeout, 0),
    "timeout_after_create": (requests.ReadTimeout, 1),
    "drop_after_create": (requests.ConnectionError, 1),
    "drop_before_create": (requests.ConnectionError, 0),
    # Not there yet when the client gives up: made slow_seconds after it arrived.
    "create_after_timeout": (requests.ReadTimeout, 0),
}


@pytest.mark.parametrize("kind", FAULT_KINDS)
def test_each_fault_kind_does_what_it_says(mastodon_server, alice, kind):
    expected, created = OUTCOMES[kind]
    mastodon_server.slow_seconds = 1.0
    mastodon_server.fail_next(kind)
    if isinstance(expected, int):
        answer = post(mastodon_server, alice[1], key="k", timeout=0.4)
        assert answer.status_code == expected
        if kind == "429":
            assert answer.headers["Retry-After"] == "1"
    else:
        with pytest.raises(expected):
            post(mastodon_server, alice[1], key="k", timeout=0.4)
    assert len(mastodon_server.statuses) == created
    assert mastodon_server.fault_counts == {kind: 1}
    # The next request is served normally; a created status is replayed, not repeated.
    assert post(mastodon_server, alice[1], key="k").status_code == 200
    assert len(mastodon_server.statuses) == 1


def test_random_faults_are_reproducible_from_the_seed():
    first, second = FaultPlan(rate=0.5, seed=7), FaultPlan(rate=0.5, seed=7)
    sequence = [first.pick() for _ in range(200)]
    assert sequence == [second.pick() for _ in range(200)]
    assert 60 < sum(kind is not None for kind in sequence) < 140
    assert set(sequence) - {None} == set(FAULT_KINDS)
    assert [FaultPlan(rate=0, seed=1).pick() for _ in range(50)] == [None] * 50
    with pytest.raises(ValueError, match="Unknown fault"):
        FaultPlan(kinds=("meteor",))


def test_inspection_helpers_match_whole_markers_and_find_duplicates(mastodon_server, alice):
    _, token = alice
    post(mastodon_server, token, "See https://s.example/a?utm_content=12", key="a")
    post(mastodon_server, token, "See https://s.example/a?utm_content=123", key="b")
    post(mastodon_server, token, "Again https://s.example/a?utm_content=12&x=1", key="c")
    post(mastodon_server, token, "No link", key="d")
    assert mastodon_server.count_with("utm_content=12") == 2
    assert mastodon_server.count_with("utm_content=123") == 1
    ids = [s["id"] for s in mastodon_server.statuses]
    assert mastodon_server.duplicates() == {"utm_content=12": [ids[0], ids[2]]}


def test_fifty_concurrent_requests_are_served_and_leave_no_threads_behind():
    before = threading.active_count()
    with MastodonTestServer() as server:
        _, token = server.create_account("busy")
        with concurrent.futures.ThreadPoolExecutor(max_workers=50) as pool:
            answers = list(pool.map(lambda n: post(server, token, f"n{n}", key=str(n)), range(50)))
        assert {answer.status_code for answer in answers} == {200}
        assert len({answer.json()["id"] for answer in answers}) == 50
    deadline = time.monotonic() + 5
    while threading.active_count() > before and time.monotonic() < deadline:
        time.sleep(0.05)
    assert threading.active_count() == before
