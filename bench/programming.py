# ruff: noqa: I001  (scratch must be imported first: it sets Django up on a scratch database)
"""A coach's programming, in one run, in a gym with a short history and one with a long one:

    short  100 days of programming (3 parts a day, each with 3 movements)
    long   BENCH_PROGRAMMING_DAYS days (default 10,000: about 27 years, 30,000 workouts, 90,000 movements)

In each, through Django's full stack (session, CSRF): search the workout list for "thruster" (page 1),
open a day of three parts, and copy a week of 21 workouts to a new week (POST, its own token each round).
Printed: p50 / p95 per request and queries per request (management + gym database) in each gym, and the
ratio long / short of the p50s (the baseline is the short history, measured in the same run). The copy
and the day page must take the same number of queries in both; the search is one query more or less
whatever the history (its page count reads the matches through the trigram index).
"""

from __future__ import annotations

import datetime
import os
import statistics
import time
import uuid

import scratch
from common import compare, gym_client, gym_login_make, post_form

from django.db import connection, connections
from django.test.utils import CaptureQueriesContext

from affiliates.models import Affiliate
from affiliates.operations import provisioning
from affiliates.routing.connections import alias_for
from affiliates.routing.context import affiliate_context
from gym.workouts.models import Workout

ROUNDS = int(os.environ.get("BENCH_PROGRAMMING_ROUNDS", "20"))
LONG_DAYS = int(os.environ.get("BENCH_PROGRAMMING_DAYS", "10000"))
PASSWORD = "bench-password-1"
#: The week copied, and the first week copied to (each round copies to the week after the last one).
SOURCE = datetime.date(2030, 1, 7)
FIRST_TARGET = datetime.date(2031, 1, 6)


def gym(name: str, days: int) -> Affiliate:
    """A provisioned gym with ``days`` days of history (three parts a day, a thruster day in ten) and
    the week of SOURCE programmed."""
    affiliate = provisioning.affiliate_request(
        slug=f"{scratch.SLUG_PREFIX}{name}",
        name=f"Bench {name}",
        domain=f"{name}.{scratch.RUN}.localhost",
        enqueue=False,
    )
    provisioning.affiliate_provision(affiliate_id=affiliate.pk)
    affiliate = Affiliate.objects.select_related("database_server").get(pk=affiliate.pk)
    with affiliate_context(affiliate), connections[alias_for(affiliate)].cursor() as cursor:
        cursor.execute(
            "INSERT INTO master.workout (name, description, part, part_position, score_type, scheduled_on)"
            " SELECT CASE WHEN p = 3 AND d %% 10 = 0 THEN 'Thruster day ' || d ELSE 'Workout ' || d || '.' || p END,"
            "        'Day ' || d, (ARRAY['Warm-up', 'Strength', 'Metcon'])[p], p,"
            "        (ARRAY['none', 'load', 'time'])[p], DATE '2029-12-31' - d"
            " FROM generate_series(0, %s) d CROSS JOIN generate_series(1, 3) p",
            [days - 1],
        )
        cursor.execute(
            "INSERT INTO master.workout (name, part, part_position, score_type, scheduled_on)"
            " SELECT 'Week part ' || p, (ARRAY['Warm-up', 'Strength', 'Metcon'])[p], p,"
            "        (ARRAY['none', 'load', 'time'])[p], %s + d"
            " FROM generate_series(0, 6) d CROSS JOIN generate_series(1, 3) p",
            [SOURCE],
        )
        cursor.execute(
            "INSERT INTO master.workout_exercise (workout_id, exercise_id, position, prescription)"
            " SELECT w.id, e.id, e.n, '21-15-9' FROM master.workout w"
            " CROSS JOIN (SELECT id, row_number() OVER (ORDER BY id) AS n FROM master.exercise"
            "             WHERE name IN ('Row', 'Pull-up', 'Burpee')) e",
        )
        cursor.execute("ANALYZE")
        count = Workout.objects.count()
    print(f"  {name}: {count} workouts")
    return affiliate


def measure(affiliate: Affiliate) -> dict[str, tuple[float, float, str]]:
    login = gym_login_make(affiliate, "coach@bench.test", "coach", PASSWORD)
    client = gym_client(affiliate, login)
    week_url = f"/workouts/week/?start={SOURCE.isoformat()}"
    form = post_form(client.get(week_url).content.decode(), "/workouts/week/copy/", needs={"target", "token"})
    timings: dict[str, list[float]] = {"search thruster": [], "a day of three parts": [], "copy a week": []}
    queries: dict[str, str] = {}
    alias = alias_for(affiliate)
    for n in range(ROUNDS + 3):  # three to warm up
        target = FIRST_TARGET + datetime.timedelta(days=7 * n)
        copy = {**form, "target": target.isoformat(), "token": str(uuid.uuid4())}
        steps = (
            ("search thruster", lambda: client.get("/workouts/", {"q": "thruster"})),
            ("a day of three parts", lambda: client.get(f"/workouts/day/{SOURCE.isoformat()}/")),
            ("copy a week", lambda c=copy: client.post("/workouts/week/copy/", c)),
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
        copied = Workout.objects.filter(scheduled_on__gte=FIRST_TARGET).count()
        assert copied == 21 * (ROUNDS + 3), f"every round copied the week once ({copied} workouts)"
    return {
        label: (statistics.median(values), statistics.quantiles(values, n=20)[18], queries[label])
        for label, values in timings.items()
    }


def main() -> None:
    scratch.prepare()
    try:
        print(f"== setup (rounds: {ROUNDS})")
        started = time.perf_counter()
        short = gym("short", 100)
        long_ = gym("long", LONG_DAYS)
        print(f"  ({time.perf_counter() - started:.1f} s)")
        figures = {"short": measure(short), "long": measure(long_)}
        print("== a coach's programming: p50 / p95 ms, queries (management + gym database)")
        for label in figures["short"]:
            compare(label, ("short", figures["short"][label]), ("long", figures["long"][label]))
    finally:
        scratch.cleanup()


if __name__ == "__main__":
    main()
