"""The X adapter against recorded shapes of API v2's answers."""

import dataclasses
import json
import time
from types import SimpleNamespace
from urllib.parse import parse_qs, urlsplit

from django.core.exceptions import ImproperlyConfigured

import pytest
import responses
from requests_oauthlib import OAuth1Session

from syndication.channels.base import (
    AuthExpired,
    NotSent,
    PublishRequest,
    RateLimited,
    Rejected,
    Unconfirmed,
)
from syndication.channels.x import XAdapter, finish, request_token

API = "https://api.x.com/2"
USER_ID = "1577409848318033920"


@pytest.fixture(autouse=True)
def x_settings(settings):
    settings.X_CONSUMER_KEY = "consumer-key"
    settings.X_CONSUMER_SECRET = "consumer-secret"
    return settings


@pytest.fixture
def api():
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        yield mock


@pytest.fixture
def account():
    return SimpleNamespace(
        network="x",
        instance_url="",
        remote_id=USER_ID,
        handle="storyloom",
        max_characters=None,
        tokens={"oauth_token": f"{USER_ID}-usertoken", "oauth_token_secret": "user-secret"},
    )


@pytest.fixture
def adapter(account):
    return XAdapter(account)


def make_request(text="A new story https://stories.example/fox/?utm_content=3", **kwargs):
    defaults = {
        "post_id": 3,
        "text": text,
        "link": "https://stories.example/fox/?utm_content=3",
        "idempotency_key": "d3b07384-d9a0-4f4e-8a7d-3c2f1e0b9a88",
        "marker": "utm_content=3",
    }
    defaults.update(kwargs)
    return PublishRequest(**defaults)


def x_problem(status, title, detail, kind="about:blank"):
    return {"title": title, "type": kind, "status": status, "detail": detail}


def timeline_post(post_id, text, expanded_url=""):
    post = {"id": post_id, "text": text, "created_at": "2025-05-01T10:00:00.000Z"}
    if expanded_url:
        post["entities"] = {
            "urls": [
                {
                    "start": 12,
                    "end": 35,
                    "url": "https://t.co/AbCdEf1234",
                    "expanded_url": expanded_url,
                    "display_url": "stories.example/fox/…",
                }
            ]
        }
    return post


def metrics_post(post_id, base, *, private=True):
    post = {
        "id": post_id,
        "text": "A story https://t.co/x",
        "edit_history_tweet_ids": [post_id],
        "public_metrics": {
            "retweet_count": base,
            "reply_count": base + 1,
            "like_count": base + 2,
            "quote_count": base + 3,
            "bookmark_count": 0,
            "impression_count": 5000,
        },
    }
    if private:
        post["non_public_metrics"] = {
            "impression_count": 5000,
            "url_link_clicks": base + 4,
            "user_profile_clicks": 2,
        }
    return post


# --- validate ----------------------------------------------------------------------------
def test_validate_uses_the_weighted_count(adapter):
    assert adapter.validate("a" * 280).ok
    assert not adapter.validate("a" * 281).ok
    assert adapter.validate("日" * 140).ok
    result = adapter.validate("日" * 141)
    assert result.length == 282
    assert not result.ok


def test_every_link_counts_23(adapter):
    long_link = "https://stories.example/" + "a-very-long-slug/" * 10
    text = "b" * 256 + " " + long_link
    result = adapter.validate(text)
    assert result.length == 256 + 1 + 23
    assert result.ok
    assert not adapter.validate("b" + text).ok


def test_validate_refuses_empty_text_and_five_images(adapter):
    assert not adapter.validate("").ok
    assert not adapter.validate("ok", media=[1, 2, 3, 4, 5]).ok


# --- publish -----------------------------------------------------------------------------
def test_the_session_signs_as_the_account(adapter):
    assert isinstance(adapter.session, OAuth1Session)


