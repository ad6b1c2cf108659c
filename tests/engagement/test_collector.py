"""The collector, ``POST /e/`` and ``POST /e/share/``: what is counted, how, and what never is.

Each end-to-end test runs twice: embedded (no Redis: the event goes straight into its
rollup) and with a real Redis stream that ``flush`` then adds up (skipped when Redis is
not running locally; required in CI).
"""

import datetime
import io
import json

from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

import pytest

from syndication.engagement import buffer, events, flush, privacy, tasks
from syndication.engagement.models import DailySalt, EngagementRollup, ShareToken
from syndication.engagement.wsgi import with_collector
from tests.factories import SyndicationPostFactory

READER = (
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/126.0.0.0 Safari/537.36"
)
BOTS = [
    "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "HeadlessChrome/126.0.0.0 Safari/537.36",
    "facebookexternalhit/1.1 (+http://www.facebook.com/externalhit_uatext.php)",
    "Mozilla/5.0 (compatible; Bluesky Cardyb/1.1; +mailto:support@bsky.app)",
    "http.rb/5.1.1 (Mastodon/4.2.0; +https://mastodon.social/)",
    "curl/8.5.0",
    "python-requests/2.32.3",
    "",
]


@pytest.fixture(autouse=True)
def _fresh(fresh_collector):
    """The collector's in-process caches start empty (``fresh_collector`` in conftest)."""


class Sink:
    """Where accepted events go: a Redis stream to flush, or (embedded) the rollups."""

    def __init__(self, client, stream_name=""):
        self.client = client
        self.stream_name = stream_name

    def flush(self):
        if self.client is not None:
            outcome = flush.flush()
            assert not outcome["skipped"]

    def buffered(self) -> int:
        return self.client.xlen(self.stream_name) if self.client is not None else 0


@pytest.fixture(params=["embedded", "redis"])
def sink(request, settings):
    if request.param == "embedded":
        settings.ENGAGEMENT_REDIS_URL = ""
        return Sink(None)
    client = request.getfixturevalue("stream")
    return Sink(client, settings.ENGAGEMENT_STREAM)


@pytest.fixture
def stories(make_story):
    return make_story(title="The drip in the hallway"), make_story(title="The fix")


def post(client, body, *, url=None, content_type="text/plain;charset=UTF-8", **headers):
    headers.setdefault("HTTP_USER_AGENT", READER)
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    return client.post(
        url or reverse("engagement:collect"), data=raw, content_type=content_type, **headers
    )


def rollups() -> dict:
    return {
        (row.story_id, row.event, row.source, row.detail, row.post_id, row.share_id): row.count
        for row in EngagementRollup.objects.all()
    }


# --- Every event type, attributed ----------------------------------------------------


def test_every_event_type_is_accepted_and_counted(client, sink, stories):
    story, other = stories
    bodies = [
        {"t": "view", "s": story.pk},
        {"t": "view", "s": story.pk, "r": ""},
        {"t": "engaged_read", "s": story.pk, "ms": 48_000, "sd": 80},
        {"t": "read_through", "s": story.pk, "sd": 100},
        {"t": "read_through", "s": story.pk},
        {"t": "share", "s": story.pk, "n": "bluesky"},
        {"t": "link_follow", "s": story.pk, "to": other.pk, "k": "continues"},
        {"t": "feeling", "s": story.pk, "f": "moved"},
        {"t": "feeling", "s": story.pk, "f": "not_for_me"},
    ]
    for body in bodies:
        response = post(client, body)
        assert response.status_code == 202, response.content
        assert response.content == b""
    assert sink.buffered() == (len(bodies) if sink.client else 0)
    sink.flush()
    assert sink.buffered() == 0
    assert rollups() == {
        (story.pk, "view", "direct", "", 0, 0): 2,
        (story.pk, "engaged_read", "direct", "", 0, 0): 1,
        (story.pk, "read_through", "direct", "", 0, 0): 2,
        (story.pk, "share", "direct", "bluesky", 0, 0): 1,
        (story.pk, "link_follow", "direct", f"continues:{other.pk}", 0, 0): 1,
        (story.pk, "feeling", "direct", "moved", 0, 0): 1,
        (story.pk, "feeling", "direct", "not_for_me", 0, 0): 1,
    }
    assert set(EngagementRollup.objects.values_list("day", flat=True)) == {timezone.localdate()}


