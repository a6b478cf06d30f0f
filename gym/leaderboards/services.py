"""Personal records, kept current as results are recorded."""

from __future__ import annotations

from gym.members.models import Member
from gym.workouts.models import Exercise, Participation, ScoreType

from .models import PersonalRecord

# Score types whose value is also an exercise's personal-record measure (its unit), higher is better.
PR_SCORE_TYPES = {
    ScoreType.LOAD: Exercise.Unit.LOAD,
    ScoreType.REPS: Exercise.Unit.REPS,
    ScoreType.CALORIES: Exercise.Unit.CALORIES,
    ScoreType.DISTANCE: Exercise.Unit.DISTANCE,
}


def personal_records_update(*, participation: Participation) -> PersonalRecord | None:
    """If the result is a single-exercise test (a 1RM, max reps, …) and beats the record, it becomes the record."""
    workout = participation.workout
    unit = PR_SCORE_TYPES.get(workout.score_type)
    if unit is None or participation.status != Participation.Status.FINISHED or participation.score_value is None:
        return None
    movements = list(workout.movements.select_related("exercise")[:2])
    if len(movements) != 1 or movements[0].exercise.unit != unit:
        return None
    exercise = movements[0].exercise
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
    best = (
        Participation.objects.filter(
            member=member,
            status=Participation.Status.FINISHED,
            score_value__isnull=False,
            workout__movements__exercise=exercise,
            workout__score_type=exercise.unit,
        )
        .order_by("-score_value", "performed_on")
        .first()
    )
    if best is None:
        PersonalRecord.objects.filter(member=member, exercise=exercise).delete()
        return None
    record, _ = PersonalRecord.objects.update_or_create(
        member=member,
        exercise=exercise,
        defaults={"value": best.score_value, "participation": best, "achieved_on": best.performed_on},
    )
    return record


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
