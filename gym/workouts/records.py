"""Personal records, kept current as results are recorded."""

from __future__ import annotations

from typing import cast

from gym.members.models import Member
from gym.workouts.models import Exercise, Participation, PersonalRecord, ScoreType, Workout

# Score types whose value is also an exercise's personal-record measure (its unit), higher is better.
PR_SCORE_TYPES: dict[str, Exercise.Unit] = {
    ScoreType.LOAD: Exercise.Unit.LOAD,
    ScoreType.REPS: Exercise.Unit.REPS,
    ScoreType.CALORIES: Exercise.Unit.CALORIES,
    ScoreType.DISTANCE: Exercise.Unit.DISTANCE,
}


def personal_records_update(*, participation: Participation) -> PersonalRecord | None:
    """If the result is a single-exercise test (a 1RM, max reps, …) and beats the record, it becomes the record."""
    if participation.status != Participation.Status.FINISHED or participation.score_value is None:
        return None
    exercise = personal_record_exercise(workout=participation.workout)
    if exercise is None:
        return None
    record = PersonalRecord.objects.filter(member=participation.member, exercise=exercise).first()
    if record and record.participation_id != participation.pk and record.value >= participation.score_value:
        return record
    if record and record.participation_id == participation.pk and record.value > participation.score_value:
        # The record's own result was corrected downwards: the best remaining result is the record.
        return personal_record_recompute(member=participation.member, exercise=exercise)
    record, _ = PersonalRecord.objects.update_or_create(
        member=participation.member,
        exercise=exercise,
        defaults={
            "value": participation.score_value,
            "participation": participation,
            "achieved_on": participation.performed_on,
        },
    )
    return record


def personal_record_recompute(*, member: Member, exercise: Exercise) -> PersonalRecord | None:
    """The member's best remaining result on the exercise becomes the record (none left: no record)."""
    _records_recompute(exercise=exercise, member_ids=[member.pk])
    return PersonalRecord.objects.filter(member=member, exercise=exercise).first()


def personal_records_rebuild() -> int:
    """Recompute every personal record from results (after a bulk import or a correction).

    Returns how many results were looked at that are, or were on the way, a member's record.
    """
    count = 0
    for participation in (
        Participation.objects.filter(status=Participation.Status.FINISHED, score_value__isnull=False)
        .select_related("workout", "member")
        .order_by("performed_on", "id")
    ):
        if personal_records_update(participation=participation):
            count += 1
    return count


def personal_record_exercise(*, workout: Workout) -> Exercise | None:
    """The exercise a workout's results are personal records on: a single-exercise test (a 1RM, max
    reps) scored in the exercise's own unit; None for anything else."""
    unit = PR_SCORE_TYPES.get(workout.score_type)
    if unit is None:
        return None
    movements = list(workout.movements.select_related("exercise")[:2])
    if len(movements) != 1 or movements[0].exercise.unit != unit:
        return None
    return movements[0].exercise


def personal_records_recompute(*, exercise: Exercise, member_ids: list[int]) -> int:
    """The members' records on the exercise from their remaining results (after results were deleted)."""
    return _records_recompute(exercise=exercise, member_ids=member_ids) if member_ids else 0


def personal_records_refresh(*, workout: Workout, member_ids: list[int]) -> int:
    """Recompute the members' records on the workout's exercise from all their results, in a fixed
    number of queries (a results sheet saves a whole class at once). Returns how many records exist."""
    exercise = personal_record_exercise(workout=workout)
    if exercise is None or not member_ids:
        return 0
    return _records_recompute(exercise=exercise, member_ids=member_ids)


def _records_recompute(*, exercise: Exercise, member_ids: list[int]) -> int:
    """Each member's best finished result on the exercise (in its unit) becomes their record, the
    earliest among equals; members with none lose theirs. Three queries for any number of members."""
    best = list(
        Participation.objects.filter(
            member_id__in=member_ids,
            status=Participation.Status.FINISHED,
            score_value__isnull=False,
            workout__movements__exercise=exercise,
            workout__score_type=exercise.unit,
        )
        .order_by("member_id", "-score_value", "performed_on", "id")
        .distinct("member_id")
        .values("member_id", "score_value", "id", "performed_on")
    )
    PersonalRecord.objects.bulk_create(
        [
            PersonalRecord(
                member_id=row["member_id"],
                exercise=exercise,
                value=cast(int, row["score_value"]),  # the query keeps only results with a score
                participation_id=row["id"],
                achieved_on=row["performed_on"],
            )
            for row in best
        ],
        update_conflicts=True,
        unique_fields=["member", "exercise"],
        update_fields=["value", "participation", "achieved_on", "updated_at"],
    )
    with_record = {row["member_id"] for row in best}
    PersonalRecord.objects.filter(exercise=exercise, member_id__in=set(member_ids) - with_record).delete()
    return len(best)