def test_an_arrival_from_a_syndicated_post_is_credited_to_the_network_and_post(
    client, sink, stories
):
    story, _ = stories
    syndicated = SyndicationPostFactory(story=story)
    landing = {
        "u": {
            "source": "mastodon",
            "medium": "social",
            "campaign": story.slug,
            "content": str(syndicated.pk),
        },
        "r": "https://social.example/@storyloom/1234",
    }
    for kind, extra in [("view", {}), ("engaged_read", {"ms": 30_000}), ("read_through", {})]:
        assert post(client, {"t": kind, "s": story.pk, **landing, **extra}).status_code == 202
    sink.flush()
    assert rollups() == {
        (story.pk, kind, "mastodon", "", syndicated.pk, 0): 1
        for kind in ("view", "engaged_read", "read_through")
    }


def test_an_arrival_with_a_fresh_share_token_is_that_shares_and_an_old_one_is_not(
    client, sink, stories
):
    story, _ = stories
    fresh = ShareToken.objects.create(token="fresh-token-1", story=story, network="mastodon")
    stale = ShareToken.objects.create(
        token="stale-token-1",
        story=story,
        network="x",
        created_at=timezone.now() - datetime.timedelta(days=8),
    )
    tags = {"source": "mastodon", "medium": "share", "campaign": story.slug}
    for token in (fresh.token, fresh.token, stale.token, "never-minted-1"):
        response = post(client, {"t": "view", "s": story.pk, "u": tags, "sh": token})
        assert response.status_code == 202
    sink.flush()
    assert rollups() == {
        (story.pk, "view", "share", "", 0, fresh.pk): 2,
        # Past seven days (or never minted) the token is ignored: no referrer, so direct.
        (story.pk, "view", "direct", "", 0, 0): 2,
    }


@pytest.mark.parametrize(
    ("landing", "source"),
    [
        ({"r": "https://www.google.co.uk/"}, "search"),
        ({"r": "https://duckduckgo.com/?q=drip"}, "search"),
        ({"r": "https://search.brave.com/search?q=drip"}, "search"),
        ({"r": "http://localhost/stories/the-fix/"}, "internal"),
        ({"r": "https://news.example.org/today?ref=1"}, "news.example.org"),
        ({"r": "https://google.evil.example/"}, "google.evil.example"),
        ({"u": {"medium": "email", "source": "weekly"}}, "newsletter"),
        ({"u": {"medium": "newsletter"}, "r": "https://www.google.com/"}, "newsletter"),
        ({}, "direct"),
    ],
)
def test_an_arrival_is_attributed_from_its_referrer(client, settings, stories, landing, source):
    settings.ENGAGEMENT_REDIS_URL = ""
    story, _ = stories
    assert post(client, {"t": "view", "s": story.pk, **landing}).status_code == 202
    assert rollups() == {(story.pk, "view", source, "", 0, 0): 1}


def test_attribution_prefers_a_share_then_the_post_then_the_referrer():
    now = timezone.now()
    share = buffer.ShareRow(7, now - datetime.timedelta(days=6, hours=23))
    social = {"source": "Mastodon", "medium": "social", "content": "42"}
    assert events.attribution(social, "https://www.bing.com/", share, "site.example", now=now) == (
        "share",
        0,
        7,
        "",
    )
    assert events.attribution(social, "https://www.bing.com/", None, "site.example", now=now) == (
        "mastodon",
        42,
        0,
        "",
    )
    # A post id that is not a number (or too big for the rollup) is no post.
    assert events.attribution({**social, "content": "²³"}, None, None, "x").post_id == 0
    assert events.attribution({**social, "content": "9" * 12}, None, None, "x").post_id == 0
    assert events.attribution(None, "https://www.site.example/a", None, "site.example:8000") == (
        "internal",
        0,
        0,
        "",
    )
    long_host = "a" * 70 + ".example"
    assert events.attribution(None, f"https://{long_host}/", None, "x").source == long_host[:64]
    link = {"t": "link_follow", "s": 1, "to": 9, "k": "series"}
    assert events.attribution(None, None, None, "x", link).detail == "series:9"


