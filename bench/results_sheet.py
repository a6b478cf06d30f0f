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
import os
import statistics
import time

import scratch
from common import gym_client, gym_login_make, post_form

from django.db import connections
from django.test import Client
from django.test.utils import CaptureQueriesContext

from affiliates.operations import provisioning
from affiliates.routing.connections import alias_for
from affiliates.routing.context import affiliate_context
from affiliates.models import Affiliate
from gym.members.models import Member
from gym.workouts.models import Benchmark, Participation
from gym.workouts.services import workout_from_benchmark

PASSWORD = "bench-password-1"
ROUNDS = int(os.environ.get("BENCH_SHEET_ROUNDS", "7"))


def sheet_post(client: Client, workout_id: int, members: list[Member], loads: list[str]) -> dict[str, str]:
    """The results sheet's form as its page gives it, with these members' loads filled in."""
    url = f"/workouts/{workout_id}/sheet/"
    filled = {"default_level": "rx"}
    for member, load in zip(members, loads, strict=True):
        filled |= {f"m{member.pk}-scaling_level": "rx", f"m{member.pk}-score": load, f"m{member.pk}-status": "finished"}
    page = client.get(url)
    assert page.status_code == 200, page.status_code
    return {**post_form(page.content.decode(), url, needs=set(filled)), **filled, "action": "save"}


def single_post(client: Client, workout_id: int, member: Member, load: str) -> dict[str, str]:
    """The workout page's result form as the page gives it, with one member's load filled in."""
    url = f"/workouts/{workout_id}/"
    filled = {"member": str(member.pk), "scaling_level": "rx", "status": "finished", "score": load}
    page = client.get(url)
    assert page.status_code == 200, page.status_code
    return {**post_form(page.content.decode(), url, needs=set(filled)), **filled}


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
        coach = gym_login_make(affiliate, "coach@bench.test", "coach", PASSWORD)
        client = gym_client(affiliate, coach)
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
            data = sheet_post(client, workout.pk, members[:size], loads)
            with CaptureQueriesContext(connections[alias]) as queries:
                response = client.post(f"/workouts/{workout.pk}/sheet/", data)
            assert response.status_code == 302, response.status_code
            counts[size] = len(queries)
        print("== (a) queries on the affiliate's database to save a results sheet")
        print(
            f"  class of 15: {counts[15]};  class of 60: {counts[60]}"
            f"  ({'equal' if counts[15] == counts[60] else 'GROWS'})"
        )
        if counts[15] != counts[60]:
            raise SystemExit(f"results sheet: {counts[15]} queries for 15 athletes but {counts[60]} for 60")

        sheet_times, single_times = [], []
        for round_ in range(ROUNDS):
            sheet_workout, single_workout = new_workout(100 + 2 * round_), new_workout(101 + 2 * round_)
            loads = [f"{70 + n + round_},5 kg" for n in range(15)]
            # The forms are read from their pages before the clock starts: the timings are the saves.
            sheet = sheet_post(client, sheet_workout.pk, members[:15], loads)
            singles = [
                single_post(client, single_workout.pk, member, load)
                for member, load in zip(members[:15], loads, strict=True)
            ]
            started = time.perf_counter()
            assert client.post(f"/workouts/{sheet_workout.pk}/sheet/", sheet).status_code == 302
            sheet_times.append(time.perf_counter() - started)
            started = time.perf_counter()
            for data in singles:
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