def test_publish_posts_a_signed_reply(api, adapter):
    api.post(
        f"{API}/tweets",
        status=201,
        json={"data": {"id": "1445880548472328192", "text": "A new story https://t.co/x"}},
    )

    remote = adapter.publish(make_request(reply_to="1445880548472328000"))

    assert remote.id == "1445880548472328192"
    assert remote.url == "https://x.com/storyloom/status/1445880548472328192"
    sent = api.calls[0].request
    assert json.loads(sent.body) == {
        "text": "A new story https://stories.example/fox/?utm_content=3",
        "reply": {"in_reply_to_tweet_id": "1445880548472328000"},
    }
    authorization = sent.headers["Authorization"]
    authorization = authorization.decode() if isinstance(authorization, bytes) else authorization
    assert authorization.startswith("OAuth ")
    assert 'oauth_consumer_key="consumer-key"' in authorization
    assert f'oauth_token="{USER_ID}-usertoken"' in authorization
    assert 'oauth_signature_method="HMAC-SHA1"' in authorization


def test_a_post_without_a_reply_has_no_reply_field(api, adapter):
    api.post(f"{API}/tweets", status=201, json={"data": {"id": "1", "text": "x"}})
    adapter.publish(make_request())
    assert "reply" not in json.loads(api.calls[0].request.body)


def test_an_answer_without_an_id_is_unconfirmed(api, adapter):
    api.post(f"{API}/tweets", status=201, body="<html>")
    with pytest.raises(Unconfirmed):
        adapter.publish(make_request())


def test_duplicate_content_is_rejected_with_a_clear_message(api, adapter):
    api.post(
        f"{API}/tweets",
        status=403,
        json=x_problem(
            403, "Forbidden", "You are not allowed to create a Tweet with duplicate content."
        ),
    )
    api.get(f"{API}/users/{USER_ID}/tweets", json={"meta": {"result_count": 0}})
    with pytest.raises(Rejected) as caught:
        adapter.publish(make_request())
    assert "same text" in caught.value.message
    assert caught.value.status == 403


def test_duplicate_content_of_our_own_earlier_send_is_that_post(api, adapter):
    api.post(
        f"{API}/tweets",
        status=403,
        json=x_problem(
            403, "Forbidden", "You are not allowed to create a Tweet with duplicate content."
        ),
    )
    api.get(
        f"{API}/users/{USER_ID}/tweets",
        json={
            "data": [
                timeline_post(
                    "1900", "A new story https://t.co/AbCdEf1234", expanded_url=make_request().link
                )
            ],
            "meta": {"result_count": 1, "newest_id": "1900", "oldest_id": "1900"},
        },
    )
    assert adapter.publish(make_request()).id == "1900"


@pytest.mark.parametrize(
    ("status", "body", "error"),
    [
        (500, x_problem(500, "Internal Server Error", "Internal error"), Unconfirmed),
        (503, x_problem(503, "Service Unavailable", "Service Unavailable"), Unconfirmed),
        (401, x_problem(401, "Unauthorized", "Unauthorized"), AuthExpired),
        (
            400,
            {
                "errors": [{"parameters": {"text": [""]}, "message": "Text is empty"}],
                "title": "Invalid Request",
                "detail": "One or more parameters to your request was invalid.",
                "type": "https://api.twitter.com/2/problems/invalid-request",
            },
            Rejected,
        ),
        (
            403,
            x_problem(403, "Forbidden", "You are not permitted to perform this action."),
            Rejected,
        ),
    ],
)
def test_create_errors_map_to_the_engines_words(api, adapter, status, body, error):
    api.post(f"{API}/tweets", status=status, json=body)
    with pytest.raises(error) as caught:
        adapter.publish(make_request())
    assert type(caught.value) is error
    assert caught.value.may_have_posted is (error is Unconfirmed)


def test_rate_limit_reset_gives_the_wait(api, adapter):
    reset = int(time.time()) + 300
    api.post(
        f"{API}/tweets",
        status=429,
        json=x_problem(429, "Too Many Requests", "Too Many Requests"),
        headers={
            "x-rate-limit-limit": "100",
            "x-rate-limit-remaining": "0",
            "x-rate-limit-reset": str(reset),
        },
    )
    with pytest.raises(RateLimited) as caught:
        adapter.publish(make_request())
    assert 295 <= caught.value.retry_after <= 300


