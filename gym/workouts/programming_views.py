"""Programming pages: a day made of parts, copies of a day or a week, and the searchable workout list."""

from __future__ import annotations

import datetime
import uuid
from urllib.parse import urlencode

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from gym.accounts.access import COACH, role_required
from gym.params import date_param, monday_of, path_day
from gym.workouts.models import PART_SUGGESTIONS, Workout
from gym.workouts.programming import (
    CopyNeedsConfirming,
    day_parts,
    part_move,
    programming_copy,
    tracks,
    workout_search,
)
from gym.workouts.programming_forms import CopyForm, SearchForm

#: Workouts a page of the list shows.
PAGE_SIZE = 20


def copy_form(*, target: datetime.date) -> CopyForm:
    """A new copy form: its own token, and a target a week on."""
    return CopyForm(initial={"target": target, "token": uuid.uuid4()})


@role_required(*COACH)
def day(request: HttpRequest, day: str) -> HttpResponse:
    """A day's programming: each track's parts in order, to add to, reorder and copy."""
    shown = path_day(day)
    context = {
        "day": shown,
        "tracks": day_parts(day=shown),
        "previous": shown - datetime.timedelta(days=1),
        "next": shown + datetime.timedelta(days=1),
        "week_start": monday_of(shown),
        "suggestions": PART_SUGGESTIONS,
        "copy_form": copy_form(target=shown + datetime.timedelta(days=7)),
    }
    return render(request, "workouts/day.html", context)


@role_required(*COACH)
@require_POST
def move_part(request: HttpRequest, workout_id: int) -> HttpResponse:
    """Move a part one place up or down in its day and track."""
    workout = get_object_or_404(Workout, pk=workout_id)
    step = {"up": -1, "down": 1}.get(request.POST.get("step", ""))
    if step is None:
        messages.error(request, "Choose to move the part up or down.")
    else:
        part_move(workout=workout, step=step)
    return redirect(reverse("workouts:day", args=[workout.scheduled_on.isoformat()]) + f"#w{workout.pk}")


@role_required(*COACH)
@require_POST
def copy_day(request: HttpRequest, day: str) -> HttpResponse:
    source = path_day(day)
    return _copy(request, source=source, days=1, back=reverse("workouts:day", args=[source.isoformat()]))


@role_required(*COACH)
@require_POST
def copy_week(request: HttpRequest) -> HttpResponse:
    source = date_param(request.POST, "start")
    if source is None:
        raise Http404("no week to copy")
    source = monday_of(source)
    return _copy(request, source=source, days=7, back=reverse("workouts:week") + f"?start={source.isoformat()}")


def _target_url(target: datetime.date, days: int) -> str:
    if days == 1:
        return reverse("workouts:day", args=[target.isoformat()])
    return reverse("workouts:week") + f"?start={target.isoformat()}"


def _copy(request: HttpRequest, *, source: datetime.date, days: int, back: str) -> HttpResponse:
    form = CopyForm(request.POST)
    if not form.is_valid():
        for errors in form.errors.values():
            for error in errors:
                messages.error(request, f"Nothing was copied: {error}")
        return redirect(back)
    data = form.cleaned_data
    try:
        outcome = programming_copy(
            source=source,
            target=data["target"],
            days=days,
            actor=request.user.get_username(),
            token=data["token"],
            confirmed=data["confirm"],
        )
    except CopyNeedsConfirming as exc:
        context = {
            "form": form,
            "source": source,
            "target": monday_of(data["target"]) if days == 7 else data["target"],
            "days": days,
            "existing": exc.existing,
            "back": back,
        }
        return render(request, "workouts/copy_confirm.html", context)
    except ValidationError as exc:
        for message in exc.messages:
            messages.error(request, f"Nothing was copied: {message}")
        return redirect(back)
    plural = "s" if outcome.workouts != 1 else ""
    if outcome.repeated:
        messages.info(
            request, f"This copy was already made ({outcome.workouts} workout{plural}): nothing was copied again."
        )
    else:
        messages.success(request, f"{outcome.workouts} workout{plural} copied.")
    return redirect(_target_url(outcome.target_start, outcome.days))


@role_required(*COACH)
def workout_list(request: HttpRequest) -> HttpResponse:
    """Every workout, newest first, searchable by words, dates and track."""
    form = SearchForm(request.GET or None, tracks=tracks())
    filters = form.cleaned_data if form.is_bound and form.is_valid() else {}
    workouts = workout_search(
        query=filters.get("q", ""),
        date_from=filters.get("date_from"),
        date_to=filters.get("date_to"),
        track=filters.get("track", ""),
    )
    page = Paginator(workouts, PAGE_SIZE).get_page(request.GET.get("page"))
    kept = {name: request.GET[name] for name in form.fields if request.GET.get(name)} if filters else {}
    context = {"page": page, "form": form, "searched": bool(kept), "kept": urlencode(kept)}
    return render(request, "workouts/workout_list.html", context)
