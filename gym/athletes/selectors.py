"""What an athlete may see: published workouts, and their own results on them."""

from __future__ import annotations

import datetime
from dataclasses import dataclass

from django.db.models import QuerySet

from gym.members.models import Member
from gym.params import monday_of
from gym.workouts import publishing
from gym.workouts.models import Participation, Workout
from gym.workouts.scores import format_result


def published_workouts(*, now: datetime.datetime | None = None) -> QuerySet[Workout]:
    """Workouts athletes see: not drafts, with no publish time or one that has come (gym/workouts/publishing.py)."""
    return publishing.published_workouts(now=now)


@dataclass(frozen=True)
class AthleteDay:
    day: datetime.date
    workouts: list[tuple[Workout, Participation | None, str]]  # each with my result and its score, if any


def athlete_week(*, member: Member, today: datetime.date) -> list[AthleteDay]:
    """Today first, then the rest of the week's published workouts (two queries)."""
    start = monday_of(today)
    end = start + datetime.timedelta(days=6)
    workouts = list(
        published_workouts()
        .filter(scheduled_on__range=(start, end))
        .order_by("scheduled_on", "track", "part_position", "id")
    )
    mine = {p.workout_id: p for p in Participation.objects.filter(member=member, workout__in=[w.pk for w in workouts])}
    days = {start + datetime.timedelta(days=n): AthleteDay(start + datetime.timedelta(days=n), []) for n in range(7)}
    for workout in workouts:
        result = mine.get(workout.pk)
        days[workout.scheduled_on].workouts.append((workout, result, format_result(result, workout) if result else ""))
    ordered = [days[today]] + [d for day, d in sorted(days.items()) if day != today]
    return ordered


def loggable(workout: Workout, *, today: datetime.date) -> bool:
    """An athlete logs a score on a published workout of today or earlier (not on tomorrow's)."""
    return workout.scheduled_on <= today