# --- What is never counted -------------------------------------------------------------


@pytest.mark.parametrize("header", ["HTTP_DNT", "HTTP_SEC_GPC"])
def test_readers_who_opt_out_are_not_counted(client, sink, stories, header):
    story, _ = stories
    response = post(client, {"t": "view", "s": story.pk}, **{header: "1"})
    assert response.status_code == 202
    assert sink.buffered() == 0
    sink.flush()
    assert rollups() == {}
    assert not DailySalt.objects.exists()  # not even hashed
    # The same reader without the header is counted: the header made the difference.
    assert post(client, {"t": "view", "s": story.pk}, **{header: "0"}).status_code == 202
    sink.flush()
    assert sum(rollups().values()) == 1


@pytest.mark.parametrize("user_agent", BOTS)
def test_bots_crawlers_and_preview_fetchers_are_not_counted(client, sink, stories, user_agent):
    story, _ = stories
    response = post(client, {"t": "view", "s": story.pk}, HTTP_USER_AGENT=user_agent)
    assert response.status_code == 202
    assert sink.buffered() == 0
    sink.flush()
    assert rollups() == {}


@pytest.mark.parametrize(
    "user_agent",
    [
        READER,
        "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 "
        "(KHTML, like Gecko) Mobile/15E148 [FBAN/FBIOS;FBAV/470.0.0.40.107]",
        "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 "
        "(KHTML, like Gecko) Mobile/15E148 LinkedInApp",
        "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:127.0) Gecko/20100101 Firefox/127.0",
        "Mozilla/5.0 (Linux; Android 14) AppleWebKit/537.36 (KHTML, like Gecko) "
        "Chrome/126.0 YaBrowser/24.6 Mobile Safari/537.36",
    ],
)
def test_people_in_browsers_and_in_app_browsers_are_not_bots(user_agent):
    assert not events.is_bot(user_agent)


