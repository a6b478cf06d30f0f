"""All-time boards: each athlete's best result ever on a library benchmark (every Fran the gym has
programmed), ranked by the rules of one workout's board (docs/domain.md, "All-time boards")."""

from __future__ import annotations

import datetime
from dataclasses import dataclass

from django.db.models import Count, F, Max, Min, QuerySet

from gym.leaderboards.selectors import division_levels
from gym.workouts.models import Benchmark, Participation
from gym.workouts.scores import format_result


@dataclass(frozen=True)
class AllTimeRow:
    rank: int
    participation: Participation  # the best result, with its member and workout
    score: str
    times: int  # how many results the member has on the benchmark on this board


#: A member's results, best first: the lowest sort key, the earliest among equals.
BEST = ("sort_key", "performed_on", "id")


def _results(benchmark: Benchmark, *, division: str | None) -> QuerySet[Participation]:
    """The benchmark's ranked results: workouts linked to it and scored as it is, at the division's levels."""
    results = Participation.objects.filter(
        workout__benchmark=benchmark, workout__score_type=benchmark.score_type, sort_key__isnull=False
    )
    levels = division_levels(division)
    return results.filter(scaling_level__in=levels) if levels else results


def all_time_board(benchmark: Benchmark, *, division: str | None = None, gender: str | None = None) -> list[AllTimeRow]:
    """Each member's best result on the benchmark (the lowest sort key, the earliest among equals),
    ranked with shared ranks and skips; members who hide their scores are left out.

    Two queries, whatever the length of the gym's history: each member's best key and number of
    results (grouped, no sort of the history), then the rows holding those keys, in full. Who is left
    out (hidden, another gender) is a property of the member, so it is applied to the second query.
    """
    results = _results(benchmark, division=division)
    bests = {
        row["member_id"]: (row["best"], row["times"])
        for row in results.values("member_id").annotate(best=Min("sort_key"), times=Count("id")).order_by()
    }
    candidates = results.filter(
        member_id__in=list(bests), sort_key__in={best for best, _ in bests.values()}, member__hide_scores=False
    )
    if gender:
        candidates = candidates.filter(member__gender=gender)
    chosen: dict[int, Participation] = {}
    for participation in candidates.select_related("member", "workout").order_by(*BEST):
        if participation.sort_key == bests[participation.member_id][0]:
            chosen.setdefault(participation.member_id, participation)  # the earliest among equal keys
    ranked = sorted(chosen.values(), key=lambda p: (p.sort_key, p.performed_on, p.id))
    rows: list[AllTimeRow] = []
    for index, participation in enumerate(ranked, 1):
        shared = rows and rows[-1].participation.sort_key == participation.sort_key
        rank = rows[-1].rank if shared else index
        score = format_result(participation, participation.workout)
        rows.append(AllTimeRow(rank, participation, score, bests[participation.member_id][1]))
    return rows


@dataclass(frozen=True)
class BenchmarkBoard:
    benchmark: Benchmark
    results: int  # results on the benchmark's workouts (members who hide their scores left out)
    athletes: int
    last_done: datetime.date  # the day it was last programmed with results


def benchmarks_with_results() -> list[BenchmarkBoard]:
    """Library benchmarks the gym has results on, most results first (one query)."""
    found = (
        Benchmark.objects.filter(
            workouts__score_type=F("score_type"),
            workouts__participations__sort_key__isnull=False,
            workouts__participations__member__hide_scores=False,
        )
        .annotate(
            results=Count("workouts__participations", distinct=True),
            athletes=Count("workouts__participations__member", distinct=True),
            last_done=Max("workouts__scheduled_on"),
        )
        .order_by("-results", "name")
    )
    return [BenchmarkBoard(b, b.results, b.athletes, b.last_done) for b in found]
