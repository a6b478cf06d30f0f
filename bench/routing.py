# ruff: noqa: I001, E402  (scratch must be imported first: it sets Django up on a scratch database)
"""Routing changes under load: how long after its commit a change is still served the old way.

gunicorn (2 workers x 4 threads, affiliate connections through PgBouncer, as bench/load.py) serves
BENCH_ROUTING_GYMS (6) gyms to BENCH_ROUTING_CLIENTS (8) client threads: each gym's login page (it
names the gym the host routed to) and, half the time on the suspended-to-be gym, its member list
(its database, through the pooler). While they run, this process (another process, as an operator's
command or the command center would be) moves gym A's domain to gym B, then suspends gym C.
Measured per change: the time from its commit (and from the start of its call) to the end of the
last request answered the old way (A's page on the moved host, a 200 from the suspended gym),
across every worker process, and the requests sent after the commit still answered the old way.

Three servers in one run, the same changes for each:

- **stamp**: the routing stamp in Redis, as shipped;
- **Redis down**: the server's Redis unreachable (host lookups live ROUTING_FALLBACK_CACHE_SECONDS);
- **baseline**: the behaviour before the stamp (no Redis, lookups live AFFILIATE_CACHE_SECONDS, 10 s).

Printed: each phase's windows, p50 latency, and the ratio baseline / stamp; and the cost of one host
lookup in this process (the stamp's GET beside the cache alone). Fails if, with the stamp, a request
sent after a change's commit was answered the old way, a request took longer than 5 s (a hang), or
the suspended gym answered anything but 200 before and 503 after (a 500 is a failure).
`BENCH_ROUTING_GYMS`, `BENCH_ROUTING_CLIENTS`, `BENCH_ROUTING_SECONDS` (load before and after each
change, 3) change its size.
"""

from __future__ import annotations

import http.client
import os
import random
import statistics
import sys
import threading
import time
from dataclasses import dataclass, field

import scratch
from common import gym_login_make, gym_session_key
from leaderboard import pooler_start, provision
from load import gunicorn_start

from django.conf import settings

from affiliates.models import Affiliate, Domain
from affiliates.operations import lifecycle
from affiliates.routing.hosts import affiliate_for_host

GYMS = max(3, int(os.environ.get("BENCH_ROUTING_GYMS", "6")))
CLIENTS = int(os.environ.get("BENCH_ROUTING_CLIENTS", "8"))
SECONDS = float(os.environ.get("BENCH_ROUTING_SECONDS", "3"))
HANG_SECONDS = 5.0
DEAD_REDIS = "redis://127.0.0.1:1/1"  # nothing listens there: refused at once


@dataclass
class Answer:
    host: str
    started: float
    ended: float
    status: int  # 0: no answer
    gym: str  # the gym the page named ("" when none)


@dataclass
class Phase:
    label: str
    env: dict[str, str]
    answers: list[Answer] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)
    changes: dict[str, float] = field(default_factory=dict)  # change -> when it had committed (the call returned)
    calls: dict[str, float] = field(default_factory=dict)  # change -> when the call began


@dataclass
class Gyms:
    a: Affiliate
    b: Affiliate
    c: Affiliate
    hosts: list[str]
    cookie_c: str


def _gym_named(page: str) -> str:
    marker = "Log in to "
    at = page.find(marker)
    return page[at + len(marker) : page.find("<", at)].strip() if at >= 0 else ""


def _get(connection: http.client.HTTPConnection, host: str, path: str, cookie: str) -> tuple[int, str]:
    headers = {"Host": host, **({"Cookie": f"sessionid={cookie}"} if cookie else {})}
    connection.request("GET", path, headers=headers)
    response = connection.getresponse()
    return response.status, response.read().decode(errors="replace")


