"""The LinkedIn adapter against recorded shapes of the versioned REST API's answers."""

import dataclasses
import json
import time
from types import SimpleNamespace
from urllib.parse import parse_qs, urlsplit

from django.core.exceptions import ImproperlyConfigured

import pytest
import responses

from syndication.channels.base import (
    AuthExpired,
    NotSent,
    PublishRequest,
    RateLimited,
    Rejected,
    Unconfirmed,
)
from syndication.channels.linkedin import (
    LinkedInAdapter,
    authorization,
    finish,
    little_text,
)

REST = "https://api.linkedin.com/rest"
TOKEN_URL = "https://www.linkedin.com/oauth/v2/accessToken"
PERSON = "urn:li:person:782bbtaQ"
ORG = "urn:li:organization:2414183"
#: What PostMetrics holds: people's actions, never follower counts.
METRIC_FIELDS = {"reposts", "replies", "likes", "quotes", "clicks"}


@pytest.fixture(autouse=True)
def linkedin_settings(settings):
    settings.LINKEDIN_API_VERSION = "202601"
    settings.LINKEDIN_CLIENT_ID = "86abc123"
    settings.LINKEDIN_CLIENT_SECRET = "s3cr3t"
    return settings


@pytest.fixture
def api():
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        yield mock


def make_account(author=PERSON, **tokens):
    return SimpleNamespace(
        network="linkedin",
        instance_url="",
        remote_id=author,
        handle="Ada Lovelace",
        max_characters=None,
        tokens={"access_token": "AQX-access", "expires_at": 1_900_000_000, **tokens},
    )


@pytest.fixture
def adapter():
    return LinkedInAdapter(make_account())


def make_request(text="A new story: https://stories.example/fox/?utm_content=5", **kwargs):
    defaults = {
        "post_id": 5,
        "text": text,
        "link": "https://stories.example/fox/?utm_content=5",
        "idempotency_key": "9e0c0a43-6b7f-4b8e-a0ee-6f4d7f0b2c11",
        "marker": "utm_content=5",
        "link_title": "The fox who stayed",
        "link_description": "A story about staying.",
    }
    defaults.update(kwargs)
    return PublishRequest(**defaults)


def created(urn="urn:li:share:7141138937766391808"):
    """``POST /rest/posts`` answers 201 with an empty body and the id in a header."""
    return {"status": 201, "body": "", "headers": {"x-restli-id": urn}}


def posts_page(*elements):
    return {"paging": {"start": 0, "count": 20, "links": []}, "elements": list(elements)}


def post_element(urn, commentary, source=""):
    element = {
        "id": urn,
        "author": PERSON,
        "commentary": commentary,
        "visibility": "PUBLIC",
        "lifecycleState": "PUBLISHED",
        "createdAt": 1_700_000_000_000,
        "lastModifiedAt": 1_700_000_000_000,
        "distribution": {"feedDistribution": "MAIN_FEED"},
    }
    if source:
        element["content"] = {"article": {"source": source, "title": "The fox"}}
    return element


def linkedin_error(status, message, code=None):
    body = {"status": status, "message": message}
    if code:
        body["code"] = code
    return body


# --- text --------------------------------------------------------------------------------
def test_little_text_escapes_reserved_characters_outside_links_and_hashtags():
    text = (
        "Our (new) story [draft] @home *now* ~ok~ <b> a|b \\ x_y {z} #Pets "
        "https://example.com/s?utm_content=5&a_b=(1)"
    )
    assert little_text(text) == (
        r"Our \(new\) story \[draft\] \@home \*now\* \~ok\~ \<b\> a\|b \\ x\_y \{z\} #Pets "
        "https://example.com/s?utm_content=5&a_b=(1)"
    )


def test_a_hash_that_is_not_a_hashtag_is_escaped():
    assert little_text("C# and # alone and #123 but #Year2025") == (
        r"C\# and \# alone and \#123 but #Year2025"
    )


def test_plain_text_is_unchanged():
    assert little_text("Café, naïve: 100% fine!") == "Café, naïve: 100% fine!"


def test_validate_counts_utf16_units(adapter):
    assert adapter.validate("a" * 3000).ok
    assert not adapter.validate("a" * 3001).ok
    result = adapter.validate("🦊" * 1501)
    assert result.length == 3002
    assert not result.ok
    assert not adapter.validate("").ok


