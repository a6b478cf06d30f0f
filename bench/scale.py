"""Where FitBuddy breaks: BENCH_SCALE_GYMS (3,000) gyms across BENCH_SCALE_SERVERS (2) PostgreSQL
servers — the shared local one and a cluster of the benchmark's own (a free port, its data under
/var/tmp, stopped and deleted at the end).

  (a) provisioning throughput: a sample through the real path (a request, Redis, two Celery workers,
      template strategy, placement across the servers), the rest through the same provisioning
      service in this process, in threads, as bench/fleet_migrate.py builds its fleet;
  (b) `migrate_affiliates --wait` over every gym (one new script) against the floor measured in the
      same run (connect, the same SQL, commit, per database in series; target <= 2x);
  (c) a gym request's queries (management + gym) and the registry's query times with 10 gyms
      registered and with all of them; the command center's pages; the web process's memory
      before and after touching BENCH_SCALE_TOUCH gyms;
  (d) what grows: the catalog (databases, roles, shared catalogs, statistics rows), autovacuum
      (workers busy, worker starts a minute, idle and during the migration), PgBouncer's pools against
      its limits, sessions per server against max_connections;
  (e) a move of a 50 MB gym under load, when this build has one (bench/move.py).

It refuses to start without the disk it needs and drops everything it made, even when interrupted.
"""

# ruff: noqa: I001, E402  (the SQL copy, the pooler and scratch come before Django is set up)
from __future__ import annotations

import os
import shutil
import signal
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor, as_completed
from contextlib import ExitStack
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import scale_probes as probes

GYMS = int(os.environ.get("BENCH_SCALE_GYMS", "3000"))
SERVERS = int(os.environ.get("BENCH_SCALE_SERVERS", "2"))
WORKER_SAMPLE = min(GYMS, int(os.environ.get("BENCH_SCALE_WORKER_SAMPLE", "200")))
THREADS = int(os.environ.get("BENCH_SCALE_THREADS", "3"))
FLOOR_SAMPLE = int(os.environ.get("BENCH_SCALE_FLOOR_SAMPLE", "200"))
TOUCH = min(GYMS, int(os.environ.get("BENCH_SCALE_TOUCH", "300")))
IDLE_SECONDS = float(os.environ.get("BENCH_SCALE_IDLE_SECONDS", "60"))
PARALLEL = int(os.environ.get("BENCH_FLEET_PARALLEL", "4"))  # migrate_affiliates' default
MOVE_CLIENTS = int(os.environ.get("BENCH_SCALE_MOVE_CLIENTS", "8"))
MOVE_SECONDS = float(os.environ.get("BENCH_SCALE_MOVE_SECONDS", "30"))
MOVE_MEMBERS = int(os.environ.get("BENCH_SCALE_MOVE_MEMBERS", "130000"))  # about 50 MB
EARLY = 10  # gyms registered when the first request figures are taken

if GYMS < EARLY + 2 or WORKER_SAMPLE < EARLY:
    raise SystemExit(f"BENCH_SCALE_GYMS must be at least {EARLY + 2} and the worker sample at least {EARLY}")
probes.disk_check(GYMS)

ROOT = Path(__file__).resolve().parent.parent
SQL = Path(tempfile.mkdtemp(prefix="bench-scale-sql-"))
shutil.copytree(ROOT / "sql", SQL, dirs_exist_ok=True)
os.environ["FITBUDDY_SQL_DIR"] = str(SQL)
# Affiliate connections to the shared server go through its PgBouncer, as in production.
os.environ.setdefault("DATABASE_POOLER", f"127.0.0.1:{os.environ.get('FITBUDDY_POOLER_PORT', '6432')}")
signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # the finally blocks below still run

import io
import json
import subprocess

import psycopg
import scratch
from django.conf import settings
from django.core.management import call_command
from django.db import connections

from affiliates.infra import databases, flyway
from affiliates.infra.targets import on_database, pooler_for, server_admin_target
from affiliates.models import Affiliate, DatabaseServer, MigrationRun
from common import summary
from django.db.models import Max, Min
from affiliates.operations import affiliate_database, provisioning
from fitbuddy.celery import app as celery_app
from provisioning import start_worker, wait_active, wait_ready
import scale_requests

