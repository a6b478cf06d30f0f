"""The scale benchmark's instruments: a PostgreSQL cluster of its own, free disk, and what it reads
from each server and from PgBouncer (catalog, autovacuum, connections, pools).

Nothing here imports Django: bench/scale.py passes the logins in.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psycopg
from psycopg import sql

#: What one empty gym database costs on disk here (about 8 MB), with room for WAL and the catalog.
BYTES_PER_GYM = 12 * 1024 * 1024
#: Disk the rest of the machine keeps, whatever the benchmark's size.
DISK_MARGIN = 8 * 1024**3


def disk_check(gyms: int, folder: str = "/var/tmp") -> int:
    """Free bytes under ``folder``; SystemExit with the sizes when ``gyms`` gyms would not fit."""
    free = shutil.disk_usage(folder).free
    needed = gyms * BYTES_PER_GYM + DISK_MARGIN
    if free < needed:
        raise SystemExit(
            f"scale benchmark: {gyms} gyms need about {needed / 1024**3:.1f} GiB free "
            f"({BYTES_PER_GYM // 1024**2} MiB a gym + {DISK_MARGIN // 1024**3} GiB margin); "
            f"{folder} has {free / 1024**3:.1f} GiB. Set BENCH_SCALE_GYMS lower."
        )
    return free


def _bindir() -> Path:
    for candidate in sorted(Path("/usr/lib/postgresql").glob("*/bin"), reverse=True):
        if (candidate / "initdb").exists():
            return candidate
    found = shutil.which("initdb")
    if not found:
        raise SystemExit("scale benchmark: PostgreSQL server binaries (initdb) are needed")
    return Path(found).parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Cluster:
    """A PostgreSQL server of the benchmark's own: started by :func:`cluster`, removed at its end."""

    port: int
    folder: Path
    ctl: list[str] = field(default_factory=list)

    @property
    def data(self) -> Path:
        return self.folder / "data"

    @property
    def log(self) -> Path:
        return self.folder / "server.log"

    def log_size(self) -> int:
        return self.log.stat().st_size if self.log.exists() else 0

    def log_count(self, needle: str, since: int) -> int:
        """Lines holding ``needle`` written to the server's log after offset ``since``."""
        with open(self.log, "rb") as handle:
            handle.seek(since)
            return sum(1 for line in handle if needle.encode() in line)

    def cpu_seconds(self) -> float:
        """CPU time of the server so far: the postmaster, its live processes, and those it has reaped."""
        postmaster = int((self.data / "postmaster.pid").read_text().split()[0])
        children = subprocess.run(["ps", "-o", "pid=", "--ppid", str(postmaster)], capture_output=True, text=True)
        ticks = 0
        for pid in [postmaster, *(int(p) for p in children.stdout.split())]:
            try:
                fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue  # ended meanwhile: its time is now the postmaster's (reaped)
            ticks += sum(int(f) for f in fields[11:15])  # utime, stime, cutime, cstime
        return ticks / os.sysconf("SC_CLK_TCK")

    def disk_bytes(self) -> int:
        out = subprocess.run(["du", "-sb", str(self.data)], capture_output=True, text=True).stdout
        return int(out.split()[0]) if out else 0


