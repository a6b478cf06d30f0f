"""From a class to its results: the sheet of the day's workout on the class's track, its roster first."""

from __future__ import annotations

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse

from gym.accounts.access import COACH, role_required
from gym.classes.models import ClassSchedule
from gym.classes.services import BookingRefused, occurrence_get
from gym.params import path_day
from gym.workouts.models import ScoreType, Workout


@role_required(*COACH)
def class_sheet(request: HttpRequest, schedule_id: int, day: str) -> HttpResponse:
    """One scored workout that day on the class's track: its sheet for the class; several: a choice; none: a
    page that says so (opening a class's sheet makes its occurrence row, which the sheet's address names)."""
    on = path_day(day)
    schedule = get_object_or_404(ClassSchedule, pk=schedule_id)
    if not schedule.runs_on(on):
        raise Http404("this class does not run that day")
    workouts = list(
        Workout.objects.filter(scheduled_on=on, track=schedule.track).exclude(score_type=ScoreType.NONE).order_by("id")
    )
    if not workouts:
        context = {"schedule": schedule, "day": on, "sheets": []}
        return render(request, "workouts/class_sheets.html", context)
    try:
        occurrence = occurrence_get(schedule=schedule, day=on)
    except BookingRefused as exc:  # pragma: no cover - runs_on was checked above
        raise Http404(str(exc)) from exc
    sheets = [(w, reverse("workouts:sheet", args=[w.pk]) + f"?class={occurrence.pk}") for w in workouts]
    if len(sheets) == 1:
        return redirect(sheets[0][1])
    return render(request, "workouts/class_sheets.html", {"schedule": schedule, "day": on, "sheets": sheets})
