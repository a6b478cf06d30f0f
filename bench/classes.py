# ruff: noqa: I001  (scratch must be imported first: it sets Django up on a scratch database)
"""Booking and check-in of a 20-person class, in one run, in a small gym and a large one:

    small  50 members, no class history
    large  5,000 members and two years of classes (BENCH_CLASSES_MEMBERS, BENCH_CLASSES_WEEKS: ten classes
           a week of 20 checked-in athletes each, about 21,000 visits)

In each gym a class of 20 places is booked by 22 athletes from their phone pages (20 booked, 2 on the
waitlist; POSTs through Django's full stack), one booked athlete cancels (the first waitlisted is promoted
in the same transaction), and the coach checks the 20 in from the class's page. Printed: queries on the
gym's database per booking, per cancellation and per check-in in each gym (they must be equal: nothing
grows with the gym or its history), the median time of each, and the ratio large / small (the baseline is
the small gym, measured in the same run; 1.0 means the gym's size costs a booking nothing).
"""

from __future__ import annotations

import datetime
import os
import statistics
import time

import scratch
from common import gym_client, gym_login_make

from django.db import connections
from django.test.utils import CaptureQueriesContext

from affiliates.operations import provisioning
from affiliates.routing.connections import alias_for
from affiliates.routing.context import affiliate_context
from affiliates.models import Affiliate
from gym.accounts.models import GymLogin
from gym.classes.models import ClassBooking, ClassSchedule
from gym.members.models import Member

ROUNDS = int(os.environ.get("BENCH_CLASSES_ROUNDS", "5"))
LARGE_MEMBERS = int(os.environ.get("BENCH_CLASSES_MEMBERS", "5000"))
WEEKS = int(os.environ.get("BENCH_CLASSES_WEEKS", "104"))
CAPACITY = 20
ATHLETES = CAPACITY + 2
PASSWORD = "bench-password-1"
#: The first class day measured: a Monday ahead of any clock, so no cut-off closes it.
FIRST_DAY = datetime.date(2030, 1, 7)


def gym(name: str, members: int, weeks: int) -> tuple[Affiliate, ClassSchedule, list[GymLogin], GymLogin]:
    """A provisioned gym with ``members`` members, ``weeks`` of past classes, the measured Monday class, the
    athletes' logins and a coach."""
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
            "INSERT INTO master.member (first_name, last_name, email)"
            " SELECT 'M' || n, 'Bench', 'm' || n || '@bench.test' FROM generate_series(1, %s) n",
            [members],
        )
        # History: ten classes a week (Monday to Friday, 6 am and 6 pm), each with 20 checked-in athletes.
        cursor.execute(
            "INSERT INTO master.class_schedule (name, weekday, starts_at, length_minutes, capacity, active_from)"
            " SELECT 'Old ' || d || '-' || h, d, make_time(h, 0, 0), 60, 20, DATE '2027-01-01'"
            " FROM generate_series(1, 5) d CROSS JOIN (VALUES (6), (18)) AS hours (h)"
        )
        cursor.execute(
            "INSERT INTO master.class_occurrence (schedule_id, on_date)"
            " SELECT s.id, DATE '2027-01-04' + (w * 7 + s.weekday - 1)"
            " FROM master.class_schedule s CROSS JOIN generate_series(0, %s - 1) w",
            [weeks],
        )
        cursor.execute(
            "INSERT INTO master.class_booking (occurrence_id, member_id, status, checked_in_at)"
            " SELECT o.id, m.id, 'booked', o.on_date + time '06:00'"
            " FROM master.class_occurrence o CROSS JOIN generate_series(0, 19) k"
            " JOIN master.member m ON m.email = 'm' || ((o.id * 37 + k * 11) %% %s + 1) || '@bench.test'",
            [members],
        )
        schedule = ClassSchedule.objects.create(
            name="6 am WOD",
            weekday=1,
            starts_at=datetime.time(6),
            length_minutes=60,
            capacity=CAPACITY,
            active_from=datetime.date(2027, 1, 1),
        )
        people = list(Member.objects.order_by("id")[:ATHLETES])
    first = gym_login_make(affiliate, "athlete0@bench.test", "athlete", PASSWORD, member=people[0])
    with affiliate_context(affiliate):  # one password hash, copied: hashing 22 is the slow part otherwise
        GymLogin.objects.bulk_create(
            [
                GymLogin(email=f"athlete{i}@bench.test", role="athlete", member=m, password=first.password)
                for i, m in enumerate(people[1:], start=1)
            ]
        )
        athletes = [first, *GymLogin.objects.filter(role="athlete").exclude(pk=first.pk).order_by("id")]
    coach = gym_login_make(affiliate, "coach@bench.test", "coach", PASSWORD)
    return affiliate, schedule, athletes, coach


