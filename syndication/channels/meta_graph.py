"""Meta's Graph API errors, read once for every network on Graph (Facebook Pages, Threads).

Graph says what went wrong in its body, not its HTTP status: throttling and expired
tokens come as 400 or 403 alike. ``{"error": {"message", "type", "code",
"error_subcode", "is_transient", "fbtrace_id"}}`` (Meta's "Handling errors" guide).
The codes both networks share, and what the engine makes of them:

=====================  ===============================================================
code                   engine's word
=====================  ===============================================================
190, 102               ``AuthExpired``: the token is expired or invalidated; reconnect
4, 17, 32, 613, 80001  ``RateLimited``, with the wait the network's caller reads
10, 200–299            ``AuthExpired``: a permission (or a Page task) is missing, and
                       only reconnecting can grant it
1, 2, ``is_transient``  Meta's own failure: ``NotSent``, or ``Unconfirmed`` on a create
(and any 5xx)
anything else          ``Rejected``
=====================  ===============================================================

Each adapter keeps only what is its own (Facebook's 506 duplicate and 341, Threads'
publishing limit and already-published container) and its wording; the exception
raised carries ``graph_code`` and ``graph_subcode`` for the adapter to look at.
"""

from __future__ import annotations

from dataclasses import dataclass

import requests

from .base import (
    BODY_EXCERPT,
    DETAIL_LENGTH,
    AuthExpired,
    NotSent,
    RateLimited,
    Rejected,
    Unconfirmed,
)

TOKEN_CODES = frozenset({190, 102})
THROTTLE_CODES = frozenset({4, 17, 32, 613, 80001})
TRANSIENT_CODES = frozenset({1, 2})


def graph_error(response: requests.Response) -> dict | None:
    """The ``error`` object of a Graph answer, or ``None`` when the body is not one."""
    try:
        data = response.json()
    except ValueError:
        return None
    error = data.get("error") if isinstance(data, dict) else None
    return error if isinstance(error, dict) and "code" in error else None


def is_permission(code) -> bool:
    """Code 10 or 200–299: the token lacks a permission."""
    return code == 10 or (isinstance(code, int) and 200 <= code <= 299)


@dataclass(frozen=True)
class Wording:
    """How one network says each kind of error; ``{detail}`` is Graph's own message with
    its code and subcode, ``{checking}`` what happens after a failed create."""

    expired: str
    permission: str
    throttled: str
    transient: str
    refused: str


def describe(error: dict) -> str:
    """Graph's message, one line, with its code and subcode."""
    code, subcode = error.get("code"), error.get("error_subcode")
    message = " ".join(str(error.get("message") or "").split())[:DETAIL_LENGTH]
    return f"{message} (code {code}{f', subcode {subcode}' if subcode else ''})"


def raise_graph_error(
    response: requests.Response,
    error: dict,
    wording: Wording,
    *,
    creates: bool,
    throttle_codes=THROTTLE_CODES,
    retry_after: float | None = None,
):
    """Raise the engine's exception for a Graph ``error`` (see the module docstring)."""
    code = error.get("code")
    detail = describe(error)
    status = response.status_code
    extra = {}
    if code in TOKEN_CODES:
        cls, said = AuthExpired, wording.expired
    elif code in throttle_codes:
        cls, said, extra = RateLimited, wording.throttled, {"retry_after": retry_after}
    elif is_permission(code):
        cls, said = AuthExpired, wording.permission
    elif code in TRANSIENT_CODES or error.get("is_transient") or status >= 500:
        cls, said = (Unconfirmed if creates else NotSent), wording.transient
    else:
        cls, said = Rejected, wording.refused
    checking = "; checking whether the post was published." if creates else "."
    raise refusal(cls, said.format(detail=detail, checking=checking), response, error, **extra)


def refusal(cls, message: str, response: requests.Response, error: dict, **extra):
    """``cls`` made from a Graph answer, carrying its code and subcode."""
    raised = cls(message, status=response.status_code, body=response.text[:BODY_EXCERPT], **extra)
    raised.graph_code, raised.graph_subcode = error.get("code"), error.get("error_subcode")
    return raised
