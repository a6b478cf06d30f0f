"""Writes for workouts and results (HackSoft-style services: keyword-only, typed)."""

from __future__ import annotations

import datetime
from collections.abc import Iterable
from typing import Any

from django.core.exceptions import ValidationError
from django.db import router, transaction

from gym.leaderboards.services import personal_records_update
from gym.members.models import Member

from .models import Exercise, Participation, Workout, WorkoutExercise
from .scores import parse_reps, parse_score, parse_time_ms


def exercise_save(*, exercise: Exercise | None = None, fields: dict[str, Any]) -> Exercise:
    """Add an exercise to the library (``exercise`` None) or update one with validated ``fields``."""
    exercise = exercise or Exercise()
    for name, value in fields.items():
        setattr(exercise, name, value)
    exercise.save()
    return exercise


def workout_save(
    *,
    workout: Workout,
    movements: Iterable[WorkoutExercise] = (),
    removed: Iterable[WorkoutExercise] = (),
) -> Workout:
    """Save a workout with its movements in one transaction.

    ``workout`` carries its validated fields; ``movements`` are new or changed movements (new ones
    go after the last position taken), ``removed`` are movements to delete.
    """
    movements = list(movements)
    with transaction.atomic(using=router.db_for_write(Workout)):
        workout.save()
        for movement in removed:
            movement.delete()
        kept = [m.pk for m in movements if m.pk]
        taken = set(workout.movements.exclude(pk__in=kept).values_list("position", flat=True))
        for movement in movements:
            movement.workout = workout
            if not movement.position:
                movement.position = max(taken, default=0) + 1
                taken.add(movement.position)
            movement.save()
    return workout


def participation_record(
    *,
    workout: Workout,
    member: Member,
    scaling_level: str,
    score_text: str,
    tiebreak_text: str = "",
    status: str = Participation.Status.FINISHED,
    notes: str = "",
    performed_on: datetime.date | None = None,
    recorded_by: str = "",
) -> Participation:
    """Record (or correct) a member's result on a workout; personal records follow."""
    if not member.is_active:
        raise ValidationError({"member": "This member is deactivated."})
    if scaling_level not in workout.scaling_levels:
        raise ValidationError({"scaling_level": f"This workout offers {', '.join(workout.scaling_levels)} only."})
    if status in (Participation.Status.FINISHED, Participation.Status.CAPPED):
        try:
            score = parse_score(
                score_text,
                workout.score_type,
                total_reps=workout.reps_per_round,
                reps_per_round=workout.reps_per_round,
                time_cap_seconds=workout.time_cap_seconds,
            )
        except ValidationError as exc:
            raise ValidationError({"score": exc.messages}) from exc
        status, value, reps = score.status, score.value, score.reps_completed
    else:  # dnf / dq / withdrawn: no score
        if (score_text or "").strip():
            label = Participation.Status(status).label
            raise ValidationError(
                {"score": f"A result marked “{label}” has no score: clear the score, or choose Finished."}
            )
        value, reps = None, None
    tiebreak = None
    if tiebreak_text.strip():
        if workout.tiebreak_scheme == Workout.Tiebreak.NONE:
            raise ValidationError({"tiebreak": "This workout has no tiebreak."})
        try:
            by_time = workout.tiebreak_scheme == Workout.Tiebreak.TIME
            tiebreak = parse_time_ms(tiebreak_text) if by_time else parse_reps(tiebreak_text)
        except ValidationError as exc:
            raise ValidationError({"tiebreak": exc.messages}) from exc
    with transaction.atomic(using=router.db_for_write(Participation)):
        participation, _ = Participation.objects.update_or_create(
            workout=workout,
            member=member,
            defaults={
                "scaling_level": scaling_level,
                "status": status,
                "score_value": value,
                "reps_completed": reps,
                "tiebreak_ms": tiebreak,
                "notes": notes.strip(),
                "recorded_by": recorded_by,
                "performed_on": performed_on or workout.scheduled_on,
            },
        )
        personal_records_update(participation=participation)
    return participation