PREFIX = scratch.SLUG_PREFIX
LIKE = f"fitbuddy_{PREFIX}%"
NEW_SCRIPT = "ALTER TABLE member ADD COLUMN nickname varchar(50);\n"


def say(line: str) -> None:
    print(line, flush=True)


def register(clusters: list[probes.Cluster]) -> list[DatabaseServer]:
    admin = scratch.ADMIN
    servers = [
        DatabaseServer.objects.create(
            name="main", host=str(admin["host"]), port=int(admin["port"]),
            admin_secret_ref="env:DATABASE_URL", is_default=True,
        )
    ]  # fmt: skip
    for n, found in enumerate(clusters, 2):
        servers.append(
            DatabaseServer.objects.create(
                name=f"scale{n}", host="localhost", port=found.port, admin_secret_ref="env:DATABASE_URL"
            )
        )
    return servers


def slug(i: int) -> str:
    return f"{PREFIX}{i:05d}"


def request(i: int, *, enqueue: bool) -> Affiliate:
    return provisioning.affiliate_request(
        slug=slug(i), name=f"Scale {i}", domain=f"{slug(i).replace('_', '-')}.localhost", enqueue=enqueue
    )


def through_workers(first: int, count: int) -> float:
    """``count`` gyms requested (Redis, the workers); seconds until every one is active."""
    started = time.perf_counter()
    ids = [request(first + i, enqueue=True).pk for i in range(count)]
    wait_active(ids, 600 + count)
    return time.perf_counter() - started


