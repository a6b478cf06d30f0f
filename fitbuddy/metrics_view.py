"""``/metrics``: Prometheus' text format, on the command center's hosts only, behind a bearer token.

- ``METRICS_TOKEN`` set: ``Authorization: Bearer <token>`` is required (compared in constant time);
  anything else is a 401.
- No token configured: a 404 — except in DEBUG (a developer's machine), where a request from this
  machine itself (127.0.0.1, ::1) is answered.

A gym's host has no ``/metrics`` (``fitbuddy/urls_gym.py`` does not route it). Never cached.
"""

from __future__ import annotations

import hmac
import os

from django.conf import settings
from django.http import Http404, HttpRequest, HttpResponse
from django.views.decorators.cache import never_cache
from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, CollectorRegistry, generate_latest, multiprocess

from fitbuddy import metrics
from fitbuddy.metrics_collectors import CeleryCollector, RegistryCollector

LOCAL_ADDRESSES = frozenset({"127.0.0.1", "::1"})

_scrape_time = CollectorRegistry(auto_describe=False)
_scrape_time.register(RegistryCollector())
_scrape_time.register(CeleryCollector())


def multiprocess_dir() -> str:
    """PROMETHEUS_MULTIPROC_DIR when set: several processes' values, added up from their files."""
    return os.environ.get("PROMETHEUS_MULTIPROC_DIR", "")


def exposition() -> bytes:
    """Every metric in Prometheus' text format: this process's (or all gunicorn workers'), then scrape-time ones."""
    metrics.connections_refresh()
    if multiprocess_dir():
        processes = CollectorRegistry()
        multiprocess.MultiProcessCollector(processes)  # type: ignore[no-untyped-call]
        own = generate_latest(processes)
    else:
        own = generate_latest(REGISTRY)
    return own + generate_latest(_scrape_time)


def _authorised(request: HttpRequest) -> bool:
    token: str = settings.METRICS_TOKEN
    if not token:
        if settings.DEBUG and request.META.get("REMOTE_ADDR") in LOCAL_ADDRESSES:
            return True
        raise Http404("metrics are not configured")
    scheme, _, offered = request.headers.get("Authorization", "").partition(" ")
    return scheme.lower() == "bearer" and hmac.compare_digest(offered.strip().encode(), token.encode())


@never_cache
def metrics_view(request: HttpRequest) -> HttpResponse:
    if not _authorised(request):
        response = HttpResponse("A valid bearer token is required.\n", status=401, content_type="text/plain")
        response["WWW-Authenticate"] = 'Bearer realm="metrics"'
        return response
    return HttpResponse(exposition(), content_type=CONTENT_TYPE_LATEST)