# --- publish -----------------------------------------------------------------------------
def test_publish_sends_versioned_headers_and_the_post_body(api, adapter):
    api.post(f"{REST}/posts", **created())
    text = "New (and long) story #Foxes https://stories.example/fox/?utm_content=5"

    remote = adapter.publish(make_request(text, reply_to="urn:li:share:1"))

    assert remote.id == "urn:li:share:7141138937766391808"
    assert remote.url == "https://www.linkedin.com/feed/update/urn:li:share:7141138937766391808/"
    sent = api.calls[0].request
    assert sent.headers["LinkedIn-Version"] == "202601"
    assert sent.headers["X-Restli-Protocol-Version"] == "2.0.0"
    assert sent.headers["Authorization"] == "Bearer AQX-access"
    assert json.loads(sent.body) == {
        "author": PERSON,
        "commentary": r"New \(and long\) story #Foxes https://stories.example/fox/?utm_content=5",
        "visibility": "PUBLIC",
        "distribution": {
            "feedDistribution": "MAIN_FEED",
            "targetEntities": [],
            "thirdPartyDistributionChannels": [],
        },
        "content": {
            "article": {
                "source": "https://stories.example/fox/?utm_content=5",
                "title": "The fox who stayed",
                "description": "A story about staying.",
            }
        },
        "lifecycleState": "PUBLISHED",
        "isReshareDisabledByAuthor": False,
    }


def test_the_api_version_falls_back_when_not_set(api, adapter, settings):
    settings.LINKEDIN_API_VERSION = ""
    api.post(f"{REST}/posts", **created())
    adapter.publish(make_request(link=""))
    assert api.calls[0].request.headers["LinkedIn-Version"] == "202510"
    assert "content" not in json.loads(api.calls[0].request.body)


def test_a_created_post_without_its_id_is_unconfirmed(api, adapter):
    api.post(f"{REST}/posts", status=201, body="")
    with pytest.raises(Unconfirmed):
        adapter.publish(make_request())


def test_a_duplicate_refusal_on_a_resend_returns_our_earlier_post(api, adapter):
    api.post(
        f"{REST}/posts",
        status=422,
        json={
            "errorDetailType": "com.linkedin.common.error.BadRequest",
            "message": "com.linkedin.content.common.exception.BadRequestResponseException: "
            "Content is a duplicate of urn:li:share:7141138937766391808",
            "errorDetails": {
                "inputErrors": [
                    {"description": "Duplicate post is detected", "code": "DUPLICATE_POST"}
                ]
            },
            "status": 422,
        },
    )
    api.get(
        f"{REST}/posts",
        json=posts_page(
            post_element("urn:li:share:71", "Other https://s.example/?utm_content=55"),
            post_element(
                "urn:li:share:7141138937766391808",
                "A new story: https://stories.example/fox/?utm_content=5",
            ),
        ),
    )
    remote = adapter.publish(make_request())
    assert remote.id == "urn:li:share:7141138937766391808"


def test_a_duplicate_refusal_names_the_post_when_posts_cannot_be_read(api, adapter):
    api.post(
        f"{REST}/posts",
        status=422,
        json=linkedin_error(422, "Content is a duplicate of urn:li:share:7000000000000000001"),
    )
    api.get(
        f"{REST}/posts",
        status=403,
        json=linkedin_error(403, "Not enough permissions to access: posts.FINDER-author"),
    )
    assert adapter.publish(make_request()).id == "urn:li:share:7000000000000000001"


@pytest.mark.parametrize(
    ("status", "body", "headers", "error"),
    [
        (429, linkedin_error(429, "Resource level throttle limit"), {"Retry-After": "60"}, None),
        (500, linkedin_error(500, "Internal Server Error"), {}, Unconfirmed),
        (504, "", {}, Unconfirmed),
        (401, linkedin_error(401, "Invalid access token", "REVOKED_ACCESS_TOKEN"), {}, None),
        (400, linkedin_error(400, "Invalid author"), {}, Rejected),
        (422, linkedin_error(422, "/commentary :: length 3001 exceeds 3000"), {}, Rejected),
        (403, linkedin_error(403, "Not enough permissions", "ACCESS_DENIED"), {}, Rejected),
    ],
)
def test_create_errors_map_to_the_engines_words(api, adapter, status, body, headers, error):
    kwargs = {"json": body} if body else {"body": body}
    api.post(f"{REST}/posts", status=status, headers=headers, **kwargs)
    expected = error or {429: RateLimited, 401: AuthExpired}[status]
    with pytest.raises(expected) as caught:
        adapter.publish(make_request())
    assert type(caught.value) is expected
    if status == 429:
        assert caught.value.retry_after == 60
    assert caught.value.may_have_posted is (expected is Unconfirmed)


