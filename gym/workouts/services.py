"""Writes for workouts and results (HackSoft-style services: keyword-only, typed)."""

from __future__ import annotations

import datetime
from collections.abc import Iterable
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, router, transaction

from gym.members.models import GymEvent, Member
from gym.members.services import event_record
from gym.workouts.models import Benchmark, Exercise, Participation, Workout, WorkoutExercise
from gym.workouts.records import (
    personal_record_exercise,
    personal_records_recompute,
    personal_records_refresh,
    personal_records_update,
)
from gym.workouts.scores import format_result, parse_reps, parse_score, parse_time_ms
from gym.workouts.selectors import result_warnings


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


def workout_from_benchmark(
    *, benchmark: Benchmark, scheduled_on: datetime.date, track: str = "main"
) -> tuple[Workout, bool]:
    """Program a library benchmark on a day and track: the workout with its movements, in one step.

    Returns (workout, created). The same benchmark already on that day and track is returned as it
    is, so a double-clicked button or a retried request programs it once.
    """
    with transaction.atomic(using=router.db_for_write(Workout)):
        Benchmark.objects.select_for_update().filter(pk=benchmark.pk).first()  # two clicks: one workout
        existing = Workout.objects.filter(benchmark=benchmark, scheduled_on=scheduled_on, track=track).first()
        if existing is not None:
            return existing, False
        workout = Workout.objects.create(
            name=benchmark.name,
            description=benchmark.description,
            scheduled_on=scheduled_on,
            track=track,
            score_type=benchmark.score_type,
            time_cap_seconds=benchmark.time_cap_seconds,
            reps_per_round=benchmark.reps_per_round,
            rep_max=benchmark.rep_max,
            benchmark=benchmark,
        )
        WorkoutExercise.objects.bulk_create(
            WorkoutExercise(
                workout=workout,
                exercise_id=movement.exercise_id,
                position=movement.position,
                prescription=movement.prescription,
                rx_load_grams=movement.rx_load_grams,
                scaled_load_grams=movement.scaled_load_grams,
            )
            for movement in benchmark.movements.order_by("position")
        )
    return workout, True


def result_values(
    *, workout: Workout, scaling_level: str, status: str, score_text: str, tiebreak_text: str = ""
) -> dict[str, Any]:
    """A typed result checked and turned into a participation's columns (scaling_level, status,
    score_value, reps_completed, tiebreak_ms); ValidationError by field when it cannot be one."""
    if scaling_level not in workout.scaling_levels:
        labels = ", ".join(label for _, label in workout.scaling_level_labels)
        raise ValidationError({"scaling_level": f"This workout offers {labels} only."})
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
    elif status in Participation.Status.values:  # dnf / dq / withdrawn: no score
        if (score_text or "").strip():
            label = Participation.Status(status).label
            raise ValidationError(
                {"score": f"A result marked “{label}” has no score: clear the score, or choose Finished."}
            )
        value, reps = None, None
    else:
        raise ValidationError({"status": "Choose Finished, Did not finish, Disqualified or Withdrawn."})
    tiebreak = None
    if (tiebreak_text or "").strip():
        if workout.tiebreak_scheme == Workout.Tiebreak.NONE:
            raise ValidationError({"tiebreak": "This workout has no tiebreak."})
        try:
            by_time = workout.tiebreak_scheme == Workout.Tiebreak.TIME
            tiebreak = parse_time_ms(tiebreak_text) if by_time else parse_reps(tiebreak_text)
        except ValidationError as exc:
            raise ValidationError({"tiebreak": exc.messages}) from exc
    return {
        "scaling_level": scaling_level,
        "status": status,
        "score_value": value,
        "reps_completed": reps,
        "tiebreak_ms": tiebreak,
    }


class ImplausibleResult(Exception):
    """The result is far outside what the workout allows or the member has done, and was not confirmed."""

    def __init__(self, warnings: list[str]) -> None:
        super().__init__(" ".join(warnings))
        self.warnings = warnings


class ResultExists(Exception):
    """The member already has a result on the workout, and replacing it was not asked for."""

    def __init__(self, existing: Participation) -> None:
        super().__init__(f"{existing.member} already has a result on {existing.workout}")
        self.existing = existing


#: What participation_record writes besides the parsed result.
_RECORD_COLUMNS = ("notes", "recorded_by", "performed_on", "updated_at")


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
    replace: bool = True,
    confirmed: bool = False,
) -> Participation:
    """Record (or correct) a member's result on a workout; personal records follow.

    With ``replace=False`` a result the member already has is left alone: ResultExists carries it (before
    the score is read, so the coach is asked first). A result that looks wrong (``result_warnings``) is
    saved only ``confirmed``: ImplausibleResult says why. One locked read, then one INSERT or UPDATE, in
    one transaction; a first result another request wrote meanwhile (the unique constraint) is read
    again once, as an existing one.
    """
    if not member.is_active:
        raise ValidationError({"member": "This member is deactivated."})
    columns = {"notes": notes.strip(), "recorded_by": recorded_by, "performed_on": performed_on or workout.scheduled_on}
    for attempt in (1, 2):
        try:
            return _participation_write(
                workout=workout,
                member=member,
                replace=replace,
                result={"scaling_level": scaling_level, "status": status, "score_text": score_text},
                tiebreak_text=tiebreak_text,
                columns=columns,
                confirmed=confirmed,
            )
        except IntegrityError:
            if attempt == 2:
                raise
    raise AssertionError("unreachable: the second attempt returns or raises")


