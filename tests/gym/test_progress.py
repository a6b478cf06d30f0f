"""A member's progress: repeated workouts and personal records as charts, and the rep-max table."""

from __future__ import annotations

import datetime
import re

import pytest
from django.urls import reverse

from affiliates.routing.context import affiliate_context
from gym.leaderboards import progress
from gym.workouts.models import Benchmark, Workout
from gym.workouts.services import participation_record, workout_from_benchmark
from tests.conftest import client_for

pytestmark = pytest.mark.django_db(transaction=True)

URLCONF = "fitbuddy.urls_gym"


def _record(workout, member, score, level="rx"):
    participation_record(workout=workout, member=member, scaling_level=level, score_text=score)


def test_fran_done_three_times_is_one_chart_with_faster_times_drawn_higher(gyms):
    with affiliate_context(gyms.a):
        fran = Benchmark.objects.get(name="Fran")
        days = [datetime.date(2026, 2, 2), datetime.date(2026, 5, 4), datetime.date(2026, 9, 7)]
        workouts = [workout_from_benchmark(benchmark=fran, scheduled_on=day)[0] for day in days]
        Workout.objects.filter(pk=workouts[2].pk).update(name="Fran (retest)")  # renamed: still Fran
        for workout, score in zip(workouts, ["5:10", "4:20", "4:45"], strict=True):
            _record(Workout.objects.get(pk=workout.pk), gyms.ann, score)
        charts = progress.repeated_workout_charts(member=gyms.ann)
    fran_chart = next(c for c in charts if c.title == "Fran")
    assert [p.label for p in fran_chart.points] == ["5:10", "4:20", "4:45"]
    ys = [p.y for p in fran_chart.points]
    assert ys[1] < ys[2] < ys[0]  # SVG y grows downwards: 4:20 is the highest point, 5:10 the lowest
    xs = [p.x for p in fran_chart.points]
    assert xs[0] < xs[1] < xs[2]
    assert fran_chart.y_top == "4:20" and "best 4:20" in fran_chart.caption

    page = client_for(gyms.a, gyms.coach_a).get(reverse("members:detail", args=[gyms.ann.pk], urlconf=URLCONF))
    html = page.content.decode()
    assert re.search(r'<svg[^>]+role="img"[^>]+aria-label="Fran, for time: 3 results', html)
    assert html.count("<circle") >= 3


def test_personal_records_over_time_and_the_rep_max_table(gyms):
    with affiliate_context(gyms.a):
        squat5 = Benchmark.objects.get(name="Back Squat 5RM")
        squat1 = Benchmark.objects.get(name="Back Squat 1RM")
        plan = [
            (squat5, datetime.date(2026, 3, 2), "80 kg"),
            (squat5, datetime.date(2026, 4, 6), "77,5 kg"),  # not a record: the line stays at 80
            (squat1, datetime.date(2026, 5, 4), "102,5 kg"),
            (squat5, datetime.date(2026, 6, 1), "85 kg"),
        ]
        for benchmark, day, score in plan:
            workout, _ = workout_from_benchmark(benchmark=benchmark, scheduled_on=day)
            _record(workout, gyms.ann, score)
        rows = progress.rep_max_table(member=gyms.ann)
        charts = progress.personal_record_charts(member=gyms.ann)
    squat = next(r for r in rows if r.exercise == "Back Squat")
    assert [label for label, _ in squat.cells] == ["102.5 kg", "—", "85 kg"]
    assert squat.cells[2][1] == datetime.date(2026, 6, 1)
    record = next(c for c in charts if c.title == "Back Squat")
    assert [p.label for p in record.points] == ["80 kg", "102.5 kg"]  # 77.5 and the later 85 beat nothing

    html = (
        client_for(gyms.a, gyms.coach_a)
        .get(reverse("members:detail", args=[gyms.ann.pk], urlconf=URLCONF))
        .content.decode()
    )
    table = html[html.index('class="rep-max"') :]
    assert '<th scope="col">1RM</th><th scope="col">3RM</th><th scope="col">5RM</th>' in table
    assert "102.5 kg" in table and "85 kg" in table


def test_a_workout_done_once_has_no_chart_yet(gyms):
    with affiliate_context(gyms.a):
        _record(gyms.fran_a, gyms.ann, "4:00")
        assert progress.repeated_workout_charts(member=gyms.ann) == []
    html = client_for(gyms.a, gyms.coach_a).get(f"/members/{gyms.ann.pk}/").content.decode()
    assert "once Ann has done a workout twice" in html
