"""Programming that copies: a day made of parts, copies of a day or a week to another date, and search
over a gym's workouts (docs/gym-site.md, "Programming")."""

from __future__ import annotations

import datetime
import uuid
from collections.abc import Iterable
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.db import IntegrityError, router, transaction
from django.db.models import BooleanField, Count, F, Func, Max, Prefetch, Q, QuerySet, Subquery, TextField, Value
from django.db.models.functions import Lower
from django.utils import timezone

from gym.members.models import GymEvent
from gym.members.selectors import Unaccent
from gym.members.services import event_record
from gym.params import monday_of
from gym.workouts.models import Exercise, ProgrammingCopy, Workout, WorkoutExercise

#: Dates a copy may go to (the same bounds as the workout form's).
FIRST_DAY, LAST_DAY = datetime.date(2000, 1, 1), datetime.date(2099, 12, 31)
#: Words of a search looked at (each must match: the name, the description or a movement).
SEARCH_WORDS = 8


# --- A day made of parts ---


@dataclass(frozen=True)
class TrackParts:
    track: str
    parts: list[Workout]  # in their order, each with ``results`` and its movements


def day_parts(*, day: datetime.date) -> list[TrackParts]:
    """A day's workouts by track ("main" first), each track's parts in their order (two queries)."""
    workouts = (
        Workout.objects.filter(scheduled_on=day)
        .annotate(results=Count("participations"))
        .prefetch_related(
            Prefetch("movements", queryset=WorkoutExercise.objects.select_related("exercise").order_by("position"))
        )
        .order_by("track", "part_position", "id")
    )
    tracks: dict[str, list[Workout]] = {}
    for workout in workouts:
        tracks.setdefault(workout.track, []).append(workout)
    ordered = sorted(tracks, key=lambda track: (track != "main", track))
    return [TrackParts(track, tracks[track]) for track in ordered]


def part_move(*, workout: Workout, step: int) -> list[Workout]:
    """Move a part one place earlier (``step`` -1) or later (+1) in its day and track; the track's parts
    are numbered 1… again, in one transaction. Returns the track's parts in their new order."""
    if step not in (-1, 1):
        raise ValidationError("A part moves one place up or down.")
    with transaction.atomic(using=router.db_for_write(Workout)):
        parts = list(
            Workout.objects.select_for_update()
            .filter(scheduled_on=workout.scheduled_on, track=workout.track)
            .order_by("part_position", "id")
        )
        index = next((n for n, part in enumerate(parts) if part.pk == workout.pk), None)
        if index is None:
            raise ValidationError("This workout is no longer on that day: open the day again.")
        other = index + step
        if 0 <= other < len(parts):
            parts[index], parts[other] = parts[other], parts[index]
        _number(parts)
    return parts


def _number(parts: list[Workout]) -> None:
    changed = []
    for position, part in enumerate(parts, start=1):
        if part.part_position != position:
            part.part_position = position
            changed.append(part)
    Workout.objects.bulk_update(changed, ["part_position"])


def movements_save(
    *, workout: Workout, movements: Iterable[WorkoutExercise], removed: Iterable[WorkoutExercise] = ()
) -> Workout:
    """Save a workout with its movement rows in the order given (positions 1…), removing ``removed``: one
    transaction. Rows keep their ids. A row the form did not show (added meanwhile, from another page)
    is kept, after them.

    Positions are unique and PostgreSQL checks that row by row: the rows are first moved above every
    position used now or about to be, so no two meet on the way."""
    movements = list(movements)
    with transaction.atomic(using=router.db_for_write(Workout)):
        workout.save()
        for movement in removed:
            if movement.pk:
                movement.delete()
        rows = WorkoutExercise.objects.filter(workout=workout)
        top = rows.aggregate(top=Max("position"))["top"] or 0
        rows.update(position=F("position") + top + len(movements))
        for position, movement in enumerate(movements, start=1):
            movement.workout, movement.position = workout, position
            movement.save()
        others = rows.exclude(pk__in=[m.pk for m in movements]).order_by("position")
        for position, movement in enumerate(others, start=len(movements) + 1):
            movement.position = position
            movement.save(update_fields=["position"])
    return workout


# --- Copies of a day or a week ---