def test_a_site_without_x_keys_sends_nothing(api, account, settings):
    settings.X_CONSUMER_KEY = ""
    adapter = XAdapter(account)
    assert adapter.validate("still checks length").ok
    with pytest.raises(NotSent, match="X_CONSUMER_KEY"):
        adapter.publish(make_request())
    assert len(api.calls) == 0


# --- find_published ----------------------------------------------------------------------
def test_find_published_matches_the_expanded_link_not_a_prefix(api, adapter):
    api.get(
        f"{API}/users/{USER_ID}/tweets",
        json={
            "data": [
                timeline_post(
                    "1930",
                    "Newer story https://t.co/AbCdEf1234",
                    expanded_url="https://stories.example/owl/?utm_content=31",
                ),
                timeline_post("1920", "Plain words, no link"),
                timeline_post(
                    "1910",
                    "A new story https://t.co/ZyXwVu9876",
                    expanded_url="https://stories.example/fox/?utm_source=x&utm_content=3",
                ),
            ],
            "meta": {"result_count": 3},
        },
    )

    found = adapter.find_published(make_request())

    assert found.id == "1910"
    query = parse_qs(urlsplit(api.calls[0].request.url).query)
    assert query == {"max_results": ["20"], "tweet.fields": ["entities,created_at"]}


def test_find_published_returns_none_when_absent(api, adapter):
    api.get(
        f"{API}/users/{USER_ID}/tweets",
        json={
            "data": [timeline_post("1", "x", expanded_url="https://s.example/?utm_content=30")],
            "meta": {"result_count": 1},
        },
    )
    assert adapter.find_published(make_request()) is None


def test_find_published_on_an_empty_timeline(api, adapter):
    api.get(f"{API}/users/{USER_ID}/tweets", json={"meta": {"result_count": 0}})
    assert adapter.find_published(make_request()) is None


# --- metrics -----------------------------------------------------------------------------
def test_fetch_metrics_maps_public_and_private_counters(api, adapter):
    api.get(f"{API}/tweets", json={"data": [metrics_post("11", 10), metrics_post("12", 20)]})

    metrics = adapter.fetch_metrics(["11", "12"])

    query = parse_qs(urlsplit(api.calls[0].request.url).query)
    assert query == {"ids": ["11,12"], "tweet.fields": ["public_metrics,non_public_metrics"]}
    assert metrics["12"].reposts == 20
    assert metrics["12"].replies == 21
    assert metrics["12"].likes == 22
    assert metrics["12"].quotes == 23
    assert metrics["12"].clicks == 24
    values = dataclasses.asdict(metrics["11"])
    assert set(values) == {"reposts", "replies", "likes", "quotes", "clicks"}
    assert 5000 not in values.values()


def test_posts_older_than_30_days_fall_back_to_public_counters(api, adapter):
    refusal = {
        "data": [metrics_post("21", 1)],
        "errors": [
            {
                "value": "22",
                "detail": "Sorry, you are not authorized to access 'non_public_metrics' "
                "on the Tweet with ids: 22.",
                "title": "Field Authorization Error",
                "resource_type": "tweet",
                "parameter": "non_public_metrics",
                "section": "data",
                "type": "https://api.twitter.com/2/problems/not-authorized-for-field",
            }
        ],
    }
    api.get(f"{API}/tweets", json=refusal)
    api.get(f"{API}/tweets", json={"data": [metrics_post("22", 7, private=False)]})

    metrics = adapter.fetch_metrics(["21", "22"])

    retry = parse_qs(urlsplit(api.calls[1].request.url).query)
    assert retry == {"ids": ["22"], "tweet.fields": ["public_metrics"]}
    assert len(api.calls) == 2
    assert metrics["21"].clicks == 5
    assert metrics["22"].likes == 9
    assert metrics["22"].clicks is None


def test_a_refused_request_for_private_counters_is_asked_again_once(api, adapter):
    api.get(
        f"{API}/tweets",
        status=403,
        json=x_problem(403, "Forbidden", "non_public_metrics requires user context"),
    )
    api.get(f"{API}/tweets", json={"data": [metrics_post("31", 2, private=False)]})
    metrics = adapter.fetch_metrics(["31"])
    assert metrics["31"].reposts == 2
    assert len(api.calls) == 2


