"""Provisioning latency end to end through Redis and real Celery workers, beside (a) the physical
floor (CREATE DATABASE plus the same SQL through psql) and (b) the plain path (CREATE DATABASE then
one Flyway command-line migrate); then 200 affiliates onboarded by two workers, with the workers'
resident memory after 50 and after 200.

Runs on a scratch management database and Redis database of its own; drops everything it made.
"""

# ruff: noqa: I001  (scratch must be imported first: it sets Django up on a scratch database)
from __future__ import annotations

import os
import statistics
import subprocess
import sys
import time

import scratch
from common import ROOT, summary

from affiliates.infra import databases
from affiliates.operations import affiliate_database, placement, provisioning
from affiliates.models import Affiliate
from fitbuddy.celery import app as celery_app

import flyway_migrate  # the floor and the plain path, measured the same way
from affiliates.infra.targets import server_admin_target

RUN, SLUG_PREFIX = scratch.RUN, scratch.SLUG_PREFIX
LATENCY_ROUNDS = int(os.environ.get("BENCH_LATENCY_ROUNDS", "20"))
FLEET = int(os.environ.get("BENCH_FLEET", "200"))
#: Affiliates onboarded when the workers' memory is first read (the second reading is after FLEET).
FIRST = int(os.environ.get("BENCH_FLEET_FIRST", "50"))


def start_worker(name: str) -> subprocess.Popen:
    log = open(ROOT / ".local" / f"bench-{name}.log", "w")
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "fitbuddy",
            "worker",
            "--pool=prefork",
            "--concurrency=1",
            "--without-gossip",
            "--without-mingle",
            "--without-heartbeat",
            "--loglevel=WARNING",
            "-n",
            f"{name}@%h",
        ],
        cwd=ROOT,
        env=os.environ.copy(),
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    return proc


def wait_ready(timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if celery_app.control.ping(timeout=0.5):
            return
    raise RuntimeError("no Celery worker answered")


def rss_kib(proc: subprocess.Popen) -> int:
    """Resident memory of a worker: its main process plus its pool child."""
    out = subprocess.run(["ps", "-o", "rss=", "-g", str(proc.pid)], capture_output=True, text=True).stdout
    return sum(int(x) for x in out.split())


def wait_active(ids: list[int], timeout: float) -> None:
    deadline = time.monotonic() + timeout
    pending = set(ids)
    while pending:
        done = set(Affiliate.objects.filter(pk__in=pending, status="active").values_list("pk", flat=True))
        failed = Affiliate.objects.filter(pk__in=pending, status="failed").values_list("schema_name", "status_detail")
        if failed:
            raise RuntimeError(f"provisioning failed: {list(failed)[:3]}")
        pending -= done
        if time.monotonic() > deadline:
            raise RuntimeError(f"{len(pending)} affiliates not active after {timeout} s")
        time.sleep(0.002 if len(pending) == 1 else 0.05)


def request(i: int) -> Affiliate:
    slug = f"{SLUG_PREFIX}{i:04d}"
    return provisioning.affiliate_request(slug=slug, name=f"Bench {i}", domain=f"{slug.replace('_', '-')}.localhost")


def main() -> None:
    (ROOT / ".local").mkdir(exist_ok=True)
    scratch.prepare()
    celery_app.control.purge()
    workers = [start_worker(f"bench1-{RUN}")]
    try:
        wait_ready()
        affiliate_database.template_ensure(server_admin_target(placement.database_server_default()))
        # warm-up: the worker's first task imports and connects
        warm = request(9999)
        wait_active([warm.pk], 120)

        floor = [flyway_migrate.psql_floor() for _ in range(5)]
        plain = [flyway_migrate.flyway_path() for _ in range(5)]
        latencies = []
        for i in range(LATENCY_ROUNDS):
            started = time.perf_counter()
            affiliate = request(i)
            wait_active([affiliate.pk], 120)
            latencies.append(time.perf_counter() - started)
        p50, p95 = statistics.median(latencies), statistics.quantiles(latencies, n=20)[18]
        print("== provisioning latency (request registered -> active, through Redis and one Celery worker)")
        print(f"  end to end: p50 {p50 * 1000:.0f} ms, p95 {p95 * 1000:.0f} ms over {len(latencies)} affiliates")
        print(f"  (a) floor, CREATE DATABASE + psql:            {summary(floor)}")
        print(f"  (b) plain, CREATE DATABASE + flyway migrate:  {summary(plain)}")
        print(
            f"  ratio p50/floor: {p50 / statistics.median(floor):.2f}x (target <= 2x);"
            f" p50/plain: {p50 / statistics.median(plain):.2f}x"
        )

        workers.append(start_worker(f"bench2-{RUN}"))
        wait_ready()
        first_batch = FIRST - LATENCY_ROUNDS - 1
        offset = LATENCY_ROUNDS
        started = time.perf_counter()
        ids = [request(offset + i).pk for i in range(first_batch)]
        wait_active(ids, 600)
        rss50 = [rss_kib(w) for w in workers]
        rest = FLEET - FIRST
        ids = [request(offset + first_batch + i).pk for i in range(rest)]
        wait_active(ids, 1800)
        total = time.perf_counter() - started
        rss200 = [rss_kib(w) for w in workers]
        with databases.admin_connect(flyway_migrate.server_target()) as conn:
            count = conn.execute(
                "SELECT count(*) FROM pg_database WHERE datname LIKE %s", [f"fitbuddy_{SLUG_PREFIX}%"]
            ).fetchone()[0]
        active = Affiliate.objects.filter(status="active").count()
        if active != FLEET or count != FLEET:
            raise SystemExit(f"provisioning benchmark: {active} active and {count} databases, expected {FLEET} of each")
        print(f"== onboarding {FLEET} affiliates with two workers")
        print(
            f"  {active} active, {count} affiliate databases; the last {FLEET - LATENCY_ROUNDS - 1} onboarded in "
            f"{total:.1f} s ({(FLEET - LATENCY_ROUNDS - 1) / total:.1f} affiliates/s)"
        )
        for n, (a, b) in enumerate(zip(rss50, rss200, strict=True), 1):
            print(
                f"  worker {n} resident memory: {a / 1024:.1f} MiB after {FIRST}, {b / 1024:.1f} MiB after {FLEET}: "
                f"ratio {b / a:.2f}x (target <= 1.1x)"
            )
    finally:
        for w in workers:
            w.terminate()
            w.wait(timeout=30)
        celery_app.control.purge()
        scratch.cleanup()


if __name__ == "__main__":
    main()
