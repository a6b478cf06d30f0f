"""The boards that tell a gym's story: the overall board (dates in its columns, only workouts with
results, Rx/Scaled divisions), the all-time board of a benchmark, the record feed and member links."""

from __future__ import annotations

import datetime

import pytest
from django.db import connections
from django.test.utils import CaptureQueriesContext

from affiliates.routing.connections import alias_name
from affiliates.routing.context import affiliate_context
from gym.accounts.models import GymLogin
from gym.leaderboards.alltime import all_time_board
from gym.leaderboards.selectors import overall_leaderboard
from gym.members.models import Member
from gym.workouts.models import Benchmark, Workout
from gym.workouts.records_feed import record_feed
from gym.workouts.services import participation_record, workout_from_benchmark
from tests.conftest import client_for
from tests.factories import MemberFactory, WorkoutFactory, gym_login

pytestmark = pytest.mark.django_db(transaction=True)

DAY = datetime.date(2026, 3, 2)


def _member(name: str, gender: str = Member.Gender.FEMALE, **extra) -> Member:
    return MemberFactory(first_name=name, email=f"{name.lower()}@gym.test", gender=gender, **extra)


def _record(workout, member, score: str, level: str = "rx") -> None:
    participation_record(workout=workout, member=member, scaling_level=level, score_text=score)


def test_a_workout_without_results_is_not_on_the_overall_board(gyms):
    with affiliate_context(gyms.a):
        done = WorkoutFactory(name="Done", score_type="reps", scaling_levels=["rx"], scheduled_on=DAY)
        WorkoutFactory(
            name="Tomorrow", score_type="reps", scaling_levels=["rx"], scheduled_on=DAY + datetime.timedelta(days=1)
        )
        a, b = _member("Aa"), _member("Bb")
        _record(done, a, "30")
        _record(done, b, "20")

        workouts, rows = overall_leaderboard(start=DAY, end=DAY + datetime.timedelta(days=1))

    assert [w.name for w in workouts] == ["Done"]
    assert [(r.rank, str(r.member), r.total, r.places) for r in rows] == [(1, "Aa", 1, [1]), (2, "Bb", 2, [2])]


def _two_days(gyms):
    """Two reps workouts on two days; Rx and Scaled athletes on both."""
    first = WorkoutFactory(name="Karen", score_type="reps", scaling_levels=["rx", "scaled"], scheduled_on=DAY)
    second = WorkoutFactory(
        name="Karen", score_type="reps", scaling_levels=["rx", "scaled"], scheduled_on=DAY + datetime.timedelta(days=2)
    )
    rx1, rx2, sc1, sc2 = _member("Rxone"), _member("Rxtwo"), _member("Scone"), _member("Sctwo")
    for workout, results in (
        (first, [(rx1, "100", "rx"), (rx2, "90", "rx"), (sc1, "150", "scaled"), (sc2, "140", "scaled")]),
        (second, [(rx2, "110", "rx"), (rx1, "95", "rx"), (sc2, "150", "scaled"), (sc1, "120", "scaled")]),
    ):
        for member, score, level in results:
            _record(workout, member, score, level)
    return first, second


def test_the_overall_board_splits_rx_and_scaled_divisions(gyms):
    with affiliate_context(gyms.a):
        _two_days(gyms)
        end = DAY + datetime.timedelta(days=2)
        _, everyone = overall_leaderboard(start=DAY, end=end)
        _, rx = overall_leaderboard(start=DAY, end=end, division="rx")
        _, scaled = overall_leaderboard(start=DAY, end=end, division="scaled")
        _, foundations = overall_leaderboard(start=DAY, end=end, division="foundations")

    # One board: every Rx result places ahead of every Scaled one (docs/domain.md).
    assert [(str(r.member), r.places) for r in everyone] == [
        ("Rxone", [1, 2]),
        ("Rxtwo", [2, 1]),
        ("Scone", [3, 4]),
        ("Sctwo", [4, 3]),
    ]
    # Each division ranks its own results: a scaled athlete can win the Scaled board.
    assert [(r.rank, str(r.member), r.total) for r in rx] == [(1, "Rxone", 3), (1, "Rxtwo", 3)]
    assert [(r.rank, str(r.member), r.places) for r in scaled] == [(1, "Scone", [1, 2]), (1, "Sctwo", [2, 1])]
    assert foundations == []


