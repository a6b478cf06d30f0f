"""Production placement, measured here: a second database server and S3 (moto's server).

  1. Provisioning latency (in process, request -> active, template strategy) onto a second
     PostgreSQL server (tools/postgres.sh on port BENCH_PG2_PORT, 5434, folder
     .local/bench-postgres2, kept between runs like the first) beside the first.
     Target: p50 ratio second / first <= 1.2. Each step's median per server is printed too.
  2. Restore of a ~50 MB affiliate database: `restore_affiliate` from an S3 backup (moto's server)
     onto the second server, beside createdb + `pg_restore` of the same dump from a local file onto
     the same server. Target: restore throughput >= 0.8x the local pg_restore's.

Runs on a scratch management database and a scratch moto; drops every database and role it made
on both servers, and stops the second server.
"""

# ruff: noqa: I001, E402  (scratch must be imported first: it sets Django up on a scratch database)
from __future__ import annotations

import io
import socket
import os
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
MOTO_PORT = 0
with socket.socket() as _s:
    _s.bind(("127.0.0.1", 0))
    MOTO_PORT = _s.getsockname()[1]
os.environ.update(
    {
        "AWS_ENDPOINT_URL": f"http://127.0.0.1:{MOTO_PORT}",
        "AWS_ACCESS_KEY_ID": "bench",
        "AWS_SECRET_ACCESS_KEY": "bench",
        "AWS_DEFAULT_REGION": "us-east-1",
        "FITBUDDY_BACKUP_BUCKET": "fitbuddy-bench-backups",
    }
)

import psycopg

import scratch

from django.core.management import call_command
from django.utils import timezone

from affiliates.infra import backups
from affiliates.infra import databases
from affiliates.operations import affiliate_database, lifecycle, placement, provisioning
from affiliates.models import Affiliate, DatabaseServer, AffiliateEvent
from affiliates.infra.targets import on_database, server_admin_target

ROUNDS = int(os.environ.get("BENCH_AWS_ROUNDS", "15"))
MEMBERS = int(os.environ.get("BENCH_AWS_MEMBERS", "130000"))  # about 50 MB of table and index
# The second server is kept between runs, as the first is: see start_second_cluster.
PG2_PORT = int(os.environ.get("BENCH_PG2_PORT", "5434"))
PG2_DATA = ROOT / ".local" / "bench-postgres2"


def second_cluster(action: str) -> None:
    env = {**os.environ, "FITBUDDY_PG_PORT": str(PG2_PORT), "FITBUDDY_PGDATA": str(PG2_DATA / "data")}
    subprocess.run([str(ROOT / "tools" / "postgres.sh"), action], env=env, check=True, capture_output=True)


def start_second_cluster() -> None:
    """Start (first time: create) the bench's second PostgreSQL server and empty it.

    It lives in .local/bench-postgres2 and is kept between runs, like the first server. A cluster
    made afresh and deleted on every run measured up to twice as slow at CREATE DATABASE: ext4
    looks for a free inode that was not recently deleted, and a block group full of the files of
    the last run's deleted cluster makes every new file costly (perf: ext4_create ->
    recently_deleted). That is this machine's file system, not FitBuddy.
    """
    PG2_DATA.mkdir(parents=True, exist_ok=True)
    second_cluster("start")
    second_cluster_empty()


def second_cluster_empty() -> None:
    """Drop every database and affiliate role a run made on the second server."""
    conninfo = {**scratch.ADMIN, "host": "localhost", "port": PG2_PORT}
    with psycopg.connect(**conninfo, dbname="postgres", autocommit=True) as conn:
        names = conn.execute(
            "SELECT datname FROM pg_database WHERE datname NOT IN ('postgres', 'template0', 'template1')"
        ).fetchall()
        for (name,) in names:
            databases.database_drop(conn, name)
        roles = conn.execute(
            "SELECT rolname FROM pg_roles WHERE rolname <> %s AND rolname <> 'postgres' AND rolname NOT LIKE 'pg\\_%%'",
            [scratch.ADMIN["user"]],
        ).fetchall()
        for (role,) in roles:
            databases.role_drop(conn, role)


def stop_second_cluster() -> None:
    second_cluster_empty()
    second_cluster("stop")


