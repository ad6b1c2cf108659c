"""Structured logs: one JSON object per line, carrying the request's (and the task's) id."""

import io
import json
import logging

from django.http import HttpResponse
from django.test import Client, RequestFactory
from django.utils.module_loading import import_string

import pytest
from celery.signals import before_task_publish
from celery.worker.request import Request

from cms.celery import app
from cms.logging import (
    REQUEST_ID_HEADER,
    TEXT_FORMAT,
    JSONFormatter,
    RequestIdFilter,
    current_task_id,
    request_id,
)
from cms.middleware import RequestIdMiddleware
from cms.settings.base import LOGGING

task_log = logging.getLogger("tests.logging.task")


@app.task(name="tests.logging.say_something")
def say_something(word):
    task_log.warning("the task says %s", word)
    return word


@app.task(name="tests.logging.pass_it_on")
def pass_it_on(word):
    task_log.warning("first, %s", word)
    say_something.delay(f"then {word}")


@pytest.fixture
def json_lines():
    """Records of every logger, as LOGGING's JSON handler would write them; a list of dicts."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JSONFormatter())
    # The filters base.py's LOGGING gives the console handler (test.py's LOGGING has none).
    for name in LOGGING["handlers"]["console"]["filters"]:
        handler.addFilter(import_string(LOGGING["filters"][name]["()"])())
    root = logging.getLogger()
    level = root.level
    root.addHandler(handler)
    root.setLevel(logging.INFO)
    # test settings quieten everything; these two are what the tests read
    loggers = [logging.getLogger(name) for name in ("storyloom.request", "django.request")]
    levels = [logger.level for logger in loggers]
    for logger in loggers:
        logger.setLevel(logging.INFO)

    def lines():
        return [json.loads(line) for line in stream.getvalue().splitlines()]

    yield lines
    root.removeHandler(handler)
    root.setLevel(level)
    for logger, old in zip(loggers, levels, strict=True):
        logger.setLevel(old)


@pytest.mark.django_db
def test_a_request_logs_json_lines_with_the_id_in_its_response_header(client, json_lines):
    response = client.get("/no-such-story/", HTTP_HOST="localhost")
    assert response.status_code == 404
    rid = response["X-Request-ID"]
    assert len(rid) == 32

    lines = json_lines()
    access = [line for line in lines if line["logger"] == "storyloom.request"]
    assert len(access) == 1
    line = access[0]
    assert line["request_id"] == rid
    assert line["level"] == "INFO"
    assert line["message"] == "GET /no-such-story/ 404"
    assert (line["method"], line["path"], line["status"]) == ("GET", "/no-such-story/", 404)
    assert isinstance(line["duration_ms"], float)
    assert line["time"].endswith("+00:00")
    # Django's own "Not Found" warning, written while the request ran, carries the same id.
    not_found = [line for line in lines if line["logger"] == "django.request"]
    assert not_found and not_found[0]["request_id"] == rid
    assert request_id.get() is None  # nothing leaks into the next request


@pytest.mark.django_db
def test_the_proxy_s_request_id_is_kept_when_well_formed(client, json_lines):
    offered = "lb-3f2a9c1e-0001"
    response = client.get("/no-such-story/", HTTP_HOST="localhost", HTTP_X_REQUEST_ID=offered)
    assert response["X-Request-ID"] == offered
    assert json_lines()[-1]["request_id"] == offered

    forged = 'x" injected\n{"level": "INFO"}'
    response = client.get("/no-such-story/", HTTP_HOST="localhost", HTTP_X_REQUEST_ID=forged)
    assert response["X-Request-ID"] != forged
    assert len(response["X-Request-ID"]) == 32


@pytest.mark.django_db
def test_probes_are_not_logged_at_info(client, json_lines):
    assert client.get("/healthz").status_code == 200
    assert [line for line in json_lines() if line["logger"] == "storyloom.request"] == []


def test_an_exception_is_one_line_with_its_traceback(json_lines):
    try:
        raise ValueError("no such thing")
    except ValueError:
        logging.getLogger("tests.logging").exception("it broke", extra={"story": 7})
    (line,) = json_lines()
    assert line["message"] == "it broke"
    assert line["story"] == 7
    assert line["request_id"] is None
    assert line["exception"].startswith("Traceback (most recent call last):")
    assert line["exception"].endswith("ValueError: no such thing")


def task_lines(json_lines):
    return [line for line in json_lines() if line["logger"] == task_log.name]


def test_an_eager_task_logs_the_id_of_the_request_that_enqueued_it_and_its_own(json_lines):
    token = request_id.set("a-web-request-id")
    try:
        result = say_something.delay("hello")
        # the request's id is back, and no task id is left behind
        assert request_id.get() == "a-web-request-id"
        assert current_task_id.get() is None
    finally:
        request_id.reset(token)
    (line,) = task_lines(json_lines)
    assert line["message"] == "the task says hello"
    assert line["request_id"] == "a-web-request-id"
    assert line["task_id"] == result.id


def test_tasks_enqueued_while_a_request_runs_carry_its_id_through_the_middleware(json_lines):
    def view(request):
        pass_it_on.delay("a reader did something")
        return HttpResponse("ok")

    response = RequestIdMiddleware(view)(RequestFactory().get("/somewhere/"))
    rid = response["X-Request-ID"]
    lines = task_lines(json_lines)
    assert [line["message"] for line in lines] == [
        "first, a reader did something",
        "the task says then a reader did something",
    ]
    # the task enqueued by the task still names the request that started it all
    assert {line["request_id"] for line in lines} == {rid}
    outer, inner = (line["task_id"] for line in lines)
    assert outer != inner and rid not in (outer, inner)
    assert request_id.get() is None and current_task_id.get() is None


def test_a_task_nobody_s_request_caused_uses_its_own_id(json_lines):
    result = say_something.delay("on beat's time")
    (line,) = task_lines(json_lines)
    assert line["request_id"] == line["task_id"] == result.id


@pytest.fixture
def published():
    """Task messages published for real, to an in-memory broker: ``(headers, message)``."""
    sent = []

    def capture(headers=None, **kwargs):
        sent.append(headers)

    before_task_publish.connect(capture, weak=False, dispatch_uid="tests-logging-capture")
    eager = app.conf.task_always_eager
    app.conf.task_always_eager = False
    try:
        with app.connection_for_write("memory://") as connection:
            queue = connection.SimpleQueue(app.conf.task_default_queue)

            def publish(task, *args):
                with connection.Producer() as producer:
                    task.apply_async(args=args, producer=producer)
                return sent[-1], queue.get(timeout=1)

            yield publish
            queue.close()
    finally:
        app.conf.task_always_eager = eager
        before_task_publish.disconnect(dispatch_uid="tests-logging-capture")


def test_a_published_task_carries_the_request_id_in_its_headers_to_the_worker(
    published, json_lines
):
    token = request_id.set("a-web-request-id")
    try:
        headers, message = published(say_something, "over the wire")
    finally:
        request_id.reset(token)
    assert headers[REQUEST_ID_HEADER] == "a-web-request-id"
    assert message.headers[REQUEST_ID_HEADER] == "a-web-request-id"

    # What a worker does with the message: its own request object, the real trace.
    worker_request = Request(message, app=app, task=app.tasks[say_something.name])
    assert worker_request.execute() == "over the wire"
    (line,) = task_lines(json_lines)
    assert line["request_id"] == "a-web-request-id"
    assert line["task_id"] == message.headers["id"]
    assert request_id.get() is None and current_task_id.get() is None


def test_outside_a_request_no_header_is_added_and_a_forged_one_is_ignored(published, json_lines):
    headers, message = published(say_something, "from a shell")
    assert REQUEST_ID_HEADER not in headers
    message.headers[REQUEST_ID_HEADER] = 'x" injected\n{"level": "INFO"}'
    Request(message, app=app, task=app.tasks[say_something.name]).execute()
    (line,) = task_lines(json_lines)
    assert line["request_id"] == line["task_id"] == message.headers["id"]


def test_text_format_shows_the_ids_too():
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logging.Formatter(TEXT_FORMAT.replace("%(asctime)s ", "")))
    handler.addFilter(RequestIdFilter())
    logger = logging.getLogger("tests.logging.text")
    logger.addHandler(handler)
    try:
        logger.warning("outside")
        token = request_id.set("abc123def456")
        logger.warning("inside")
        task_token = current_task_id.set("7f1c-task")
        logger.warning("in its task")
        current_task_id.reset(task_token)
        request_id.reset(token)
    finally:
        logger.removeHandler(handler)
    assert stream.getvalue().splitlines() == [
        "WARNING tests.logging.text [-] [-] outside",
        "WARNING tests.logging.text [abc123def456] [-] inside",
        "WARNING tests.logging.text [abc123def456] [7f1c-task] in its task",
    ]


# --- Signed links stay out of the logs --------------------------------------------------


@pytest.mark.django_db
def test_no_signed_newsletter_link_reaches_the_logs(client, json_lines, make_story):
    """Each tokenised newsletter URL, good, tampered and refused by CSRF, GET and POST:
    the token is in no log line, and the access line names the route's argument."""
    from syndication.newsletter import clicks, subscriptions
    from syndication.newsletter.models import Delivery, DeliveryPick, Edition, Subscriber
    from tests.factories import SubscriberFactory

    story = make_story()
    pending = SubscriberFactory(status=Subscriber.Status.PENDING)
    ann = SubscriberFactory(status=Subscriber.Status.ACTIVE)
    edition = Edition.objects.create(title="This week", status=Edition.Status.SENT)
    delivery = Delivery.objects.create(edition=edition, subscriber=ann, state=Delivery.State.SENT)
    DeliveryPick.objects.create(
        delivery=delivery, slot=0, story=story, score=1.0, probability=1.0, reason="r"
    )
    preferences = subscriptions.preferences_token(ann)
    links = {
        f"/newsletter/confirm/{subscriptions.confirm_token(pending)}/": "confirm/<token>/",
        f"/newsletter/preferences/{preferences}/": "preferences/<token>/",
        f"/newsletter/preferences/{preferences}/data/": "preferences/<token>/data/",
        f"/newsletter/c/{clicks.make_token(delivery.pk, 0)}/": "c/<token>/",
        f"/newsletter/unsubscribe/{subscriptions.unsubscribe_token(ann)}/": "unsubscribe/<token>/",
        f"/newsletter/preferences/{preferences}/delete/": "preferences/<token>/delete/",
    }
    tokens = [path.split("/")[3] for path in links]
    strict = Client(enforce_csrf_checks=True)
    statuses = set()
    for path, token in zip(links, tokens, strict=True):
        for url in (path.replace(token, tampered(token)), path):
            statuses.add(client.get(url, HTTP_USER_AGENT=BROWSER).status_code)
            statuses.add(strict.post(url, HTTP_USER_AGENT=BROWSER).status_code)
            statuses.add(client.post(url, HTTP_USER_AGENT=BROWSER).status_code)
    assert {200, 302, 400, 403} <= statuses  # shown, followed, refused as tampered, by CSRF

    written = [json.dumps(line, ensure_ascii=False) for line in json_lines()]
    assert len(written) >= 6 * 2 * 3
    for token in tokens:
        assert not [line for line in written if token[:-1] in line]
    paths = {line["path"] for line in json_lines() if line["logger"] == "storyloom.request"}
    assert {f"/newsletter/{route}" for route in links.values()} <= paths
    django_lines = [line["message"] for line in json_lines() if line["logger"] == "django.request"]
    assert "Bad Request: /newsletter/confirm/<token>/" in django_lines


