# ruff: noqa: I001, E402  (scratch must be imported first: it sets Django up on a scratch database)
"""A gym of BENCH_MOVE_MB (50) MB moved between two PostgreSQL servers while coaches write to it.

Two throwaway servers of this run (``wal_level = logical``, the administrator a superuser, as
``rds_superuser`` is on Aurora), registered as ``alpha`` and ``beta``; one gym provisioned on alpha
and filled to the size asked; gunicorn (2 workers x 4 threads) serves it to BENCH_MOVE_CLIENTS (4)
client threads, each adding members through the real form as fast as answers come. Then, under
that load:

- **logical**: the move alpha → beta by logical replication (as shipped where servers allow it);
- **baseline**: the move back beta → alpha by dump and restore (what a move is without replication:
  the whole copy inside the write pause).

Printed per move: the write pause (from the move's record), the longest request while it ran, the
errors the clients saw, and the acknowledged writes missing afterwards (must be 0); and the ratio
baseline pause / logical pause. Fails if an acknowledged write is missing, a client saw an error,
or the logical move's pause is over 2 s (the target for 50 MB on this machine).

``measure_move(affiliate, destination, clients=, seconds=)`` is the same measurement for other
benchmarks (bench/scale.py).
"""

from __future__ import annotations

import http.client
import os
import secrets
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlencode

import scratch
from common import gym_login_make, gym_session_key
from leaderboard import provision

import psycopg
from psycopg import sql

from affiliates.infra.targets import on_database, server_admin_target
from affiliates.models import Affiliate, AffiliateEvent, DatabaseServer
from affiliates.operations import move
from affiliates.routing.connections import forget_all

ROOT = Path(__file__).resolve().parent.parent
MEGABYTES = float(os.environ.get("BENCH_MOVE_MB", "50"))
CLIENTS = int(os.environ.get("BENCH_MOVE_CLIENTS", "4"))
WARM_SECONDS = float(os.environ.get("BENCH_MOVE_WARM_SECONDS", "2"))
PAUSE_TARGET_MS = 2000
PASSWORD = "bench-password-1"


# --- two servers of this run ---


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _bindir() -> Path:
    for candidate in sorted(Path("/usr/lib/postgresql").glob("*/bin"), reverse=True):
        if (candidate / "initdb").exists():
            return candidate
    return Path(shutil.which("initdb") or "initdb").parent


@contextmanager
def logical_server(name: str):
    """A PostgreSQL server that can replicate logically, registered as ``name``; removed afterwards."""
    port, folder = _free_port(), Path(tempfile.mkdtemp(prefix=f"bench-move-{name}-"))
    data = folder / "data"
    as_owner: list[str] = []
    if os.geteuid() == 0:  # initdb refuses root
        as_owner = ["runuser", "-u", "postgres", "--"]
        os.chmod(folder, 0o777)
    subprocess.run(
        [*as_owner, str(_bindir() / "initdb"), "-D", str(data), "-U", "postgres", "--auth-local=trust",
         "--auth-host=scram-sha-256", "-E", "UTF8", "--locale=C.UTF-8"],
        check=True, capture_output=True,
    )  # fmt: skip
    with open(data / "postgresql.conf", "a") as conf:
        conf.write(f"port = {port}\nlisten_addresses = 'localhost'\nunix_socket_directories = '{data}'\n")
        conf.write("wal_level = logical\nmax_connections = 200\n")
    ctl = [*as_owner, str(_bindir() / "pg_ctl"), "-D", str(data), "-l", str(data / "server.log"), "-w", "-t", "60"]
    subprocess.run([*ctl, "start"], check=True, capture_output=True)
    try:
        admin = scratch.ADMIN
        with psycopg.connect(host=str(data), port=port, user="postgres", dbname="postgres", autocommit=True) as conn:
            conn.execute(
                sql.SQL("CREATE ROLE {} LOGIN SUPERUSER PASSWORD {}").format(
                    sql.Identifier(admin["user"]), sql.Literal(admin["password"])
                )
            )
        DatabaseServer.objects.update(is_default=False)
        yield DatabaseServer.objects.create(
            name=name, host="localhost", port=port, is_default=True, admin_secret_ref="env:DATABASE_URL"
        )
    finally:
        subprocess.run([*ctl, "-m", "immediate", "stop"], capture_output=True)
        shutil.rmtree(folder, ignore_errors=True)


