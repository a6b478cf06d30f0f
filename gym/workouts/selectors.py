"""Reads of a gym's programming and results: dashboard figures, workout lists, the result being edited,
and one workout's results ranked (its leaderboard; docs/domain.md, "Ranking one workout")."""

from __future__ import annotations

import datetime
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from django.db.models import Count, F, Max, Min, Prefetch, Q, QuerySet, Window
from django.db.models.functions import Rank

from gym.accounts.models import GymLogin
from gym.members.models import Member
from gym.params import monday_of
from gym.workouts.models import Benchmark, BenchmarkMovement, Exercise, Participation, ScoreType, Workout
from gym.workouts.records import personal_record_exercise
from gym.workouts.scores import ROUND, format_result, format_score, format_tiebreak, format_time_ms


@dataclass(frozen=True)
class DashboardSummary:
    active_members: int
    results_this_week: int
    today: list[Workout]  # today's programming, each with ``results``
    recent_workouts: list[Workout]  # each with ``results``: its number of results


def dashboard_summary(*, today: datetime.date, recent: int = 8) -> DashboardSummary:
    """What the gym's front page shows: today's workouts first, then the figures and recent workouts."""
    workouts = workouts_with_result_counts()
    return DashboardSummary(
        active_members=Member.objects.filter(is_active=True, kind=Member.Kind.MEMBER).count(),
        results_this_week=Participation.objects.filter(performed_on__gte=today - datetime.timedelta(days=7)).count(),
        today=list(workouts.filter(scheduled_on=today).order_by("track", "part_position", "id")),
        # Done, not coming: the week page shows what is programmed ahead.
        recent_workouts=list(workouts.filter(scheduled_on__lt=today)[:recent]),
    )


@dataclass(frozen=True)
class WeekDay:
    day: datetime.date
    workouts: list[Workout]  # each with ``results``, by track


@dataclass(frozen=True)
class Week:
    start: datetime.date  # a Monday
    days: list[WeekDay]
    tracks: list[str]
    previous_programmed: datetime.date | None  # the Monday of the nearest earlier week with workouts
    next_programmed: datetime.date | None

    @property
    def end(self) -> datetime.date:
        return self.start + datetime.timedelta(days=6)

    @property
    def previous_start(self) -> datetime.date:
        return self.start - datetime.timedelta(days=7)

    @property
    def next_start(self) -> datetime.date:
        return self.start + datetime.timedelta(days=7)

    @property
    def empty(self) -> bool:
        return not any(day.workouts for day in self.days)


def week_programming(*, start: datetime.date) -> Week:
    """The workouts of the week starting on ``start``'s Monday, by day and track (three queries)."""
    start = monday_of(start)
    end = start + datetime.timedelta(days=6)
    workouts = list(
        workouts_with_result_counts().filter(scheduled_on__range=(start, end)).order_by("track", "part_position", "id")
    )
    days = [WeekDay(start + datetime.timedelta(days=n), []) for n in range(7)]
    for workout in workouts:
        days[(workout.scheduled_on - start).days].workouts.append(workout)
    earlier = (
        Workout.objects.filter(scheduled_on__lt=start).order_by("-scheduled_on").values_list("scheduled_on", flat=True)
    )
    later = Workout.objects.filter(scheduled_on__gt=end).order_by("scheduled_on").values_list("scheduled_on", flat=True)
    previous, following = earlier.first(), later.first()
    return Week(
        start=start,
        days=days,
        tracks=sorted({w.track for w in workouts}),
        previous_programmed=monday_of(previous) if previous else None,
        next_programmed=monday_of(following) if following else None,
    )


def benchmark_library(*, query: str = "", kind: str = "") -> list[tuple[str, list[Benchmark]]]:
    """FitBuddy's benchmark workouts, by kind (label, benchmarks), each with its movements (two queries)."""
    benchmarks = Benchmark.objects.prefetch_related(
        Prefetch("movements", queryset=BenchmarkMovement.objects.select_related("exercise").order_by("position"))
    )
    if query:
        benchmarks = benchmarks.filter(Q(name__unaccent__icontains=query) | Q(description__icontains=query))
    if kind:
        benchmarks = benchmarks.filter(kind=kind)
    groups: dict[str, list[Benchmark]] = {value: [] for value in Benchmark.Kind.values}
    for benchmark in benchmarks.order_by("name"):
        groups[benchmark.kind].append(benchmark)
    return [(Benchmark.Kind(kind).label, found) for kind, found in groups.items() if found]


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
    tiebreak: int | str | None = participation.tiebreak_ms
    if participation.tiebreak_ms is not None and workout.tiebreak_scheme == Workout.Tiebreak.TIME:
        tiebreak = format_time_ms(participation.tiebreak_ms)
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