def in_process(first: int, count: int, servers: list[DatabaseServer]) -> float:
    """``count`` gyms through the provisioning service in THREADS threads, with progress every slice."""

    def one(i: int) -> None:
        try:
            provisioning.affiliate_provision(affiliate_id=request(i, enqueue=False).pk)
        finally:
            connections.close_all()

    step = max(100, count // 6)
    pool = ThreadPoolExecutor(THREADS)
    started = last = time.perf_counter()
    try:
        futures = [pool.submit(one, first + i) for i in range(count)]
        for done, future in enumerate(as_completed(futures), 1):
            future.result()
            if done % step == 0 or done == count:
                now = time.perf_counter()
                per_server = ", ".join(f"{s.name} {s.affiliates.count()}" for s in servers)
                say(f"  ... {first + done} gyms ({per_server}): the last {step if done % step == 0 else done % step}"
                    f" at {(done % step or step) / (now - last):.1f} gyms/s")  # fmt: skip
                last = now
    finally:
        pool.shutdown(wait=True, cancel_futures=True)
    return time.perf_counter() - started


def clones(server: DatabaseServer, count: int) -> list[str]:
    names = [f"fitbuddy_{PREFIX}floor{server.name}{i:04d}" for i in range(count)]
    with databases.admin_connect(server_admin_target(server)) as conn:
        for name in names:
            databases.database_create(conn, name, template=settings.PROVISIONING_TEMPLATE_DATABASE)
    return names


def floor(server: DatabaseServer, names: list[str]) -> float:
    """Seconds per database: connect, the new script's SQL, commit; in series."""
    admin = server_admin_target(server)
    started = time.perf_counter()
    for name in names:
        with psycopg.connect(**admin.conninfo(dbname=name)) as conn:
            conn.execute("SET search_path TO master")
            conn.execute(NEW_SCRIPT)
    return (time.perf_counter() - started) / len(names)


def catalog_lines(servers: list[DatabaseServer], conninfos: dict, clusters: list[probes.Cluster]) -> None:
    for server in servers:
        c = probes.catalog(conninfos[server.name], LIKE)
        gym = Affiliate.objects.filter(database_server=server, status="active").first()
        each = c["run_bytes"] / max(c["run_databases"], 1)
        one = probes.gym_catalog(server_admin_target(server, name=gym.database_name).conninfo()) if gym else {}
        say(
            f"  {server.name}: {c['databases']:.0f} databases ({c['run_databases']:.0f} this run's, "
            f"{c['run_bytes'] / 1024**3:.2f} GiB, {each / 1024**2:.1f} MiB each);"
            f" {c['roles']:.0f} roles; shared catalogs pg_database {c['pg_database_bytes'] / 1024:.0f} KiB,"
            f" pg_authid {c['pg_authid_bytes'] / 1024:.0f} KiB, pg_shdepend {c['pg_shdepend_bytes'] / 1024:.0f} KiB"
            f" ({c['pg_shdepend_rows']:.0f} rows); pg_stat_database rows {c['stat_database_rows']:.0f};"
            f" oldest datfrozenxid age {c['max_xid_age']:.0f}"
        )
        if one:
            say(
                f"    one gym's database: {one['relations']:.0f} relations in pg_class, {one['bytes'] / 1024**2:.1f}"
                f" MiB, of which its catalog tables {one['catalog_bytes'] / 1024**2:.1f} MiB"
            )
    for found in clusters:
        say(f"  data folder of the benchmark's own server (port {found.port}): {found.disk_bytes() / 1024**3:.2f} GiB")


def pooler_lines(servers: list[DatabaseServer]) -> None:
    address = pooler_for(servers[0])
    if not address:
        say("  no pooler in front of the main server")
        return
    password = subprocess.run([str(ROOT / "tools" / "pgbouncer.sh"), "password"], capture_output=True, text=True)
    try:
        f = probes.pooler_figures(address, settings.POOLER_AUTH_USER, password.stdout.strip(), f"fitbuddy_{PREFIX}")
    except psycopg.Error as exc:
        say(f"  PgBouncer's console: {exc}")
        return
    say(f"  PgBouncer {address[0]}:{address[1]}: {f['run_pools']} pools of this run's databases ({f['pools']} in all), "
        f"{f['run_server_connections']} server connections of this run's; lists {f['lists']}")  # fmt: skip
    say(f"    limits: {f['config']}")


def move_step(servers: list[DatabaseServer]) -> None:
    """(e) A move of a 50 MB gym under load: the lead's bench/move.py, when the build has moves."""
    import importlib.util

    if len(servers) < 2 or importlib.util.find_spec("affiliates.operations.move") is None:
        say("move: not available in this build")
        return
    from move import measure_move

    gym = Affiliate.objects.filter(database_server=servers[0], status="active").order_by("pk").first()
    target = on_database(server_admin_target(servers[0]), gym.database_name)
    with psycopg.connect(**target.conninfo()) as conn:
        conn.execute(
            "INSERT INTO master.member (first_name, last_name, email, gender)"
            " SELECT 'Member ' || i, 'Surname ' || md5(i::text), 'm' || i || '@scale.example', 'X'"
            " FROM generate_series(1, %s) AS i",
            [MOVE_MEMBERS],
        )
        size = conn.execute("SELECT pg_database_size(current_database())").fetchone()[0]
    say(f"== (e) move of {gym.slug} ({size / 1024**2:.0f} MB) to {servers[1].name} under load, {GYMS} gyms registered")
    result = measure_move(gym, servers[1], clients=MOVE_CLIENTS, seconds=MOVE_SECONDS)
    for key, value in result.items():
        say(f"  {key}: {value}")


@dataclass
class Fleet:
    """The run's servers and what the phases read from them."""

    clusters: list[probes.Cluster]
    servers: list[DatabaseServer] = field(default_factory=list)
    conninfos: dict[str, dict] = field(default_factory=dict)
    settings: dict[str, dict[str, str]] = field(default_factory=dict)
    own: dict[str, probes.Cluster] = field(default_factory=dict)

    def sampler(self, every: float = 0.25) -> probes.Sampler:
        return probes.Sampler(self.conninfos, LIKE, every=every, own=self.own)

    def report(self, label: str, sampler: probes.Sampler) -> None:
        for line in sampler.lines(self.settings):
            say(f"  {label}: {line}")


def fleet_set_up(clusters: list[probes.Cluster]) -> Fleet:
    fleet = Fleet(clusters, servers=register(clusters))
    fleet.own = {s.name: c for s, c in zip(fleet.servers[1:], clusters, strict=True)}
    fleet.conninfos = {s.name: server_admin_target(s).conninfo() for s in fleet.servers}
    fleet.settings = {name: probes.server_settings(info) for name, info in fleet.conninfos.items()}
    for s in fleet.servers:
        affiliate_database.template_ensure(server_admin_target(s))
        say(f"  server {s.name} {s.host}:{s.port}: {fleet.settings[s.name]}")
    return fleet


def provision_all(fleet: Fleet) -> scale_requests.RequestFigures:
    """(a) Every gym, the first WORKER_SAMPLE through the workers; the request figures at 10 gyms on the way."""
    say(f"== (a) provisioning {GYMS} gyms across {len(fleet.servers)} servers (template strategy, placement)")
    early_seconds = through_workers(0, EARLY)
    first = Affiliate.objects.get(schema_name=slug(0))
    early = scale_requests.measure(first, scale_requests.owner_client(first), EARLY, scale_requests.staff_client())
    sampled = WORKER_SAMPLE - EARLY
    seconds = through_workers(EARLY, sampled) if sampled else 0.0
    say(
        f"  through Redis and 2 Celery workers: {WORKER_SAMPLE} gyms; {sampled} timed in {seconds:.1f} s"
        f" ({sampled / max(seconds, 1e-9):.1f} gyms/s; the first {EARLY} in {early_seconds:.1f} s)"
    )
    rest = GYMS - WORKER_SAMPLE
    if rest:
        with fleet.sampler(every=1.0) as sampler:
            seconds = in_process(WORKER_SAMPLE, rest, fleet.servers)
        say(
            f"  the other {rest} through the same provisioning service in this process ({THREADS} threads, no"
            f" queue, as bench/fleet_migrate.py builds its fleet): {seconds:.0f} s, {rest / seconds:.1f} gyms/s"
        )
        fleet.report("during provisioning", sampler)
    active = Affiliate.objects.filter(status="active").count()
    if active != GYMS:
        raise SystemExit(f"scale benchmark: {active} of {GYMS} gyms active")
    say(f"  {active} active; placement put { ({s.name: s.affiliates.count() for s in fleet.servers}) }")
    return early


def requests_measure(fleet: Fleet, early: scale_requests.RequestFigures) -> None:
    """(c) The same request with 10 gyms registered and with all; memory over TOUCH gyms."""
    say("== (c) requests: management-database queries and the registry with 10 gyms and with all")
    first = Affiliate.objects.get(schema_name=slug(0))
    now = scale_requests.measure(first, scale_requests.owner_client(first), GYMS, scale_requests.staff_client())
    for line in [*early.lines(), *now.lines()]:
        say(f"  {line}")
    gyms = list(Affiliate.objects.select_related("database_server").order_by("pk"))
    with fleet.sampler() as sampler:
        m = scale_requests.touch(gyms[:: max(1, len(gyms) // TOUCH)][:TOUCH])
    say(
        f"  web process (this one) touching {m['gyms']:.0f} gyms: {m['start']:.0f} MiB at the start,"
        f" {m['before']:.0f} MiB after a login made in each, {m['after']:.0f} MiB after a request to each,"
        f" {m['again']:.0f} MiB after a second round: {(m['after'] - m['start']) * 1024 / m['gyms']:.0f} KiB"
        f" a gym touched; {m['aliases']:.0f} connection aliases, {m['open_connections']:.0f} affiliate"
        f" connections open, {m['host_cache']:.0f} hosts cached"
    )
    fleet.report("while touching", sampler)


def growth_measure(fleet: Fleet) -> None:
    """(d) The catalog, the pooler, and autovacuum on idle servers."""
    say(f"== (d) the catalog, the pooler and autovacuum with {GYMS} gyms")
    catalog_lines(fleet.servers, fleet.conninfos, fleet.clusters)
    pooler_lines(fleet.servers)
    with fleet.sampler(every=0.1) as sampler:
        time.sleep(IDLE_SECONDS)
    fleet.report(f"idle {IDLE_SECONDS:.0f} s", sampler)


def migrate_measure(fleet: Fleet) -> None:
    """(b) migrate_affiliates --wait over every gym, beside the floor measured now."""
    split = {s.name: s.affiliates.count() for s in fleet.servers}
    per_server = max(1, FLOOR_SAMPLE // len(fleet.servers))
    samples = {s.name: clones(s, per_server) for s in fleet.servers}
    previous = flyway.latest_version("application")
    following = str(int(previous.split(".")[0]) + 1)
    (SQL / "application" / f"V{following}__bench_member_nickname.sql").write_text(NEW_SCRIPT)
    floors = {s.name: floor(s, samples[s.name]) for s in fleet.servers}
    floor_total = sum(floors[name] * count for name, count in split.items())
    out = io.StringIO()
    with fleet.sampler() as sampler:
        started = time.perf_counter()
        timeout = str(max(3600, GYMS * 2))
        call_command(
            "migrate_affiliates", "--wait", "--json", "--parallel", str(PARALLEL), "--timeout", timeout, stdout=out
        )
        seconds = time.perf_counter() - started
    result = json.loads(out.getvalue())
    at_latest = Affiliate.objects.filter(schema_version=following).count()
    say(f"== (b) migrate_affiliates --wait --parallel {PARALLEL}: {GYMS} gyms V{previous} -> V{following}")
    say(
        f"  fleet run: {seconds:.1f} s ({GYMS / seconds:.0f} databases/s), status {result['status']};"
        f" {at_latest} at V{following} in the registry"
    )
    each = ", ".join(f"{name} {floors[name] * 1000:.1f} ms/database" for name in floors)
    say(f"  floor (connect, the SQL, commit; in series): {each} (n={per_server} each) -> {floor_total:.1f} s")
    say(f"  ratio fleet/floor: {seconds / floor_total:.2f}x (target <= 2x)")
    run = MigrationRun.objects.get(pk=result["run"])
    ends = run.items.aggregate(first=Min("finished_at"), last=Max("finished_at"))

    def gap(a: datetime, b: datetime) -> str:
        return f"{(b - a).total_seconds():.2f} s"

    say(
        f"  timeline: command -> run started {gap(run.created_at, run.started_at)}; -> first result"
        f" {gap(run.started_at, ends['first'])}; first -> last result {gap(ends['first'], ends['last'])};"
        f" -> run finished {gap(ends['last'], run.finished_at)}; batches of at most {settings.FLEET_BATCH_SIZE}"
    )
    say("  per database in the runner: " + summary([i["duration_ms"] / 1000 for i in result["affiliates"]]))
    fleet.report("during the migration", sampler)
    if result["status"] != "succeeded" or at_latest != GYMS:
        raise SystemExit(f"scale benchmark: migration {result['status']}: {result.get('detail')}")


def main() -> None:
    (ROOT / ".local").mkdir(exist_ok=True)
    free = shutil.disk_usage("/var/tmp").free / 1024**3
    say(f"scale benchmark: {GYMS} gyms on {SERVERS} servers; {free:.0f} GiB free")
    scratch.prepare()
    workers: list[subprocess.Popen] = []
    with ExitStack() as stack:
        try:
            user, password = scratch.ADMIN["user"], scratch.ADMIN["password"]
            fleet = fleet_set_up([stack.enter_context(probes.cluster(user, password)) for _ in range(SERVERS - 1)])
            celery_app.control.purge()
            workers += [start_worker(f"benchscale{n}-{scratch.RUN}") for n in (1, 2)]
            wait_ready()
            early = provision_all(fleet)
            requests_measure(fleet, early)
            growth_measure(fleet)
            migrate_measure(fleet)
            move_step(fleet.servers)
        finally:
            for worker in workers:
                worker.terminate()
                worker.wait(timeout=30)
            celery_app.control.purge()
            started = time.perf_counter()
            scratch.cleanup()
            shutil.rmtree(SQL, ignore_errors=True)
            say(
                f"(cleanup: the run's databases and roles dropped in {time.perf_counter() - started:.0f} s;"
                " the benchmark's own server is stopped and deleted next)"
            )


if __name__ == "__main__":
    main()