def _participation_write(
    *,
    workout: Workout,
    member: Member,
    replace: bool,
    result: dict[str, str],
    tiebreak_text: str,
    columns: dict[str, Any],
    confirmed: bool,
) -> Participation:
    with transaction.atomic(using=router.db_for_write(Participation)):
        participation = Participation.objects.select_for_update().filter(workout=workout, member=member).first()
        if participation is not None:
            participation.workout, participation.member = workout, member  # known already: no query for them
            if not replace:
                raise ResultExists(participation)
        values = result_values(workout=workout, tiebreak_text=tiebreak_text, **result)
        warnings = result_warnings(workout=workout, results={member: values}).get(member.pk)
        if warnings and not confirmed:
            raise ImplausibleResult(warnings)
        if participation is None:
            entered = {"entered_by": columns["recorded_by"]}  # who typed it first; recorded_by: who last changed it
            participation = Participation(workout=workout, member=member, **values, **columns, **entered)
            participation.save(force_insert=True)
        else:
            for name, value in {**values, **columns}.items():
                setattr(participation, name, value)
            participation.save(update_fields=[*values, *_RECORD_COLUMNS])
        personal_records_update(participation=participation)
    return participation


def participations_record(
    *,
    workout: Workout,
    results: dict[int, dict[str, Any]],
    recorded_by: str = "",
) -> list[Participation]:
    """Record a class's results at once (the results sheet): ``results`` maps a member id to the
    columns ``result_values`` returned. One transaction, and a fixed number of queries however big
    the class: one upsert of every row, then personal records for the members together."""
    if not results:
        return []
    rows = [
        Participation(
            workout=workout,
            member_id=member_id,
            recorded_by=recorded_by,
            entered_by=recorded_by,  # kept by the upsert on a row that exists (not in its update_fields)
            performed_on=workout.scheduled_on,
            **values,
        )
        for member_id, values in results.items()
    ]
    with transaction.atomic(using=router.db_for_write(Participation)):
        saved = Participation.objects.bulk_create(
            rows,
            update_conflicts=True,
            unique_fields=["workout", "member"],
            update_fields=[
                "scaling_level",
                "status",
                "score_value",
                "reps_completed",
                "tiebreak_ms",
                "recorded_by",
                "updated_at",
            ],
        )
        personal_records_refresh(workout=workout, member_ids=list(results))
    return saved


def workout_time_cap_set(*, workout: Workout, seconds: int | None) -> Workout:
    """Fix a workout's time cap (None: no cap), e.g. from its results sheet; results already recorded stay."""
    workout.time_cap_seconds = seconds
    workout.save(update_fields=["time_cap_seconds", "updated_at"])
    return workout


def _result_detail(participation: Participation) -> dict[str, Any]:
    """A result as the events page shows it once it is gone."""
    return {
        "participation_id": participation.pk,
        "member_id": participation.member_id,
        "member": str(participation.member),
        "level": participation.get_scaling_level_display(),
        "score": format_result(participation, participation.workout),
        "performed_on": participation.performed_on.isoformat(),
        "recorded_by": participation.recorded_by,
    }


def participation_delete(*, participation: Participation, actor: str) -> None:
    """Delete a result; the member's personal record on the workout's exercise goes back to their best
    remaining result, and who deleted what, and when, is kept as an event for the owner."""
    workout = participation.workout
    with transaction.atomic(using=router.db_for_write(Participation)):
        locked = Participation.objects.select_for_update().filter(pk=participation.pk).first()
        if locked is None:
            return  # deleted meanwhile (a second click): nothing left to do, nothing to record twice
        exercise = personal_record_exercise(workout=workout)
        detail = {"workout_id": workout.pk, "workout": workout.name, "day": workout.scheduled_on.isoformat()}
        detail.update(_result_detail(participation))
        participation.delete()
        if exercise is not None:
            personal_records_recompute(exercise=exercise, member_ids=[participation.member_id])
        event_record(actor=actor, kind=GymEvent.Kind.RESULT_DELETED, detail=detail)


class WorkoutHasResults(Exception):
    """The workout has results and deleting them too was not confirmed (or more came since)."""

    def __init__(self, results: int) -> None:
        super().__init__(f"the workout has {results} result{'s' if results != 1 else ''}")
        self.results = results


def workout_delete(*, workout: Workout, actor: str, results_confirmed: int = 0) -> None:
    """Delete a workout with its movements. One with results is deleted only when the person confirmed
    that many results (``results_confirmed``, the number the confirmation page listed): otherwise
    WorkoutHasResults, and nothing changes. Members' personal records on its exercise go back to their
    best remaining results; the workout and its results are kept in an event for the owner."""
    with transaction.atomic(using=router.db_for_write(Workout)):
        Workout.objects.select_for_update().filter(pk=workout.pk).first()
        results = list(Participation.objects.filter(workout=workout).select_related("member").order_by("id"))
        if results and len(results) != results_confirmed:
            raise WorkoutHasResults(len(results))
        exercise = personal_record_exercise(workout=workout)
        for participation in results:
            participation.workout = workout  # known already: no query for it
        detail = {
            "workout_id": workout.pk,
            "workout": workout.name,
            "day": workout.scheduled_on.isoformat(),
            "track": workout.track,
            "results": [_result_detail(p) for p in results],
        }
        workout.delete()
        if exercise is not None and results:
            personal_records_recompute(exercise=exercise, member_ids=[p.member_id for p in results])
        event_record(actor=actor, kind=GymEvent.Kind.WORKOUT_DELETED, detail=detail)
