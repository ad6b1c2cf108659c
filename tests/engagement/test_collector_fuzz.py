"""Fuzz: over 10,000 generated malformed bodies get a 400 each, never a 500, and none is kept.

Most examples go through ``buffer.receive`` (the whole collector but the HTTP layer,
with the live stories fixed); a smaller share go over HTTP through the Django view
and the WSGI dispatcher, against real stories and a real buffer.
"""

import json
import uuid

from django.urls import reverse

import pytest
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from syndication.engagement import buffer, events
from syndication.engagement.models import EngagementRollup, ShareToken
from syndication.engagement.wsgi import with_collector
from tests.conftest import require_service
from tests.integration.conftest import redis_is_up, redis_url

READER = "Mozilla/5.0 (X11; Linux x86_64; rv:127.0) Gecko/20100101 Firefox/127.0"
VALIDATOR_EXAMPLES = 8_500
SHARE_EXAMPLES = 1_000
VIEW_EXAMPLES = 1_000
DISPATCHER_EXAMPLES = 600


def fuzz(examples: int) -> hypothesis_settings:
    return hypothesis_settings(
        max_examples=examples,
        deadline=None,
        database=None,  # nothing written to .hypothesis/
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
    )


JSON_SCALARS = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=20)
)
JSON_VALUES = st.recursive(
    JSON_SCALARS,
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner, max_size=3)
    ),
    max_leaves=5,
)
NOT_A_DICT = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=20)
    | st.lists(JSON_VALUES, max_size=3)
)
NOT_A_STRING = JSON_VALUES.filter(lambda value: not isinstance(value, str))
NOT_AN_INT = JSON_VALUES.filter(lambda value: not isinstance(value, int) or isinstance(value, bool))
HUGE_TEXT = st.integers(min_value=2_001, max_value=4_000).map(lambda n: "x" * n)


def malformed_bodies(live: list[int]) -> st.SearchStrategy[bytes]:
    """Bodies the collector must refuse, given the ids of the live stories."""
    story = st.sampled_from(live)
    not_live = st.integers(min_value=-(2**40), max_value=2**40).filter(lambda i: i not in live)
    valid = st.one_of(
        story.map(lambda s: {"t": "view", "s": s}),
        story.map(lambda s: {"t": "engaged_read", "s": s, "ms": 20_000, "sd": 90}),
        story.map(lambda s: {"t": "read_through", "s": s}),
        story.map(lambda s: {"t": "share", "s": s, "n": "x"}),
        story.map(lambda s: {"t": "link_follow", "s": s, "to": live[0], "k": "more"}),
        story.map(lambda s: {"t": "feeling", "s": s, "f": "helpful"}),
    )
    wrong = {
        "t": st.text(max_size=20).filter(lambda t: t not in events.EVENT_TYPES) | NOT_A_STRING,
        "s": not_live | NOT_AN_INT,
        "r": HUGE_TEXT
        | NOT_A_STRING
        | st.text(min_size=1, max_size=60).filter(
            lambda r: not r.lower().startswith(("http://", "https://"))
        ),
        "u": NOT_A_DICT
        | st.dictionaries(
            st.text(max_size=12).filter(lambda k: k not in events.UTM_KEYS),
            JSON_VALUES,
            min_size=1,
            max_size=3,
        )
        | st.dictionaries(st.sampled_from(events.UTM_KEYS), NOT_A_STRING, min_size=1)
        | st.dictionaries(st.sampled_from(events.UTM_KEYS), HUGE_TEXT, min_size=1),
        "sh": NOT_A_STRING
        | st.text(max_size=40).filter(lambda sh: not events.SHARE_TOKEN.fullmatch(sh)),
        "n": NOT_A_STRING | st.text(max_size=12).filter(lambda n: n not in events.SHARE_NETWORKS),
        "to": not_live | NOT_AN_INT,
        "k": NOT_A_STRING | st.text(max_size=12).filter(lambda k: k not in events.LINK_KINDS),
        "f": NOT_A_STRING | st.text(max_size=12).filter(lambda f: f not in events.FEELINGS),
        "ms": NOT_AN_INT | st.integers(max_value=-1) | st.integers(min_value=86_400_001),
        "sd": NOT_AN_INT | st.integers(max_value=-1) | st.integers(min_value=101),
    }

    def spoil(event: dict, draw) -> dict:
        how = draw(st.sampled_from(["wrong", "missing", "unknown", "misplaced"]))
        event = dict(event)
        if how == "wrong":
            # A field of this event (or one it may carry) with a value it may not have.
            allowed = ["t", "s", "r", "u", "sh", *events.EVENT_FIELDS[event["t"]]]
            field = draw(st.sampled_from(allowed))
            event[field] = draw(wrong[field])
        elif how == "missing":
            required = ["t", "s", *(f for f, req in events.EVENT_FIELDS[event["t"]].items() if req)]
            del event[draw(st.sampled_from(required))]
        elif how == "unknown":
            key = draw(
                st.text(min_size=1, max_size=50).filter(lambda k: k not in events.ALL_FIELDS)
            )
            event[key] = draw(JSON_VALUES)
        else:
            # A field that belongs to another event type.
            others = events.ALL_FIELDS - set(events.COMMON_FIELDS)
            field = draw(st.sampled_from(sorted(others - set(events.EVENT_FIELDS[event["t"]]))))
            event[field] = draw(JSON_VALUES)
        return event

    @st.composite
    def spoiled(draw):
        return json.dumps(spoil(draw(valid), draw)).encode()

    @st.composite
    def nested(draw):
        depth = draw(st.integers(min_value=1, max_value=3000))
        opener, closer = draw(st.sampled_from([("[", "]"), ('{"a":', "}"), ('{"t":', "}")]))
        return (opener * depth + "1" + closer * depth).encode()

    @st.composite
    def oversized(draw):
        event = draw(valid)
        event["r"] = "https://example.org/" + "a" * draw(st.integers(2_030, 3_000))
        return json.dumps(event).encode()

    return st.one_of(
        st.binary(max_size=3_000),
        (JSON_SCALARS | st.lists(JSON_VALUES, max_size=3)).map(
            lambda value: json.dumps(value).encode()
        ),
        st.dictionaries(st.text(max_size=12), JSON_SCALARS | JSON_VALUES, max_size=5).map(
            lambda value: json.dumps(value).encode()
        ),
        spoiled(),
        spoiled(),
        spoiled(),
        nested(),
        oversized(),
        st.text(max_size=300).map(lambda text: text.encode("utf-8", "surrogatepass")),
    )


