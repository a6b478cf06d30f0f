"""The boards that tell a gym's story: the overall board (dates in its columns, only workouts with
results, Rx/Scaled divisions), the all-time board of a benchmark, the record feed and member links."""

from __future__ import annotations

import datetime

import pytest

from affiliates.routing.context import affiliate_context
from gym.leaderboards.selectors import overall_leaderboard
from gym.members.models import Member
from gym.workouts.services import participation_record
from tests.factories import MemberFactory, WorkoutFactory

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
