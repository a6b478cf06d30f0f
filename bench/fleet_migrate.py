"""A fleet migration: BENCH_FLEET_SIZE (1,000) affiliate databases at the previous version, cloned
from a template and registered like real affiliates (provisioned by the real service), brought to
the latest by one new script through `manage.py migrate_affiliates --wait` and a real Celery
worker; beside

  (a) the floor, measured in the same run: per database, in this process and in series: connect,
      the same SQL, commit (over a sample of extra clones, per database);
  (b) the Flyway command line in series, one `flyway migrate` per database over 20 extra clones,
      extrapolated to the fleet.

Then a second run with nothing to apply, and the peak number of connections to the affiliate
databases during each run, against the configured per-server budget.

Runs on a scratch management database and a copy of sql/; drops everything it made.
"""

# ruff: noqa: I001, E402  (the SQL copy and scratch come before Django is set up)
from __future__ import annotations

import io
import json
import os
import shutil
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SQL = Path(tempfile.mkdtemp(prefix="bench-fleet-sql-"))
shutil.copytree(ROOT / "sql", SQL, dirs_exist_ok=True)
os.environ["FITBUDDY_SQL_DIR"] = str(SQL)

import psycopg

import scratch
from common import server_target, summary

from django.conf import settings
from django.core.management import call_command
from django.db import connections

from affiliates.infra import databases
from affiliates.infra import flyway
from affiliates.operations import affiliate_database, placement, provisioning
from affiliates.models import Affiliate, MigrationRun
from django.db.models import Max, Min
from fitbuddy.celery import app as celery_app

from provisioning import start_worker, wait_ready  # the same worker the provisioning benchmark starts
from affiliates.infra.targets import on_database, server_admin_target

SIZE = int(os.environ.get("BENCH_FLEET_SIZE", "1000"))
FLOOR_SAMPLE = int(os.environ.get("BENCH_FLEET_FLOOR_SAMPLE", "200"))
CLI_SAMPLE = int(os.environ.get("BENCH_FLEET_CLI_SAMPLE", "20"))
PARALLEL = int(os.environ.get("BENCH_FLEET_PARALLEL", "4"))  # the command's default
NEW_SCRIPT = "ALTER TABLE member ADD COLUMN nickname varchar(50);\n"
PREFIX = scratch.SLUG_PREFIX


def provision_fleet() -> list[Affiliate]:
    """SIZE affiliates through the real service (registered, own role, cloned database), two at a time."""

    def one(i: int) -> int:
        slug = f"{PREFIX}{i:05d}"
        try:
            affiliate = provisioning.affiliate_request(
                slug=slug, name=f"Bench {i}", domain=f"{slug.replace('_', '-')}.localhost", enqueue=False
            )
            provisioning.affiliate_provision(affiliate_id=affiliate.pk)
            return affiliate.pk
        finally:
            connections.close_all()

    with ThreadPoolExecutor(2) as pool:
        ids = list(pool.map(one, range(SIZE)))
    return list(Affiliate.objects.filter(pk__in=ids, status="active"))


def clones(count: int, label: str) -> list[str]:
    names = [f"fitbuddy_{PREFIX}{label}{i:04d}" for i in range(count)]
    with databases.admin_connect(server_target()) as conn:
        for name in names:
            databases.database_create(conn, name, template=scratch.TEMPLATE)
    return names


def floor(names: list[str]) -> float:
    """Seconds per database: connect, the new script's SQL, commit; in this process, in series."""
    admin = server_target()
    started = time.perf_counter()
    for name in names:
        with psycopg.connect(**admin.conninfo(dbname=name)) as conn:
            conn.execute("SET search_path TO master")
            conn.execute(NEW_SCRIPT)
    return (time.perf_counter() - started) / len(names)


def cli_in_series(names: list[str]) -> float:
    """Seconds per database: one Flyway command line per database, in series."""
    admin = server_target()
    started = time.perf_counter()
    for name in names:
        flyway.migrate(on_database(admin, name), kind="application")
    return (time.perf_counter() - started) / len(names)


class ConnectionPeak:
    """The most connections to the fleet's databases seen at once (pg_stat_activity, every 10 ms)."""

    def __init__(self):
        self.peak = 0
        self.running = True
        self.thread = threading.Thread(target=self.watch, daemon=True)

    def watch(self):
        with psycopg.connect(**server_target().conninfo(), autocommit=True) as conn:
            while self.running:
                count = conn.execute(
                    "SELECT count(*) FROM pg_stat_activity WHERE datname LIKE %s", [f"fitbuddy_{PREFIX}%"]
                ).fetchone()[0]
                self.peak = max(self.peak, count)
                time.sleep(0.01)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.running = False
        self.thread.join()