def client_loop(port: int, gyms: Gyms, index: int, stop: threading.Event, phase: Phase) -> None:
    rng = random.Random(index)
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    while not stop.is_set():
        host = rng.choice(gyms.hosts)
        on_c = host == gyms.hosts[2]
        # Gym C: its member list (its database, through the pooler) or its login page (no database).
        path, cookie = ("/members/", gyms.cookie_c) if on_c and rng.random() < 0.5 else ("/login/", "")
        started = time.monotonic()
        try:
            status, page = _get(connection, host, path, cookie)
        except (OSError, http.client.HTTPException):
            status, page = 0, ""
            connection.close()
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        answer = Answer(host, started, time.monotonic(), status, _gym_named(page))
        with phase.lock:
            phase.answers.append(answer)
    connection.close()


def _old_way(answer: Answer, gyms: Gyms, change: str) -> bool:
    if change == "move":
        return answer.host == gyms.hosts[0] and answer.gym == gyms.a.name
    return answer.host == gyms.hosts[2] and answer.status == 200


def window(phase: Phase, gyms: Gyms, change: str) -> tuple[float, int]:
    """Seconds from the change's commit to the end of the last old-way answer (0 if none ended after it), and
    the old-way answers to requests sent after it."""
    committed = phase.changes[change]
    old = [a for a in phase.answers if _old_way(a, gyms, change) and a.ended >= committed]
    last = max((a.ended for a in old), default=committed) - committed
    return last, sum(1 for a in old if a.started > committed)


def since_call(phase: Phase, gyms: Gyms, change: str) -> float:
    """Seconds from the start of the change's call to the end of the last old-way answer."""
    began = phase.calls[change]
    ends = [a.ended for a in phase.answers if _old_way(a, gyms, change) and a.ended >= began]
    return max(ends, default=began) - began


def run_phase(phase: Phase, gyms: Gyms, pooler: str) -> None:
    port = 18000 + (os.getpid() + len(phase.label)) % 1000
    os.environ.update(phase.env)
    server = gunicorn_start(port, pooler)
    for key in phase.env:
        os.environ.pop(key, None)
    stop = threading.Event()
    threads = [threading.Thread(target=client_loop, args=(port, gyms, i, stop, phase)) for i in range(CLIENTS)]
    try:
        for thread in threads:
            thread.start()
        time.sleep(SECONDS)  # every worker has cached every host
        domain = Domain.objects.get(domain=gyms.hosts[0])
        domain.tenant = gyms.b
        phase.calls["move"] = time.monotonic()
        domain.save()  # committed (autocommit); the stamp is written on commit
        phase.changes["move"] = time.monotonic()
        time.sleep(SECONDS)
        phase.calls["suspend"] = time.monotonic()
        lifecycle.affiliate_suspend(affiliate_id=gyms.c.pk, requested_by="bench")
        phase.changes["suspend"] = time.monotonic()
        time.sleep(max(SECONDS, settings.AFFILIATE_CACHE_SECONDS + 1))
    finally:
        stop.set()
        for thread in threads:
            thread.join()
        server.terminate()
        server.wait(timeout=30)
    # Back as they were for the next phase.
    domain = Domain.objects.get(domain=gyms.hosts[0])
    domain.tenant = gyms.a
    domain.save()
    lifecycle.affiliate_resume(affiliate_id=gyms.c.pk, requested_by="bench")
    time.sleep(1.5)  # PgBouncer's server_login_retry after the refused logins


def lookup_cost(host: str, rounds: int = 20_000) -> tuple[float, float]:
    """Microseconds per host lookup: with the stamp (a Redis GET, then the cache), and the cache alone."""
    affiliate_for_host(host)
    started = time.perf_counter()
    for _ in range(rounds):
        affiliate_for_host(host)
    stamped = (time.perf_counter() - started) / rounds * 1e6
    Affiliate.objects.for_host(host, stamp="fixed")
    started = time.perf_counter()
    for _ in range(rounds):
        Affiliate.objects.for_host(host, stamp="fixed")
    cached = (time.perf_counter() - started) / rounds * 1e6
    return stamped, cached


