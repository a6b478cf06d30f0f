# ruff: noqa: I001, E402  (scratch must be imported first: it sets Django up on a scratch database)
"""FitBuddy under load and through a fault, served the production way.

gunicorn (2 workers x 4 threads, affiliate connections through PgBouncer) serves BENCH_LOAD_GYMS
(100) affiliates to BENCH_LOAD_CLIENTS (16) client threads for BENCH_LOAD_SECONDS (60): half
leaderboard pages, three in ten member lists, two in ten results recorded (a POST, one member per
thread so every acknowledged write can be checked). Printed: requests, errors (5xx, refused
connections), p50/p95 latency, peak PostgreSQL backends and PgBouncer client connections, and the
workers' resident memory at the end beside the start (target <= 1.2x).

Then the fault run: the same load for BENCH_FAULT_SECONDS (30) with PostgreSQL restarted (fast
shutdown, then start) after a third of it. Printed: errors inside and outside the outage (from the
restart until the first request that succeeds after PostgreSQL is back), and whether every write
acknowledged before the restart (a 302 after the POST) is still there afterwards.
"""

from __future__ import annotations

import http.client
import os
import random
import secrets
import statistics
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from urllib.parse import urlencode
from pathlib import Path

import scratch
from common import gym_login_make, gym_session_key, post_form, server_target
from leaderboard import fill, pooler_start, provision

import psycopg
from django.db import connections

from affiliates.routing.connections import forget_all
from affiliates.routing.context import affiliate_context
from gym.members.models import Member
from gym.workouts.models import Participation

ROOT = Path(__file__).resolve().parent.parent
GYMS = int(os.environ.get("BENCH_LOAD_GYMS", "100"))
CLIENTS = int(os.environ.get("BENCH_LOAD_CLIENTS", "16"))
SECONDS = float(os.environ.get("BENCH_LOAD_SECONDS", "60"))
FAULT_SECONDS = float(os.environ.get("BENCH_FAULT_SECONDS", "30"))
MEMBERS = 30  # results already on each gym's workout


@dataclass
class Gym:
    host: str
    cookie: str
    workout: int
    member_ids: list[int]
    form: dict[str, str] = field(default_factory=dict)  # the result form's fields, as the page gives them


#: The fields of the workout page's result form this benchmark fills in (the rest are sent as the page
#: gives them). ``replace``: each thread records its own member's result again and again, on purpose.
RESULT_FIELDS = {"member", "scaling_level", "status", "score", "replace"}