class CopyNeedsConfirming(Exception):
    """The target dates already have programming, and adding the copy alongside was not confirmed."""

    def __init__(self, existing: list[Workout]) -> None:
        super().__init__(f"{len(existing)} workout{'s' if len(existing) != 1 else ''} already programmed there")
        self.existing = existing


@dataclass(frozen=True)
class CopyOutcome:
    target_start: datetime.date
    days: int
    workouts: int
    repeated: bool  # the same form was sent before: nothing was copied this time


def programming_in(*, start: datetime.date, days: int) -> list[Workout]:
    """The workouts from ``start`` for ``days`` days, by day, track and part."""
    end = start + datetime.timedelta(days=days - 1)
    return list(
        Workout.objects.filter(scheduled_on__range=(start, end)).order_by(
            "scheduled_on", "track", "part_position", "id"
        )
    )


def _copy_dates(source: datetime.date, target: datetime.date, days: int) -> tuple[datetime.date, datetime.date]:
    if days not in (1, 7):
        raise ValidationError("Copy a day or a week.")
    if days == 7:
        source, target = monday_of(source), monday_of(target)
    if not (FIRST_DAY <= target <= LAST_DAY - datetime.timedelta(days=days - 1)):
        raise ValidationError(f"Choose a date between {FIRST_DAY:%Y} and {LAST_DAY:%Y}, as YYYY-MM-DD.")
    if source == target:
        what = "day" if days == 1 else "week"
        raise ValidationError(f"Choose another {what} to copy to: this is the {what} being copied.")
    return source, target


def _published(workout: Workout, shift: datetime.timedelta, day: datetime.date) -> datetime.datetime:
    """When athletes see a copy: its original's publish time moved by as many days as the copy; an
    original shown as soon as it existed is shown from the start of the copy's own day."""
    if workout.published_at is not None:
        return workout.published_at + shift
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time.min))


def programming_copy(
    *,
    source: datetime.date,
    target: datetime.date,
    days: int,
    actor: str,
    token: uuid.UUID,
    confirmed: bool = False,
) -> CopyOutcome:
    """Copy a day's (``days`` 1) or a week's (7: the Mondays of ``source`` and ``target``) workouts with
    their movements, parts, order, tracks and scoring, not their results, to ``target``, in one
    transaction, recorded as a gym event.

    When the target already has programming and ``confirmed`` is false, CopyNeedsConfirming lists it and
    nothing changes. ``token`` is the copy form's: the same token again copies nothing and returns the
    first copy's outcome (``repeated``). ValidationError when there is nothing to copy or a date is wrong.
    """
    source, target = _copy_dates(source, target, days)
    try:
        return _copy(source=source, target=target, days=days, actor=actor, token=token, confirmed=confirmed)
    except IntegrityError:
        # The same form sent twice at once: the second waited for the first's token, then hit it.
        done = ProgrammingCopy.objects.filter(token=token).first()
        if done is None:
            raise
        return CopyOutcome(done.target_start, done.days, done.workouts, repeated=True)


def _copy(
    *, source: datetime.date, target: datetime.date, days: int, actor: str, token: uuid.UUID, confirmed: bool
) -> CopyOutcome:
    with transaction.atomic(using=router.db_for_write(Workout)):
        done = ProgrammingCopy.objects.filter(token=token).first()
        if done is not None:
            return CopyOutcome(done.target_start, done.days, done.workouts, repeated=True)
        originals = programming_in(start=source, days=days)
        if not originals:
            what = f"on {source:%A %-d %B %Y}" if days == 1 else f"in the week of {source:%-d %B %Y}"
            raise ValidationError(f"Nothing is programmed {what}: there is nothing to copy.")
        existing = programming_in(start=target, days=days)
        if existing and not confirmed:
            raise CopyNeedsConfirming(existing)
        ProgrammingCopy.objects.create(
            token=token,
            source_start=source,
            target_start=target,
            days=days,
            workouts=len(originals),
            actor=actor or "unknown",
        )
        copies = _workouts_copy(originals, target - source, existing)
        event_record(
            actor=actor,
            kind=GymEvent.Kind.PROGRAMMING_COPIED,
            detail={
                "summary": _summary(source, target, days, len(copies)),
                "source": source.isoformat(),
                "target": target.isoformat(),
                "days": days,
                "workout_ids": [w.pk for w in copies],
            },
        )
    return CopyOutcome(target, days, len(copies), repeated=False)