def test_the_overall_page_heads_each_column_with_its_date_and_links_members_for_coaches(gyms):
    with affiliate_context(gyms.a):
        _two_days(gyms)
        rxone = Member.objects.get(first_name="Rxone")
    coach = client_for(gyms.a, gyms.coach_a)
    page = coach.get("/leaderboards/overall/", {"start": "2026-03-01", "end": "2026-03-31", "division": "rx"})
    html = page.content.decode()
    assert page.status_code == 200
    assert '<time datetime="2026-03-02">Mon 2 Mar</time>' in html
    assert '<time datetime="2026-03-04">Wed 4 Mar</time>' in html
    assert f'href="/members/{rxone.pk}/"' in html
    assert "Scone" not in html  # the Rx division only
    # Bad input is refused with a message, never a 500.
    bad = coach.get("/leaderboards/overall/", {"start": "yesterday", "division": "nonsense"})
    assert bad.status_code == 200 and "is not a date" in bad.content.decode()


def _fran(gyms, year: int, results: list[tuple[Member, str, str]]) -> Workout:
    fran = Benchmark.objects.get(name="Fran")
    workout, _ = workout_from_benchmark(benchmark=fran, scheduled_on=datetime.date(year, 5, 4))
    for member, score, level in results:
        _record(workout, member, score, level)
    return workout


def test_the_all_time_fran_board_keeps_each_athletes_best_ever(gyms):
    with affiliate_context(gyms.a):
        improving = _member("Improver")
        steady = _member("Steady", gender=Member.Gender.MALE)
        scaler = _member("Scaler")
        shy = _member("Shy", hide_scores=True)
        twin = _member("Twin")
        _fran(gyms, 2023, [(improving, "7:10", "rx"), (steady, "4:00", "rx"), (scaler, "3:00", "scaled")])
        _fran(
            gyms, 2024, [(improving, "5:30", "rx"), (steady, "4:30", "rx"), (shy, "2:00", "rx"), (twin, "4:00", "rx")]
        )
        _fran(gyms, 2026, [(improving, "3:55", "rx"), (steady, "4:00", "rx"), (scaler, "4:00", "scaled")])
        # Not Fran: a workout named Fran but not linked to the library's Fran is not on its board.
        WorkoutFactory(name="Fran", score_type="time", scheduled_on=DAY)
        benchmark = Benchmark.objects.get(name="Fran")

        board = [
            (r.rank, str(r.participation.member), r.score, r.participation.performed_on, r.times)
            for r in all_time_board(benchmark)
        ]
        rx = [(r.rank, str(r.participation.member)) for r in all_time_board(benchmark, division="rx")]
        scaled = [(r.rank, str(r.participation.member), r.score) for r in all_time_board(benchmark, division="scaled")]
        men = [str(r.participation.member) for r in all_time_board(benchmark, gender=Member.Gender.MALE)]
        with CaptureQueriesContext(connections[alias_name(gyms.a)]) as queries:
            all_time_board(benchmark, division="rx", gender=Member.Gender.FEMALE)

    assert board == [
        (1, "Improver", "3:55", datetime.date(2026, 5, 4), 3),  # improving over the years: the latest is best
        (2, "Steady", "4:00", datetime.date(2023, 5, 4), 3),  # the first of two equal bests, years old
        (2, "Twin", "4:00", datetime.date(2024, 5, 4), 1),  # equal: a shared rank, then a skip
        (4, "Scaler", "3:00", datetime.date(2023, 5, 4), 2),  # Rx ranks ahead of Scaled
    ]
    assert rx == [(1, "Improver"), (2, "Steady"), (2, "Twin")]
    assert scaled == [(1, "Scaler", "3:00")]
    assert men == ["Steady"]
    assert len(queries) == 2


