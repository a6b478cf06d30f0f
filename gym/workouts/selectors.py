"""Reads of a gym's programming: dashboard figures, workout lists, the result being edited."""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from typing import Any

from django.db.models import Count, QuerySet

from gym.members.models import Member

from .models import Exercise, Participation, Workout
from .scores import format_result, format_time_ms


@dataclass(frozen=True)
class DashboardSummary:
    active_members: int
    results_this_week: int
    recent_workouts: list[Workout]  # each with ``results``: its number of results


def dashboard_summary(*, today: datetime.date, recent: int = 8) -> DashboardSummary:
    """What the gym's front page shows: active members, results in the last 7 days, recent workouts."""
    return DashboardSummary(
        active_members=Member.objects.filter(is_active=True).count(),
        results_this_week=Participation.objects.filter(performed_on__gte=today - datetime.timedelta(days=7)).count(),
        recent_workouts=list(workouts_with_result_counts()[:recent]),
    )


def workouts_with_result_counts() -> QuerySet[Workout]:
    """Workouts, newest first, each annotated with ``results``."""
    return Workout.objects.annotate(results=Count("participations")).order_by("-scheduled_on", "-id")


def exercise_library() -> QuerySet[Exercise]:
    return Exercise.objects.order_by("category", "name")


def hidden_result_count(*, workout: Workout) -> int:
    """Results on the workout left off its board because their members hide their scores."""
    return Participation.objects.filter(workout=workout, member__hide_scores=True).count()


def result_form_initial(*, participation: Participation) -> dict[str, Any]:
    """What the result form starts from when a recorded result is edited."""
    workout = participation.workout
    scored = participation.status in (Participation.Status.FINISHED, Participation.Status.CAPPED)
    if not scored or (participation.score_value is None and participation.status == Participation.Status.FINISHED):
        score = ""  # DNF, DQ, withdrawn, or an unscored workout
    else:
        score = format_result(participation, workout)
    tiebreak = participation.tiebreak_ms
    if tiebreak is not None and workout.tiebreak_scheme == Workout.Tiebreak.TIME:
        tiebreak = format_time_ms(tiebreak)
    tiebreak = "" if tiebreak is None else str(tiebreak)
    return {
        "member": participation.member_id,
        "scaling_level": participation.scaling_level,
        # The form has one choice for finished and capped: the score says which (CAP+15).
        "status": Participation.Status.FINISHED if scored else participation.status,
        "score": score,
        "notes": participation.notes,
        "tiebreak": tiebreak,
    }
