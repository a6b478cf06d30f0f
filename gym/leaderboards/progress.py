"""A member's progress: each repeated workout and each personal record over time, drawn on the
server as SVG line charts, and the rep-max table for lifts (1, 3, 5 RM)."""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field
from typing import cast

from django.db.models import Count, Max

from gym.members.models import Member
from gym.workouts.models import Exercise, Participation, ScoreType, Workout
from gym.workouts.records import PR_SCORE_TYPES
from gym.workouts.scores import ROUND, format_result, format_score

#: The rep maxes the table shows, in its columns.
REP_MAXES = (1, 3, 5)
#: The chart's drawing area (SVG user units); the page scales it to its width.
WIDTH, HEIGHT, PAD_X, PAD_Y = 600, 200, 48, 24


@dataclass(frozen=True)
class Point:
    x: float
    y: float
    day: datetime.date
    label: str  # the score as people read it
    level: str  # the scaling level's label (Rx, Scaled) or ''


@dataclass
class Chart:
    title: str
    caption: str  # what the chart shows, for people who cannot see it
    points: list[Point] = field(default_factory=list)
    higher_is_better: bool = True
    y_top: str = ""  # the best value's label, at the top of the chart
    y_bottom: str = ""

    @property
    def polyline(self) -> str:
        return " ".join(f"{p.x:.1f},{p.y:.1f}" for p in self.points)

    @property
    def width(self) -> int:
        return WIDTH

    @property
    def height(self) -> int:
        return HEIGHT

    @property
    def first(self) -> Point:
        return self.points[0]

    @property
    def last(self) -> Point:
        return self.points[-1]


def _scored(participation: Participation) -> int:
    """A result's score: every query here selects only results that have one."""
    return cast(int, participation.score_value)  # score_value__isnull=False, which the model's type cannot say


def _plotted(value: int, workout: Workout) -> float:
    """What a score is on a chart's axis: AMRAP rounds+reps become reps when a round's size is known."""
    if workout.score_type == ScoreType.ROUNDS_REPS:
        rounds, reps = divmod(value, ROUND)
        return rounds * workout.reps_per_round + reps if workout.reps_per_round else rounds + reps / 100
    return float(value)


def chart(
    title: str, samples: list[tuple[datetime.date, float, str, str]], *, higher_is_better: bool, what: str
) -> Chart:
    """A line chart of (day, value, label, level) samples, oldest first; better results are higher."""
    result = Chart(title=title, caption="", higher_is_better=higher_is_better)
    days = [s[0] for s in samples]
    values = [s[1] for s in samples]
    first_day, span_days = days[0], max((days[-1] - days[0]).days, 1)
    low, high = min(values), max(values)
    spread = (high - low) or 1.0
    for day, value, label, level in samples:
        x = PAD_X + (WIDTH - 2 * PAD_X) * ((day - first_day).days / span_days if len(samples) > 1 else 0.5)
        share = (value - low) / spread if high != low else 0.5
        if not higher_is_better:
            share = 1 - share  # a faster time is drawn higher
        y = HEIGHT - PAD_Y - (HEIGHT - 2 * PAD_Y) * share
        result.points.append(Point(x, y, day, label, level))
    best = max if higher_is_better else min
    worst = min if higher_is_better else max
    result.y_top = next(s[2] for s in samples if s[1] == best(values))
    result.y_bottom = next(s[2] for s in samples if s[1] == worst(values))
    result.caption = (
        f"{title}, {what}: {len(samples)} result{'s' if len(samples) != 1 else ''} from {days[0]:%-d %b %Y} "
        f"({samples[0][2]}) to {days[-1]:%-d %b %Y} ({samples[-1][2]}); best {result.y_top}."
    )
    return result


