# ruff: noqa: I001  (scratch must be imported first: it sets Django up on a scratch database)
"""Leaderboards under load, in one run:

(a) the leaderboard page's query count for 10 and for 1,000 results (must be equal);
(b) requests per second for the leaderboard page spread at random across 200 affiliate databases,
    beside the same page served from one affiliate (target ratio >= 0.9 at the default connection
    cap, through PgBouncer), with the peak number of PostgreSQL connections to affiliate databases;
    also straight to PostgreSQL, at the default cap and at a cap the whole fleet fits under;
(c) database time to rank 10,000 results with the precomputed sort key (target < 20 ms), beside
    ranking the same rows on their raw columns;
(d) the web process's resident memory after serving 200 affiliates against after serving one
    (target within 1.2x);
(e) the all-time board of a benchmark over a long history: its queries and time against the same
    board over one workout (bench/leaderboard_alltime.py).

Requests go through Django's full WSGI stack (middleware, routing, views, templates) in this
process, with the test client.
"""

from __future__ import annotations

import os
import random
import subprocess
from pathlib import Path
import resource
import statistics
import time

import scratch
from common import gym_client, gym_login_make, server_target
import leaderboard_alltime

import psycopg
from django.conf import settings
from django.db import connection, connections
from django.test import Client
from django.test.utils import CaptureQueriesContext

from affiliates.operations import provisioning
from affiliates.routing.context import affiliate_context
from affiliates.models import Affiliate
from gym.members.models import Member
from gym.workouts.models import Participation, Workout
from affiliates.infra.targets import server_admin_target

ROOT = Path(__file__).resolve().parent.parent
FLEET = int(os.environ.get("BENCH_FLEET", "200"))
REQUESTS = int(os.environ.get("BENCH_REQUESTS", "500"))
#: Results on the large board (query count) and on the board ranked by the database (time).
LARGE_BOARD = int(os.environ.get("BENCH_BOARD_RESULTS", "1000"))
RANKED = int(os.environ.get("BENCH_RANK_RESULTS", "10000"))
PASSWORD = "bench-password-1"


def rss_mib() -> float:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def provision(i: int) -> Affiliate:
    slug = f"{scratch.SLUG_PREFIX}{i:04d}"
    affiliate = provisioning.affiliate_request(
        slug=slug, name=f"Bench {i}", domain=f"g{i}.{scratch.RUN}.localhost", enqueue=False
    )
    provisioning.affiliate_provision(affiliate_id=affiliate.pk)
    return Affiliate.objects.select_related("database_server").get(pk=affiliate.pk)


def fill(affiliate: Affiliate, results: int) -> int:
    """A for-time workout with ``results`` results (Rx, Scaled, capped); returns the workout id."""
    rng = random.Random(affiliate.pk)
    with affiliate_context(affiliate):
        workout = Workout.objects.create(
            name="Fran", score_type="time", time_cap_seconds=600, reps_per_round=90, scaling_levels=["rx", "scaled"]
        )
        members = Member.objects.bulk_create(
            [
                Member(first_name=f"M{i}", last_name="Bench", email=f"m{i}@bench.test", gender="FM"[i % 2])
                for i in range(results)
            ]
        )
        Participation.objects.bulk_create(
            [
                Participation(
                    workout=workout,
                    member=m,
                    scaling_level="scaled" if i % 3 == 0 else "rx",
                    status="capped" if i % 11 == 0 else "finished",
                    score_value=None if i % 11 == 0 else rng.randint(120_000, 590_000),
                    reps_completed=rng.randint(40, 89) if i % 11 == 0 else None,
                )
                for i, m in enumerate(members)
            ],
            batch_size=2000,
        )
    return workout.pk


def client_for(affiliate: Affiliate, owners: dict) -> Client:
    """A client logged in as the gym's owner (a login of its own database)."""
    return gym_client(affiliate, owners[affiliate.pk])


def pooler_start() -> str:
    """PgBouncer in front of this PostgreSQL (tools/pgbouncer.sh: auth lookup installed in every
    database, including the ones this run made); its HOST:PORT."""
    subprocess.run([str(ROOT / "tools" / "pgbouncer.sh"), "start"], check=True, capture_output=True)
    return f"127.0.0.1:{os.environ.get('FITBUDDY_POOLER_PORT', '6432')}"