def result_form(port: int, gym: Gym) -> dict[str, str]:
    """The workout page's result form, read from the page itself (so a new field cannot rot the benchmark)."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    connection.request(
        "GET", f"/workouts/{gym.workout}/", headers={"Host": gym.host, "Cookie": f"sessionid={gym.cookie}"}
    )
    response = connection.getresponse()
    html = response.read().decode()
    connection.close()
    if response.status != 200:
        raise RuntimeError(f"GET /workouts/{gym.workout}/ on {gym.host}: {response.status}")
    return post_form(html, f"/workouts/{gym.workout}/", needs=RESULT_FIELDS)


@dataclass
class Outcome:
    started: float
    seconds: float
    status: int  # 0: no answer (refused, reset)
    kind: str
    host: str = ""


@dataclass
class Load:
    outcomes: list[Outcome] = field(default_factory=list)
    acknowledged: dict[tuple[str, int], tuple[str, float]] = field(default_factory=dict)  # -> (score, when)
    last_attempt: dict[tuple[str, int], str] = field(default_factory=dict)  # (host, member) -> score sent
    lock: threading.Lock = field(default_factory=threading.Lock)


def gunicorn_start(port: int, pooler: str) -> subprocess.Popen:
    env = {**os.environ, "DATABASE_POOLER": pooler, "DJANGO_DEBUG": "0"}
    log = (ROOT / ".local" / f"bench-load-gunicorn-{port}.log").open("w")
    process = subprocess.Popen(
        [str(Path(sys.executable).parent / "gunicorn"), "fitbuddy.wsgi:application", "--bind", f"127.0.0.1:{port}",
         "--workers", "2", "--threads", "4", "--worker-class", "gthread", "--backlog", "2048"],
        cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
    )  # fmt: skip
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            connection.request("GET", "/healthz")
            if connection.getresponse().status == 200:
                return process
        except OSError:
            pass
        time.sleep(0.2)  # not up yet (refused, or not ready): ask again shortly
    raise RuntimeError("gunicorn did not answer")


def worker_pids(master: int) -> list[int]:
    out = subprocess.run(["ps", "-o", "pid=", "--ppid", str(master)], capture_output=True, text=True).stdout
    return [int(p) for p in out.split()]


def rss_of(pids: list[int]) -> float:
    total = 0.0
    for pid in pids:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                total += int(line.split()[1]) / 1024
    return total


def client_loop(port: int, gyms: list[Gym], index: int, until: float, load: Load, csrf: str) -> None:
    rng = random.Random(index)
    connection = None
    while time.monotonic() < until:
        gym = rng.choice(gyms)
        roll = rng.random()
        headers = {"Host": gym.host, "Cookie": f"sessionid={gym.cookie}; csrftoken={csrf}"}
        body = None
        if roll < 0.5:
            kind, method, path = "leaderboard", "GET", f"/workouts/{gym.workout}/leaderboard/"
        elif roll < 0.8:
            kind, method, path = "members", "GET", "/members/"
        else:
            kind, method, path = "record", "POST", f"/workouts/{gym.workout}/"
            member = gym.member_ids[index]  # this thread's own member in this gym
            score = f"{rng.randint(2, 9)}:{rng.randint(0, 59):02d}"
            filled = {"member": member, "scaling_level": "rx", "status": "finished", "score": score, "replace": "on"}
            body = urlencode({**gym.form, "csrfmiddlewaretoken": csrf, **filled})
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        started = time.monotonic()
        status = 0
        try:
            if connection is None:
                connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
            connection.request(method, path, body=body, headers=headers)
            response = connection.getresponse()
            response.read()
            status = response.status
            if response.getheader("Connection", "").lower() == "close":
                connection.close()
                connection = None
        except (OSError, http.client.HTTPException):
            if connection is not None:
                connection.close()
            connection = None
        outcome = Outcome(started, time.monotonic() - started, status, kind, gym.host)
        with load.lock:
            load.outcomes.append(outcome)
            if kind == "record":
                load.last_attempt[(gym.host, member)] = score
                if status == 302:
                    load.acknowledged[(gym.host, member)] = (score, started)
        if status == 0:
            time.sleep(0.05)  # the server is away: do not spin


def is_error(outcome: Outcome) -> bool:
    expected = 302 if outcome.kind == "record" else 200
    return outcome.status != expected


def run_load(port: int, gyms: list[Gym], seconds: float, during=None) -> Load:
    load = Load()
    csrf = secrets.token_hex(16)  # 32 characters: Django compares the form's token with the cookie's
    until = time.monotonic() + seconds
    threads = [
        threading.Thread(target=client_loop, args=(port, gyms, i, until, load, csrf), daemon=True)
        for i in range(CLIENTS)
    ]
    for thread in threads:
        thread.start()
    if during:
        during()
    for thread in threads:
        thread.join()
    return load


def peaks_sampler(stop: threading.Event, peaks: dict) -> None:
    pooler_port = int(os.environ.get("FITBUDDY_POOLER_PORT", "6432"))
    # Generated by tools/pgbouncer.sh on its first start; the repository holds none.
    lookup_password = subprocess.run(
        [str(ROOT / "tools" / "pgbouncer.sh"), "password"], capture_output=True, text=True, check=True
    ).stdout.strip()
    while not stop.is_set():
        try:
            with psycopg.connect(**server_target().conninfo(dbname="postgres"), connect_timeout=2) as conn:
                peaks["postgres"] = max(
                    peaks["postgres"],
                    # datname is what pg_stat_activity shows any login for every session on a database.
                    conn.execute("SELECT count(*) FROM pg_stat_activity WHERE datname IS NOT NULL").fetchone()[0],
                )
            with psycopg.connect(
                host="127.0.0.1", port=pooler_port, dbname="pgbouncer", user="pgbouncer_auth",
                password=lookup_password,
                autocommit=True, prepare_threshold=None, connect_timeout=2,
            ) as conn:  # fmt: skip
                peaks["pgbouncer"] = max(peaks["pgbouncer"], len(conn.execute("SHOW CLIENTS").fetchall()))
                peaks["servers"] = max(peaks["servers"], len(conn.execute("SHOW SERVERS").fetchall()))
        except psycopg.Error:
            pass
        stop.wait(0.5)


def pg_restart() -> tuple[float, float]:
    """Restart the PostgreSQL server (fast shutdown, then start); when it went down and came back."""
    data = server_data_folder()
    as_owner = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
    pg_ctl = str(
        Path(subprocess.run(["pg_config", "--bindir"], capture_output=True, text=True).stdout.strip()) / "pg_ctl"
    )
    if not Path(pg_ctl).exists():
        pg_ctl = next(str(p) for p in Path("/usr/lib/postgresql").glob("*/bin/pg_ctl"))
    down = time.monotonic()
    subprocess.run([*as_owner, pg_ctl, "-D", str(data), "-m", "fast", "-w", "stop"], check=True, capture_output=True)
    subprocess.run([*as_owner, pg_ctl, "-D", str(data), "-l", str(data / "server.log"), "-w", "start"],
                   check=True, capture_output=True)  # fmt: skip
    return down, time.monotonic()


def server_data_folder() -> Path:
    with psycopg.connect(**server_target().conninfo(dbname="postgres")) as conn:
        try:
            return Path(conn.execute("SHOW data_directory").fetchone()[0])
        except psycopg.errors.InsufficientPrivilege:
            pass
    return Path("/var/lib/fitbuddy/postgres") if os.geteuid() == 0 else ROOT / ".local" / "postgres"


def summary(label: str, load: Load, seconds: float) -> None:
    times = sorted(o.seconds for o in load.outcomes if not is_error(o))
    errors = [o for o in load.outcomes if is_error(o)]
    p50 = statistics.median(times) * 1000 if times else float("nan")
    p95 = times[int(len(times) * 0.95)] * 1000 if times else float("nan")
    kinds = {k: sum(1 for o in load.outcomes if o.kind == k) for k in ("leaderboard", "members", "record")}
    print(f"== {label}")
    print(
        f"  {len(load.outcomes)} requests in {seconds:.0f} s ({len(load.outcomes) / seconds:.0f}/s: "
        f"{kinds['leaderboard']} leaderboards, {kinds['members']} member lists, {kinds['record']} results recorded)"
    )
    print(f"  errors: {len(errors)};  latency p50 {p50:.1f} ms, p95 {p95:.1f} ms")


def main() -> None:
    scratch.prepare()
    server = None
    try:
        started = time.perf_counter()
        gyms, affiliates = [], []
        for i in range(GYMS):
            affiliate = provision(i)
            owner = gym_login_make(affiliate, "owner@load.test", "owner", "bench-password-1")
            workout = fill(affiliate, MEMBERS)
            with affiliate_context(affiliate):
                # One member per client thread, with no result yet: every acknowledged write makes a row.
                extra = Member.objects.bulk_create(
                    Member(first_name=f"L{c}", last_name="Load", email=f"l{c}@load.test", gender="FM"[c % 2])
                    for c in range(CLIENTS)
                )
                member_ids = [m.pk for m in extra]
            gyms.append(Gym(affiliate.domains.get().domain, gym_session_key(affiliate, owner), workout, member_ids))
            affiliates.append(affiliate)
        pooler = pooler_start()  # after provisioning: the lookup is installed in this run's databases too
        print(f"(setup: {GYMS} affiliates provisioned and filled in {time.perf_counter() - started:.1f} s)")

        port = 18000 + os.getpid() % 1000
        server = gunicorn_start(port, pooler)
        form = result_form(port, gyms[0])
        for gym in gyms:
            gym.form = form
        run_load(port, gyms, 5)  # warm-up: imports, connections, caches
        pids = worker_pids(server.pid)
        rss_start = rss_of(pids)
        stop, peaks = threading.Event(), {"postgres": 0, "pgbouncer": 0, "servers": 0}
        sampler = threading.Thread(target=peaks_sampler, args=(stop, peaks), daemon=True)
        sampler.start()
        load = run_load(port, gyms, SECONDS)
        stop.set()
        sampler.join()
        rss_end = rss_of(worker_pids(server.pid))
        summary(
            f"steady load: gunicorn 2 workers x 4 threads, {CLIENTS} clients, {GYMS} gyms, through PgBouncer",
            load,
            SECONDS,
        )
        print(
            f"  peak connections: PostgreSQL sessions {peaks['postgres']} (of which PgBouncer's {peaks['servers']}),"
            f" PgBouncer clients {peaks['pgbouncer']}"
        )
        print(f"  workers' resident memory: {rss_start:.0f} MiB at the start, {rss_end:.0f} MiB at the end;"
              f" ratio {rss_end / rss_start:.2f}x (target <= 1.2x)")  # fmt: skip

        window = {}

        def restart_later():
            time.sleep(FAULT_SECONDS / 3)
            window["down"], window["up"] = pg_restart()

        fault = run_load(port, gyms, FAULT_SECONDS, during=restart_later)
        # Each gym's outage ends with its first request that succeeds after PostgreSQL is back: its
        # pools in PgBouncer wait server_login_retry (1 s) after a failed login before trying again.
        back: dict[str, float] = {}
        for o in sorted(fault.outcomes, key=lambda o: o.started):
            if o.started > window["up"] and not is_error(o):
                back.setdefault(o.host, o.started)
        up_again = max(back.values(), default=window["up"])
        inside = [
            o
            for o in fault.outcomes
            if is_error(o) and window["down"] <= o.started + o.seconds and o.started <= back.get(o.host, up_again)
        ]
        outside = [o for o in fault.outcomes if is_error(o) and o not in inside]
        if outside:
            statuses = sorted({(o.kind, o.status) for o in outside})
            after = [o.started - window["up"] for o in outside]
            print(
                f"  errors outside the outage: {statuses}, started {min(after):+.2f} s to {max(after):+.2f} s"
                " from PostgreSQL's return"
            )
        summary(f"fault run: PostgreSQL restarted {FAULT_SECONDS / 3:.0f} s in", fault, FAULT_SECONDS)
        print(
            f"  PostgreSQL away for {window['up'] - window['down']:.2f} s; every gym served again"
            f" {up_again - window['up']:.2f} s after it was back; errors during the outage: {len(inside)},"
            f" outside it: {len(outside)}"
        )
        # The restart ended this process's own connections too: open new ones for the checks.
        connections.close_all()
        forget_all()
        acknowledged = {**load.acknowledged}
        acknowledged.update({k: v for k, v in fault.acknowledged.items() if v[1] < window["down"]})
        missing = 0
        by_host = {gym.host: affiliate for gym, affiliate in zip(gyms, affiliates, strict=True)}
        for host, member in acknowledged:
            with affiliate_context(by_host[host]):
                if not Participation.objects.filter(member_id=member).exists():
                    missing += 1
        print(f"  writes acknowledged before the restart: {len(acknowledged)}; missing afterwards: {missing}")
        # Where the last attempt was acknowledged, the row holds exactly that score.
        attempts = {**load.last_attempt, **fault.last_attempt}
        final = {**load.acknowledged, **fault.acknowledged}
        checked = wrong = 0
        for key, (score, _when) in final.items():
            if attempts.get(key) != score:
                continue  # a later attempt got no answer: either value may stand
            minutes, seconds = score.split(":")
            with affiliate_context(by_host[key[0]]):
                value = Participation.objects.get(member_id=key[1]).score_value
            checked += 1
            wrong += value != (int(minutes) * 60 + int(seconds)) * 1000
        print(f"  rows checked against their last acknowledged score: {checked}; different: {wrong}")
        failures = [
            f"{what}: {count}"
            for what, count in (
                # Errors around the restart are a figure to read, not a failure: their count rides on
                # timing (PgBouncer's login retry). No write may be lost, and steady load has none.
                ("errors under steady load", sum(1 for o in load.outcomes if is_error(o))),
                ("acknowledged writes missing", missing),
                ("rows different from their last acknowledged score", wrong),
            )
            if count
        ]
        if failures or not checked:
            raise SystemExit("load benchmark checks failed: " + ("; ".join(failures) or "no write was checked"))
    finally:
        if server is not None:
            server.terminate()
            server.wait(timeout=30)
        scratch.cleanup()


if __name__ == "__main__":
    main()
