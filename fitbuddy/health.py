"""/healthz and /readyz for load balancers and orchestrators.

Answered by a middleware placed first, before host checks, HTTPS redirects, sessions and the
affiliate lookup: a load balancer probes an instance by its address, over plain HTTP.

- ``/healthz``: the process is alive and serving (200, nothing checked).
- ``/readyz``: the process can do its work: the management database, Redis, and every database
  server that takes affiliates answer within a couple of seconds. 200 when all do, else 503. The
  body names each check and says ``ok`` or ``failed``; why it failed goes to the log, not to
  whoever asked.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Mapping
from functools import partial
from typing import TYPE_CHECKING

import psycopg
from django.conf import settings
from django.db import connections
from django.http import HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from redis import Redis

if TYPE_CHECKING:
    from affiliates.models import DatabaseServer

log = logging.getLogger(__name__)

TIMEOUT = 2  # seconds, for each check


def _management_database() -> None:
    with connections["default"].cursor() as cursor:
        cursor.execute("SELECT 1")


def _redis() -> None:
    Redis.from_url(settings.REDIS_URL, socket_connect_timeout=TIMEOUT, socket_timeout=TIMEOUT).ping()


def _server(server: DatabaseServer) -> None:
    from affiliates.infra.targets import server_admin_target

    with psycopg.connect(**server_admin_target(server).conninfo(), connect_timeout=TIMEOUT) as conn:
        conn.execute("SELECT 1")


def readiness() -> dict[str, bool]:
    """Each check's name -> whether it passed."""
    from affiliates.models import DatabaseServer

    checks = {"management_database": _management_database, "redis": _redis}
    results: dict[str, bool] = {}
    for name, check in checks.items():
        results[name] = _passes(name, check)
    if results["management_database"]:
        for server in DatabaseServer.objects.filter(is_accepting=True).order_by("name"):
            results[f"database_server:{server.name}"] = _passes(server.name, partial(_server, server))
    return results


def _passes(name: str, check: Callable[[], object]) -> bool:
    try:
        check()
    except Exception as exc:  # any failure makes the instance not ready; the reason is logged
        log.warning("readyz: %s failed: %s: %s", name, type(exc).__name__, " ".join(str(exc).split())[:300])
        return False
    return True


class HealthMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponseBase]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        path = request.path_info.rstrip("/")
        if path == "/healthz":
            return _json({"status": "alive"}, 200)
        if path == "/readyz":
            results = readiness()
            ready = all(results.values())
            body: dict[str, object] = {"status": "ready" if ready else "not ready"}
            body["checks"] = {name: "ok" if passed else "failed" for name, passed in results.items()}
            return _json(body, 200 if ready else 503)
        return self.get_response(request)


def _json(body: Mapping[str, object], status: int) -> HttpResponse:
    response = HttpResponse(json.dumps(body), status=status, content_type="application/json")
    response["Cache-Control"] = "no-store"
    return response