def fill(affiliate: Affiliate, megabytes: float) -> float:
    """Members and results until the gym's database holds ``megabytes``; its size in MB."""
    target = on_database(server_admin_target(affiliate.database_server), affiliate.database_name)
    with psycopg.connect(**target.conninfo(), autocommit=True, options="-c search_path=master") as conn:
        conn.execute(
            "INSERT INTO master.member (first_name, last_name, email, gender)"
            " SELECT 'M' || g, 'Bench', 'm' || g || '@bench.test', 'X' FROM generate_series(1, 2000) g"
        )
        batch = 0
        while (size := conn.execute("SELECT pg_database_size(current_database())").fetchone()[0] / 1e6) < megabytes:
            batch += 1
            conn.execute(
                "INSERT INTO master.workout (name, score_type, time_cap_seconds, reps_per_round, scaling_levels)"
                " SELECT 'Bench ' || %s || '.' || g, 'time', 600, 90, ARRAY['rx', 'scaled']"
                " FROM generate_series(1, 10) g",
                [batch],
            )
            conn.execute(
                "INSERT INTO master.participation (workout_id, member_id, scaling_level, status, score_value, notes)"
                " SELECT w.id, m.id, 'rx', 'finished', (120000 + random() * 400000)::bigint, repeat('n', 60)"
                " FROM master.workout w CROSS JOIN master.member m WHERE w.name LIKE %s",
                [f"Bench {batch}.%"],
            )
        conn.execute("ANALYZE")
    return size


# --- coaches writing ---


@dataclass
class Clients:
    acknowledged: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    longest: float = 0.0
    lock: threading.Lock = field(default_factory=threading.Lock)
    stop: threading.Event = field(default_factory=threading.Event)


def _client_loop(port: int, host: str, cookie: str, index: str, clients: Clients) -> None:
    csrf = secrets.token_hex(16)
    headers = {
        "Host": host,
        "Cookie": f"sessionid={cookie}; csrftoken={csrf}",
        "Content-Type": "application/x-www-form-urlencoded",
        "Referer": f"http://{host}/members/new/",
    }
    number = 0
    while not clients.stop.is_set():
        number += 1
        name = f"{index}x{number}"
        body = urlencode({"first_name": name, "last_name": "Moving", "email": f"{name}@bench.test", "gender": "X",
                          "csrfmiddlewaretoken": csrf})  # fmt: skip
        started = time.perf_counter()
        try:
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
            connection.request("POST", "/members/new/", body=body, headers=headers)
            status = connection.getresponse().status
            connection.close()
        except OSError as exc:
            status, name = 0, f"{name}: {exc}"
        took = time.perf_counter() - started
        with clients.lock:
            clients.longest = max(clients.longest, took)
            if status == 302:
                clients.acknowledged.append(name)
            else:
                clients.errors.append(f"{status} {name}")


def gunicorn_start(port: int) -> subprocess.Popen:
    """The web server, straight to the servers (no pooler: the two servers of this run have none)."""
    from load import gunicorn_start as start

    return start(port, "")  # DATABASE_POOLER="" for gunicorn only


def members_on(affiliate: Affiliate) -> set[str]:
    affiliate = Affiliate.objects.select_related("database_server").get(pk=affiliate.pk)
    target = on_database(server_admin_target(affiliate.database_server), affiliate.database_name)
    with psycopg.connect(**target.conninfo()) as conn:
        return {row[0] for row in conn.execute("SELECT first_name FROM master.member WHERE last_name = 'Moving'")}