def _summary(source: datetime.date, target: datetime.date, days: int, count: int) -> str:
    what = f"{count} workout{'s' if count != 1 else ''}"
    if days == 1:
        return f"{what} copied from {source.isoformat()} to {target.isoformat()}"
    return f"{what} copied from the week of {source.isoformat()} to the week of {target.isoformat()}"


def _workouts_copy(originals: list[Workout], shift: datetime.timedelta, existing: list[Workout]) -> list[Workout]:
    """The copies, after whatever each target day and track has already (three queries)."""
    last: dict[tuple[datetime.date, str], int] = {}
    for workout in existing:
        key = (workout.scheduled_on, workout.track)
        last[key] = max(last.get(key, 0), workout.part_position)
    copies = []
    for original in originals:
        day = original.scheduled_on + shift
        key = (day, original.track)
        last[key] = last.get(key, 0) + 1
        copies.append(
            Workout(
                name=original.name,
                description=original.description,
                scheduled_on=day,
                track=original.track,
                part=original.part,
                part_position=last[key],
                score_type=original.score_type,
                time_cap_seconds=original.time_cap_seconds,
                reps_per_round=original.reps_per_round,
                scaling_levels=list(original.scaling_levels),
                tiebreak_scheme=original.tiebreak_scheme,
                benchmark_id=original.benchmark_id,
                rep_max=original.rep_max,
                published_at=_published(original, shift, day),
                draft=original.draft,  # a draft's copy is a draft: the coach has not finished it
            )
        )
    Workout.objects.bulk_create(copies)
    copy_of = {original.pk: copy.pk for original, copy in zip(originals, copies, strict=True)}
    movements = WorkoutExercise.objects.filter(workout__in=list(copy_of)).order_by("workout", "position")
    WorkoutExercise.objects.bulk_create(
        WorkoutExercise(
            workout_id=copy_of[m.workout_id],
            exercise_id=m.exercise_id,
            position=m.position,
            prescription=m.prescription,
            rx_load_grams=m.rx_load_grams,
            scaled_load_grams=m.scaled_load_grams,
        )
        for m in movements
    )
    return copies


# --- Search ---


class _AnyOf(Func):
    """``id = ANY(ARRAY(subquery))``: unlike ``IN (subquery)`` an index condition, so that ORed with the
    trigram match PostgreSQL reads both indexes (a BitmapOr) instead of every workout of the gym."""

    arity = 2
    arg_joiner = " = ANY(ARRAY("
    template = "(%(expressions)s)))"
    output_field = BooleanField()


def _folded(expression: Func | F | Value) -> Func:
    """Text as search compares it: accents dropped, lower case."""
    return Lower(Unaccent(expression))


def workout_search(
    *,
    query: str = "",
    date_from: datetime.date | None = None,
    date_to: datetime.date | None = None,
    track: str = "",
) -> QuerySet[Workout]:
    """Workouts (newest first, each with ``results``) whose name, description or a movement's exercise
    contains every word of ``query``, accents and case ignored, between the dates and on the track given.
    Names and descriptions are matched through V11's trigram index; exercises are a short list."""
    workouts = Workout.objects.alias(
        search_text=Func(F("name"), F("description"), function="workout_search_text", output_field=TextField())
    )
    for word in query.split()[:SEARCH_WORDS]:
        needle = _folded(Value(word))
        exercises = Exercise.objects.alias(folded=_folded(F("name"))).filter(folded__contains=needle)
        movement = WorkoutExercise.objects.filter(exercise__in=exercises).values("workout_id")
        workouts = workouts.filter(Q(search_text__contains=needle) | Q(_AnyOf(F("pk"), Subquery(movement))))
    if date_from:
        workouts = workouts.filter(scheduled_on__gte=date_from)
    if date_to:
        workouts = workouts.filter(scheduled_on__lte=date_to)
    if track:
        workouts = workouts.filter(track=track)
    return workouts.annotate(results=Count("participations")).order_by("-scheduled_on", "track", "part_position", "-id")


def tracks() -> list[str]:
    """The tracks the gym has programmed, for the search form."""
    return list(Workout.objects.order_by("track").values_list("track", flat=True).distinct())