def make_bad_inputs(story_id, other_id, draft_id):
    view = {"t": "view", "s": story_id}
    return [
        ({"s": story_id}, "t"),
        ({"t": "click", "s": story_id}, "t"),
        ({"t": ["view"], "s": story_id}, "t"),
        ({"t": "view"}, "s"),
        ({"t": "view", "s": str(story_id)}, "s"),
        ({"t": "view", "s": True}, "s"),
        ({"t": "view", "s": float(story_id)}, "s"),
        ({"t": "view", "s": -1}, "s"),
        ({"t": "view", "s": 999_999}, "s"),
        ({"t": "view", "s": draft_id}, "s"),
        ({**view, "ip": "10.0.0.1"}, "ip"),
        ({**view, "r": "x" * 2001}, "r"),
        ({**view, "r": "javascript:alert(1)"}, "r"),
        ({**view, "r": "http://[::1"}, "r"),
        ({**view, "r": 5}, "r"),
        ({**view, "u": "utm_source=x"}, "u"),
        ({**view, "u": {"term": "shoes"}}, "u.term"),
        ({**view, "u": {"source": 3}}, "u.source"),
        ({**view, "u": {"source": "x" * 101}}, "u.source"),
        ({**view, "sh": "short"}, "sh"),
        ({**view, "sh": "bad token!"}, "sh"),
        ({"t": "share", "s": story_id}, "n"),
        ({"t": "share", "s": story_id, "n": "myspace"}, "n"),
        ({**view, "n": "x"}, "n"),
        ({"t": "link_follow", "s": story_id, "k": "related"}, "to"),
        ({"t": "link_follow", "s": story_id, "to": other_id}, "k"),
        ({"t": "link_follow", "s": story_id, "to": draft_id, "k": "related"}, "to"),
        ({"t": "link_follow", "s": story_id, "to": other_id, "k": "sideways"}, "k"),
        ({"t": "feeling", "s": story_id}, "f"),
        ({"t": "feeling", "s": story_id, "f": "angry"}, "f"),
        ({"t": "engaged_read", "s": story_id}, "ms"),
        ({"t": "engaged_read", "s": story_id, "ms": -5}, "ms"),
        ({"t": "engaged_read", "s": story_id, "ms": 86_400_001}, "ms"),
        ({"t": "read_through", "s": story_id, "sd": 101}, "sd"),
        ({**view, "sd": 50}, "sd"),
        ({**view, "ms": 50}, "ms"),
        (b"[1, 2]", "body"),
        (b"not json", "body"),
        (b'{"t": "view", "s": NaN}', "body"),
        (b"\xff\xfe{}", "body"),
        (b"[" * 2000, "body"),
        (json.dumps({**view, "r": "https://example.com/" + "a" * 2100}).encode(), "body"),
        # Values that pass every other check but no database column can hold.
        ({**view, "r": "http://a\u0000b.example/"}, "body"),
        (b'{"t": "view", "s": %d, "r": "http://a\\u0000b.example/"}' % story_id, "body"),
        (b'{"t": "view", "s": %d, "u": {"source": "\\ud800"}}' % story_id, "body"),
        (b'{"t": "view", "s": %d, "\\u0000": 1}' % story_id, "body"),
        ({**view, "r": "http://a%00b.example/"}, "r"),
        ({**view, "r": "http://" + "a" * 300 + ".example/"}, "r"),
        ({**view, "r": "http://exa mple.org/"}, "r"),
        ({**view, "s": 2**63}, "s"),
        ({**view, "s": 10**40}, "s"),
        ({**view, "i": "short"}, "i"),
        ({**view, "i": "has spaces in it"}, "i"),
        ({**view, "i": 12345678}, "i"),
    ]


def test_each_kind_of_bad_input_gets_a_400_naming_the_field(client, sink, stories, make_story):
    story, other = stories
    draft = make_story(title="Not yet", live=False)
    for body, field in make_bad_inputs(story.pk, other.pk, draft.pk):
        response = post(client, body)
        assert response.status_code == 400, (body, response.content)
        assert response["Content-Type"] == "application/json"
        error = response.json()["error"]
        assert error.startswith(f"{field}: "), (body, error)
    response = post(client, {"t": "view", "s": story.pk}, content_type="multipart/form-data")
    assert response.status_code == 400
    assert response.json()["error"].startswith("content-type: ")
    assert client.get(reverse("engagement:collect")).status_code == 405
    assert sink.buffered() == 0
    sink.flush()
    assert rollups() == {}


def test_a_story_taken_down_is_refused_once_the_content_version_moves_on(
    client, settings, stories, monkeypatch
):
    settings.ENGAGEMENT_REDIS_URL = ""
    monkeypatch.setattr(buffer, "LIVE_CHECK_SECONDS", 0)
    story, _ = stories
    assert post(client, {"t": "view", "s": story.pk}).status_code == 202
    story.unpublish()  # page_unpublished moves the content version on
    response = post(client, {"t": "view", "s": story.pk})
    assert response.status_code == 400
    assert response.json() == {"error": "s: not a live story"}


def test_no_cookie_is_ever_set(client, settings, stories):
    settings.ENGAGEMENT_REDIS_URL = ""
    story, _ = stories
    responses = [
        post(client, {"t": "view", "s": story.pk}),
        post(client, {"t": "view"}),
        post(client, {"s": story.pk, "n": "x"}, url=reverse("engagement:share")),
    ]
    assert [response.status_code for response in responses] == [202, 400, 201]
    for response in responses:
        assert not response.cookies
        assert "Set-Cookie" not in response
    assert not client.cookies