def test_deleted_posts_are_left_out_without_a_second_call(api, adapter):
    api.get(
        f"{API}/tweets",
        json={
            "errors": [
                {
                    "value": "41",
                    "detail": "Could not find tweet with ids: [41].",
                    "title": "Not Found Error",
                    "resource_type": "tweet",
                    "parameter": "ids",
                    "type": "https://api.twitter.com/2/problems/resource-not-found",
                }
            ]
        },
    )
    assert adapter.fetch_metrics(["41"]) == {}
    assert len(api.calls) == 1


def test_fetch_metrics_asks_100_ids_at_a_time(api, adapter):
    ids = [str(1000 + n) for n in range(150)]

    def answer(request):
        asked = parse_qs(urlsplit(request.url).query)["ids"][0].split(",")
        return 200, {}, json.dumps({"data": [metrics_post(i, 1) for i in asked]})

    api.add_callback(responses.GET, f"{API}/tweets", callback=answer)
    metrics = adapter.fetch_metrics(ids)
    sizes = [len(parse_qs(urlsplit(c.request.url).query)["ids"][0].split(",")) for c in api.calls]
    assert sizes == [100, 50]
    assert len(metrics) == 150


# --- connecting --------------------------------------------------------------------------
def test_request_token_gives_the_authorize_address(api):
    api.post(
        "https://api.x.com/oauth/request_token",
        body="oauth_token=req-token&oauth_token_secret=req-secret&oauth_callback_confirmed=true",
        content_type="application/x-www-form-urlencoded",
    )

    url, flow = request_token("https://cms.example/syndication/x/done/")

    assert url == "https://api.x.com/oauth/authorize?oauth_token=req-token"
    assert flow == {"resource_owner_key": "req-token", "resource_owner_secret": "req-secret"}
    authorization = api.calls[0].request.headers["Authorization"]
    authorization = authorization.decode() if isinstance(authorization, bytes) else authorization
    assert "oauth_callback=" in authorization


def test_request_token_with_wrong_site_keys_is_rejected(api):
    api.post("https://api.x.com/oauth/request_token", status=401, body="Unauthorized")
    with pytest.raises(Rejected, match="X_CONSUMER_KEY"):
        request_token("https://cms.example/done/")


def test_request_token_without_site_keys(settings):
    settings.X_CONSUMER_SECRET = ""
    with pytest.raises(ImproperlyConfigured, match="X_CONSUMER_SECRET"):
        request_token("https://cms.example/done/")


def test_finish_trades_the_verifier_and_reads_the_account(api):
    api.post(
        "https://api.x.com/oauth/access_token",
        body=f"oauth_token={USER_ID}-usertoken&oauth_token_secret=user-secret"
        f"&user_id={USER_ID}&screen_name=storyloom",
        content_type="application/x-www-form-urlencoded",
    )
    api.get(
        f"{API}/users/me",
        json={"data": {"id": USER_ID, "name": "Storyloom", "username": "storyloom"}},
    )

    profile, tokens = finish(
        {"resource_owner_key": "req-token", "resource_owner_secret": "req-secret"}, "verifier-1"
    )

    first = api.calls[0].request.headers["Authorization"]
    first = first.decode() if isinstance(first, bytes) else first
    assert 'oauth_verifier="verifier-1"' in first
    second = api.calls[1].request.headers["Authorization"]
    second = second.decode() if isinstance(second, bytes) else second
    assert f'oauth_token="{USER_ID}-usertoken"' in second
    assert tokens == {"oauth_token": f"{USER_ID}-usertoken", "oauth_token_secret": "user-secret"}
    assert profile.remote_id == USER_ID
    assert profile.handle == "storyloom"
    assert profile.url == "https://x.com/storyloom"


def test_finish_with_a_stale_verifier_asks_to_connect_again(api):
    api.post("https://api.x.com/oauth/access_token", status=401, body="Invalid request token.")
    with pytest.raises(AuthExpired, match="try connecting again"):
        finish({"resource_owner_key": "k", "resource_owner_secret": "s"}, "old")
