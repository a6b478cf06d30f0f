"""The load collector over BENCH_LOAD_COLLECT_GYMS (1,000) gym databases on one server.

Each round is one real collection of the server (``affiliates.operations.load.server_collect``):
the registry's gyms, one administrative connection and one query over ``pg_stat_database`` and
``pg_database_size``, the previous readings and both bulk upserts. Beside it, measured in the same
run on the same databases:

  (a) the floor of reading the statistics at all: one connection, the bare
      ``SELECT … FROM pg_stat_database`` for the same names (no sizes, no registry);
  (b) the naive collector: one connection, ``pg_database_size`` for each database in series.

Prints time per gym, the ratios, and the extrapolation to 3,000 gyms. Fails unless every gym got a
reading. Runs on a scratch management database; drops every database it made.
"""

# ruff: noqa: I001, E402  (scratch must be imported first: it sets Django up on a scratch database)
from __future__ import annotations

import os
import statistics
import sys
import time

import scratch
from common import server_target

from affiliates.infra import databases
from affiliates.models import Affiliate, AffiliateLoad
from affiliates.operations import load, placement

GYMS = int(os.environ.get("BENCH_LOAD_COLLECT_GYMS", "1000"))
ROUNDS = int(os.environ.get("BENCH_LOAD_COLLECT_ROUNDS", "5"))
PREFIX = f"fitbuddy_{scratch.SLUG_PREFIX}"


def gyms_make() -> list[str]:
    """GYMS small databases (copies of template0) and their registry rows, as provisioning leaves them."""
    names = [f"{PREFIX}{i:05d}" for i in range(GYMS)]
    started = time.perf_counter()
    with databases.admin_connect(server_target()) as conn:
        for name in names:
            databases.database_create(conn, name, template="template0")
    server = placement.database_server_default()
    Affiliate.objects.bulk_create(
        Affiliate(
            schema_name=name.removeprefix("fitbuddy_"),
            name=name,
            status=Affiliate.Status.ACTIVE,
            database_server=server,
            database_name=name,
        )
        for name in names
    )
    print(f"  {GYMS} gym databases made in {time.perf_counter() - started:.0f} s")
    return names


def timed(work, rounds: int = ROUNDS) -> float:
    """The median of ``rounds`` runs, in seconds (after one warm-up)."""
    work()
    samples = []
    for _ in range(rounds):
        started = time.perf_counter()
        work()
        samples.append(time.perf_counter() - started)
    return statistics.median(samples)


def floor_stats(names: list[str]) -> None:
    with databases.admin_connect(server_target()) as conn:
        conn.execute(
            "SELECT datname, numbackends, xact_commit + xact_rollback,"
            " tup_inserted + tup_updated + tup_deleted, stats_reset FROM pg_stat_database WHERE datname = ANY(%s)",
            [names],
        ).fetchall()


def sizes_in_series(names: list[str]) -> None:
    with databases.admin_connect(server_target()) as conn:
        for name in names:
            conn.execute("SELECT pg_database_size(%s)", [name]).fetchone()


def main() -> int:
    scratch.prepare()
    try:
        names = gyms_make()
        server = placement.database_server_default()
        outcome = load.server_collect(server)
        if outcome.failed or outcome.read != GYMS or AffiliateLoad.objects.count() != GYMS:
            print(f"FAILED: {outcome.describe()}", file=sys.stderr)
            return 1
        collect = timed(lambda: load.server_collect(server))
        floor = timed(lambda: floor_stats(names))
        series = timed(lambda: sizes_in_series(names))
        if AffiliateLoad.objects.filter(xacts_per_day__isnull=True).exists():
            print("FAILED: a gym has no rate after several readings", file=sys.stderr)
            return 1
        per_gym = collect / GYMS
        print(f"  collector, one server, {GYMS} gyms: {collect * 1000:.0f} ms ({per_gym * 1e6:.0f} µs per gym)")
        print(f"  (a) bare pg_stat_database read:   {floor * 1000:.0f} ms ({floor / GYMS * 1e6:.0f} µs per gym)")
        print(f"  (b) pg_database_size in series:   {series * 1000:.0f} ms ({series / GYMS * 1e6:.0f} µs per gym)")
        print(f"  ratio collector / (b):  {collect / series:.2f}x (target <= 1.0x)")
        print(f"  ratio collector / (a):  {collect / floor:.1f}x (the sizes and the registry's writes)")
        print(f"  at 3,000 gyms: about {per_gym * 3000:.1f} s per collection")
        return 0
    finally:
        scratch.cleanup()


if __name__ == "__main__":
    sys.exit(main())