def repeated_workout_charts(*, member: Member, at_least: int = 2) -> list[Chart]:
    """One chart per workout the member did at least twice: a library benchmark (whatever the day's
    workout was called) or workouts of the same name and score type. One query."""
    finished = (
        Participation.objects.filter(member=member, status=Participation.Status.FINISHED, score_value__isnull=False)
        .exclude(workout__score_type__in=[ScoreType.NONE, ScoreType.PASS_FAIL])
        .select_related("workout", "workout__benchmark")
        .order_by("performed_on", "id")
    )
    groups: dict[tuple[str, int | str, str], list[Participation]] = {}
    for participation in finished:
        workout = participation.workout
        key = ("b", workout.benchmark_id) if workout.benchmark_id else ("n", workout.name.lower())
        groups.setdefault((*key, workout.score_type), []).append(participation)
    charts = []
    for results in groups.values():
        if len(results) < at_least:
            continue
        workout = results[-1].workout
        name = workout.benchmark.name if workout.benchmark else workout.name
        samples = [
            (
                p.performed_on,
                _plotted(_scored(p), p.workout),
                format_result(p, p.workout),
                p.get_scaling_level_display(),
            )
            for p in results
        ]
        higher = workout.score_type != ScoreType.TIME
        charts.append(chart(name, samples, higher_is_better=higher, what=workout.get_score_type_display().lower()))
    return sorted(charts, key=lambda c: c.title.lower())


def personal_record_charts(*, member: Member) -> list[Chart]:
    """Each exercise's personal record over time, for records beaten at least once: a point for
    every result that set a new best (single-exercise tests scored in the exercise's unit). Two queries."""
    results = (
        Participation.objects.filter(
            member=member,
            status=Participation.Status.FINISHED,
            score_value__isnull=False,
            workout__score_type__in=list(PR_SCORE_TYPES),
        )
        .annotate(movement_count=Count("workout__movements"), exercise_id=Max("workout__movements__exercise"))
        .filter(movement_count=1)
        .select_related("workout")
        .order_by("performed_on", "id")
    )
    by_exercise: dict[int, list[Participation]] = {}
    for participation in results:
        by_exercise.setdefault(participation.exercise_id, []).append(participation)
    exercises = Exercise.objects.in_bulk(list(by_exercise)) if by_exercise else {}
    charts = []
    for exercise_id, found in by_exercise.items():
        exercise = exercises[exercise_id]
        found = [p for p in found if PR_SCORE_TYPES[p.workout.score_type] == exercise.unit]
        samples: list[tuple[datetime.date, float, str, str]] = []
        best: int | None = None
        for p in found:
            if best is None or _scored(p) > best:
                best = _scored(p)
                samples.append((p.performed_on, float(best), format_score(best, p.workout.score_type), ""))
        if len(samples) >= 2:  # a record set once is a line in the records table, not a chart
            charts.append(chart(exercise.name, samples, higher_is_better=True, what="personal record"))
    return sorted(charts, key=lambda c: c.title.lower())


@dataclass(frozen=True)
class RepMaxRow:
    exercise: str
    cells: list[tuple[str, datetime.date | None]]  # per REP_MAXES: the best load's label and its day


def rep_max_table(*, member: Member) -> list[RepMaxRow]:
    """The member's best load for each lift at 1, 3 and 5 reps (from load workouts with a rep max). One query."""
    found = (
        Participation.objects.filter(
            member=member,
            status=Participation.Status.FINISHED,
            score_value__isnull=False,
            workout__score_type=ScoreType.LOAD,
            workout__rep_max__in=REP_MAXES,
        )
        .annotate(movement_count=Count("workout__movements"), exercise_name=Max("workout__movements__exercise__name"))
        .filter(movement_count=1)
        .values("exercise_name", "workout__rep_max", "score_value", "performed_on")
    )
    best: dict[str, dict[int, tuple[int, datetime.date]]] = {}
    for row in found:
        cells = best.setdefault(row["exercise_name"], {})
        # The query keeps rep maxes in REP_MAXES and results with a score: neither is None here.
        rep_max, score = cast(int, row["workout__rep_max"]), cast(int, row["score_value"])
        current = cells.get(rep_max)
        if current is None or score > current[0]:
            cells[rep_max] = (score, row["performed_on"])
    return [
        RepMaxRow(
            name,
            [
                (format_score(cells[n][0], ScoreType.LOAD), cells[n][1]) if n in cells else ("—", None)
                for n in REP_MAXES
            ],
        )
        for name, cells in sorted(best.items(), key=lambda item: item[0].lower())
    ]


def progress_context(*, member: Member, records: object, results: object) -> dict[str, object]:
    """A member's page of progress, as the coach's member page and the athlete's own page show it."""
    return {
        "member": member,
        "records": records,
        "results": results,
        "workout_charts": repeated_workout_charts(member=member),
        "record_charts": personal_record_charts(member=member),
        "rep_maxes": rep_max_table(member=member),
        "rep_max_columns": REP_MAXES,
    }
