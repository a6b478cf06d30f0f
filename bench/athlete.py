# ruff: noqa: I001  (scratch must be imported first: it sets Django up on a scratch database)
"""An athlete on their phone, in one run, in a small gym and a large one:

    small  30 members, a few hundred results
    large  3,000 members and 100,000 results (BENCH_ATHLETE_MEMBERS, BENCH_ATHLETE_RESULTS)

Each has today's class on Fran (30 results). The athlete logs a score (POST, through Django's full stack,
with its session and CSRF checks), loads the workout page with the board, and loads their week. Printed:
p50 / p95 per request and queries per request (management + gym database) in each gym, and the ratio
large / small of the p50s (the baseline is the small gym, measured in the same run; 1.0 means the gym's
size costs the athlete nothing; the query counts must be equal).
"""

from __future__ import annotations

import os
import statistics
import time

import scratch
from common import compare, gym_client, gym_login_make, post_form

from django.db import connection, connections
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from affiliates.operations import provisioning
from affiliates.routing.connections import alias_for
from affiliates.routing.context import affiliate_context
from affiliates.models import Affiliate
from gym.members.models import Member
from gym.workouts.models import Participation, Workout

ROUNDS = int(os.environ.get("BENCH_ATHLETE_ROUNDS", "60"))
LARGE_MEMBERS = int(os.environ.get("BENCH_ATHLETE_MEMBERS", "3000"))
LARGE_RESULTS = int(os.environ.get("BENCH_ATHLETE_RESULTS", "100000"))
CLASS = 30
PASSWORD = "bench-password-1"


def gym(name: str, members: int, results: int) -> tuple[Affiliate, Workout, Member]:
    """A provisioned gym with ``members`` members, ``results`` past results, and today's Fran for a class."""
    affiliate = provisioning.affiliate_request(
        slug=f"{scratch.SLUG_PREFIX}{name}",
        name=f"Bench {name}",
        domain=f"{name}.{scratch.RUN}.localhost",
        enqueue=False,
    )
    provisioning.affiliate_provision(affiliate_id=affiliate.pk)
    affiliate = Affiliate.objects.select_related("database_server").get(pk=affiliate.pk)
    per_workout = min(members, 2500)
    history = max(1, -(-results // per_workout))
    with affiliate_context(affiliate), connections[alias_for(affiliate)].cursor() as cursor:
        cursor.execute(
            "INSERT INTO master.member (first_name, last_name, email, gender)"
            " SELECT 'M' || n, 'Bench', 'm' || n || '@bench.test', CASE WHEN n %% 2 = 0 THEN 'F' ELSE 'M' END"
            " FROM generate_series(1, %s) n",
            [members],
        )
        cursor.execute(
            "INSERT INTO master.workout"
            " (name, score_type, time_cap_seconds, reps_per_round, scaling_levels, scheduled_on)"
            " SELECT 'History ' || n, 'time', 1200, 150, ARRAY['rx', 'scaled'], current_date - n"
            " FROM generate_series(1, %s) n",
            [history],
        )
        cursor.execute(
            "INSERT INTO master.participation (workout_id, member_id, scaling_level, status, score_value, performed_on)"
            " SELECT w.id, m.id, CASE WHEN m.id %% 3 = 0 THEN 'scaled' ELSE 'rx' END, 'finished',"
            "        300000 + ((m.id * 7919 + w.id * 104729) %% 600000), w.scheduled_on"
            " FROM (SELECT id, scheduled_on FROM master.workout WHERE name LIKE 'History %%') w"
            " CROSS JOIN (SELECT id FROM master.member ORDER BY id LIMIT %s) m"
            " LIMIT %s",
            [per_workout, results],
        )
        fran = Workout.objects.create(
            name="Fran",
            score_type="time",
            time_cap_seconds=600,
            reps_per_round=90,
            scaling_levels=["rx", "scaled"],
            scheduled_on=timezone.localdate(),
        )
        classmates = list(Member.objects.order_by("id")[1 : CLASS + 1])
        Participation.objects.bulk_create(
            Participation(workout=fran, member=m, score_value=180_000 + 1_000 * i, scaling_level="rx")
            for i, m in enumerate(classmates)
        )
        athlete = Member.objects.order_by("id").first()
        assert athlete is not None
        cursor.execute("ANALYZE")
        count = Participation.objects.count()
    print(f"  {name}: {members} members, {count} results, today's class of {len(classmates)} others on Fran")
    return affiliate, fran, athlete


def measure(affiliate: Affiliate, fran: Workout, athlete: Member) -> dict[str, tuple[float, float, str]]:
    login = gym_login_make(affiliate, "athlete@bench.test", "athlete", PASSWORD, member=athlete)
    client = gym_client(affiliate, login)
    page_url, week_url = f"/me/workouts/{fran.pk}/", "/me/"
    form = post_form(client.get(page_url).content.decode(), page_url, needs={"score", "scaling_level", "status"})
    timings: dict[str, list[float]] = {"log a score": [], "the workout and its board": [], "my week": []}
    queries: dict[str, str] = {}
    alias = alias_for(affiliate)
    for n in range(ROUNDS + 3):  # three to warm up
        score = f"{3 + n % 3}:{10 + n % 40:02d}"
        steps = (
            ("log a score", lambda s=score: client.post(page_url, {**form, "scaling_level": "rx", "score": s})),
            ("the workout and its board", lambda: client.get(page_url)),
            ("my week", lambda: client.get(week_url)),
        )
        for label, request in steps:
            with CaptureQueriesContext(connection) as mgmt, CaptureQueriesContext(connections[alias]) as gym_db:
                started = time.perf_counter()
                response = request()
                elapsed = time.perf_counter() - started
            assert response.status_code in (200, 302), (label, response.status_code)
            if n >= 3:
                timings[label].append(elapsed * 1000)
                queries[label] = f"{len(mgmt.captured_queries)} + {len(gym_db.captured_queries)}"
    with affiliate_context(affiliate):
        mine = Participation.objects.get(workout=fran, member=athlete)
    assert mine.entered_by == mine.recorded_by == "athlete@bench.test", "the athlete's own entry"
    return {
        label: (statistics.median(values), statistics.quantiles(values, n=20)[18], queries[label])
        for label, values in timings.items()
    }


def main() -> None:
    scratch.prepare()
    try:
        print(f"== setup (rounds: {ROUNDS})")
        started = time.perf_counter()
        small = gym("small", 30, 300)
        large = gym("large", LARGE_MEMBERS, LARGE_RESULTS)
        print(f"  ({time.perf_counter() - started:.1f} s)")
        figures = {"small": measure(*small), "large": measure(*large)}
        print("== an athlete's requests: p50 / p95 ms, queries (management + gym database)")
        for label in figures["small"]:
            compare(label, ("small", figures["small"][label]), ("large", figures["large"][label]), width=27)
    finally:
        scratch.cleanup()


if __name__ == "__main__":
    main()