def report(phase: Phase, gyms: Gyms) -> list[str]:
    problems = []
    moved, moved_late = window(phase, gyms, "move")
    suspended, suspended_late = window(phase, gyms, "suspend")
    latencies = sorted(a.ended - a.started for a in phase.answers)
    p50 = statistics.median(latencies) * 1000 if latencies else float("nan")
    after = phase.changes["suspend"]
    c_after = [a for a in phase.answers if a.host == gyms.hosts[2] and a.started > after]
    errors = [a for a in phase.answers if a.status >= 500 and a.status != 503 or a.status == 0]
    hung = [a for a in phase.answers if a.ended - a.started > HANG_SECONDS]
    print(f"== {phase.label}: {len(phase.answers)} requests, p50 {p50:.1f} ms")
    took = {c: (phase.changes[c] - phase.calls[c]) * 1000 for c in ("move", "suspend")}
    print(f"  domain moved A -> B (the save took {took['move']:.0f} ms): last old-way answer {moved * 1000:.0f} ms "
          f"after the commit ({since_call(phase, gyms, 'move') * 1000:.0f} ms after the save began); "
          f"old-way answers to requests sent after the commit: {moved_late}")  # fmt: skip
    print(f"  gym C suspended (the suspend took {took['suspend']:.0f} ms): last 200 {suspended * 1000:.0f} ms after "
          f"it returned ({since_call(phase, gyms, 'suspend') * 1000:.0f} ms after it began); sent after it and still "
          f"200: {suspended_late}; 503s after: {sum(1 for a in c_after if a.status == 503)}")  # fmt: skip
    print(f"  errors (5xx but 503, no answer): {len(errors)}; requests over {HANG_SECONDS:.0f} s: {len(hung)}")
    if hung:
        problems.append(f"{phase.label}: {len(hung)} requests took over {HANG_SECONDS} s")
    if errors:
        problems.append(f"{phase.label}: {len(errors)} errors ({sorted({a.status for a in errors})})")
    if phase.label == "stamp" and (moved_late or suspended_late):
        problems.append(f"stamp: old routing served after the commit ({moved_late} moved, {suspended_late} suspended)")
    return problems


def main() -> int:
    scratch.prepare()
    try:
        started = time.perf_counter()
        affiliates = [provision(i) for i in range(GYMS)]
        owner = gym_login_make(affiliates[2], "owner@routing.test", "owner", "bench-password-1")
        pooler = pooler_start()
        settings.DATABASE_POOLER = pooler  # lifecycle here finds the gyms' pooler as the server does
        gyms = Gyms(
            affiliates[0], affiliates[1], affiliates[2],
            [a.domains.get().domain for a in affiliates], gym_session_key(affiliates[2], owner),
        )  # fmt: skip
        print(f"(setup: {GYMS} affiliates in {time.perf_counter() - started:.1f} s)")
        stamped, cached = lookup_cost(gyms.hosts[-1])
        print(f"== host lookup in this process: {stamped:.1f} us with the stamp (Redis GET + cache), "
              f"{cached:.2f} us from the cache alone: +{stamped - cached:.1f} us per request")  # fmt: skip
        before = {"REDIS_URL": DEAD_REDIS, "ROUTING_FALLBACK_CACHE_SECONDS": str(settings.AFFILIATE_CACHE_SECONDS)}
        phases = [
            Phase("stamp", {"REDIS_URL": settings.REDIS_URL}),
            Phase("Redis down", {"REDIS_URL": DEAD_REDIS}),
            Phase("baseline (before: per-process TTL)", before),
        ]
        problems = []
        for phase in phases:
            run_phase(phase, gyms, pooler)
            problems += report(phase, gyms)
        stamp, base = phases[0], phases[2]
        for change in ("move", "suspend"):
            # From the start of the call: the stamp's figure is then never 0 (it includes the change itself).
            fast, slow = since_call(stamp, gyms, change), since_call(base, gyms, change)
            print(f"== {change}, from the call to the last old-way answer: baseline {slow * 1000:.0f} ms, "
                  f"stamp {fast * 1000:.0f} ms: ratio {slow / max(fast, 0.001):.1f}")  # fmt: skip
        if problems:
            print("routing benchmark checks failed: " + "; ".join(problems), file=sys.stderr)
            return 1
        return 0
    finally:
        scratch.cleanup()


if __name__ == "__main__":
    sys.exit(main())
