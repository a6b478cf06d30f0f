"""The web process's own Prometheus metrics: requests, latency, errors and database connections.

Every label takes its values from a short list fixed by the code — the HTTP method (or ``other``),
the matched URL *pattern* (``members/<int:member_id>/``, or ``unmatched``), the site (``gym``,
``command_center``, ``other``), the status class — never from the gym: a gym's identity goes into
the logs (``fitbuddy/logs.py``), so the number of series does not grow with the gyms registered.

Under gunicorn with several worker processes, prometheus-client's multiprocess mode
(``PROMETHEUS_MULTIPROC_DIR``, set by ``gunicorn.conf.py``) keeps each process's values in files
that ``/metrics`` adds up; without it (runserver, tests) they live in this process
(docs/observability.md).
"""

from __future__ import annotations

import functools
import threading
import time
import weakref
from collections.abc import Callable
from typing import Any

from django.db import connections
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.backends.postgresql.base import DatabaseWrapper as PostgresWrapper
from django.db.backends.signals import connection_created
from django.http import HttpRequest
from django.http.response import HttpResponseBase
from prometheus_client import Counter, Gauge, Histogram

METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
SITES = ("gym", "command_center", "other")
#: Paths answered before URL resolution (by a middleware), by their own name.
ANSWERED_EARLY = {"/healthz": "healthz", "/readyz": "readyz"}
UNMATCHED = "unmatched"
KINDS = ("management", "affiliate", "other")
#: Seconds: a request's latency buckets (a page is expected well under a second).
LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)

REQUESTS = Counter(
    "fitbuddy_http_requests",
    "HTTP requests answered, by method, URL pattern, site and status class.",
    ["method", "route", "site", "status"],
)
LATENCY = Histogram(
    "fitbuddy_http_request_duration_seconds",
    "Time to answer an HTTP request, by method, URL pattern and site.",
    ["method", "route", "site"],
    buckets=LATENCY_BUCKETS,
)
EXCEPTIONS = Counter(
    "fitbuddy_http_exceptions",
    "Requests whose view raised an exception (answered 500 or by an error handler), by URL pattern and site.",
    ["route", "site"],
)
DB_CONNECTIONS = Gauge(
    "fitbuddy_db_connections_open",
    "Database connections this process holds open, by kind (management database, a gym's database).",
    ["kind"],
    multiprocess_mode="livesum",
)
DB_CONNECTION_ERRORS = Counter(
    "fitbuddy_db_connection_errors",
    "Attempts to open a database connection that failed, by kind.",
    ["kind"],
)


def _kind(alias: str) -> str:
    if alias == "default":
        return "management"
    return "affiliate" if alias.startswith("affiliate_") else "other"


def _method(request: HttpRequest) -> str:
    method = (request.method or "").upper()
    return method if method in METHODS else "other"


def _site(request: HttpRequest) -> str:
    from affiliates.routing.middleware import GYM_URLCONF, MANAGEMENT_URLCONF

    urlconf = getattr(request, "urlconf", None)
    if urlconf == GYM_URLCONF:
        return "gym"
    return "command_center" if urlconf == MANAGEMENT_URLCONF else "other"


def route_of(request: HttpRequest) -> str:
    """The URL pattern the request matched (bounded by the code's URLs), or ``unmatched``."""
    match = getattr(request, "resolver_match", None)
    if match is not None:
        return str(match.route) or "/"  # the site's root is the pattern ""
    return ANSWERED_EARLY.get(request.path_info.rstrip("/"), UNMATCHED)


def status_class(status: int) -> str:
    return f"{status // 100}xx" if 100 <= status < 600 else "other"


# --- database connections: counted from Django's own wrappers, never per gym ---

_wrappers: weakref.WeakSet[BaseDatabaseWrapper] = weakref.WeakSet()
_wrappers_lock = threading.Lock()
_refreshed = [0.0]
REFRESH_SECONDS = 1.0


def _connection_created(sender: object, connection: BaseDatabaseWrapper, **kwargs: object) -> None:
    with _wrappers_lock:
        _wrappers.add(connection)
    connections_refresh()


def connections_open() -> dict[str, int]:
    """Open database connections of this process (every thread), by kind."""
    counts = dict.fromkeys(KINDS, 0)
    with _wrappers_lock:
        wrappers = set(_wrappers)
    # This thread's own, whether or not they opened after the signal was connected (a test's, say).
    wrappers.update(connections.all(initialized_only=True))
    for wrapper in wrappers:
        raw = wrapper.connection
        if raw is not None and not getattr(raw, "closed", False):
            counts[_kind(wrapper.alias)] += 1
    return counts


def connections_refresh(*, at_most_every: float = 0.0) -> None:
    """Set the open-connections gauge from the wrappers (throttled when ``at_most_every`` is given)."""
    now = time.monotonic()
    if at_most_every and now - _refreshed[0] < at_most_every:
        return
    _refreshed[0] = now
    for kind, count in connections_open().items():
        DB_CONNECTIONS.labels(kind=kind).set(count)


def _count_connect_errors(connect: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(connect)
    def get_new_connection(self: BaseDatabaseWrapper, conn_params: dict[str, Any]) -> Any:
        try:
            return connect(self, conn_params)
        except Exception:
            DB_CONNECTION_ERRORS.labels(kind=_kind(self.alias)).inc()
            raise

    get_new_connection.fitbuddy_counted = True  # type: ignore[attr-defined]
    return get_new_connection


def install() -> None:
    """Count connections as Django opens them, and failed attempts (every PostgreSQL alias, gyms' too)."""
    connection_created.connect(_connection_created, dispatch_uid="fitbuddy.metrics.connections")
    if not getattr(PostgresWrapper.get_new_connection, "fitbuddy_counted", False):
        PostgresWrapper.get_new_connection = _count_connect_errors(PostgresWrapper.get_new_connection)  # type: ignore[method-assign]
    for kind in KINDS:  # every series exists from the start, at zero
        DB_CONNECTION_ERRORS.labels(kind=kind)


class MetricsMiddleware:
    """Near the top of MIDDLEWARE (after the request id): times and counts every request, /healthz too."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponseBase]) -> None:
        self.get_response = get_response
        install()

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        started = time.perf_counter()
        response = self.get_response(request)
        elapsed = time.perf_counter() - started
        method, route, site = _method(request), route_of(request), _site(request)
        LATENCY.labels(method=method, route=route, site=site).observe(elapsed)
        REQUESTS.labels(method=method, route=route, site=site, status=status_class(response.status_code)).inc()
        connections_refresh(at_most_every=REFRESH_SECONDS)
        return response

    def process_exception(self, request: HttpRequest, exception: Exception) -> None:
        EXCEPTIONS.labels(route=route_of(request), site=_site(request)).inc()
