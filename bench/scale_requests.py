"""The scale benchmark's request figures: queries and time of a gym request and of the command
center's pages, the registry's own queries, and the web process's memory over many gyms.

Imported by bench/scale.py after scratch has set Django up.
"""

from __future__ import annotations

import statistics
import time
from dataclasses import dataclass
from typing import Any

from common import gym_client, gym_login_make
from django.contrib.auth import get_user_model
from django.db import connection, connections
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from affiliates.models import Affiliate
from affiliates.operations import placement
from affiliates.people import sessions
from affiliates.routing.connections import alias_for, open_affiliate_connections

PASSWORD = "bench-password-1"
GYM_PATH = "/members/"


def rss_mib() -> float:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


@dataclass
class RequestFigures:
    """One gym request's queries (management + gym) cold (host not cached) and warm, and its warm time;
    the registry's lookups' times; the command center's pages' queries and times."""

    registered: int
    cold: tuple[int, int]
    warm: tuple[int, int]
    warm_ms: float
    host_lookup_ms: float
    placement_ms: float
    staff: dict[str, tuple[int, float, int]]  # page -> (management queries, ms, status)

    def lines(self) -> list[str]:
        out = [
            f"with {self.registered} gyms registered: a gym's {GYM_PATH} (owner) makes {self.cold[0]} + {self.cold[1]}"
            f" queries (management + gym) with its host not cached, {self.warm[0]} + {self.warm[1]} warm;"
            f" warm p50 {self.warm_ms:.1f} ms",
            f"  registry: host lookup (uncached, one query) {self.host_lookup_ms:.2f} ms p50;"
            f" placement of a new gym (servers with their load) {self.placement_ms:.2f} ms p50",
        ]
        for page, (queries, ms, status) in self.staff.items():
            out.append(f"  command center {page}: {queries} management queries, {ms:.0f} ms (status {status})")
        return out


def _median_ms(action: Any, rounds: int) -> float:
    samples = []
    for _ in range(rounds):
        started = time.perf_counter()
        action()
        samples.append((time.perf_counter() - started) * 1000)
    return statistics.median(samples)


def staff_client() -> Client:
    user_model = get_user_model()
    user = user_model.objects.filter(username="scale-bench").first() or user_model.objects.create_superuser(
        username="scale-bench", email="scale@bench.test", password=PASSWORD
    )
    client = Client(HTTP_HOST="admin.localhost")
    client.force_login(user)
    session = client.session
    session[sessions.SITE_KEY] = sessions.COMMAND_CENTER
    session.save()
    return client


def measure(affiliate: Affiliate, client: Client, registered: int, staff: Client) -> RequestFigures:
    alias = alias_for(affiliate)
    host = affiliate.domains.get().domain
    counts = []
    for cold in (True, False):
        if cold:
            Affiliate.objects.clear_host_cache()
        with CaptureQueriesContext(connection) as mgmt, CaptureQueriesContext(connections[alias]) as gym:
            response = client.get(GYM_PATH)
        assert response.status_code == 200, (GYM_PATH, response.status_code)
        counts.append((len(mgmt.captured_queries), len(gym.captured_queries)))
    warm_ms = _median_ms(lambda: client.get(GYM_PATH), 30)

    def lookup() -> None:
        Affiliate.objects.clear_host_cache()
        Affiliate.objects.for_host(host)

    pages = {
        "affiliate list": reverse("admin:affiliates_affiliate_changelist"),
        "fleet overview": reverse("admin:affiliates_fleet"),
    }
    staff_figures = {}
    for label, url in pages.items():
        staff.get(url)  # warm
        with CaptureQueriesContext(connection) as mgmt:
            started = time.perf_counter()
            response = staff.get(url)
            ms = (time.perf_counter() - started) * 1000
        staff_figures[label] = (len(mgmt.captured_queries), ms, response.status_code)
    return RequestFigures(
        registered=registered,
        cold=counts[0],
        warm=counts[1],
        warm_ms=warm_ms,
        host_lookup_ms=_median_ms(lookup, 50),
        placement_ms=_median_ms(lambda: placement.database_server_choose(), 20),
        staff=staff_figures,
    )


_owners: dict[int, Any] = {}


def owner_client(affiliate: Affiliate) -> Client:
    """A client logged in as the gym's owner (made once, in the gym's own database)."""
    if affiliate.pk not in _owners:
        _owners[affiliate.pk] = gym_login_make(affiliate, "owner@scale.test", "owner", PASSWORD)
    return gym_client(affiliate, _owners[affiliate.pk])


def touch(gyms: list[Affiliate]) -> dict[str, float]:
    """The process's memory before and after one request to each gym, and after a second round."""
    start = rss_mib()
    clients = [owner_client(a) for a in gyms]  # each gym's database reached once already (its login)
    for client in clients[:3]:
        client.get(GYM_PATH)  # imports, templates, caches
    before = rss_mib()
    for client in clients:
        assert client.get(GYM_PATH).status_code == 200
    after = rss_mib()
    for client in clients:
        client.get(GYM_PATH)
    again = rss_mib()
    return {
        "gyms": len(gyms),
        "start": start,
        "before": before,
        "after": after,
        "again": again,
        "aliases": sum(1 for a in connections.settings if a != "default"),
        "open_connections": open_affiliate_connections(),
        "host_cache": len(Affiliate.objects._host_cache),
    }
