"""Leaderboards per workout and over a date range, and a member's own page (records, results, progress)."""

from __future__ import annotations

import datetime
from collections.abc import Iterable

from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render

from gym.accounts.access import COACH, role_required
from gym.classes.selectors import member_attendance
from gym.leaderboards import progress
from gym.leaderboards.selectors import DIVISIONS, member_profile, overall_leaderboard
from gym.members.models import Member
from gym.workouts.models import ScalingLevel, Workout
from gym.workouts.selectors import leaderboard_for_workout


def _choice(value: str | None, choices: Iterable[tuple[str, str]]) -> str | None:
    return value if value in dict(choices) else None


@role_required(*COACH)
def workout_leaderboard(request: HttpRequest, workout_id: int) -> HttpResponse:
    workout = get_object_or_404(Workout, pk=workout_id)
    level = _choice(request.GET.get("level"), ScalingLevel.choices)
    gender = _choice(request.GET.get("gender"), Member.Gender.choices)
    board = leaderboard_for_workout(workout, level=level, gender=gender)
    return render(
        request,
        "leaderboards/workout.html",
        {
            "workout": workout,
            "board": board,
            "level": level,
            "gender": gender,
            "levels": [(v, label) for v, label in ScalingLevel.choices if v in workout.scaling_levels],
            "genders": Member.Gender.choices,
        },
    )


def _date(text: str | None, default: datetime.date, edge: str) -> tuple[datetime.date, str | None]:
    if not text:
        return default, None
    try:
        return datetime.date.fromisoformat(text), None
    except ValueError:
        return default, f"{text!r} is not a date (YYYY-MM-DD), so the range {edge} {default:%Y-%m-%d} instead."


@role_required(*COACH)
def overall(request: HttpRequest) -> HttpResponse:
    today = datetime.date.today()
    start, error1 = _date(request.GET.get("start"), today - datetime.timedelta(days=30), "starts on")
    end, error2 = _date(request.GET.get("end"), today, "ends on")
    if start > end:
        start, end = end, start
    gender = _choice(request.GET.get("gender"), Member.Gender.choices)
    division = _choice(request.GET.get("division"), [(key, label) for key, (label, _) in DIVISIONS.items()])
    workouts, rows = overall_leaderboard(start=start, end=end, gender=gender, division=division)
    return render(
        request,
        "leaderboards/overall.html",
        {
            "workouts": workouts,
            "rows": rows,
            "start": start,
            "end": end,
            "gender": gender,
            "genders": Member.Gender.choices,
            "division": division,
            "divisions": [(key, label) for key, (label, _) in DIVISIONS.items()],
            "tracks": len({w.track for w in workouts}),
            "errors": [e for e in (error1, error2) if e],
        },
    )


@role_required(*COACH)
def member_detail(request: HttpRequest, member_id: int) -> HttpResponse:
    member = get_object_or_404(Member, pk=member_id)
    profile = member_profile(member=member)
    context = progress.progress_context(member=member, records=profile.records, results=profile.results)
    context["attendance"] = member_attendance(member=member)  # classes (gym/classes)
    return render(request, "members/member_detail.html", context)