@contextmanager
def cluster(admin_user: str, admin_password: str) -> Iterator[Cluster]:
    """initdb, start on a free port (settings as tools/postgres.sh makes the first one), the admin login;
    stopped and its folder deleted at the end, whatever happens."""
    bindir = _bindir()
    folder = Path(tempfile.mkdtemp(prefix="fitbuddy-scale-pg-", dir="/var/tmp"))
    as_owner: list[str] = []
    if os.geteuid() == 0:  # initdb refuses root: the cluster belongs to the postgres system user
        as_owner = ["runuser", "-u", "postgres", "--"]
        os.chmod(folder, 0o777)
    port = free_port()
    found = Cluster(port, folder)
    found.ctl = [*as_owner, str(bindir / "pg_ctl"), "-D", str(found.data), "-l", str(folder / "server.log"), "-w"]
    try:
        subprocess.run(
            [*as_owner, str(bindir / "initdb"), "-D", str(found.data), "-U", "postgres", "--auth-local=trust",
             "--auth-host=scram-sha-256", "-E", "UTF8", "--locale=C.UTF-8"],
            check=True, capture_output=True,
        )  # fmt: skip
        with open(found.data / "postgresql.conf", "a") as conf:
            conf.write(
                f"port = {port}\nlisten_addresses = 'localhost'\nunix_socket_directories = '{found.data}'\n"
                "max_connections = 1000\nshared_buffers = 256MB\nfsync = off\nsynchronous_commit = off\n"
                "full_page_writes = off\n"
                # Each autovacuum worker's start is a line ("autovacuum: processing database"): counted.
                "log_min_messages = debug1\nlog_line_prefix = '%m [%p] '\n"
            )
        subprocess.run([*found.ctl, "-t", "60", "start"], check=True, capture_output=True)
        with psycopg.connect(host=str(found.data), port=port, user="postgres", dbname="postgres", autocommit=True) as c:
            c.execute(
                sql.SQL("CREATE ROLE {} LOGIN CREATEDB CREATEROLE PASSWORD {}").format(
                    sql.Identifier(admin_user), sql.Literal(admin_password)
                )
            )
            c.execute(sql.SQL("GRANT pg_signal_backend TO {}").format(sql.Identifier(admin_user)))
            # As tools/postgres.sh does: only the administrator may connect to the maintenance databases.
            c.execute(sql.SQL("GRANT CONNECT ON DATABASE postgres, template1 TO {}").format(sql.Identifier(admin_user)))
            c.execute("REVOKE CONNECT, TEMPORARY ON DATABASE postgres, template1 FROM PUBLIC")
        yield found
    finally:
        subprocess.run([*found.ctl, "-m", "immediate", "stop"], capture_output=True)
        shutil.rmtree(folder, ignore_errors=True)


# --- what a server shows ---


def server_settings(conninfo: dict[str, Any]) -> dict[str, str]:
    names = ["max_connections", "autovacuum_max_workers", "autovacuum_naptime", "server_version"]
    with psycopg.connect(**conninfo, autocommit=True) as conn:
        return {n: conn.execute(sql.SQL("SHOW {}").format(sql.Identifier(n))).fetchone()[0] for n in names}


def catalog(conninfo: dict[str, Any], like: str) -> dict[str, float]:
    """The cluster-wide catalog: databases (all, and the run's), roles, shared catalogs' sizes, stats rows."""
    with psycopg.connect(**conninfo, autocommit=True) as conn:
        row = conn.execute(
            """
            SELECT (SELECT count(*) FROM pg_database),
                   (SELECT count(*) FROM pg_database WHERE datname LIKE %(like)s),
                   (SELECT coalesce(sum(pg_database_size(oid)), 0) FROM pg_database WHERE datname LIKE %(like)s),
                   (SELECT count(*) FROM pg_roles),
                   pg_total_relation_size('pg_catalog.pg_database'),
                   pg_total_relation_size('pg_catalog.pg_authid'),
                   pg_total_relation_size('pg_catalog.pg_shdepend'),
                   (SELECT count(*) FROM pg_shdepend),
                   (SELECT count(*) FROM pg_stat_database),
                   (SELECT max(age(datfrozenxid)) FROM pg_database)
            """,
            {"like": like},
        ).fetchone()
    keys = ["databases", "run_databases", "run_bytes", "roles", "pg_database_bytes", "pg_authid_bytes",
            "pg_shdepend_bytes", "pg_shdepend_rows", "stat_database_rows", "max_xid_age"]  # fmt: skip
    return dict(zip(keys, (float(v or 0) for v in row), strict=True))


def gym_catalog(conninfo: dict[str, Any]) -> dict[str, float]:
    """One gym database's own catalog: relations and its size."""
    with psycopg.connect(**conninfo, autocommit=True) as conn:
        relations, size, catalog_bytes = conn.execute(
            "SELECT (SELECT count(*) FROM pg_class), pg_database_size(current_database()),"
            " (SELECT sum(pg_total_relation_size(oid)) FROM pg_class"
            "  WHERE relnamespace = 'pg_catalog'::regnamespace AND NOT relisshared AND relkind = 'r')"
        ).fetchone()
    return {"relations": relations, "bytes": size, "catalog_bytes": float(catalog_bytes or 0)}


