"""Log lines that say which request and which gym they belong to, as JSON or as text (LOG_FORMAT).

Every line carries ``request_id`` and ``affiliate`` (the gym's slug, or null):

- in the web process, :class:`RequestLogMiddleware` (first in MIDDLEWARE) takes the request id from a
  valid incoming ``X-Request-ID`` or makes a new one, echoes it in the response, and writes one
  access line per request (``fitbuddy.access``) when ACCESS_LOG is on; the slug comes from the routing
  context (``affiliates.routing.context``) while the gym's request runs, and from the request itself
  for the access line written after it;
- in the Celery worker, ``fitbuddy.task_signals`` sets the task's id as the request id and the slug of
  its ``affiliate_id`` argument for the task's duration;
- anywhere else inside ``affiliate_context`` (a command's ``--affiliate``), the slug of that context.

The gym's identity goes into logs, never into metric labels (docs/observability.md).

Secrets never reach a log line: :class:`ScrubSecrets` cleanses each message, and both formatters
cleanse a traceback, with ``fitbuddy.error_reports.scrub`` (the rules of the error pages' filter).
"""

from __future__ import annotations

import logging
import re
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar, Token
from types import TracebackType
from typing import Any

from django.http import HttpRequest
from django.http.response import HttpResponseBase
from pythonjsonlogger.json import JsonFormatter

from fitbuddy.error_reports import known_secrets, scrub

_request_id: ContextVar[str | None] = ContextVar("fitbuddy_request_id", default=None)
_affiliate: ContextVar[str | None] = ContextVar("fitbuddy_log_affiliate", default=None)

#: An incoming X-Request-ID is kept only if it looks like one (a proxy's id, a uuid): never free text.
REQUEST_ID_RE = re.compile(r"^[A-Za-z0-9._:-]{8,64}$")
HEADER = "X-Request-ID"
access_log = logging.getLogger("fitbuddy.access")

_ExcInfo = tuple[type[BaseException], BaseException, TracebackType | None] | tuple[None, None, None]


def context_enter(
    *, request_id: str | None, affiliate: str | None = None
) -> tuple[Token[str | None], Token[str | None]]:
    """Lines logged from now on carry this request id and gym slug, until :func:`context_exit`."""
    return _request_id.set(request_id), _affiliate.set(affiliate)


def context_exit(tokens: tuple[Token[str | None], Token[str | None]]) -> None:
    _request_id.reset(tokens[0])
    _affiliate.reset(tokens[1])


@contextmanager
def log_context(*, request_id: str | None, affiliate: str | None = None) -> Iterator[None]:
    """Lines logged inside the block carry this request id and gym slug."""
    tokens = context_enter(request_id=request_id, affiliate=affiliate)
    try:
        yield
    finally:
        context_exit(tokens)


def set_affiliate(slug: str | None) -> None:
    """Name the gym of the rest of the current context (a task, once its affiliate is known)."""
    _affiliate.set(slug)


def current_request_id() -> str | None:
    return _request_id.get()


def _current_slug() -> str | None:
    from affiliates.routing.context import current_affiliate

    affiliate = current_affiliate()
    return affiliate.slug if affiliate is not None else _affiliate.get()


class ContextFilter(logging.Filter):
    """Adds ``request_id`` and ``affiliate`` to every record a handler sees."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = _request_id.get()
        try:
            record.affiliate = _current_slug()
        except Exception:  # before Django's apps are loaded (a line logged at start-up)
            record.affiliate = _affiliate.get()
        return True


class ScrubSecrets(logging.Filter):
    """A message that carries a password (``password=…``, a URL's) is logged with it replaced."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        cleansed = scrub(message)
        if cleansed != message:
            record.msg, record.args = cleansed, None
        return True


def _scrubbed_exception(text: str) -> str:
    try:
        secrets = known_secrets()
    except Exception:  # settings or connections not ready: the patterns alone
        secrets = []
    return scrub(text, secrets)


class JsonLines(JsonFormatter):
    """One JSON object per line: time, level, logger, message, request_id, affiliate (and exc_info)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("rename_fields", {"asctime": "time", "levelname": "level", "name": "logger"})
        super().__init__("%(asctime)s %(levelname)s %(name)s %(message)s %(request_id)s %(affiliate)s", **kwargs)

    def formatTime(self, record: logging.LogRecord, datefmt: str | None = None) -> str:  # noqa: N802 (logging's name)
        moment = time.gmtime(record.created)
        return time.strftime("%Y-%m-%dT%H:%M:%S", moment) + f".{int(record.msecs):03d}Z"

    def formatException(self, ei: _ExcInfo) -> str | list[str]:  # type: ignore[override]  # noqa: N802
        formatted = super().formatException(ei)
        if isinstance(formatted, list):
            return [_scrubbed_exception(line) for line in formatted]
        return _scrubbed_exception(formatted)


class Text(logging.Formatter):
    """The readable format (local development), its tracebacks cleansed as well."""

    def formatException(self, ei: _ExcInfo) -> str:  # noqa: N802 (logging's name)
        return _scrubbed_exception(super().formatException(ei))


def _request_id_of(request: HttpRequest) -> str:
    incoming = request.headers.get(HEADER, "")
    return incoming if REQUEST_ID_RE.match(incoming) else uuid.uuid4().hex


class RequestLogMiddleware:
    """First in MIDDLEWARE: a request id for every line the request logs, and one access line."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponseBase]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        request_id = _request_id_of(request)
        started = time.perf_counter()
        with log_context(request_id=request_id):
            response = self.get_response(request)
            response[HEADER] = request_id
            affiliate = getattr(request, "affiliate", None)
            set_affiliate(affiliate.slug if affiliate is not None else None)
            if access_log.isEnabledFor(logging.INFO):
                # The path only: a query string may carry what a visitor searched for.
                access_log.info(
                    "%s %s %s %.0f ms",
                    request.method,
                    request.path,
                    response.status_code,
                    (time.perf_counter() - started) * 1000,
                    extra={"status": response.status_code},
                )
        return response