def test_no_ip_address_or_user_agent_is_kept_anywhere(client, stream, settings, stories):
    story, _ = stories
    ip, user_agent = "203.0.113.77", READER + " Distinctive/9.8.7"
    headers = {"REMOTE_ADDR": ip, "HTTP_X_FORWARDED_FOR": ip, "HTTP_USER_AGENT": user_agent}
    post(client, {"t": "view", "s": story.pk}, **headers)
    post(client, {"s": story.pk, "n": "mastodon"}, url=reverse("engagement:share"), **headers)
    entries = stream.xrange(settings.ENGAGEMENT_STREAM)
    assert len(entries) == 2
    for _, fields in entries:
        assert set(fields) == {"day", "t", "s", "src", "d", "p", "sh", "v"}
        text = json.dumps(fields)
        assert ip not in text
        assert "Distinctive" not in text
        # The visitor is a salted hash that changes with the salt, not a plain hash.
        assert fields["v"] == privacy.visitor_hash(ip, user_agent, "localhost")
    flush.flush()
    dump = io.StringIO()
    call_command("dumpdata", stdout=dump)
    assert EngagementRollup.objects.exists()
    assert ip not in dump.getvalue()
    assert "Distinctive" not in dump.getvalue()


def test_a_valid_event_costs_no_database_query(client, stream, stories):
    story, _ = stories
    ShareToken.objects.create(token="warm-token-1", story=story, network="x")
    body = {"t": "view", "s": story.pk, "sh": "warm-token-1"}
    assert post(client, body).status_code == 202  # loads stories, salt and token once
    with CaptureQueriesContext(connection) as queries:
        for _ in range(5):
            assert post(client, body).status_code == 202
    assert len(queries.captured_queries) == 0, [q["sql"] for q in queries.captured_queries]


# --- The WSGI dispatcher ---------------------------------------------------------------


def wsgi_call(app, body: bytes, *, path="/e/", method="POST", **extra):
    environ = {
        "REQUEST_METHOD": method,
        "PATH_INFO": path,
        "SERVER_NAME": "localhost",
        "SERVER_PORT": "80",
        "HTTP_HOST": "localhost",
        "CONTENT_TYPE": "text/plain;charset=UTF-8",
        "CONTENT_LENGTH": str(len(body)),
        "HTTP_USER_AGENT": READER,
        "REMOTE_ADDR": "198.51.100.4",
        "wsgi.input": io.BytesIO(body),
        "wsgi.url_scheme": "http",
        **extra,
    }
    answer = {}

    def start_response(status, headers):
        answer["status"], answer["headers"] = status, dict(headers)

    content = b"".join(app(environ, start_response))
    return answer["status"], answer["headers"], content


def test_the_dispatcher_answers_events_itself_and_hands_everything_else_on(
    stream, settings, stories
):
    settings.ALLOWED_HOSTS = ["localhost"]
    story, _ = stories
    handed_on = []

    def django_app(environ, start_response):
        handed_on.append((environ["REQUEST_METHOD"], environ["PATH_INFO"]))
        start_response("200 OK", [])
        return [b"django"]

    app = with_collector(django_app)
    good = json.dumps({"t": "view", "s": story.pk}).encode()
    status, headers, content = wsgi_call(app, good)
    assert (status, content) == ("202 Accepted", b"")
    assert "Set-Cookie" not in headers
    status, headers, content = wsgi_call(app, b'{"t": "view"}')
    assert status == "400 Bad Request"
    assert json.loads(content) == {"error": "s: required"}
    status, _, content = wsgi_call(app, good, HTTP_HOST="evil.example")
    assert json.loads(content) == {"error": "host: not allowed"}
    status, _, content = wsgi_call(app, b"x" * 5000)
    assert json.loads(content) == {"error": "body: larger than 2048 bytes"}
    assert stream.xlen(settings.ENGAGEMENT_STREAM) == 1

    assert wsgi_call(app, b"", path="/e/", method="GET")[2] == b"django"
    assert wsgi_call(app, good, path="/e/share/")[2] == b"django"
    assert wsgi_call(app, b"", path="/", method="GET")[2] == b"django"
    assert handed_on == [("GET", "/e/"), ("POST", "/e/share/"), ("GET", "/")]
    # Embedded mode writes to the database: Django's request cycle does that.
    settings.ENGAGEMENT_REDIS_URL = ""
    assert wsgi_call(app, good)[2] == b"django"