def measure_move(
    affiliate: Affiliate,
    destination: DatabaseServer,
    *,
    clients: int,
    seconds: float,
    port: int | None = None,
    method: str = "auto",
) -> dict:
    """Move ``affiliate`` to ``destination`` while ``clients`` threads add members through the web server on
    ``port`` (one is started for the measurement when None), ``seconds`` before and after; what the move and
    the clients saw."""
    if port is None:
        port = _free_port()
        server = gunicorn_start(port)
        try:
            return measure_move(affiliate, destination, clients=clients, seconds=seconds, port=port, method=method)
        finally:
            server.terminate()
            server.wait(timeout=30)
    owner = gym_login_make(affiliate, f"owner{secrets.token_hex(3)}@bench.test", "owner", PASSWORD)
    cookie = gym_session_key(affiliate, owner)
    host = affiliate.domains.get().domain
    seen = Clients()
    tag = secrets.token_hex(2)
    threads = [
        threading.Thread(target=_client_loop, args=(port, host, cookie, f"C{tag}n{i}", seen), daemon=True)
        for i in range(clients)
    ]
    for thread in threads:
        thread.start()
    time.sleep(seconds)
    started = time.perf_counter()
    done = move.affiliate_move(slug=affiliate.slug, to=destination.name, method=method, requested_by="bench")
    took = time.perf_counter() - started
    time.sleep(seconds)
    seen.stop.set()
    for thread in threads:
        thread.join(timeout=120)
    missing = set(seen.acknowledged) - members_on(affiliate)
    steps = AffiliateEvent.objects.filter(
        affiliate=affiliate, created_at__gte=done.created_at, step__startswith="move_"
    )
    return {
        "steps": " ".join(f"{e.step.removeprefix('move_')} {e.duration_ms}" for e in steps.order_by("id")),
        "method": done.method,
        "pause_ms": done.pause_ms,
        "move_seconds": took,
        "rows_checked": done.rows_checked,
        "writes": len(seen.acknowledged),
        "errors": seen.errors,
        "missing": sorted(missing),
        "longest_request_ms": seen.longest * 1000,
    }


def _line(label: str, result: dict) -> str:
    return (
        f"{label:9} {result['method']:8} write pause {result['pause_ms']:6} ms · move {result['move_seconds']:6.1f} s"
        f" · longest request {result['longest_request_ms']:7.0f} ms · {result['writes']} writes acknowledged,"
        f" {len(result['errors'])} errors, {len(result['missing'])} missing · {result['rows_checked']} rows checked"
    )


def main() -> int:
    scratch.prepare()
    server = None
    try:
        with logical_server("beta") as beta, logical_server("alpha") as alpha:
            started = time.perf_counter()
            gym = provision(0)
            size = fill(gym, MEGABYTES)
            print(f"(setup: a gym of {size:.1f} MB on alpha in {time.perf_counter() - started:.1f} s)")
            port = _free_port()
            server = gunicorn_start(port)
            logical = measure_move(gym, beta, clients=CLIENTS, seconds=WARM_SECONDS, port=port, method="logical")
            print(_line("logical", logical), flush=True)
            print(f"          steps (ms): {logical['steps']}")
            baseline = measure_move(gym, alpha, clients=CLIENTS, seconds=WARM_SECONDS, port=port, method="dump")
            print(_line("baseline", baseline), flush=True)
            print(f"          steps (ms): {baseline['steps']}")
            ratio = baseline["pause_ms"] / max(logical["pause_ms"], 1)
            print(f"ratio (dump pause / logical pause): {ratio:.1f}x; target: logical pause ≤ {PAUSE_TARGET_MS} ms")
            failures = []
            for label, result in (("logical", logical), ("baseline", baseline)):
                if result["missing"]:
                    failures.append(f"{label}: acknowledged writes missing: {result['missing'][:5]}")
                if result["errors"]:
                    failures.append(f"{label}: clients saw errors: {result['errors'][:5]}")
            if MEGABYTES >= 50 and logical["pause_ms"] > PAUSE_TARGET_MS:
                failures.append(f"the logical move's write pause {logical['pause_ms']} ms is over {PAUSE_TARGET_MS}")
            for failure in failures:
                print(f"FAILED: {failure}")
            return 1 if failures else 0
    finally:
        if server is not None:
            server.terminate()
            server.wait(timeout=30)
        forget_all()
        scratch.cleanup()


if __name__ == "__main__":
    sys.exit(main())