class Sampler:
    """Every ``every`` seconds, on each server: autovacuum workers (busy now, distinct ones seen: each
    is a worker start) and sessions on the run's databases (peak)."""

    def __init__(
        self, servers: dict[str, dict[str, Any]], like: str, every: float = 0.25, own: dict[str, Cluster] | None = None
    ) -> None:
        self.servers, self.like, self.every = servers, like, every
        self.own = own or {}  # the servers whose log and processes this benchmark can read
        self.marks: dict[str, tuple[int, float]] = {}
        self.own_figures: dict[str, tuple[int, float]] = {}
        self.stop = threading.Event()
        self.peak_workers = dict.fromkeys(servers, 0)
        self.worker_pids: dict[str, set[int]] = {name: set() for name in servers}
        self.peak_sessions = dict.fromkeys(servers, 0)
        self.peak_all = dict.fromkeys(servers, 0)
        self.errors: list[str] = []
        self.threads = [threading.Thread(target=self._watch, args=(n,), daemon=True) for n in servers]
        self.started = self.seconds = 0.0

    def _watch(self, name: str) -> None:
        try:
            with psycopg.connect(**self.servers[name], autocommit=True) as conn:
                while not self.stop.is_set():
                    rows = conn.execute(
                        "SELECT pid, backend_type, datname LIKE %s FROM pg_stat_activity", [self.like]
                    ).fetchall()
                    workers = {pid for pid, kind, _ in rows if kind == "autovacuum worker"}
                    self.worker_pids[name] |= workers
                    self.peak_workers[name] = max(self.peak_workers[name], len(workers))
                    self.peak_sessions[name] = max(self.peak_sessions[name], sum(1 for *_, ours in rows if ours))
                    self.peak_all[name] = max(self.peak_all[name], sum(1 for _, k, _ in rows if k == "client backend"))
                    self.stop.wait(self.every)
        except psycopg.Error as exc:
            self.errors.append(f"{name}: {exc}")

    def __enter__(self) -> Sampler:
        self.marks = {name: (c.log_size(), c.cpu_seconds()) for name, c in self.own.items()}
        self.started = time.monotonic()
        for thread in self.threads:
            thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop.set()
        for thread in self.threads:
            thread.join()
        self.seconds = time.monotonic() - self.started
        for name, found in self.own.items():
            offset, cpu = self.marks[name]
            starts = found.log_count("autovacuum: processing database", offset)
            self.own_figures[name] = (starts, found.cpu_seconds() - cpu)

    def lines(self, settings: dict[str, dict[str, str]]) -> list[str]:
        out = []
        for name in self.servers:
            out.append(
                f"{name}: autovacuum workers busy at most {self.peak_workers[name]} of "
                f"{settings[name]['autovacuum_max_workers']} (sampled every {self.every} s: short-lived ones are"
                f" missed); sessions at most {self.peak_sessions[name]} on the run's databases,"
                f" {self.peak_all[name]} client backends in all, of max_connections {settings[name]['max_connections']}"
            )
            if name in self.own_figures:
                starts, cpu = self.own_figures[name]
                out.append(
                    f"{name} (its log and processes): {starts} autovacuum worker starts "
                    f"({starts / max(self.seconds, 1e-9) * 60:.0f}/min); the server used {cpu:.1f} s of CPU "
                    f"({cpu / max(self.seconds, 1e-9) * 100:.0f}% of a core)"
                )
        return out + [f"sampler error: {e}" for e in self.errors]


def pooler_figures(pooler: tuple[str, int], user: str, password: str, like_prefix: str) -> dict[str, Any]:
    """PgBouncer's console (a stats user may SHOW): the run's pools, all pools, and the limits."""
    with psycopg.connect(
        host=pooler[0], port=pooler[1], dbname="pgbouncer", user=user, password=password,
        autocommit=True, prepare_threshold=None, connect_timeout=5,
    ) as conn:  # fmt: skip
        cur = conn.execute("SHOW POOLS")
        cols = [c.name for c in cur.description or []]
        pools = [dict(zip(cols, r, strict=True)) for r in cur.fetchall()]
        lists = {r[0]: r[1] for r in conn.execute("SHOW LISTS").fetchall()}
        config = {r[0]: r[1] for r in conn.execute("SHOW CONFIG").fetchall()}
    ours = [p for p in pools if str(p["database"]).startswith(like_prefix)]
    return {
        "pools": len(pools),
        "run_pools": len(ours),
        "run_server_connections": sum(int(p.get("sv_active", 0)) + int(p.get("sv_idle", 0)) + int(p.get("sv_used", 0))
                                      + int(p.get("sv_tested", 0)) + int(p.get("sv_login", 0)) for p in ours),
        "lists": lists,
        "config": {k: config.get(k) for k in ("max_client_conn", "max_db_connections", "default_pool_size",
                                               "server_idle_timeout", "autodb_idle_timeout", "max_user_connections")},
    }  # fmt: skip
