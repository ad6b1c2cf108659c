"""Log lines that say which request or task wrote them.

``request_id`` is a context variable: ``cms.middleware.RequestIdMiddleware`` sets it for
each web request (from the proxy's ``X-Request-ID`` or a fresh one) and Celery's
``task_prerun``/``task_postrun`` signals set it to the task's id for each task
(``bind_celery_signals``, called by ``cms.celery``). ``RequestIdFilter`` copies it onto
every record, so both formatters can print it:

* ``JSONFormatter``: one JSON object per line (``time``, ``level``, ``logger``,
  ``message``, ``request_id``, ``exception`` and whatever ``extra=`` added), for a log
  pipeline (``LOG_FORMAT=json``, the default outside development);
* ``TEXT_FORMAT``: the same fields as a readable line (``LOG_FORMAT=text``).

No Django import at module level: ``cms.celery`` imports this before settings load.
"""

import datetime
import json
import logging
import re
import traceback
from contextvars import ContextVar

request_id: ContextVar[str | None] = ContextVar("storyloom_request_id", default=None)

TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"

# What every LogRecord has; anything else on a record came from ``extra=``.
# ``request`` (Django's) is left out too: its repr shows the query string, which may
# carry a signed token.
_STANDARD = frozenset(
    set(vars(logging.LogRecord("", logging.INFO, "", 0, "", None, None)))
    | {"message", "asctime", "request_id", "request", "color_message", "taskName"}
)

_URL_CREDENTIALS = re.compile(r"(?P<scheme>[a-z][a-z0-9+.-]*://)[^/@\s:]*(?::[^/@\s]*)?@", re.I)
_SECRET_PAIRS = re.compile(
    r"(?P<key>\b[\w-]*(?:password|passwd|secret|token|api[_-]?key|authorization)[\w-]*"
    r"\s*[=:]\s*)(?P<quote>['\"]?)[^\s'\",;&]+",
    re.I,
)


def redact(text: str) -> str:
    """``text`` without credentials in URLs (``redis://:pw@host``) or ``password=…`` pairs.

    Used wherever an error message leaves the process where it happened: log lines,
    ``/readyz`` answers, recorded task failures.
    """
    text = _URL_CREDENTIALS.sub(r"\g<scheme>***@", text)
    return _SECRET_PAIRS.sub(r"\g<key>\g<quote>***", text)


class RequestIdFilter(logging.Filter):
    """Put the current request's (or task's) id on each record as ``request_id``.

    Django logs a 4xx or 5xx answer (``django.request``) after the middleware has
    returned, so the context variable is already reset; the record carries the request,
    and the middleware left the id on it.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        if not hasattr(record, "request_id"):
            record.request_id = (
                request_id.get() or getattr(getattr(record, "request", None), "request_id", None)
            ) or "-"
        return True


def _plain(value):
    """``value`` if JSON can hold it as it is, else its ``repr``."""
    if value is None or isinstance(value, str | int | float | bool):
        return value
    if isinstance(value, list | tuple):
        return [_plain(item) for item in value]
    if isinstance(value, dict):
        return {str(key): _plain(item) for key, item in value.items()}
    if isinstance(value, datetime.datetime | datetime.date):
        return value.isoformat()
    return repr(value)


class JSONFormatter(logging.Formatter):
    """One JSON object per line; fields a log pipeline can index without parsing text."""

    def format(self, record: logging.LogRecord) -> str:
        current = getattr(record, "request_id", None)
        if current in (None, "-"):
            current = request_id.get()
        entry = {
            "time": datetime.datetime.fromtimestamp(record.created, tz=datetime.UTC).isoformat(
                timespec="milliseconds"
            ),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "request_id": current,
        }
        if record.exc_info:
            entry["exception"] = "".join(traceback.format_exception(*record.exc_info)).rstrip()
        elif record.exc_text:
            entry["exception"] = record.exc_text
        if record.stack_info:
            entry["stack"] = record.stack_info
        for key, value in vars(record).items():
            if key not in _STANDARD and key not in entry:
                entry[key] = _plain(value)
        return json.dumps(entry, ensure_ascii=False, default=repr)


# --- Celery ----------------------------------------------------------------------------

_task_tokens: dict[str, object] = {}


def _task_started(task_id=None, **kwargs):
    if task_id:
        _task_tokens[task_id] = request_id.set(task_id)


def _task_finished(task_id=None, **kwargs):
    token = _task_tokens.pop(task_id, None)
    if token is None:
        return
    try:
        # Back to what it was: an eager task run inside a web request leaves that
        # request's id in place for the rest of the request.
        request_id.reset(token)
    except ValueError:  # set in another context (a green-thread pool): just clear it
        request_id.set(None)


def bind_celery_signals() -> None:
    """Let every task's log lines carry its task id (``request_id``)."""
    from celery.signals import task_postrun, task_prerun

    task_prerun.connect(_task_started, weak=False, dispatch_uid="storyloom-log-task-started")
    task_postrun.connect(_task_finished, weak=False, dispatch_uid="storyloom-log-task-finished")
