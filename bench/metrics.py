# ruff: noqa: I001, E402  (scratch must be imported first: it sets Django up on a scratch database)
"""/metrics with thousands of gyms registered: its p50/p95 against /healthz, and what a gym's request costs.

A scratch management database gets BENCH_METRICS_GYMS (3000) gyms as registry rows only (no gym
databases): mostly active, some suspended, failed or being provisioned, each with a provisioning's
worth of events over the last two days, a third with a backup. Then, in this process (Django's test
client: the whole middleware stack, no network), BENCH_METRICS_ROUNDS (300) scrapes of /metrics and
as many of /healthz (the baseline: a middleware's answer with no query), interleaved.

Printed: p50 and p95 of each, the ratio /metrics / /healthz at p95, and the management-database
queries of one scrape and of one gym request (its login page, host lookup cache cold) with 10 gyms
registered and with BENCH_METRICS_GYMS. Fails if /metrics' p95 is over 50 ms, or if a scrape's or a
gym request's queries grow with the gyms registered.
"""

from __future__ import annotations

import os
import statistics
import sys
import time

import scratch

from django.conf import settings
from django.db import connections
from django.test import Client
from django.test.utils import CaptureQueriesContext

from affiliates.models import Affiliate
from fitbuddy.metrics_collectors import CeleryCollector, RegistryCollector

GYMS = int(os.environ.get("BENCH_METRICS_GYMS", "3000"))
ROUNDS = int(os.environ.get("BENCH_METRICS_ROUNDS", "300"))
TOKEN = "bench-metrics-token-0123456789abcdef"
P95_LIMIT_MS = 50.0


def register(first: int, count: int) -> None:
    """``count`` gyms as rows (affiliates, domains, events) in a few statements."""
    with connections["default"].cursor() as cursor:
        cursor.execute(
            """
            INSERT INTO affiliate (slug, name, status, activated_at, created_at)
            SELECT %(prefix)s || n, 'Bench gym ' || n,
                   CASE WHEN n %% 50 = 0 THEN 'suspended' WHEN n %% 97 = 0 THEN 'failed'
                        WHEN n %% 89 = 0 THEN 'requested' ELSE 'active' END,
                   now() - interval '3 days', now() - interval '3 days'
              FROM generate_series(%(first)s, %(last)s) n
            """,
            {"prefix": scratch.SLUG_PREFIX, "first": first, "last": first + count - 1},
        )
        cursor.execute(
            "INSERT INTO affiliate_domain (domain, affiliate_id, is_primary)"
            " SELECT replace(slug, '_', '-') || '.localhost', id, true FROM affiliate"
            " WHERE id NOT IN (SELECT affiliate_id FROM affiliate_domain)"
        )
        cursor.execute(
            """
            INSERT INTO affiliate_event (affiliate_id, step, outcome, duration_ms, created_at)
            SELECT a.id, s.step, 'succeeded', 10, now() - (a.id %% 48) * interval '1 hour'
              FROM affiliate a
             CROSS JOIN unnest(ARRAY['requested', 'enqueue', 'create_role', 'create_database', 'migrate',
                                     'grant_privileges', 'owner_login', 'activate']) AS s(step)
             WHERE a.id BETWEEN (SELECT min(id) FROM affiliate WHERE slug = %(prefix)s || %(first)s)
                            AND (SELECT max(id) FROM affiliate)
            UNION ALL
            SELECT a.id, 'backup', 'succeeded', 100, now() - (a.id %% 30) * interval '1 hour'
              FROM affiliate a WHERE a.id %% 3 = 0
               AND a.id >= (SELECT min(id) FROM affiliate WHERE slug = %(prefix)s || %(first)s)
            """,
            {"prefix": scratch.SLUG_PREFIX, "first": first},
        )
        cursor.execute("ANALYZE affiliate; ANALYZE affiliate_event; ANALYZE affiliate_domain")


def queries(client: Client, path: str, **headers: str) -> int:
    Affiliate.objects.clear_host_cache()
    with CaptureQueriesContext(connections["default"]) as captured:
        response = client.get(path, **headers)
    assert response.status_code == 200, (path, response.status_code)
    return len(captured.captured_queries)


def gym_request_queries() -> int:
    slug = Affiliate.objects.filter(status="active").order_by("pk").values_list("schema_name", flat=True).first()
    client = Client(HTTP_HOST=f"{slug.replace('_', '-')}.localhost")
    queries(client, "/login/")  # warm: Django's own first-use lookups
    return queries(client, "/login/")


def timed(client: Client, path: str, **headers: str) -> float:
    started = time.perf_counter()
    response = client.get(path, **headers)
    elapsed = time.perf_counter() - started
    assert response.status_code == 200, (path, response.status_code)
    return elapsed * 1000


COLLECTORS = {
    "registry (4 queries)": RegistryCollector(),
    "queue (1 Redis pipeline)": CeleryCollector(),
}


def part_ms(collector: RegistryCollector | CeleryCollector) -> float:
    samples = []
    for _ in range(max(5, ROUNDS // 10)):
        started = time.perf_counter()
        list(collector.collect())
        samples.append((time.perf_counter() - started) * 1000)
    return statistics.median(samples)


def percentile(samples: list[float], share: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(round(share * (len(ordered) - 1))))]


def main() -> int:
    scratch.prepare()
    settings.METRICS_TOKEN = TOKEN
    auth = {"HTTP_AUTHORIZATION": f"Bearer {TOKEN}"}
    admin = Client(HTTP_HOST="admin.localhost")
    try:
        register(1, 10)
        few = (queries(admin, "/metrics", **auth), gym_request_queries())
        register(11, max(GYMS - 10, 0))
        many = (queries(admin, "/metrics", **auth), gym_request_queries())
        registered = Affiliate.objects.count()
        metrics_ms, health_ms = [], []
        for _ in range(3):  # warm both paths
            timed(admin, "/metrics", **auth)
            timed(admin, "/healthz")
        for _ in range(ROUNDS):
            metrics_ms.append(timed(admin, "/metrics", **auth))
            health_ms.append(timed(admin, "/healthz"))
        parts = {name: part_ms(collector) for name, collector in COLLECTORS.items()}
    finally:
        scratch.cleanup()
    p95_metrics, p95_health = percentile(metrics_ms, 0.95), percentile(health_ms, 0.95)
    print(f"gyms registered: {registered}, rounds: {ROUNDS}")
    print(f"/metrics: p50 {statistics.median(metrics_ms):.1f} ms, p95 {p95_metrics:.1f} ms")
    print(f"/healthz (baseline): p50 {statistics.median(health_ms):.2f} ms, p95 {p95_health:.2f} ms")
    print(f"ratio /metrics / /healthz at p95: {p95_metrics / p95_health:.1f}x")
    print("median per part: " + ", ".join(f"{name} {ms:.1f} ms" for name, ms in parts.items()))
    print(f"management-database queries of one scrape: {few[0]} with 10 gyms, {many[0]} with {registered}")
    print(f"management-database queries of one gym request: {few[1]} with 10 gyms, {many[1]} with {registered}")
    failures = []
    if p95_metrics > P95_LIMIT_MS:
        failures.append(f"/metrics p95 {p95_metrics:.1f} ms is over {P95_LIMIT_MS:.0f} ms")
    if many[0] != few[0]:
        failures.append("a scrape's queries grow with the gyms registered")
    if many[1] != few[1]:
        failures.append("a gym request's queries grow with the gyms registered")
    for failure in failures:
        print(f"FAILED: {failure}", file=sys.stderr)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