# --- Share tokens --------------------------------------------------------------------


def test_sharing_mints_a_token_and_a_tagged_url_and_counts_the_share(client, sink, stories):
    story, _ = stories
    response = post(client, {"s": story.pk, "n": "mastodon"}, url=reverse("engagement:share"))
    assert response.status_code == 201
    first = response.json()
    token = ShareToken.objects.get(token=first["token"])
    assert (token.story_id, token.network, token.parent, token.depth) == (
        story.pk,
        "mastodon",
        None,
        0,
    )
    assert events.SHARE_TOKEN.fullmatch(first["token"])
    assert first["url"] == (
        f"{story.get_full_url()}?utm_source=mastodon&utm_medium=share"
        f"&utm_campaign={story.slug}&sh={first['token']}"
    )

    # A reader who arrived through that share shares again: a cascade one deeper.
    response = post(
        client,
        {"s": story.pk, "n": "copy", "parent": first["token"]},
        url=reverse("engagement:share"),
        content_type="application/json",
    )
    assert response.status_code == 201
    second = ShareToken.objects.get(token=response.json()["token"])
    assert (second.parent, second.depth, second.network) == (token, 1, "copy")
    response = post(
        client, {"s": story.pk, "n": "x", "parent": second.token}, url=reverse("engagement:share")
    )
    assert ShareToken.objects.get(token=response.json()["token"]).depth == 2

    sink.flush()
    assert rollups() == {
        (story.pk, "share", "direct", "mastodon", 0, 0): 1,
        (story.pk, "share", "share", "copy", 0, token.pk): 1,
        (story.pk, "share", "share", "x", 0, second.pk): 1,
    }


def test_sharing_refuses_bad_input_and_skips_opted_out_readers(client, settings, stories):
    settings.ENGAGEMENT_REDIS_URL = ""
    story, _ = stories
    url = reverse("engagement:share")
    for body, field in [
        ({"n": "x"}, "s"),
        ({"s": story.pk}, "n"),
        ({"s": story.pk, "n": "myspace"}, "n"),
        ({"s": 999_999, "n": "x"}, "s"),
        ({"s": story.pk, "n": "x", "parent": "no"}, "parent"),
        ({"s": story.pk, "n": "x", "who": "me"}, "who"),
    ]:
        response = post(client, body, url=url)
        assert response.status_code == 400
        assert response.json()["error"].startswith(f"{field}: ")
    response = post(client, {"s": story.pk, "n": "linkedin"}, url=url, HTTP_DNT="1")
    assert response.status_code == 201
    assert response.json() == {
        "token": None,
        "url": f"{story.get_full_url()}?utm_source=linkedin&utm_medium=share"
        f"&utm_campaign={story.slug}",
    }
    assert not ShareToken.objects.exists()
    assert rollups() == {}


# --- Salts -----------------------------------------------------------------------------


def test_salts_are_made_daily_and_rotated_away(client, settings, stories):
    settings.ENGAGEMENT_REDIS_URL = ""
    story, _ = stories
    today = timezone.localdate()
    assert post(client, {"t": "view", "s": story.pk}).status_code == 202
    todays = DailySalt.objects.get(day=today)
    assert len(todays.salt) == 64
    yesterday = DailySalt.objects.create(day=today - datetime.timedelta(days=1), salt="y" * 64)
    DailySalt.objects.create(day=today - datetime.timedelta(days=2), salt="o" * 64)
    DailySalt.objects.create(day=today - datetime.timedelta(days=30), salt="p" * 64)

    same = privacy.visitor_hash("192.0.2.1", READER, "localhost")
    assert same == privacy.visitor_hash("192.0.2.1", READER, "localhost", salt=todays.salt)
    assert same != privacy.visitor_hash("192.0.2.1", READER, "localhost", salt=yesterday.salt)
    assert same != privacy.visitor_hash("192.0.2.2", READER, "localhost")

    assert tasks.rotate_salts.delay().get() == {"salts": 2, "batches": 0, "shares": 0}
    assert set(DailySalt.objects.values_list("day", flat=True)) == {today, yesterday.day}