def measure(affiliate: Affiliate, schedule: ClassSchedule, athletes: list[GymLogin], coach: GymLogin) -> dict:
    """Per round a new class: 22 bookings, a cancellation with its promotion, 20 check-ins."""
    alias = alias_for(affiliate)
    phones = [gym_client(affiliate, a) for a in athletes]
    desk = gym_client(affiliate, coach)
    found: dict[str, list] = {"book": [], "cancel": [], "checkin": [], "book_q": [], "cancel_q": [], "checkin_q": []}

    def timed(kind: str, client, url: str, data: dict) -> None:
        with CaptureQueriesContext(connections[alias]) as queries:
            started = time.perf_counter()
            response = client.post(url, data)
            found[kind].append(time.perf_counter() - started)
        assert response.status_code == 302, (url, response.status_code)
        found[f"{kind}_q"].append(len(queries))

    for round_ in range(ROUNDS):
        day = (FIRST_DAY + datetime.timedelta(days=7 * round_)).isoformat()
        for phone in phones:
            timed("book", phone, f"/me/classes/{schedule.pk}/{day}/", {"action": "book"})
        timed("cancel", phones[0], f"/me/classes/{schedule.pk}/{day}/", {"action": "cancel"})
        with affiliate_context(affiliate):
            booked = list(
                ClassBooking.objects.filter(
                    occurrence__schedule=schedule, occurrence__on_date=day, status="booked"
                ).values_list("member_id", flat=True)
            )
        assert len(booked) == CAPACITY and athletes[CAPACITY].member_id in booked, (
            "the first waitlisted was not promoted"
        )
        for member_id in booked:
            timed("checkin", desk, f"/classes/{schedule.pk}/{day}/act/", {"action": "in", "member": member_id})
    return found


def main() -> None:
    scratch.prepare()
    try:
        print(
            f"== setting up: a gym of 50 members, and one of {LARGE_MEMBERS} with {WEEKS} weeks of classes", flush=True
        )
        small, large = gym("csmall", 50, 0), gym("clarge", LARGE_MEMBERS, WEEKS)
        with affiliate_context(large[0]):
            visits = ClassBooking.objects.count()
        results = {"small": measure(*small), "large": measure(*large)}
        print(
            f"== a class of {CAPACITY} ({ATHLETES} bookings, a cancellation, {CAPACITY} check-ins), {ROUNDS} rounds;"
            f" large gym: {LARGE_MEMBERS} members, {visits} past visits"
        )
        failed = []
        for kind, label in (("book", "booking"), ("cancel", "cancellation + promotion"), ("checkin", "check-in")):
            s, big = results["small"], results["large"]
            s_ms, l_ms = statistics.median(s[kind]) * 1000, statistics.median(big[kind]) * 1000
            s_q, l_q = sorted(set(s[f"{kind}_q"])), sorted(set(big[f"{kind}_q"]))
            print(
                f"  {label:<26} small {s_ms:6.1f} ms, queries {s_q};  large {l_ms:6.1f} ms, queries {l_q}"
                f"  -> ratio large/small {l_ms / s_ms:.2f}"
            )
            if s[f"{kind}_q"] != big[f"{kind}_q"]:
                failed.append(label)
        if failed:
            raise SystemExit(f"query counts differ between the small and the large gym: {', '.join(failed)}")
    finally:
        scratch.cleanup()


if __name__ == "__main__":
    main()
