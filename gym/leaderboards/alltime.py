"""All-time boards: each athlete's best result ever on a library benchmark (every Fran the gym has
programmed), ranked by the rules of one workout's board (docs/domain.md, "All-time boards")."""

from __future__ import annotations

import datetime
from dataclasses import dataclass

from django.db.models import Count, F, Max, QuerySet

from gym.leaderboards.selectors import division_levels
from gym.workouts.models import Benchmark, Participation
from gym.workouts.scores import format_result


@dataclass(frozen=True)
class AllTimeRow:
    rank: int
    participation: Participation  # the best result, with its member and workout
    score: str
    times: int  # how many results the member has on the benchmark on this board


def _results(benchmark: Benchmark, *, division: str | None, gender: str | None) -> QuerySet[Participation]:
    """The benchmark's ranked results on a board: workouts linked to it and scored as it is, members
    who show their scores, the division's levels and the gender asked for."""
    results = Participation.objects.filter(
        workout__benchmark=benchmark,
        workout__score_type=benchmark.score_type,
        sort_key__isnull=False,
        member__hide_scores=False,
    )
    levels = division_levels(division)
    if levels:
        results = results.filter(scaling_level__in=levels)
    if gender:
        results = results.filter(member__gender=gender)
    return results


def all_time_board(benchmark: Benchmark, *, division: str | None = None, gender: str | None = None) -> list[AllTimeRow]:
    """Each member's best result on the benchmark (the lowest sort key, the earliest among equals),
    ranked with shared ranks and skips. Two queries, whatever the length of the gym's history: the
    bests (DISTINCT ON member over the leaderboard index) and how many results each member has."""
    results = _results(benchmark, division=division, gender=gender)
    best = list(
        results.select_related("member", "workout")
        .order_by("member_id", "sort_key", "performed_on", "id")
        .distinct("member_id")
    )
    counts = dict(results.values("member_id").annotate(n=Count("id")).values_list("member_id", "n"))
    best.sort(key=lambda p: (p.sort_key, p.performed_on, p.id))
    rows: list[AllTimeRow] = []
    for index, participation in enumerate(best, 1):
        shared = rows and rows[-1].participation.sort_key == participation.sort_key
        rank = rows[-1].rank if shared else index
        score = format_result(participation, participation.workout)
        rows.append(AllTimeRow(rank, participation, score, counts.get(participation.member_id, 1)))
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