@dataclass
class SheetRow:
    member: Member
    existing: Participation | None
    initial: dict[str, Any]


def results_sheet_rows(*, workout: Workout, level: str, first: Sequence[int] = ()) -> list[SheetRow]:
    """A results sheet's rows: every active member, anyone with a result on the workout, and the drop-ins who
    visited that day, by name, the members in ``first`` (a class's roster) before everyone else in its order;
    rows with a result start from it, the others at ``level``. Two queries, whatever the class size."""
    existing = {p.member_id: p for p in Participation.objects.filter(workout=workout)}
    day = workout.scheduled_on
    visited = Q(kind=Member.Kind.DROP_IN) & (
        Q(joined_on=day) | Q(class_bookings__occurrence__on_date=day, class_bookings__checked_in_at__isnull=False)
    )
    listed = Q(is_active=True, kind=Member.Kind.MEMBER) | Q(pk__in=[*existing, *first]) | visited
    members = Member.objects.filter(listed).distinct().order_by("first_name", "last_name", "id")
    place = {member_id: index for index, member_id in enumerate(first)}
    rows = []
    for member in sorted(members, key=lambda m: place.get(m.pk, len(place))):
        participation = existing.get(member.pk)
        if participation is not None:
            participation.workout = workout  # known already: no query, no join
            initial = result_form_initial(participation=participation)
            initial.pop("member"), initial.pop("notes")
        else:
            initial = {"scaling_level": level, "status": Participation.Status.FINISHED, "score": "", "tiebreak": ""}
        rows.append(SheetRow(member, participation, initial))
    return rows


def workout_results(*, workout: Workout) -> list[tuple[Participation, str]]:
    """Every result on the workout (members who hide their scores too), ranked, each with its score as
    people read it: what deleting the workout would delete. One query."""
    results = Participation.objects.filter(workout=workout).select_related("member").order_by("sort_key", "id")
    listed = []
    for participation in results:
        participation.workout = workout  # known already: no query for it
        listed.append((participation, format_result(participation, workout)))
    return listed


@dataclass
class BoardRow:
    rank: int
    participation: Participation
    score: str
    tiebreak: str = ""  # in its own unit (7:11, 45 reps)
    entered_by: str = ""  # who typed the result first, by name
    changed_by: str = ""  # who last changed it, when someone else did


def _names(emails: set[str]) -> dict[str, str]:
    """Gym logins' names by e-mail (one query); a login with no name shows its address's first part."""
    found = dict(GymLogin.objects.filter(email__in=emails).values_list("email", "name"))
    return {email: found.get(email) or email.split("@")[0] for email in emails if email}


def leaderboard_for_workout(workout: Workout, *, level: str | None = None, gender: str | None = None) -> list[BoardRow]:
    """One query: results ranked by sort key (shared ranks, then skips); filters re-rank within themselves."""
    results = Participation.objects.filter(workout=workout, sort_key__isnull=False, member__hide_scores=False)
    if level:
        results = results.filter(scaling_level=level)
    if gender:
        results = results.filter(member__gender=gender)
    results = (
        results.select_related("member")
        .annotate(rank=Window(Rank(), order_by=F("sort_key").asc()))
        .order_by("sort_key", "id")
    )
    rows = list(results)
    names = _names({p.entered_by for p in rows} | {p.recorded_by for p in rows})
    return [
        BoardRow(
            p.rank,
            p,
            format_result(p, workout),
            format_tiebreak(p.tiebreak_ms, workout.tiebreak_scheme),
            entered_by=names.get(p.entered_by, ""),
            changed_by=names.get(p.recorded_by, "") if p.recorded_by and p.recorded_by != p.entered_by else "",
        )
        for p in rows
    ]


# --- Results that look wrong (docs/gym-site.md, "Results that look wrong") ---

#: A for-time result faster than this per rep, when the workout's total reps are known, is asked about.
MIN_MS_PER_REP = 1000
#: A time under this share of the member's best on the same workout (and level) is asked about.
TIME_UNDER_BEST = 0.5
#: A higher-is-better score over this multiple of the member's best (or record) is asked about.
SCORE_OVER_BEST = 1.5
#: An AMRAP over this many reps a second of its cap is asked about.
AMRAP_MAX_REPS_PER_SECOND = 1
#: A load over this is asked about whoever lifted it (every world record is below it).
MAX_PLAUSIBLE_LOAD_GRAMS = 500_000

_HIGHER_IS_BETTER = {ScoreType.ROUNDS_REPS, ScoreType.REPS, ScoreType.LOAD, ScoreType.CALORIES, ScoreType.DISTANCE}