# --- find_published ----------------------------------------------------------------------
def test_find_published_matches_the_whole_marker_only(api, adapter):
    api.get(
        f"{REST}/posts",
        json=posts_page(
            post_element("urn:li:share:3", "Older https://stories.example/?utm_content=51"),
            post_element("urn:li:share:2", "No link here"),
            post_element(
                "urn:li:ugcPost:1", "Card only", source="https://stories.example/?utm_content=5"
            ),
        ),
    )

    found = adapter.find_published(make_request())

    assert found.id == "urn:li:ugcPost:1"
    sent = api.calls[0].request
    assert parse_qs(urlsplit(sent.url).query) == {
        "author": [PERSON],
        "q": ["author"],
        "count": ["20"],
        "sortBy": ["LAST_MODIFIED"],
    }
    assert "author=urn%3Ali%3Aperson%3A782bbtaQ" in sent.url
    assert sent.headers["LinkedIn-Version"] == "202601"


def test_find_published_returns_none_when_absent(api, adapter):
    api.get(
        f"{REST}/posts",
        json=posts_page(post_element("urn:li:share:3", "x https://s.example/?utm_content=50")),
    )
    assert adapter.find_published(make_request()) is None


def test_find_published_without_read_permission_finds_nothing(api, adapter):
    # Members' posts can be read back only with r_member_social, a partner permission.
    api.get(f"{REST}/posts", status=403, json=linkedin_error(403, "Not enough permissions"))
    assert adapter.find_published(make_request()) is None


def test_find_published_raises_other_errors(api, adapter):
    api.get(f"{REST}/posts", status=401, json=linkedin_error(401, "Expired access token"))
    with pytest.raises(AuthExpired):
        adapter.find_published(make_request())


# --- metrics -----------------------------------------------------------------------------
def test_organization_metrics_map_share_statistics(api):
    adapter = LinkedInAdapter(make_account(author=ORG))
    shares = ["urn:li:share:111", "urn:li:share:222"]
    ugc = "urn:li:ugcPost:333"

    def statistics(urn, key, base):
        return {
            key: urn,
            "organizationalEntity": ORG,
            "totalShareStatistics": {
                "uniqueImpressionsCount": 900,
                "shareCount": base,
                "engagement": 0.05,
                "clickCount": base + 10,
                "likeCount": base + 20,
                "impressionCount": 1200,
                "commentCount": base + 30,
            },
        }

    api.get(
        f"{REST}/organizationalEntityShareStatistics",
        json={"elements": [statistics(shares[0], "share", 1), statistics(shares[1], "share", 2)]},
    )
    api.get(
        f"{REST}/organizationalEntityShareStatistics",
        json={"elements": [statistics(ugc, "ugcPost", 3)]},
    )

    metrics = adapter.fetch_metrics([*shares, ugc])

    first, second = (call.request.url for call in api.calls)
    assert first == (
        f"{REST}/organizationalEntityShareStatistics?q=organizationalEntity"
        "&organizationalEntity=urn%3Ali%3Aorganization%3A2414183"
        "&shares=List(urn%3Ali%3Ashare%3A111,urn%3Ali%3Ashare%3A222)"
    )
    assert second.endswith("&ugcPosts=List(urn%3Ali%3AugcPost%3A333)")
    assert metrics[shares[1]].reposts == 2
    assert metrics[shares[1]].clicks == 12
    assert metrics[shares[1]].likes == 22
    assert metrics[shares[1]].replies == 32
    assert metrics[ugc].likes == 23
    assert set(dataclasses.asdict(metrics[ugc])) == METRIC_FIELDS


def test_member_metrics_come_from_social_actions_without_clicks(api, adapter):
    urn = "urn:li:share:444"
    api.get(
        f"{REST}/socialActions/urn%3Ali%3Ashare%3A444",
        json={
            "target": urn,
            "likesSummary": {"totalLikes": 7, "likedByCurrentUser": False},
            "commentsSummary": {"aggregatedTotalComments": 4, "totalFirstLevelComments": 3},
        },
    )
    api.get(
        f"{REST}/socialActions/urn%3Ali%3Ashare%3A555",
        status=403,
        json=linkedin_error(403, "Not enough permissions to access: socialActions.GET"),
    )

    metrics = adapter.fetch_metrics([urn, "urn:li:share:555"])

    assert list(metrics) == [urn]
    assert metrics[urn].likes == 7
    assert metrics[urn].replies == 4
    assert metrics[urn].clicks is None


# --- tokens ------------------------------------------------------------------------------
def test_refresh_keeps_the_refresh_token_when_none_comes_back(api, adapter):
    api.post(TOKEN_URL, json={"access_token": "AQX-new", "expires_in": 5_184_000})
    before = time.time()

    tokens = adapter.refresh(
        {"access_token": "AQX-old", "refresh_token": "AQW-refresh", "expires_at": 1}
    )

    assert tokens["access_token"] == "AQX-new"
    assert tokens["refresh_token"] == "AQW-refresh"
    assert before + 5_184_000 - 5 <= tokens["expires_at"] <= time.time() + 5_184_000 + 5
    sent = parse_qs(api.calls[0].request.body)
    assert sent["grant_type"] == ["refresh_token"]
    assert sent["refresh_token"] == ["AQW-refresh"]
    assert sent["client_id"] == ["86abc123"]
    assert sent["client_secret"] == ["s3cr3t"]


