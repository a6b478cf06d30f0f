# ruff: noqa: I001  (scratch must be imported first: it sets Django up on a scratch database)
"""(e) The all-time board of a benchmark over a long history, part of bench/leaderboard.py (and runnable
alone: ``python bench/leaderboard_alltime.py`` provisions one gym of its own).

One gym, the same MEMBERS athletes on two library benchmarks: Fran programmed HISTORY times (every
athlete has a result on each: HISTORY x MEMBERS results) and Grace once. Printed: the all-time
board's queries for the long and the one-workout history (must be equal), and its time on the long
history against two baselines measured in the same run: the all-time board of the one-workout
history (the same board, the same members), and one Fran workout's own board.
"""

from __future__ import annotations

import datetime
import os
import random
import statistics
import time
from collections.abc import Callable

import scratch

from django.db import connections
from django.test.utils import CaptureQueriesContext

from affiliates.models import Affiliate
from affiliates.operations import provisioning
from affiliates.routing.connections import alias_for
from affiliates.routing.context import affiliate_context
from gym.leaderboards.alltime import all_time_board
from gym.members.models import Member
from gym.workouts.models import Benchmark, Participation, Workout
from gym.workouts.selectors import leaderboard_for_workout

HISTORY = int(os.environ.get("BENCH_ALLTIME_WORKOUTS", "250"))
MEMBERS = int(os.environ.get("BENCH_ALLTIME_MEMBERS", "200"))
ROUNDS = int(os.environ.get("BENCH_ALLTIME_ROUNDS", "15"))


def _programmed(benchmark: Benchmark, times: int, members: list[Member], rng: random.Random) -> list[Workout]:
    first = datetime.date(2020, 1, 6)
    workouts = Workout.objects.bulk_create(
        [
            Workout(
                name=benchmark.name,
                score_type=benchmark.score_type,
                benchmark=benchmark,
                scheduled_on=first + datetime.timedelta(days=7 * i),
                scaling_levels=["rx", "scaled"],
            )
            for i in range(times)
        ]
    )
    Participation.objects.bulk_create(
        [
            Participation(
                workout=w,
                member=m,
                scaling_level="scaled" if (i + j) % 4 == 0 else "rx",
                score_value=rng.randint(120_000, 590_000),
                performed_on=w.scheduled_on,
            )
            for i, w in enumerate(workouts)
            for j, m in enumerate(members)
        ],
        batch_size=5000,
    )
    return workouts


def _median_ms(call: Callable[[], object]) -> float:
    call()  # warm
    times = []
    for _ in range(ROUNDS):
        started = time.perf_counter()
        call()
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times)


def measure(affiliate: Affiliate) -> None:
    rng = random.Random(21)
    with affiliate_context(affiliate):
        members = Member.objects.bulk_create(
            [
                Member(first_name=f"H{i}", last_name="History", email=f"h{i}@history.bench", gender="FM"[i % 2])
                for i in range(MEMBERS)
            ]
        )
        fran, grace = Benchmark.objects.get(name="Fran"), Benchmark.objects.get(name="Grace")
        frans = _programmed(fran, HISTORY, members, rng)
        _programmed(grace, 1, members, rng)
        with connections[alias_for(affiliate)].cursor() as cursor:
            cursor.execute("ANALYZE participation; ANALYZE workout; ANALYZE member")
        counts = []
        for benchmark in (fran, grace):
            with CaptureQueriesContext(connections[alias_for(affiliate)]) as queries:
                rows = all_time_board(benchmark)
            assert len(rows) == MEMBERS, (benchmark, len(rows))
            counts.append(len(queries.captured_queries))
        long_ms = _median_ms(lambda: all_time_board(fran))
        short_ms = _median_ms(lambda: all_time_board(grace))
        one_ms = _median_ms(lambda: leaderboard_for_workout(frans[-1]))
    print(f"== (e) all-time board of a benchmark ({MEMBERS} athletes; median of {ROUNDS})")
    print(
        f"  queries: {HISTORY} Frans ({HISTORY * MEMBERS:,} results): {counts[0]};  one Grace: {counts[1]}"
        f"  -> {'same' if counts[0] == counts[1] else 'DIFFERENT'}"
    )
    print(
        f"  all-time Fran over {HISTORY} workouts: {long_ms:.1f} ms;  all-time Grace over one workout:"
        f" {short_ms:.1f} ms (ratio {long_ms / short_ms:.1f}x);  one Fran workout's board: {one_ms:.1f} ms"
        f" (ratio {long_ms / one_ms:.1f}x)"
    )


def main() -> None:
    scratch.prepare()
    try:
        slug = f"{scratch.SLUG_PREFIX}alltime"
        affiliate = provisioning.affiliate_request(
            slug=slug, name="Bench all-time", domain=f"alltime.{scratch.RUN}.localhost", enqueue=False
        )
        provisioning.affiliate_provision(affiliate_id=affiliate.pk)
        measure(Affiliate.objects.select_related("database_server").get(pk=affiliate.pk))
    finally:
        scratch.cleanup()


if __name__ == "__main__":
    main()