def malformed_shares(live: list[int]) -> st.SearchStrategy[bytes]:
    not_live = st.integers(min_value=-(2**40), max_value=2**40).filter(lambda i: i not in live)
    good = st.fixed_dictionaries({"s": st.sampled_from(live), "n": st.sampled_from(["x", "copy"])})
    spoiled = st.one_of(
        good.flatmap(
            lambda body: st.fixed_dictionaries(
                {**{k: st.just(v) for k, v in body.items()}, "s": not_live | NOT_AN_INT}
            )
        ),
        good.flatmap(
            lambda body: st.fixed_dictionaries(
                {
                    **{k: st.just(v) for k, v in body.items()},
                    "n": NOT_A_STRING
                    | st.text(max_size=10).filter(lambda n: n not in events.SHARE_NETWORKS),
                }
            )
        ),
        good.flatmap(
            lambda body: st.fixed_dictionaries(
                {
                    **{k: st.just(v) for k, v in body.items()},
                    "parent": NOT_A_STRING.filter(lambda p: p is not None)
                    | st.text(max_size=40).filter(lambda p: not events.SHARE_TOKEN.fullmatch(p)),
                }
            )
        ),
        good.flatmap(
            lambda body: st.fixed_dictionaries(
                {**{k: st.just(v) for k, v in body.items()}, "who": JSON_VALUES}
            )
        ),
        good.map(lambda body: {"s": body["s"]}),
        good.map(lambda body: {"n": body["n"]}),
    )
    return st.one_of(
        st.binary(max_size=500),
        spoiled.map(lambda body: json.dumps(body).encode()),
        JSON_VALUES.map(lambda value: json.dumps(value).encode()),
    )


@pytest.fixture(autouse=True)
def fresh_collector():
    buffer.forget_caches()
    yield
    buffer.forget_caches()


