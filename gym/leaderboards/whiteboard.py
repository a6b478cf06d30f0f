"""What the whiteboard on the box's TV shows: today's published workouts by track, and the live board of
today's scored workouts, each scaling level (Rx, Scaled…) ranked on its own.

:func:`whiteboard_context` reads it all in three queries, whatever the number of workouts or results.
The class under way narrows it (:class:`ClassFilter`: a heading, its roster, its track);
:func:`class_under_way_filter` is the one place that finds it.
"""

from __future__ import annotations

import datetime
from collections import defaultdict
from collections.abc import Collection
from dataclasses import dataclass, field

from django.db.models import F, Prefetch, Window
from django.db.models.functions import Rank
from django.utils import timezone

from gym.classes.selectors import class_under_way
from gym.workouts.models import Participation, ScalingLevel, ScoreType, Workout, WorkoutExercise
from gym.workouts.publishing import published_workouts
from gym.workouts.scores import format_result, format_tiebreak, format_time_ms


@dataclass(frozen=True)
class ClassFilter:
    """The class under way: its heading on the TV, its roster (member ids; None: everyone's results) and
    its track (None: every track)."""

    heading: str
    member_ids: Collection[int] | None = None
    track: str | None = None


def class_under_way_filter(now: datetime.datetime) -> ClassFilter | None:
    """The class under way at ``now``, as the whiteboard narrows to it (None: the whole day).

    Its track's workouts, and its roster's results once anyone has booked or checked in (before that,
    everyone's on the track: a class nobody booked still has people on the floor)."""
    running = class_under_way(now)
    if running is None:
        return None
    heading = f"{running.schedule.name} · {running.starts:%H:%M}–{running.ends:%H:%M}"
    return ClassFilter(heading, member_ids=running.roster_ids or None, track=running.track)


@dataclass(frozen=True)
class BoardLine:
    rank: int
    name: str  # first name and the last name's initial: the TV is seen by everyone in the box
    score: str
    tiebreak: str
    status: str


@dataclass(frozen=True)
class LevelBoard:
    level: str
    label: str
    lines: list[BoardLine]


@dataclass
class TvWorkout:
    workout: Workout
    movements: list[str]
    time_cap: str
    scored: bool
    boards: list[LevelBoard] = field(default_factory=list)

    @property
    def results(self) -> int:
        return sum(len(board.lines) for board in self.boards)


@dataclass(frozen=True)
class Whiteboard:
    day: datetime.date
    updated_at: datetime.datetime  # local time
    heading: str
    tracks: list[tuple[str, list[TvWorkout]]]

    @property
    def scored(self) -> list[TvWorkout]:
        return [w for _, workouts in self.tracks for w in workouts if w.scored]

    @property
    def empty(self) -> bool:
        return not self.tracks


def _tv_name(first: str, last: str) -> str:
    return f"{first} {last[:1]}.".strip() if last else first


def _boards(workouts: list[Workout], member_ids: Collection[int] | None) -> dict[int, list[LevelBoard]]:
    """Every scored workout's board by level, ranked within its level: one query."""
    results = Participation.objects.filter(
        workout__in=[w.pk for w in workouts], sort_key__isnull=False, member__hide_scores=False
    )
    if member_ids is not None:
        results = results.filter(member_id__in=list(member_ids))
    results = (
        results.select_related("member")
        .annotate(
            place=Window(Rank(), partition_by=[F("workout_id"), F("scaling_level")], order_by=F("sort_key").asc())
        )
        .order_by("workout_id", "sort_key", "id")
    )
    by_workout = {w.pk: w for w in workouts}
    lines: dict[tuple[int, str], list[BoardLine]] = defaultdict(list)
    for p in results:
        workout = by_workout[p.workout_id]
        finished = p.status == Participation.Status.FINISHED
        lines[(p.workout_id, p.scaling_level)].append(
            BoardLine(
                rank=p.place,
                name=_tv_name(p.member.first_name, p.member.last_name),
                score=format_result(p, workout),
                tiebreak=format_tiebreak(p.tiebreak_ms, workout.tiebreak_scheme),
                status="" if finished else p.get_status_display(),
            )
        )
    boards: dict[int, list[LevelBoard]] = {}
    for workout in workouts:
        levels = list(workout.scaling_levels)
        levels += sorted({level for (pk, level) in lines if pk == workout.pk} - set(levels))
        boards[workout.pk] = [
            LevelBoard(level, ScalingLevel(level).label, lines.get((workout.pk, level), [])) for level in levels
        ]
    return boards


def whiteboard_context(now: datetime.datetime | None = None, *, class_filter: ClassFilter | None = None) -> Whiteboard:
    """Today's published workouts by track with their live boards (three queries)."""
    moment = now or timezone.now()
    local = timezone.localtime(moment)
    workouts = list(
        published_workouts(now=moment)
        .filter(scheduled_on=local.date())
        .prefetch_related(
            Prefetch("movements", queryset=WorkoutExercise.objects.select_related("exercise").order_by("position"))
        )
        .order_by("track", "part_position", "id")  # a day's parts in their order
    )
    if class_filter is not None and class_filter.track:
        workouts = [w for w in workouts if w.track == class_filter.track]
    scored = [w for w in workouts if w.score_type != ScoreType.NONE]
    boards = _boards(scored, class_filter.member_ids if class_filter else None) if scored else {}
    tracks: dict[str, list[TvWorkout]] = {}
    for workout in workouts:
        tracks.setdefault(workout.track, []).append(
            TvWorkout(
                workout=workout,
                movements=[f"{m.exercise} {m.prescription}".strip() for m in workout.movements.all()],
                time_cap=format_time_ms(workout.time_cap_seconds * 1000) if workout.time_cap_seconds else "",
                scored=workout.pk in boards,
                boards=boards.get(workout.pk, []),
            )
        )
    return Whiteboard(
        day=local.date(),
        updated_at=local,
        heading=class_filter.heading if class_filter else f"{local:%A %-d %B}",
        tracks=list(tracks.items()),
    )