def test_the_all_time_board_is_reached_from_the_library_a_benchmark_board_and_the_boards_menu(gyms):
    with affiliate_context(gyms.a):
        ann = Member.objects.get(pk=gyms.ann.pk)
        workout = _fran(gyms, 2025, [(ann, "4:20", "rx")])
        fran = Benchmark.objects.get(name="Fran")
    coach = client_for(gyms.a, gyms.coach_a)
    url = f"/leaderboards/benchmarks/{fran.pk}/"
    assert url in coach.get("/library/", {"q": "Fran"}).content.decode()
    assert url in coach.get(f"/workouts/{workout.pk}/leaderboard/").content.decode()
    menu = coach.get("/leaderboards/benchmarks/").content.decode()
    assert url in menu and "/leaderboards/benchmarks/" in coach.get("/leaderboards/overall/").content.decode()
    page = coach.get(url, {"division": "rx", "gender": "nonsense"}).content.decode()
    assert "4:20" in page and f'href="/members/{ann.pk}/"' in page and "4 May 2025" in page
    assert coach.get("/leaderboards/benchmarks/999999/").status_code == 404


def test_the_dashboard_feed_shows_records_and_benchmark_bests_but_not_hidden_members(gyms):
    today = datetime.date.today()
    with affiliate_context(gyms.a):
        ann, al = Member.objects.get(pk=gyms.ann.pk), Member.objects.get(pk=gyms.al.pk)
        shy = _member("Shy", hide_scores=True)
        fran = Benchmark.objects.get(name="Fran")
        before, _ = workout_from_benchmark(benchmark=fran, scheduled_on=today - datetime.timedelta(days=400))
        now, _ = workout_from_benchmark(benchmark=fran, scheduled_on=today)
        for member, old, new in ((ann, "5:00", "4:30"), (al, "4:00", "4:40"), (shy, "6:00", "3:00")):
            _record(before, member, old)
            _record(now, member, new)
        squat = Workout.objects.get(pk=gyms.squat_a.pk)
        _record(squat, al, "140 kg")
        _record(squat, shy, "200 kg")

        feed = [(str(i.member), i.what, i.value, i.previous) for i in record_feed(today=today)]

    assert ("Ann A", "Fran", "4:30", "5:00 Rx") in feed  # beat her best
    assert not any(name == "Al A" and what == "Fran" for name, what, _, _ in feed)  # slower: no record
    assert ("Al A", "Back Squat", "140 kg", "") in feed
    assert not any(name == "Shy" for name, *_ in feed)
    page = client_for(gyms.a, gyms.coach_a).get("/").content.decode()
    assert "Personal records" in page and "(was 5:00 Rx)" in page and f'href="/members/{ann.pk}/"' in page


def test_an_athletes_board_links_to_no_member_page(gyms):
    with affiliate_context(gyms.a):
        today = datetime.date.today()
        wod = WorkoutFactory(name="Today Grace", score_type="time", time_cap_seconds=600, scheduled_on=today)
        al = Member.objects.get(pk=gyms.al.pk)
        _record(wod, al, "3:10")
    athlete = client_for(gyms.a, gym_login(gyms.a, "ann@a.test", GymLogin.Role.ATHLETE, member=gyms.ann))
    page = athlete.get(f"/me/workouts/{wod.pk}/").content.decode()
    assert "Al A" in page and "/members/" not in page
    coach_page = client_for(gyms.a, gyms.coach_a).get(f"/workouts/{wod.pk}/leaderboard/").content.decode()
    assert f'href="/members/{al.pk}/"' in coach_page