# --- Rate limits ---------------------------------------------------------------------------


def test_one_reader_cannot_buy_counts_past_the_limit(client, sink, settings, stories):
    """Past the per-reader limit the collector answers 429 with Retry-After and keeps
    nothing; another browser on the same address and another address go on, until the
    address as a whole reaches its own limit."""
    settings.ENGAGEMENT_EVENTS_PER_MINUTE = 5
    settings.ENGAGEMENT_EVENTS_PER_MINUTE_PER_ADDRESS = 8
    story, _ = stories
    view = {"t": "view", "s": story.pk}
    answers = [post(client, view, REMOTE_ADDR="198.51.100.7") for _ in range(7)]
    assert [a.status_code for a in answers] == [202] * 5 + [429] * 2
    wait = int(answers[-1]["Retry-After"])
    assert 1 <= wait <= 61
    assert answers[-1].json()["error"].startswith("rate: ")
    # Another browser on the same address: its own reader limit, the address's too.
    other_browser = READER.replace("Chrome/126", "Chrome/125")
    answers = [
        post(client, view, REMOTE_ADDR="198.51.100.7", HTTP_USER_AGENT=other_browser)
        for _ in range(5)
    ]
    # The address had 7 events counted against it (5 kept, 2 refused), so 1 more fits.
    assert [a.status_code for a in answers] == [202] + [429] * 4
    assert post(client, view, REMOTE_ADDR="203.0.113.9").status_code == 202
    sink.flush()
    assert sum(rollups().values()) == 7


def test_share_tokens_are_limited_per_address(client, settings, stories):
    settings.ENGAGEMENT_SHARES_PER_ADDRESS = (3, 3600)
    settings.ENGAGEMENT_REDIS_URL = ""
    story, _ = stories
    url = reverse("engagement:share")
    answers = [
        post(client, {"s": story.pk, "n": "copy"}, url=url, REMOTE_ADDR="198.51.100.8")
        for _ in range(5)
    ]
    assert [a.status_code for a in answers] == [201] * 3 + [429] * 2
    assert int(answers[-1]["Retry-After"]) >= 1
    assert ShareToken.objects.count() == 3
    other = post(client, {"s": story.pk, "n": "copy"}, url=url, REMOTE_ADDR="203.0.113.10")
    assert other.status_code == 201


def test_share_tokens_that_brought_nobody_are_forgotten_after_their_week(db, stories):
    from syndication.engagement.shares import forget_unused_shares
    from syndication.engagement.tasks import rotate_salts

    story, _ = stories
    old = timezone.now() - datetime.timedelta(days=8)
    unused = ShareToken.objects.create(token="unused-token", story=story, network="x")
    used = ShareToken.objects.create(token="used-token-1", story=story, network="x")
    parent = ShareToken.objects.create(token="parent-token", story=story, network="x")
    ShareToken.objects.create(token="child-token1", story=story, network="x", parent=parent)
    fresh = ShareToken.objects.create(token="fresh-token1", story=story, network="x")
    ShareToken.objects.exclude(pk=fresh.pk).update(created_at=old)
    later = (old + datetime.timedelta(days=1)).date()
    for event, token in (("view", used), ("share", parent)):  # an arrival, a re-share
        EngagementRollup.objects.create(
            day=later, story=story, event=event, source="share", share_id=token.pk, count=1
        )
    assert forget_unused_shares() == 2  # the unused one, and the re-share nobody followed
    left = set(ShareToken.objects.values_list("token", flat=True))
    assert left == {"used-token-1", "parent-token", "fresh-token1"}
    assert unused.token not in left
    assert rotate_salts.delay().get()["shares"] == 0
