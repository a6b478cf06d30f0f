"""The all-time boards: the benchmarks the gym has results on, and each benchmark's board of every
athlete's best result ever."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render

from gym.accounts.access import COACH, role_required
from gym.leaderboards.alltime import all_time_board, benchmarks_with_results
from gym.leaderboards.selectors import DIVISIONS
from gym.members.models import Member
from gym.workouts.models import Benchmark

DIVISION_CHOICES = [(key, label) for key, (label, _) in DIVISIONS.items()]


def _choice(value: str | None, choices: list[tuple[str, str]]) -> str | None:
    return value if value in dict(choices) else None


@role_required(*COACH)
def benchmark_boards(request: HttpRequest) -> HttpResponse:
    return render(
        request, "leaderboards/benchmarks.html", {"boards": benchmarks_with_results(), "board_menu": "benchmarks"}
    )


@role_required(*COACH)
def all_time(request: HttpRequest, benchmark_id: int) -> HttpResponse:
    benchmark = get_object_or_404(Benchmark, pk=benchmark_id)
    division = _choice(request.GET.get("division"), DIVISION_CHOICES)
    gender = _choice(request.GET.get("gender"), list(Member.Gender.choices))
    return render(
        request,
        "leaderboards/all_time.html",
        {
            "benchmark": benchmark,
            "rows": all_time_board(benchmark, division=division, gender=gender),
            "division": division,
            "divisions": DIVISION_CHOICES,
            "gender": gender,
            "genders": Member.Gender.choices,
            "board_menu": "benchmarks",
        },
    )