def affiliate_backends(names: list[str]) -> int:
    with psycopg.connect(**server_target().conninfo(dbname="postgres")) as conn:
        return conn.execute("SELECT count(*) FROM pg_stat_activity WHERE datname = ANY(%s)", [names]).fetchone()[0]


def main() -> None:
    scratch.prepare()
    try:
        started = time.perf_counter()
        affiliates = [provision(i) for i in range(FLEET)]
        owners = {a.pk: gym_login_make(a, "owner@bench.test", "owner", PASSWORD) for a in affiliates}
        workouts = {a.pk: fill(a, 30) for a in affiliates}
        print(f"(setup: {FLEET} affiliates provisioned and filled in {time.perf_counter() - started:.1f} s)")

        # (a) query count: 10 vs 1,000 results
        small, large = affiliates[0], affiliates[1]
        with affiliate_context(small):
            Participation.objects.all().delete()
            Member.objects.all().delete()
        with affiliate_context(large):
            Participation.objects.all().delete()
            Member.objects.all().delete()
        w_small, w_large = fill(small, 10), fill(large, LARGE_BOARD)
        counts = []
        for affiliate, workout_id in ((small, w_small), (large, w_large)):
            client = client_for(affiliate, owners)
            client.get(f"/workouts/{workout_id}/leaderboard/")  # warm the caches
            with CaptureQueriesContext(connection) as mgmt:
                with affiliate_context(affiliate):
                    from affiliates.routing.connections import alias_for

                    with CaptureQueriesContext(connections[alias_for(affiliate)]) as gym:
                        response = client.get(f"/workouts/{workout_id}/leaderboard/")
            assert response.status_code == 200
            counts.append((len(mgmt.captured_queries), len(gym.captured_queries)))
        print("== (a) leaderboard page queries (management + affiliate database)")
        print(
            f"  10 results: {counts[0][0]} + {counts[0][1]};  1,000 results: {counts[1][0]} + {counts[1][1]}"
            f"  -> {'same' if counts[0] == counts[1] else 'DIFFERENT'}"
        )
        workouts[small.pk], workouts[large.pk] = w_small, w_large

        # (d, part 1) memory after serving one affiliate
        one = affiliates[2]
        one_client = client_for(one, owners)
        for _ in range(50):
            one_client.get(f"/workouts/{workouts[one.pk]}/leaderboard/")
        rss_one = rss_mib()

        # (b) throughput: one affiliate vs random across the fleet, at the default connection cap and
        # at a cap the whole fleet fits under (what a pooler in front of PostgreSQL would give)
        from affiliates.routing.connections import forget_all

        names = [a.database_name for a in affiliates]
        clients = {a.pk: client_for(a, owners) for a in affiliates[2:]}
        fleet = affiliates[2:]
        default_cap = settings.AFFILIATE_CONNECTIONS_PER_THREAD
        print(f"== (b) leaderboard requests per second ({REQUESTS} requests x 3 rounds, one thread, full WSGI stack)")
        pooler = pooler_start()
        runs = [(default_cap, ""), (len(fleet) + 8, ""), (default_cap, pooler)]
        for cap, through in runs:
            settings.AFFILIATE_CONNECTIONS_PER_THREAD = cap
            settings.DATABASE_POOLER = through
            forget_all()
            rng = random.Random(7)
            one_times, fleet_times, peak = [], [], 0
            for _ in range(3):
                t0 = time.perf_counter()
                for _ in range(REQUESTS):
                    assert one_client.get(f"/workouts/{workouts[one.pk]}/leaderboard/").status_code == 200
                one_times.append(REQUESTS / (time.perf_counter() - t0))
                t0 = time.perf_counter()
                for i in range(REQUESTS):
                    a = rng.choice(fleet)
                    assert clients[a.pk].get(f"/workouts/{workouts[a.pk]}/leaderboard/").status_code == 200
                    if i % 50 == 0:
                        peak = max(peak, affiliate_backends(names))
                fleet_times.append(REQUESTS / (time.perf_counter() - t0))
            rps_one, rps_fleet = statistics.median(one_times), statistics.median(fleet_times)
            if through:
                pooled_cap = settings.AFFILIATE_POOLED_CONNECTIONS_PER_THREAD
                print(
                    f"  through PgBouncer at {through} (transaction pooling), at the default caps"
                    f" ({pooled_cap} pooled connections per thread):"
                )
            else:
                print(f"  cap {cap} affiliate connections per thread, straight to PostgreSQL:")
            print(
                f"    one affiliate: {rps_one:.0f} req/s;  random across {len(fleet)} affiliates:"
                f" {rps_fleet:.0f} req/s;  ratio fleet/one: {rps_fleet / rps_one:.2f}x (target >= 0.9)"
            )
            if through:
                print(
                    f"    peak PostgreSQL connections to affiliate databases: {peak} (PgBouncer's, two pools per"
                    " database: the role's and its auth_query login's)"
                )
            else:
                print(f"    peak PostgreSQL connections to affiliate databases: {peak} (cap {cap})")
        settings.AFFILIATE_CONNECTIONS_PER_THREAD = default_cap
        settings.DATABASE_POOLER = ""
        forget_all()

        # (d, part 2)
        rss_fleet = rss_mib()
        print("== (d) web process resident memory")
        print(
            f"  after one affiliate: {rss_one:.1f} MiB; after {len(fleet)} affiliates: {rss_fleet:.1f} MiB;"
            f" ratio {rss_fleet / rss_one:.2f}x (target <= 1.2x)"
        )

        # (c) ranking 10,000 results in the database
        big = affiliates[3]
        with affiliate_context(big):
            Participation.objects.all().delete()
            Member.objects.all().delete()
        w_big = fill(big, RANKED)
        target = server_admin_target(big.database_server, name=big.database_name)
        keyed = (
            "SELECT p.id, rank() OVER (ORDER BY p.sort_key) FROM participation p JOIN member m ON m.id = p.member_id"
            " WHERE p.workout_id = %s AND p.sort_key IS NOT NULL AND NOT m.hide_scores ORDER BY p.sort_key, p.id"
        )
        raw = (
            "SELECT p.id, rank() OVER (ORDER BY CASE p.scaling_level WHEN 'rx_plus' THEN 0 WHEN 'rx' THEN 1"
            " WHEN 'scaled' THEN 2 ELSE 3 END, CASE p.status WHEN 'finished' THEN 0 WHEN 'capped' THEN 1 ELSE 2 END,"
            " p.score_value, -p.reps_completed, p.tiebreak_ms) FROM participation p JOIN member m ON m.id = p.member_id"
            " WHERE p.workout_id = %s AND NOT m.hide_scores ORDER BY 2, p.id"
        )

        def db_ms(query: str) -> float:
            with psycopg.connect(**target.conninfo(), options="-c search_path=master") as conn:
                conn.execute("ANALYZE participation")
                conn.execute("ANALYZE member")
                times = []
                for _ in range(15):
                    plan = conn.execute(f"EXPLAIN (ANALYZE, TIMING OFF, FORMAT JSON) {query}", [w_big]).fetchone()[0]
                    times.append(plan[0]["Execution Time"])
                return statistics.median(times)

        floor = "SELECT p.id FROM participation p WHERE p.workout_id = %s ORDER BY p.id DESC"
        keyed_ms, raw_ms, floor_ms = db_ms(keyed), db_ms(raw), db_ms(floor)
        print("== (c) database time to rank 10,000 results (EXPLAIN ANALYZE, TIMING OFF, median of 15)")
        print(
            f"  precomputed sort key: {keyed_ms:.1f} ms (target < 20 ms);  raw columns: {raw_ms:.1f} ms"
            f" (ratio {keyed_ms / raw_ms:.2f}x);  floor, reading the same rows sorted by id: {floor_ms:.1f} ms"
            f" (ratio {keyed_ms / floor_ms:.2f}x)"
        )

        # (e) the all-time board of a benchmark over a long history (bench/leaderboard_alltime.py)
        leaderboard_alltime.measure(affiliates[4])
    finally:
        scratch.cleanup()


if __name__ == "__main__":
    main()