def _same_workout(workout: Workout) -> Q:
    """Results on the same workout over time: the same library benchmark, or the same name and score type."""
    same_name = Q(workout__name__iexact=workout.name, workout__score_type=workout.score_type)
    return Q(workout__benchmark_id=workout.benchmark_id) | same_name if workout.benchmark_id else same_name


def _reps(value: int, workout: Workout) -> int:
    """An AMRAP score in reps (when a round's reps are known), anything else as it is."""
    if workout.score_type == ScoreType.ROUNDS_REPS and workout.reps_per_round:
        rounds, reps = divmod(value, ROUND)
        return rounds * workout.reps_per_round + reps
    return value


def _workout_warnings(workout: Workout, value: int) -> list[str]:
    """What the workout itself says a result cannot be: under a second a rep, more reps than the cap allows."""
    shown = format_score(value, workout.score_type)
    total, cap = workout.reps_per_round, workout.time_cap_seconds
    if workout.score_type == ScoreType.TIME and total and value < total * MIN_MS_PER_REP:
        return [f"{shown} for {total} reps is faster than 1 second a rep."]
    if workout.score_type == ScoreType.ROUNDS_REPS and total and cap:
        reps = _reps(value, workout)
        if reps > cap * AMRAP_MAX_REPS_PER_SECOND:
            return [f"{shown} is {reps} reps: more than the {format_time_ms(cap * 1000)} cap allows (1 rep a second)."]
    if workout.score_type == ScoreType.LOAD and value > MAX_PLAUSIBLE_LOAD_GRAMS:
        return [f"{shown} is more than anyone has lifted ({format_score(MAX_PLAUSIBLE_LOAD_GRAMS, ScoreType.LOAD)})."]
    return []


def _history_warnings(
    workout: Workout, member: Member, value: int, best: int | None, record: tuple[str, int] | None
) -> list[str]:
    """What the member's own history says: far faster than their best, far above their best or record."""
    shown = format_score(value, workout.score_type)
    if best is not None and workout.score_type == ScoreType.TIME and value < best * TIME_UNDER_BEST:
        best_shown = format_score(best, workout.score_type)
        return [f"{shown} is less than half of {member}’s best on {workout.name} at this level ({best_shown})."]
    if record is not None and value > record[1] * SCORE_OVER_BEST:
        exercise, pr = record
        return [f"{shown} is more than 1.5 × {member}’s record on {exercise} ({format_score(pr, workout.score_type)})."]
    if (
        best is not None
        and workout.score_type in _HIGHER_IS_BETTER
        and _reps(value, workout) > _reps(best, workout) * SCORE_OVER_BEST
    ):
        best_shown = format_score(best, workout.score_type)
        return [f"{shown} is more than 1.5 × {member}’s best on {workout.name} at this level ({best_shown})."]
    return []


def result_warnings(*, workout: Workout, results: Mapping[Member, Mapping[str, Any]]) -> dict[int, list[str]]:
    """Results far outside what the workout allows or what the member has done before, by member id,
    each with why (a 12-second Fran, a load far over the member's record, an AMRAP over its cap).

    ``results`` maps members to the columns ``result_values`` returned. Only finished results with a
    score are looked at. The single-result form and the results sheet both ask before saving any of
    them. A fixed number of queries however many results: the members' bests on the same workout
    (one), and for a single-lift test their records on its exercise (two).
    """
    scored = {
        member: values["score_value"]
        for member, values in results.items()
        if values.get("status") == Participation.Status.FINISHED and values.get("score_value") is not None
    }
    if not scored or workout.score_type not in (*_HIGHER_IS_BETTER, ScoreType.TIME):
        return {}
    aggregate = Min if workout.score_type == ScoreType.TIME else Max
    bests = {
        (row["member_id"], row["scaling_level"]): row["best"]
        for row in Participation.objects.filter(
            _same_workout(workout),
            member__in=list(scored),
            status=Participation.Status.FINISHED,
            score_value__isnull=False,
        )
        .exclude(workout=workout)
        .values("member_id", "scaling_level")
        .annotate(best=aggregate("score_value"))
    }
    records: dict[int, tuple[str, int]] = {}
    exercise = personal_record_exercise(workout=workout) if workout.score_type == ScoreType.LOAD else None
    if exercise is not None:
        records = {
            member_id: (exercise.name, value)
            for member_id, value in exercise.personal_records.filter(member__in=list(scored))
            .exclude(participation__workout=workout)
            .values_list("member_id", "value")
        }
    warnings: dict[int, list[str]] = {}
    for member, value in scored.items():
        best = bests.get((member.pk, results[member]["scaling_level"]))
        found = _workout_warnings(workout, value) + _history_warnings(
            workout, member, value, best, records.get(member.pk)
        )
        if found:
            warnings[member.pk] = found
    return warnings
