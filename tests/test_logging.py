"""Structured logs: one JSON object per line, carrying the request's (or the task's) id."""

import io
import json
import logging

import pytest

from cms.celery import app
from cms.logging import JSONFormatter, RequestIdFilter, request_id

task_log = logging.getLogger("tests.logging.task")


@app.task(name="tests.logging.say_something")
def say_something(word):
    task_log.warning("the task says %s", word)
    return word


@pytest.fixture
def json_lines():
    """Records of every logger, as LOGGING's JSON handler would write them; a list of dicts."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JSONFormatter())
    handler.addFilter(RequestIdFilter())
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


def test_a_task_s_log_lines_carry_its_task_id(json_lines):
    token = request_id.set("a-web-request-id")
    try:
        result = say_something.apply(args=["hello"])
        assert request_id.get() == "a-web-request-id"  # the request's id is back
    finally:
        request_id.reset(token)
    (line,) = [line for line in json_lines() if line["logger"] == task_log.name]
    assert line["message"] == "the task says hello"
    assert line["request_id"] == result.id


def test_text_format_shows_the_id_too():
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logging.Formatter("%(levelname)s [%(request_id)s] %(message)s"))
    handler.addFilter(RequestIdFilter())
    logger = logging.getLogger("tests.logging.text")
    logger.addHandler(handler)
    try:
        logger.warning("outside")
        token = request_id.set("abc123def456")
        logger.warning("inside")
        request_id.reset(token)
    finally:
        logger.removeHandler(handler)
    assert stream.getvalue().splitlines() == [
        "WARNING [-] outside",
        "WARNING [abc123def456] inside",
    ]
