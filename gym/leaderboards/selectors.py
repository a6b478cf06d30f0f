"""Reads across a gym's results: the overall leaderboard over a date range, and a member's profile
(records and latest results)."""

from __future__ import annotations

import datetime
from collections import defaultdict
from dataclasses import dataclass, field

from django.db.models import Exists, F, OuterRef, Window
from django.db.models.functions import Rank

from gym.members.models import Member
from gym.workouts import publishing
from gym.workouts.models import Participation, PersonalRecord, ScalingLevel, ScoreType, Workout
from gym.workouts.scores import format_result, format_score


@dataclass
class OverallRow:
    rank: int
    member: object
    total: int
    placements: dict[int, int] = field(default_factory=dict)
    places: list[int] = field(default_factory=list)  # in the order of the board's workouts


#: The overall board's divisions (docs/domain.md, "The overall board"): each ranks its own results,
#: by the same rules as one workout's board. Rx+ counts with Rx.
DIVISIONS: dict[str, tuple[str, tuple[str, ...]]] = {
    "rx": ("Rx (and Rx+)", (ScalingLevel.RX_PLUS, ScalingLevel.RX)),
    "scaled": ("Scaled", (ScalingLevel.SCALED,)),
    "foundations": ("Foundations", (ScalingLevel.FOUNDATIONS,)),
}


def division_levels(division: str | None) -> tuple[str, ...] | None:
    """The scaling levels of a division (None: every level, one board)."""
    return DIVISIONS[division][1] if division in DIVISIONS else None


def overall_leaderboard(
    *, start: datetime.date, end: datetime.date, gender: str | None = None, division: str | None = None
) -> tuple[list[Workout], list[OverallRow]]:
    """Sum of per-workout placements over the workouts in [start, end] that have results on this
    board, lowest wins; ties by countback. Two queries.

    A workout nobody has a result on (yet) is not on the board: it would place everyone first. A
    member without a result on a workout that is on the board is placed after everyone who has one.
    """
    results = Participation.objects.filter(
        workout__scheduled_on__range=(start, end),
        sort_key__isnull=False,
        member__hide_scores=False,
        member__is_active=True,
    ).exclude(workout__score_type=ScoreType.NONE)
    if gender:
        results = results.filter(member__gender=gender)
    levels = division_levels(division)
    if levels:
        results = results.filter(scaling_level__in=levels)
    workouts = list(
        Workout.objects.filter(Exists(results.filter(workout=OuterRef("pk")))).order_by("scheduled_on", "track", "id")
    )
    results = results.select_related("member").annotate(
        place=Window(Rank(), partition_by=F("workout_id"), order_by=F("sort_key").asc())
    )
    placements: dict[int, dict[int, int]] = defaultdict(dict)
    members = {}
    entrants: dict[int, int] = defaultdict(int)
    for p in results:
        placements[p.member_id][p.workout_id] = p.place
        members[p.member_id] = p.member
        entrants[p.workout_id] += 1
    rows = []
    for member_id, places in placements.items():
        full = {w.pk: places.get(w.pk, entrants[w.pk] + 1) for w in workouts}
        rows.append(OverallRow(0, members[member_id], sum(full.values()), full, [full[w.pk] for w in workouts]))

    def key(row: OverallRow) -> tuple[int, ...]:
        counts: defaultdict[int, int] = defaultdict(int)
        for place in row.placements.values():
            counts[place] += 1
        worst = max(entrants.values(), default=0) + 1
        return (row.total, *[-counts[i] for i in range(1, worst + 1)])

    rows.sort(key=lambda r: (key(r), str(r.member)))
    previous = None
    for index, row in enumerate(rows, 1):
        k = key(row)
        row.rank = rows[index - 2].rank if previous == k else index
        previous = k
    return workouts, rows


@dataclass(frozen=True)
class MemberProfile:
    records: list[tuple[PersonalRecord, str]]  # each with its value for display
    results: list[tuple[Participation, str]]  # the latest results, with their score for display


def member_profile(*, member: Member, results: int = 20, published_only: bool = False) -> MemberProfile:
    """A member's personal records and latest results, formatted for display (``published_only``: only
    results on workouts athletes see, for the athlete's own pages)."""
    records = [
        (record, format_score(record.value, record.exercise.unit))
        for record in member.personal_records.select_related("exercise").order_by("exercise__name")
    ]
    latest = member.participations.select_related("workout").order_by("-performed_on")
    if published_only:
        latest = latest.filter(publishing.published_q_for("workout"))
    latest = latest[:results]
    return MemberProfile(records, [(p, format_result(p, p.workout)) for p in latest])