def start_moto() -> subprocess.Popen:
    moto = subprocess.Popen(
        [str(Path(sys.executable).parent / "moto_server"), "-H", "127.0.0.1", "-p", str(MOTO_PORT)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 30
    while True:
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{MOTO_PORT}/moto-api/", timeout=1)
            return moto
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.1)


def provision(i: int, server: str) -> float:
    slug = f"{scratch.SLUG_PREFIX}{server[:1]}{i:03d}"
    started = time.perf_counter()
    affiliate = provisioning.affiliate_request(
        slug=slug, name=f"Bench {slug}", domain=f"{slug.replace('_', '-')}.localhost", server_name=server, enqueue=False
    )
    provisioning.affiliate_provision(affiliate_id=affiliate.pk)
    return time.perf_counter() - started


def fill(affiliate: Affiliate) -> int:
    target = on_database(server_admin_target(affiliate.database_server), affiliate.database_name)
    with psycopg.connect(**target.conninfo()) as conn:
        conn.execute(
            "INSERT INTO master.member (first_name, last_name, email, gender)"
            " SELECT 'Member ' || i, 'Surname ' || md5(i::text), 'm' || i || '@bench.example', 'X'"
            " FROM generate_series(1, %s) AS i",
            [MEMBERS],
        )
        return conn.execute("SELECT pg_database_size(current_database())").fetchone()[0]


def steps_print(*servers: str) -> None:
    """Each provisioning step's median per server, from the events provisioning records."""
    rows = {}
    for event in AffiliateEvent.objects.filter(
        affiliate__database_server__name__in=servers, outcome=AffiliateEvent.Outcome.SUCCEEDED
    ).values("step", "duration_ms", "affiliate__database_server__name"):
        rows.setdefault(event["step"], {}).setdefault(event["affiliate__database_server__name"], []).append(
            event["duration_ms"]
        )
    print("  step medians (ms): " + ", ".join(
        f"{step} " + "/".join(f"{statistics.median(by.get(s, [0])):.0f}" for s in servers) for step, by in rows.items()
    ))  # fmt: skip


def main() -> None:
    scratch.prepare()
    moto = start_moto()
    start_second_cluster()
    try:
        backups.s3_client().create_bucket(Bucket=os.environ["FITBUDDY_BACKUP_BUCKET"])
        first = placement.database_server_default()
        second = DatabaseServer.objects.create(name="second", host="localhost", port=PG2_PORT)
        for server in (first, second):
            affiliate_database.template_ensure(server_admin_target(server))
        provision(999, first.name)  # warm-up: imports, first connections
        provision(998, second.name)
        latency = {first.name: [], second.name: []}
        for i in range(ROUNDS):
            for server in (first.name, second.name):
                latency[server].append(provision(i, server))
        p50 = {name: statistics.median(values) for name, values in latency.items()}
        print("== provisioning onto the second server beside the first (in process, request -> active)")
        for name, values in latency.items():
            print(f"  {name:<8} p50 {p50[name] * 1000:.0f} ms (min {min(values) * 1000:.0f}, n={len(values)})")
        print(f"  ratio second / first: {p50[second.name] / p50[first.name]:.2f}x (target <= 1.2x)")
        steps_print(first.name, second.name)

        gym = Affiliate.objects.select_related("database_server").get(
            schema_name=f"{scratch.SLUG_PREFIX}{first.name[:1]}999"
        )
        size = fill(gym)
        admin1 = server_admin_target(first)
        with tempfile.TemporaryDirectory() as folder:
            dump = Path(folder) / "gym.dump"
            target = on_database(admin1, gym.database_name)
            subprocess.run(
                ["pg_dump", "--format=custom", "--no-owner", f"--file={dump}", *target.client_args(), target.name],
                env=target.client_env(),
                check=True,
            )
            dump_size = dump.stat().st_size
            # Baseline: createdb + pg_restore of the same dump from a local file, onto the second server.
            admin2 = server_admin_target(second)
            # The role is made beforehand, as restore_affiliate finds it when it is restored elsewhere.
            affiliate_database.affiliate_role_ensure(admin2, gym)
            started = time.perf_counter()
            with databases.admin_connect(admin2) as conn:
                databases.database_create(conn, "bench_local_restore")
            local = on_database(admin2, "bench_local_restore")
            subprocess.run(
                ["pg_restore", "--no-owner", "--no-privileges", "--exit-on-error", "--single-transaction",
                 *local.client_args(), "--dbname", local.name, str(dump)],
                env=local.client_env(),
                check=True,
            )  # fmt: skip
            baseline = time.perf_counter() - started
        out = io.StringIO()
        call_command("archive_affiliate", gym.slug, "--yes", stdout=out)  # backup to S3, checked, dropped
        restore_started = timezone.now()
        started = time.perf_counter()
        lifecycle.affiliate_restore(affiliate_id=gym.pk, server_name=second.name)
        restore = time.perf_counter() - started
        print(f"== restore of a {size / 1e6:.0f} MB affiliate database ({dump_size / 1e6:.1f} MB dump)")
        print(
            f"  (a) createdb + pg_restore from a local file:       {baseline:.2f} s ({size / 1e6 / baseline:.1f} MB/s)"
        )
        print(
            f"  restore_affiliate from S3 (fetch, SHA-256, restore, Flyway check, grants): {restore:.2f} s "
            f"({size / 1e6 / restore:.1f} MB/s)"
        )
        print(f"  throughput ratio restore / local pg_restore: {baseline / restore:.2f}x (target >= 0.8x)")
        steps = gym.events.filter(created_at__gte=restore_started, outcome=AffiliateEvent.Outcome.SUCCEEDED)
        print("  restore steps (ms): " + ", ".join(f"{e.step} {e.duration_ms}" for e in steps))
    finally:
        moto.terminate()
        moto.wait(timeout=10)
        stop_second_cluster()  # the whole second cluster goes, with what was made on it
        scratch.cleanup()


if __name__ == "__main__":
    main()
