"""Meta's Graph errors, read once for Facebook Pages and Threads (``meta_graph``)."""

import json

import pytest
import requests

from syndication.channels import facebook, threads
from syndication.channels.base import AuthExpired, NotSent, RateLimited, Rejected, Unconfirmed
from syndication.channels.meta_graph import graph_error, raise_graph_error


def answer(status: int, body) -> requests.Response:
    response = requests.Response()
    response.status_code = status
    response._content = body if isinstance(body, bytes) else json.dumps(body).encode()
    return response


def error(code, subcode=None, **extra):
    return {
        "error": {
            "message": "  Something\n happened ",
            "code": code,
            "error_subcode": subcode,
            **extra,
        }
    }


@pytest.mark.parametrize(
    "status, body, creates, expected",
    [
        (400, error(190, 463), False, AuthExpired),
        (400, error(102), False, AuthExpired),
        (403, error(10), True, AuthExpired),
        (400, error(200), False, AuthExpired),
        (400, error(299), False, AuthExpired),
        (400, error(4), True, RateLimited),
        (400, error(17), False, RateLimited),
        (400, error(32), False, RateLimited),
        (400, error(613), False, RateLimited),
        (400, error(80001), False, RateLimited),
        (500, error(1), True, Unconfirmed),
        (503, error(2), False, NotSent),
        (400, error(100, is_transient=True), True, Unconfirmed),
        (502, error(100), False, NotSent),
        (500, error(10), True, AuthExpired),  # the code decides before the status
        (400, error(100, 33), False, Rejected),
        (400, error(300), False, Rejected),
        (400, error("not a number"), False, Rejected),
    ],
)
@pytest.mark.parametrize("wording", [facebook.WORDING, threads.WORDING])
def test_each_graph_code_means_the_same_on_both_networks(status, body, creates, expected, wording):
    response = answer(status, body)
    with pytest.raises(expected) as raised:
        raise_graph_error(
            response, graph_error(response), wording, creates=creates, retry_after=7.0
        )
    exc = raised.value
    assert exc.graph_code == body["error"]["code"]
    assert exc.graph_subcode == body["error"]["error_subcode"]
    assert f"Something happened (code {body['error']['code']}" in exc.message
    assert exc.status == status
    if expected is RateLimited:
        assert exc.retry_after == 7.0
    if expected is Unconfirmed:
        assert exc.message.endswith("checking whether the post was published.")


@pytest.mark.parametrize(
    "body", [b"<html>Bad gateway</html>", b"[]", b'{"error": "text"}', b'{"error": {"x": 1}}']
)
def test_an_answer_that_is_not_a_graph_error_is_left_to_the_http_status(body):
    assert graph_error(answer(502, body)) is None


def test_facebook_counts_its_page_posting_limit_as_throttling_and_threads_does_not():
    response = answer(400, error(341))
    with pytest.raises(RateLimited):
        raise_graph_error(
            response,
            graph_error(response),
            facebook.WORDING,
            creates=True,
            throttle_codes=facebook.THROTTLE_CODES,
        )
    with pytest.raises(Rejected):
        raise_graph_error(response, graph_error(response), threads.WORDING, creates=True)
