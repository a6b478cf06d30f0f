# ruff: noqa: I001  (scratch must be imported first: it sets Django up on a scratch database)
"""Recording a class, in one run:

(a) the results sheet's save (one POST through Django's full stack) takes the same number of
    queries for a class of 15 and a class of 60;
(b) wall time to record a class of 15 on one sheet, beside the baseline of 15 results saved one
    by one through the single-result form (what a class cost before the sheet), on a load test
    (so personal records are kept too); ratio = baseline / sheet, higher is better (target > 3x).
"""

from __future__ import annotations

import datetime
import statistics
import time

import scratch

from django.contrib.auth import get_user_model
from django.db import connections
from django.test import Client
from django.test.utils import CaptureQueriesContext

from affiliates.operations import provisioning
from affiliates.people import sessions
from affiliates.routing.connections import alias_for
from affiliates.routing.context import affiliate_context
from affiliates.models import Affiliate, Membership
from gym.members.models import Member
from gym.workouts.models import Benchmark, Participation
from gym.workouts.services import workout_from_benchmark

PASSWORD = "bench-password-1"
ROUNDS = 7


def client_for(affiliate: Affiliate, user) -> Client:
    client = Client(HTTP_HOST=affiliate.domains.first().domain)
    client.force_login(user)
    session = client.session
    session[sessions.SITE_KEY] = f"gym:{affiliate.pk}"
    session.save()
    return client


def sheet_post(members: list[Member], loads: list[str]) -> dict[str, str]:
    data = {"action": "save", "default_level": "rx"}
    for member, load in zip(members, loads, strict=True):
        data |= {f"m{member.pk}-scaling_level": "rx", f"m{member.pk}-score": load, f"m{member.pk}-status": "finished"}
    return data


def main() -> None:
    scratch.prepare()
    try:
        affiliate = provisioning.affiliate_request(
            slug=f"{scratch.SLUG_PREFIX}sheet",
            name="Bench Sheet",
            domain=f"sheet.{scratch.RUN}.localhost",
            enqueue=False,
        )
        provisioning.affiliate_provision(affiliate_id=affiliate.pk)
        affiliate = Affiliate.objects.get(pk=affiliate.pk)
        coach = get_user_model().objects.create_user("bench_coach", password=PASSWORD)
        Membership.objects.create(affiliate=affiliate, user=coach, role=Membership.Role.COACH)
        client = client_for(affiliate, coach)
        with affiliate_context(affiliate):
            members = Member.objects.bulk_create(
                [Member(first_name=f"A{i:02d}", last_name="Bench", email=f"a{i}@bench.test") for i in range(60)]
            )
            squat = Benchmark.objects.get(name="Back Squat 1RM")

        def new_workout(day: int):
            with affiliate_context(affiliate):
                on = datetime.date(2026, 1, 1) + datetime.timedelta(days=day)
                return workout_from_benchmark(benchmark=squat, scheduled_on=on)[0]

        alias = alias_for(affiliate)
        counts = {}
        for size in (15, 60):
            workout = new_workout(size)
            loads = [f"{60 + n},5 kg" for n in range(size)]
            with CaptureQueriesContext(connections[alias]) as queries:
                response = client.post(f"/workouts/{workout.pk}/sheet/", sheet_post(members[:size], loads))
            assert response.status_code == 302, response.status_code
            counts[size] = len(queries)
        print("== (a) queries on the affiliate's database to save a results sheet")
        print(
            f"  class of 15: {counts[15]};  class of 60: {counts[60]}"
            f"  ({'equal' if counts[15] == counts[60] else 'GROWS'})"
        )

        sheet_times, single_times = [], []
        for round_ in range(ROUNDS):
            sheet_workout, single_workout = new_workout(100 + 2 * round_), new_workout(101 + 2 * round_)
            loads = [f"{70 + n + round_},5 kg" for n in range(15)]
            started = time.perf_counter()
            assert (
                client.post(f"/workouts/{sheet_workout.pk}/sheet/", sheet_post(members[:15], loads)).status_code == 302
            )
            sheet_times.append(time.perf_counter() - started)
            started = time.perf_counter()
            for member, load in zip(members[:15], loads, strict=True):
                data = {"member": member.pk, "scaling_level": "rx", "status": "finished", "score": load}
                assert client.post(f"/workouts/{single_workout.pk}/", data).status_code == 302
            single_times.append(time.perf_counter() - started)
        with affiliate_context(affiliate):
            assert Participation.objects.count() == 75 + 2 * 15 * ROUNDS
        sheet_ms, single_ms = statistics.median(sheet_times) * 1000, statistics.median(single_times) * 1000
        print("== (b) recording a class of 15 on a load test (personal records kept), median of", ROUNDS)
        print(
            f"  one results sheet: {sheet_ms:.0f} ms;  baseline, 15 single-result posts: {single_ms:.0f} ms"
            f"  -> ratio {single_ms / sheet_ms:.1f}x faster (target > 3x)"
        )
    finally:
        scratch.cleanup()


if __name__ == "__main__":
    main()