def test_the_collector_refuses_every_malformed_body(monkeypatch):
    live = [101, 102, 103]
    monkeypatch.setattr(buffer, "is_live", lambda story_id: story_id in live)
    kept = []
    monkeypatch.setattr(buffer, "record", lambda *args: kept.append(args))
    seen = []

    @fuzz(VALIDATOR_EXAMPLES)
    @given(body=malformed_bodies(live))
    def check(body):
        seen.append(body)
        outcome = buffer.receive(
            body,
            content_type="text/plain;charset=UTF-8",
            host="localhost",
            ip="192.0.2.1",
            user_agent=READER,
            opted_out=False,
        )
        assert outcome.status == 400, body
        field, _, problem = outcome.error.partition(": ")
        assert field and problem, outcome.error

    check()
    assert len(seen) >= VALIDATOR_EXAMPLES
    assert kept == []


def test_share_validation_refuses_every_malformed_body():
    live = [101, 102]
    seen = []

    @fuzz(SHARE_EXAMPLES)
    @given(body=malformed_shares(live))
    def check(body):
        seen.append(body)
        with pytest.raises(events.ValidationProblem):
            data = events.validate_share(events.decode(body))
            if data["s"] not in live:
                raise events.ValidationProblem("s", "not a live story")

    check()
    assert len(seen) >= SHARE_EXAMPLES


@pytest.fixture(params=["embedded", "redis"])
def buffered(request, settings):
    """How many events were kept: rollup rows, or (with Redis) stream entries too."""
    if request.param == "embedded":
        settings.ENGAGEMENT_REDIS_URL = ""
        yield lambda: EngagementRollup.objects.count()
        return
    url = redis_url()
    require_service(redis_is_up(url), f"Redis at {url}")
    name = f"storyloom:test-fuzz:{uuid.uuid4().hex[:10]}"
    settings.ENGAGEMENT_REDIS_URL = url
    settings.ENGAGEMENT_STREAM = name
    client = buffer.redis_client(url)
    yield lambda: client.xlen(name) + EngagementRollup.objects.count()
    client.delete(name)


def test_the_view_and_the_dispatcher_answer_malformed_bodies_with_400(
    client, settings, buffered, make_story
):
    settings.ALLOWED_HOSTS = ["localhost"]
    live = [make_story().pk, make_story().pk]
    url = reverse("engagement:collect")
    statuses = []

    @fuzz(VIEW_EXAMPLES // 2)
    @given(body=malformed_bodies(live))
    def through_django(body):
        response = client.post(url, data=body, content_type="text/plain", HTTP_USER_AGENT=READER)
        statuses.append(response.status_code)
        assert response.status_code == 400, (body, response.content)
        assert "error" in response.json()

    through_django()

    def django_app(environ, start_response):  # the dispatcher must not need Django here
        raise AssertionError(f"handed on: {environ['PATH_INFO']}")

    app = with_collector(django_app)

    @fuzz(DISPATCHER_EXAMPLES // 2)
    @given(body=malformed_bodies(live))
    def through_wsgi(body):
        import io

        answer = {}
        environ = {
            "REQUEST_METHOD": "POST",
            "PATH_INFO": "/e/",
            "HTTP_HOST": "localhost",
            "CONTENT_TYPE": "text/plain;charset=UTF-8",
            "CONTENT_LENGTH": str(len(body)),
            "HTTP_USER_AGENT": READER,
            "REMOTE_ADDR": "192.0.2.1",
            "wsgi.input": io.BytesIO(body),
        }
        content = b"".join(app(environ, lambda status, headers: answer.update(status=status)))
        statuses.append(int(answer["status"][:3]))
        assert answer["status"] == "400 Bad Request", (body, content)
        assert "error" in json.loads(content)

    if settings.ENGAGEMENT_REDIS_URL:  # the dispatcher only answers when Redis buffers
        through_wsgi()

    share_url = reverse("engagement:share")

    @fuzz(200)
    @given(body=malformed_shares(live))
    def sharing(body):
        response = client.post(
            share_url, data=body, content_type="application/json", HTTP_USER_AGENT=READER
        )
        statuses.append(response.status_code)
        assert response.status_code == 400, (body, response.content)

    sharing()
    assert set(statuses) == {400}
    assert len(statuses) >= VIEW_EXAMPLES // 2 + 200
    assert buffered() == 0
    assert not ShareToken.objects.exists()