def test_refresh_takes_a_new_refresh_token_when_one_comes_back(api, adapter):
    api.post(
        TOKEN_URL,
        json={
            "access_token": "AQX-new",
            "expires_in": 5_184_000,
            "refresh_token": "AQW-new",
            "refresh_token_expires_in": 31_536_000,
        },
    )
    tokens = adapter.refresh({"access_token": "AQX-old", "refresh_token": "AQW-old"})
    assert tokens["refresh_token"] == "AQW-new"
    assert tokens["refresh_token_expires_at"] > time.time() + 31_000_000


def test_without_a_refresh_token_the_account_must_reconnect(api, adapter):
    with pytest.raises(AuthExpired) as caught:
        adapter.refresh({"access_token": "AQX-old", "expires_at": 1})
    assert "60 days" in caught.value.message
    assert len(api.calls) == 0


def test_a_refused_refresh_token_means_reconnect(api, adapter):
    api.post(
        TOKEN_URL,
        status=400,
        json={
            "error": "invalid_grant",
            "error_description": "The provided authorization grant is invalid or expired",
        },
    )
    with pytest.raises(AuthExpired) as caught:
        adapter.refresh({"access_token": "a", "refresh_token": "AQW-old"})
    assert "invalid or expired" in caught.value.message


@pytest.mark.parametrize(("status", "error"), [(429, RateLimited), (503, NotSent)])
def test_a_busy_token_endpoint_is_transient(api, adapter, status, error):
    api.post(TOKEN_URL, status=status, body="<html>busy</html>")
    with pytest.raises(error) as caught:
        adapter.refresh({"access_token": "a", "refresh_token": "AQW-old"})
    assert not isinstance(caught.value, AuthExpired)


# --- connecting --------------------------------------------------------------------------
def test_authorization_asks_for_member_scopes():
    url, state = authorization("https://cms.example/syndication/linkedin/done/", state="abc")
    query = parse_qs(urlsplit(url).query)
    assert url.startswith("https://www.linkedin.com/oauth/v2/authorization?")
    assert state == "abc"
    assert query["client_id"] == ["86abc123"]
    assert query["response_type"] == ["code"]
    assert query["redirect_uri"] == ["https://cms.example/syndication/linkedin/done/"]
    assert query["scope"] == ["openid profile w_member_social"]


def test_authorization_for_pages_adds_organization_scopes():
    url, state = authorization("https://cms.example/done/", organization=True)
    scopes = parse_qs(urlsplit(url).query)["scope"][0].split()
    assert {"w_organization_social", "r_organization_social", "w_member_social"} <= set(scopes)
    assert state


def test_authorization_without_a_client_id_says_what_to_set(settings):
    settings.LINKEDIN_CLIENT_ID = ""
    with pytest.raises(ImproperlyConfigured, match="LINKEDIN_CLIENT_ID"):
        authorization("https://cms.example/done/")


def test_finish_trades_the_code_and_reads_the_member(api):
    api.post(
        TOKEN_URL,
        json={
            "access_token": "AQX-first",
            "expires_in": 5_184_000,
            "scope": "email,openid,profile,w_member_social",
            "token_type": "Bearer",
            "id_token": "eyJ.x.y",
        },
    )
    api.get(
        "https://api.linkedin.com/v2/userinfo",
        json={
            "sub": "782bbtaQ",
            "email_verified": True,
            "name": "Ada Lovelace",
            "locale": {"country": "GB", "language": "en"},
            "given_name": "Ada",
            "family_name": "Lovelace",
        },
    )

    profile, tokens = finish("https://cms.example/done/", "AQTcode")

    sent = parse_qs(api.calls[0].request.body)
    assert sent["code"] == ["AQTcode"]
    assert sent["grant_type"] == ["authorization_code"]
    assert sent["client_secret"] == ["s3cr3t"]
    assert api.calls[1].request.headers["Authorization"] == "Bearer AQX-first"
    assert profile.remote_id == PERSON
    assert profile.display_name == "Ada Lovelace"
    assert tokens["access_token"] == "AQX-first"
    assert "refresh_token" not in tokens
    assert tokens["expires_at"] > time.time() + 5_000_000


def test_finish_with_a_used_code_asks_to_connect_again(api):
    api.post(
        TOKEN_URL,
        status=400,
        json={"error": "invalid_request", "error_description": "Unable to retrieve access token"},
    )
    with pytest.raises(AuthExpired, match="try connecting again"):
        finish("https://cms.example/done/", "AQTused")