def fleet_run() -> tuple[float, dict, int]:
    out = io.StringIO()
    with ConnectionPeak() as peak:
        started = time.perf_counter()
        call_command("migrate_affiliates", "--wait", "--json", "--parallel", str(PARALLEL), stdout=out)
        seconds = time.perf_counter() - started
    return seconds, json.loads(out.getvalue()), peak.peak


def main() -> None:
    (ROOT / ".local").mkdir(exist_ok=True)
    scratch.prepare()
    celery_app.control.purge()
    worker = start_worker(f"benchfleet-{scratch.RUN}")
    try:
        wait_ready()
        admin = server_admin_target(placement.database_server_default())
        affiliate_database.template_ensure(admin)
        started = time.perf_counter()
        fleet = provision_fleet()
        print(
            f"== {len(fleet)} affiliates provisioned at V{fleet[0].schema_version}"
            f" in {time.perf_counter() - started:.0f} s"
        )
        floor_dbs = clones(FLOOR_SAMPLE, "floor")
        cli_dbs = clones(CLI_SAMPLE, "cli")

        # The next version after what ships, whatever that is (a hard-coded V4 broke once V4 shipped).
        previous = flyway.latest_version("application")
        following = str(int(previous.split(".")[0]) + 1)
        (SQL / "application" / f"V{following}__bench_member_nickname.sql").write_text(NEW_SCRIPT)
        assert flyway.latest_version("application") == following
        per_db_floor = floor(floor_dbs)
        per_db_cli = cli_in_series(cli_dbs)

        first, result, peak_first = fleet_run()
        assert result["status"] == "succeeded", result["detail"]
        at_latest = Affiliate.objects.filter(schema_version=following).count()
        assert at_latest == len(fleet), f"{at_latest} of {len(fleet)} affiliates at V{following}"
        second, again, peak_second = fleet_run()
        assert again["status"] == "succeeded", again["detail"]

        floor_total = per_db_floor * len(fleet)
        cli_total = per_db_cli * len(fleet)
        budget = settings.FLEET_CONNECTIONS_PER_SERVER
        print(
            f"== fleet migration of {len(fleet)} databases V{previous} -> V{following}"
            f" (migrate_affiliates --wait --parallel {PARALLEL})"
        )
        print(
            f"  fleet run:            {first:.1f} s ({len(fleet) / first:.0f} databases/s);"
            f" {at_latest} at V{following} in the registry"
        )
        print(
            f"  (a) floor:            {per_db_floor * 1000:.1f} ms/database in series -> {floor_total:.1f} s "
            f"(n={FLOOR_SAMPLE})"
        )
        print(
            f"  (b) Flyway CLI:       {per_db_cli * 1000:.0f} ms/database in series -> {cli_total:.0f} s "
            f"(n={CLI_SAMPLE}, extrapolated)"
        )
        print(f"  ratio fleet/floor:    {first / floor_total:.2f}x (target <= 2x)")
        print(f"  speed-up vs CLI:      {cli_total / first:.1f}x (target >= 25x)")
        print(
            f"  second run, nothing to apply: {second:.1f} s: ratio {second / first:.2f}x of the first (target <= 0.5x)"
        )
        print(
            f"  peak connections to affiliate databases: {peak_first} (first run), {peak_second} (second); "
            f"budget {budget} per server: {'within' if max(peak_first, peak_second) <= budget else 'OVER'}"
        )
        run = MigrationRun.objects.get(pk=result["run"])
        ends = run.items.aggregate(first=Min("finished_at"), last=Max("finished_at"))
        print(
            f"  timeline: command start -> run started {(run.started_at - run.created_at).total_seconds():.2f} s; "
            f"template and JVM start -> first result {(ends['first'] - run.started_at).total_seconds():.2f} s; "
            f"first -> last result {(ends['last'] - ends['first']).total_seconds():.2f} s; "
            f"last result -> run finished {(run.finished_at - ends['last']).total_seconds():.2f} s"
        )
        print(
            "  per-database Flyway time in the runner: "
            + summary([i["duration_ms"] / 1000 for i in result["affiliates"]])
        )
    finally:
        worker.terminate()
        worker.wait(timeout=30)
        celery_app.control.purge()
        scratch.cleanup()
        shutil.rmtree(SQL, ignore_errors=True)


if __name__ == "__main__":
    main()
