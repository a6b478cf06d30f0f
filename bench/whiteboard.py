# ruff: noqa: I001  (scratch must be imported first: it sets Django up on a scratch database)
"""The whiteboard on the TV, in one run, in a small gym and a large one (the gyms of bench/athlete.py:
30 members and a few hundred results; BENCH_ATHLETE_MEMBERS members and BENCH_ATHLETE_RESULTS results),
each with today's class of 30 on Fran.

The TV's refresh is what repeats all day: an anonymous GET of ``/tv/<token>/board/`` through Django's
full stack (the token looked up, the day's workouts and boards read). Printed: p50 / p95 and queries
per refresh (management + gym database) in each gym, and the ratio large / small of the p50s (the
baseline is the small gym, measured in the same run; the query counts must be equal).
"""

from __future__ import annotations

import os
import statistics
import time

import scratch
from athlete import gym
from common import compare

from django.db import connection, connections
from django.test import Client
from django.test.utils import CaptureQueriesContext

from affiliates.models import Affiliate
from affiliates.routing.connections import alias_for
from affiliates.routing.context import affiliate_context
from gym.leaderboards.whiteboard_links import link_create

ROUNDS = int(os.environ.get("BENCH_WHITEBOARD_ROUNDS", "100"))
LARGE_MEMBERS = int(os.environ.get("BENCH_ATHLETE_MEMBERS", "3000"))
LARGE_RESULTS = int(os.environ.get("BENCH_ATHLETE_RESULTS", "100000"))


def measure(affiliate: Affiliate) -> tuple[float, float, str]:
    with affiliate_context(affiliate):
        _, token = link_create(affiliate_id=affiliate.pk, label="Bench TV", created_by="bench")
    client = Client(HTTP_HOST=affiliate.domains.get().domain)
    url = f"/tv/{token}/board/"
    timings: list[float] = []
    queries = ""
    for n in range(ROUNDS + 3):  # three to warm up
        with CaptureQueriesContext(connection) as mgmt, CaptureQueriesContext(connections[alias_for(affiliate)]) as db:
            started = time.perf_counter()
            response = client.get(url)
            elapsed = time.perf_counter() - started
        assert response.status_code == 200 and b"Fran" in response.content, response.status_code
        if n >= 3:
            timings.append(elapsed * 1000)
            queries = f"{len(mgmt.captured_queries)} + {len(db.captured_queries)}"
    return statistics.median(timings), statistics.quantiles(timings, n=20)[18], queries


def main() -> None:
    scratch.prepare()
    try:
        print(f"== setup (rounds: {ROUNDS})")
        started = time.perf_counter()
        small = gym("tvsmall", 30, 300)[0]
        large = gym("tvlarge", LARGE_MEMBERS, LARGE_RESULTS)[0]
        print(f"  ({time.perf_counter() - started:.1f} s)")
        s, big = measure(small), measure(large)
        print("== the TV's refresh: p50 / p95 ms, queries (management + gym database)")
        compare("board refresh", ("small", s), ("large", big), width=14)
    finally:
        scratch.cleanup()


if __name__ == "__main__":
    main()
