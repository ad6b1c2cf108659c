"""Log lines that say which request or task wrote them.

``request_id`` is a context variable: ``cms.middleware.RequestIdMiddleware`` sets it for
each web request (from the proxy's ``X-Request-ID`` or a fresh one). A task keeps the id
of the request that caused it: Celery's ``before_task_publish`` signal copies the
current id into the task message's header ``storyloom_request_id``, and ``task_prerun``
sets ``request_id`` from that header (an eager task, run in the caller's context, keeps
the caller's id) and ``current_task_id`` to the task's own; ``task_postrun`` puts both back
(``bind_celery_signals``, called by ``cms.celery``). A task nobody's request caused
(beat's) has its own id as ``request_id``, so whatever it enqueues carries that on. A
request's whole story — the page, the tasks it enqueued, the tasks those enqueued —
is one ``request_id``.

``RequestIdFilter`` copies both onto every record, so both formatters can print them:

* ``JSONFormatter``: one JSON object per line (``time``, ``level``, ``logger``,
  ``message``, ``request_id``, ``task_id`` in tasks, ``exception`` and whatever
  ``extra=`` added), for a log pipeline (``LOG_FORMAT=json``, the default outside
  development);
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
#: The running task's own id (None outside tasks).
current_task_id: ContextVar[str | None] = ContextVar("storyloom_task_id", default=None)
#: The task message header carrying the id of the request that enqueued the task.
REQUEST_ID_HEADER = "storyloom_request_id"
#: What a header may hold: ``cms.middleware.REQUEST_ID`` allows 128 characters at most.
_HEADER_VALUE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:-]{0,127}")

TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s [%(request_id)s] [%(task_id)s] %(message)s"

# What every LogRecord has; anything else on a record came from ``extra=``.
# ``request`` (Django's) is left out too: its repr shows the query string, which may
# carry a signed token.
_STANDARD = frozenset(
    set(vars(logging.LogRecord("", logging.INFO, "", 0, "", None, None)))
    | {"message", "asctime", "request_id", "task_id", "request", "color_message", "taskName"}
)

_URL_CREDENTIALS = re.compile(r"(?P<scheme>[a-z][a-z0-9+.-]*://)[^/@\s:]*(?::[^/@\s]*)?@", re.I)
#: Names whose value is a credential, in any spelling: ``password``, ``app_password``,
#: ``appPassword``, ``access_token``, ``refreshJwt``, ``X-Api-Key``, ``client_secret``,
#: ``oauth_signature``, ``code_verifier``, ``Authorization``, ``sessionid``...
_CREDENTIAL_NAME = (
    r"[\w.-]*?(?:passw(?:or)?d|passphrase|pwd|secret|token|jwt|credential|signature|verifier"
    r"|authori[sz]ation|cookie|session[_-]?id|(?:api|access|private|signing)[_-]?key|apikey)"
    r"[\w-]*"
)
#: ``name: value`` / ``name=value``, the name bare or quoted (JSON, Python reprs, JSON
#: inside a quoted string) and the value quoted, a flat object, an HTTP auth scheme with
#: its credentials (``Bearer X``) or anything up to the next separator.
_SECRET_PAIRS = re.compile(
    rf"""(?P<key>(?<![\w-])(?:\\?["'])?{_CREDENTIAL_NAME}(?:\\?["'])?\s*(?:=>|[:=])\s*)
    (?:
        (?P<prefix>b)?(?P<quoted>"(?:\\.|[^"\\\n])*"|'(?:\\.|[^'\\\n])*'|\\"(?:(?!\\").)*\\")
      | (?P<object>\{{[^{{}}]*\}})
      | (?P<scheme>(?:Bearer|Basic|Digest|Token|Bot|DPoP|OAuth)\s+)?[^\s'",;&#)}}\]<>]+
    )""",
    re.I | re.X,
)
#: Credentials that are recognisable without a name: ``Bearer X`` in any shape
#: (a header tuple, a curl line), JSON Web Tokens (Bluesky's access and refresh JWTs) and
#: Bluesky app passwords (``abcd-efgh-ijkl-mnop``), and OAuth codes in query strings.
_BEARER = re.compile(r"\b(?P<scheme>Bearer\s+)(?!\*\*\*)[\w.~+/-]+=*", re.I)
_JWT = re.compile(r"\beyJ[\w-]{4,}\.[\w-]{4,}\.[\w-]*")
_APP_PASSWORD = re.compile(r"(?<![\w-])[a-z0-9]{4}(?:-[a-z0-9]{4}){3}(?![\w-])")
_QUERY_CODE = re.compile(r"(?P<key>[?&](?:code|oauth_verifier)=)[^&#\s'\"]+", re.I)


def _hide(match: re.Match) -> str:
    quoted = match.group("quoted")
    if quoted:
        quote = '\\"' if quoted.startswith("\\") else quoted[0]
        return f"{match.group('key')}{match.group('prefix') or ''}{quote}***{quote}"
    return f"{match.group('key')}{match.group('scheme') or ''}***"


def redact(text: str) -> str:
    """``text`` without credentials: in URLs (``redis://:pw@host``), after a name that
    says it holds one (``password=…``, ``"access_token": "…"``, ``{'refreshJwt': …}``,
    ``Authorization: Bearer …``, ``?client_secret=…``) and in shapes that give
    themselves away (bearer credentials, JWTs, app passwords, OAuth codes in URLs).

    Used wherever an error message leaves the process where it happened: log lines,
    ``/readyz`` answers, recorded task failures.
    """
    text = _URL_CREDENTIALS.sub(r"\g<scheme>***@", text)
    text = _SECRET_PAIRS.sub(_hide, text)
    text = _BEARER.sub(r"\g<scheme>***", text)
    text = _JWT.sub("***", text)
    text = _APP_PASSWORD.sub("***", text)
    return _QUERY_CODE.sub(r"\g<key>***", text)


#: URL arguments that are credentials, by name: the ``<token>`` of a signed newsletter
#: link, a password reset's ``<uidb64>/<token>``, a ``<signature>``, a ``<key>``...
_SECRET_ARGUMENT = re.compile(r"token|sig|secret|passw|key|hash|code|uid|session", re.I)


def loggable_path(request) -> str:
    """``request``'s path as a log may keep it: the value of every URL argument that is a
    credential replaced by the argument's name (``/newsletter/confirm/<token>/``), and no
    query string. A signed link is a bearer credential; logs are read by many and kept long.
    """
    path = request.path
    match = getattr(request, "resolver_match", None)
    for name, value in (getattr(match, "kwargs", None) or {}).items():
        if not (isinstance(value, str) and value and _SECRET_ARGUMENT.search(name)):
            continue
        if "/" in value:  # a <path:...> argument
            path = path.replace(value, f"<{name}>")
        else:
            path = "/".join(f"<{name}>" if part == value else part for part in path.split("/"))
    return path


class CredentialPathFilter(logging.Filter):
    """Show Django's own request lines (``Not Found: /…``, ``Forbidden (CSRF …): /…``,
    ``Internal Server Error: /…``) with ``loggable_path`` instead of the raw path."""

    def filter(self, record: logging.LogRecord) -> bool:
        request = getattr(record, "request", None)
        path = getattr(request, "path", None)
        if not path or not isinstance(record.args, tuple):
            return True
        shown = loggable_path(request)
        if shown != path:
            # Django escapes the path it logs (django.utils.log.log_response).
            raw = {path, path.encode("unicode_escape").decode("ascii")}
            record.args = tuple(shown if arg in raw else arg for arg in record.args)
        return True


#: Celery's line for every task a worker receives and every one that succeeds, and beat's
#: for every task it sends: by logger, how the message starts. Beat sends a flush every
#: five seconds, so at INFO these bury everything else in a terminal.
ROUTINE = {
    "celery.worker.strategy": ("Task %(name)s[%(id)s] received",),
    "celery.app.trace": ("Task %(name)s[%(id)s] succeeded",),
    "celery.beat": ("Scheduler: Sending due task",),
    # A flush not started in time expires (the next one replaces it).
    "celery.worker.request": ("Discarding revoked task",),
}


class RoutineFilter(logging.Filter):
    """Log Celery's routine lines (``ROUTINE``) at DEBUG instead of INFO.

    Celery writes them at INFO; on the loggers of ``ROUTINE`` (``LOGGING``) this filter
    lowers the record to DEBUG and lets it through only where DEBUG is shown
    (``--loglevel=DEBUG``, ``LOG_LEVEL=DEBUG``). A task's failure, retry or rejection,
    and beat's own start, keep their levels; what a person needs from the tasks (a post
    published, an edition sent) is logged at INFO by the tasks themselves.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        if record.levelno != logging.INFO or not isinstance(record.msg, str):
            return True
        starts = ROUTINE.get(record.name)
        if not starts or not record.msg.startswith(starts):
            return True
        record.levelno, record.levelname = logging.DEBUG, logging.getLevelName(logging.DEBUG)
        return logging.getLogger(record.name).isEnabledFor(logging.DEBUG)


class RequestIdFilter(logging.Filter):
    """Put the current request's id on each record as ``request_id``, and the running
    task's id as ``task_id`` (``-`` when there is none).

    Django logs a 4xx or 5xx answer (``django.request``) after the middleware has
    returned, so the context variable is already reset; the record carries the request,
    and the middleware left the id on it.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        if not hasattr(record, "request_id"):
            record.request_id = (
                request_id.get() or getattr(getattr(record, "request", None), "request_id", None)
            ) or "-"
        if not hasattr(record, "task_id"):
            record.task_id = current_task_id.get() or "-"
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
        task = getattr(record, "task_id", None)
        if task in (None, "-"):
            task = current_task_id.get()
        if task:
            entry["task_id"] = task
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

_task_tokens: dict[str, tuple] = {}


def _request_id_on_publish(headers=None, **kwargs):
    """``before_task_publish``: the message carries the id of the request enqueuing it."""
    current = request_id.get()
    if current and headers is not None:
        headers.setdefault(REQUEST_ID_HEADER, current)


def _request_id_of(task) -> str | None:
    """The id of the request that caused ``task``: its message's header, or for an eager
    task (run here, in the caller's context) the caller's id."""
    context = getattr(task, "request", None)
    if context is None:
        return None
    offered = getattr(context, REQUEST_ID_HEADER, None) or (
        getattr(context, "headers", None) or {}
    ).get(REQUEST_ID_HEADER)
    if isinstance(offered, str) and _HEADER_VALUE.fullmatch(offered):
        return offered
    if getattr(context, "is_eager", False):
        return request_id.get()
    return None


def _task_started(task_id=None, task=None, **kwargs):
    if not task_id:
        return
    origin = _request_id_of(task) or task_id
    _task_tokens[task_id] = (request_id.set(origin), current_task_id.set(task_id))


def _task_finished(task_id=None, **kwargs):
    tokens = _task_tokens.pop(task_id, None)
    if tokens is None:
        return
    origin_token, task_token = tokens
    try:
        # Back to what they were: an eager task run inside a web request leaves that
        # request's id in place for the rest of the request.
        current_task_id.reset(task_token)
        request_id.reset(origin_token)
    except ValueError:  # set in another context (a green-thread pool): just clear them
        current_task_id.set(None)
        request_id.set(None)


def bind_celery_signals() -> None:
    """Let every task's log lines carry the id of the request that caused it
    (``request_id``) and its own (``task_id``)."""
    from celery.signals import before_task_publish, task_postrun, task_prerun

    before_task_publish.connect(
        _request_id_on_publish, weak=False, dispatch_uid="storyloom-log-request-id-header"
    )
    task_prerun.connect(_task_started, weak=False, dispatch_uid="storyloom-log-task-started")
    task_postrun.connect(_task_finished, weak=False, dispatch_uid="storyloom-log-task-finished")