def tampered(token: str) -> str:
    return token[:-1] + ("A" if token[-1] != "A" else "B")


BROWSER = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 Chrome/126.0 Safari/537.36"


# --- Redaction -------------------------------------------------------------------------

SECRET = "s3cr3tV4lue"
JWT = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJkaWQ6cGxjOmFiYyJ9.c2lnbmF0dXJlLXBhcnQ"


@pytest.mark.parametrize(
    ("text", "kept"),
    [
        # headers, alone or in reprs
        (f"Authorization: Bearer {SECRET}", "Authorization: Bearer ***"),
        (f"authorization: Basic {SECRET}==", "authorization: Basic ***"),
        (f"{{'Authorization': 'Bearer {SECRET}'}}", "{'Authorization': '***'}"),
        (f"[('Authorization', 'Bearer {SECRET}')]", "'Bearer ***'"),
        (f"curl -H 'Authorization: Bearer {SECRET}'", "Bearer ***"),
        (f"X-Api-Key: {SECRET}", "X-Api-Key: ***"),
        (f"Cookie: sessionid={SECRET}; csrftoken={SECRET}", "Cookie: ***"),
        # JSON, compact or spaced, plain or inside a quoted string
        (f'{{"access_token": "{SECRET}", "scope": "write"}}', '"scope": "write"'),
        (f'{{"refresh_token":"{SECRET}"}}', '{"refresh_token":"***"}'),
        (f'{{"accessJwt": "{JWT}", "handle": "a.example"}}', '"handle": "a.example"'),
        (f'{{"refreshJwt":"{JWT}"}}', '{"refreshJwt":"***"}'),
        (f'body=\'{{\\"password\\": \\"{SECRET}\\"}}\'', '\\"password\\": \\"***\\"'),
        ('{"identifier": "a.example", "password": "abcd-efgh-ijkl-mnop"}', "a.example"),
        (f'{{"tokens": {{"access": "{SECRET}", "refresh": "{SECRET}"}}}}', '"tokens": ***'),
        # Python reprs of dicts and keyword arguments
        (f"{{'app_password': '{SECRET}', 'handle': 'me'}}", "'handle': 'me'"),
        (f"{{'client_secret': '{SECRET} with spaces'}}", "{'client_secret': '***'}"),
        (f"connect(handle='me', appPassword='{SECRET}')", "handle='me'"),
        (f"Profile(token=b'{SECRET}')", "Profile(token="),
        # form-encoded bodies and query strings
        (f"grant_type=refresh_token&refresh_token={SECRET}&client_id=42", "client_id=42"),
        (f"handle=me&app-password={SECRET}", "handle=me&app-password=***"),
        (f"https://x.example/cb?code={SECRET}&state=abc", "?code=***&state=abc"),
        (f"https://api.example/1?oauth_token={SECRET}&oauth_verifier={SECRET}", "oauth_token=***"),
        (f"https://a.example/?access_token={SECRET}#top", "access_token=***#top"),
        # recognisable without a name
        (f"createSession answered {JWT}", "createSession answered ***"),
        ("the app password abcd-efgh-ijkl-mnop was refused", "app password *** was refused"),
        (f"Bearer {SECRET} was refused", "Bearer *** was refused"),
        # what was there before
        ("redis://:pa55word@cache:6379/1", "redis://***@cache:6379/1"),
        (f"password={SECRET}", "password=***"),
    ],
)
def test_redact_removes_credentials_in_every_shape(text, kept):
    from cms.logging import redact

    redacted = redact(text)
    assert SECRET not in redacted
    assert JWT.split(".")[1] not in redacted
    assert "abcd-efgh" not in redacted
    assert kept in redacted
    assert redact(redacted) == redacted


def test_redact_keeps_what_is_not_a_credential():
    from cms.logging import redact

    text = (
        "HTTP 429 from https://mastodon.example/api/v1/statuses?limit=5: "
        '{"error": "Too many requests", "id": "109", "handle": "story-teller"} '
        "post 42 idempotency 0f1e2d3c-aaaa-bbbb-cccc-1234567890ab"
    )
    assert redact(text) == text
