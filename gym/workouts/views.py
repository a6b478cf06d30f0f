"""The exercise library, workouts, and members' results."""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from gym.accounts.access import COACH, EVERYONE, role_of, role_required
from gym.accounts.models import GymLogin
from gym.members.forms import DropInForm
from gym.members.services import member_save
from gym.params import date_param, id_param, text_param
from gym.workouts.forms import (
    BenchmarkAddForm,
    ExerciseForm,
    MovementFormSet,
    ResultForm,
    SheetRowForm,
    WorkoutForm,
    score_help,
)
from gym.workouts.models import Benchmark, Exercise, Participation, ScoreType, Workout
from gym.workouts.scores import format_result, format_time_ms
from gym.workouts.selectors import (
    SheetRow,
    benchmark_library,
    dashboard_summary,
    exercise_library,
    hidden_result_count,
    leaderboard_for_workout,
    result_form_initial,
    results_sheet_rows,
    week_programming,
    workouts_with_result_counts,
)
from gym.workouts.services import (
    ResultExists,
    exercise_save,
    participation_record,
    participations_record,
    result_values,
    workout_from_benchmark,
    workout_save,
)

#: The scaling level a coach chose last (results sheet and result form), kept in the session.
LEVEL_SESSION_KEY = "fitbuddy.last_scaling_level"


def _level_remember(request: HttpRequest, level: str) -> None:
    """Keep the level chosen last for the next new rows; the session is written only when it changes
    (a write is a commit on the management database, on every result saved otherwise)."""
    if request.session.get(LEVEL_SESSION_KEY) != level:
        request.session[LEVEL_SESSION_KEY] = level


def _remembered_level(request: HttpRequest, workout: Workout) -> str:
    level = request.session.get(LEVEL_SESSION_KEY)
    return level if level in workout.scaling_levels else workout.scaling_levels[0]


@role_required(*EVERYONE)
def dashboard(request: HttpRequest) -> HttpResponse:
    if role_of(request) == GymLogin.Role.ATHLETE:
        return redirect("athletes:home")  # an athlete's front page is their week
    if role_of(request) not in COACH:
        raise PermissionDenied("You have no access to this page of this gym.")
    today = datetime.date.today()
    summary = dashboard_summary(today=today)
    context = {
        "today": today,
        "todays_workouts": summary.today,
        "members": summary.active_members,
        "workouts": summary.recent_workouts,
        "results_this_week": summary.results_this_week,
    }
    return render(request, "workouts/dashboard.html", context)


@role_required(*COACH)
def exercise_list(request: HttpRequest) -> HttpResponse:
    return render(request, "workouts/exercise_list.html", {"exercises": exercise_library()})


@role_required(*COACH)
def exercise_edit(request: HttpRequest, exercise_id: int | None = None) -> HttpResponse:
    exercise = get_object_or_404(Exercise, pk=exercise_id) if exercise_id else None
    form = ExerciseForm(request.POST or None, instance=exercise)
    if request.method == "POST" and form.is_valid():
        exercise = exercise_save(exercise=exercise, fields=form.cleaned_data)
        messages.success(request, f"{exercise} saved.")
        return redirect("workouts:exercises")
    return render(request, "workouts/exercise_form.html", {"form": form, "exercise": exercise})


@role_required(*COACH)
def workout_list(request: HttpRequest) -> HttpResponse:
    page = Paginator(workouts_with_result_counts(), 20).get_page(request.GET.get("page"))
    return render(request, "workouts/workout_list.html", {"page": page})


@role_required(*COACH)
def week(request: HttpRequest) -> HttpResponse:
    start = date_param(request.GET, "start") or datetime.date.today()
    context = {"week": week_programming(start=start), "today": datetime.date.today()}
    return render(request, "workouts/week.html", context)


@role_required(*COACH)
def library(request: HttpRequest) -> HttpResponse:
    query = text_param(request.GET, "q")
    kind = request.GET.get("kind", "")
    kind = kind if kind in Benchmark.Kind.values else ""
    day = date_param(request.GET, "date") or datetime.date.today()
    context = {
        "groups": benchmark_library(query=query, kind=kind),
        "query": query,
        "kind": kind,
        "kinds": Benchmark.Kind.choices,
        "form": BenchmarkAddForm(initial={"scheduled_on": day, "track": "main"}),
    }
    return render(request, "workouts/library.html", context)


@role_required(*COACH)
@require_POST
def library_add(request: HttpRequest, benchmark_id: int) -> HttpResponse:
    benchmark = get_object_or_404(Benchmark, pk=benchmark_id)
    form = BenchmarkAddForm(request.POST)
    if not form.is_valid():
        for errors in form.errors.values():
            for error in errors:
                messages.error(request, f"{benchmark} was not added: {error}")
        return redirect("workouts:library")
    day, track = form.cleaned_data["scheduled_on"], form.cleaned_data["track"]
    workout, created = workout_from_benchmark(benchmark=benchmark, scheduled_on=day, track=track)
    if created:
        messages.success(request, f"{benchmark} added to {day:%A %-d %B %Y} ({track}).")
    else:
        messages.info(request, f"{benchmark} was already on {day:%A %-d %B %Y} ({track}).")
    return redirect("workouts:detail", workout_id=workout.pk)


@role_required(*COACH)
def workout_edit(request: HttpRequest, workout_id: int | None = None) -> HttpResponse:
    workout = get_object_or_404(Workout, pk=workout_id) if workout_id else Workout()
    initial = {} if workout_id else {"scheduled_on": date_param(request.GET, "date") or datetime.date.today()}
    form = WorkoutForm(request.POST or None, instance=workout, initial=initial)
    formset = MovementFormSet(request.POST or None, instance=workout, prefix="movements")
    if request.method == "POST" and form.is_valid() and formset.is_valid():
        movements = formset.save(commit=False)
        workout = workout_save(workout=form.save(commit=False), movements=movements, removed=formset.deleted_objects)
        messages.success(request, f"{workout} saved.")
        return redirect("workouts:detail", workout_id=workout.pk)
    return render(request, "workouts/workout_form.html", {"form": form, "formset": formset, "workout": workout})


@role_required(*COACH)
def workout_detail(request: HttpRequest, workout_id: int) -> HttpResponse:
    workout = get_object_or_404(Workout, pk=workout_id)
    editing = None
    edit_id = id_param(request.GET, "edit")
    if edit_id is not None:
        editing = get_object_or_404(Participation, pk=edit_id, workout=workout)
    initial = (
        result_form_initial(participation=editing)
        if editing
        else {"scaling_level": _remembered_level(request, workout)}
    )
    form = ResultForm(request.POST or None, workout=workout, initial=initial)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        # Correcting a member's own result replaces it; a second result for anyone else asks first.
        replace = bool(data.get("replace")) or (editing is not None and editing.member_id == data["member"].pk)
        try:
            participation_record(
                workout=workout,
                member=data["member"],
                scaling_level=data["scaling_level"],
                status=data["status"],
                score_text=data.get("score", ""),
                tiebreak_text=data.get("tiebreak", "") or "",
                notes=data.get("notes", ""),
                recorded_by=request.user.get_username(),
                replace=replace,
            )
        except ResultExists as exc:
            form.ask_to_replace(exc.existing, format_result(exc.existing, workout))
        except ValidationError as exc:
            for field, errors in exc.message_dict.items():
                form.add_error(field if field in form.fields else None, errors)
        else:
            _level_remember(request, data["scaling_level"])
            messages.success(request, f"Result saved for {data['member']}.")
            return redirect("workouts:detail", workout_id=workout.pk)
    return render(
        request,
        "workouts/workout_detail.html",
        {
            "workout": workout,
            "form": form,
            "board": leaderboard_for_workout(workout),
            "editing": editing,
            "hidden": hidden_result_count(workout=workout),
            "movements": workout.movements.select_related("exercise"),
            "time_cap": format_time_ms(workout.time_cap_seconds * 1000) if workout.time_cap_seconds else "",
        },
    )


@dataclass
class _SheetRowWithForm(SheetRow):
    """A results sheet's row with the form its result is typed in (``row.form`` on the page)."""

    form: SheetRowForm


@role_required(*COACH)
def results_sheet(request: HttpRequest, workout_id: int) -> HttpResponse:
    """A class in one page: a row per member, typed with the keyboard, saved together."""
    workout = get_object_or_404(Workout, pk=workout_id)
    if workout.score_type == ScoreType.NONE:
        messages.info(request, f"{workout} is unscored: it has no results to record.")
        return redirect("workouts:detail", workout_id=workout.pk)
    action = request.POST.get("action") if request.method == "POST" else None
    dropin = DropInForm(request.POST if action == "dropin" else None, prefix="dropin")
    if action == "dropin" and dropin.is_valid():
        member = member_save(fields=dropin.cleaned_data)
        messages.success(request, f"{member} added as a drop-in: their row is on the sheet.")
        return redirect(reverse("workouts:sheet", args=[workout.pk]) + f"#m{member.pk}")
    level = _remembered_level(request, workout)
    if action == "save" and request.POST.get("default_level") in workout.scaling_levels:
        level = request.POST["default_level"]
        _level_remember(request, level)
    rows: list[_SheetRowWithForm] = []
    for row in results_sheet_rows(workout=workout, level=level):
        prefix = f"m{row.member.pk}"
        # A member added after the sheet was opened has no fields in the post: their row stays as it was.
        data = request.POST if action == "save" and f"{prefix}-status" in request.POST else None
        form = SheetRowForm(data, workout=workout, member=row.member, prefix=prefix, initial=row.initial)
        rows.append(_SheetRowWithForm(member=row.member, existing=row.existing, initial=row.initial, form=form))
    if action == "save":
        results, refused = _sheet_results(workout, rows)
        if refused:
            messages.error(
                request,
                f"{refused} row{'s' if refused != 1 else ''} need{'s' if refused == 1 else ''} fixing "
                "(marked below); nothing was saved.",
            )
        elif not results:
            messages.info(request, "Nothing to save: no row was filled in or changed.")
        else:
            participations_record(workout=workout, results=results, recorded_by=request.user.get_username())
            messages.success(request, f"Saved {len(results)} result{'s' if len(results) != 1 else ''}.")
            return redirect("workouts:sheet", workout_id=workout.pk)
    context = {
        "workout": workout,
        "rows": rows,
        "level": level,
        "recorded": sum(1 for row in rows if row.existing),
        "dropin": dropin,
        "time_cap": format_time_ms(workout.time_cap_seconds * 1000) if workout.time_cap_seconds else "",
        "score_help": score_help(workout),
    }
    return render(request, "workouts/results_sheet.html", context)


def _sheet_results(workout: Workout, rows: list[_SheetRowWithForm]) -> tuple[dict[int, dict[str, Any]], int]:
    """The rows to save (member id to columns) and how many rows were refused, errors on their forms."""
    results: dict[int, dict[str, Any]] = {}
    refused = 0
    for row in rows:
        form = row.form
        if not form.is_bound:
            continue
        if not form.is_valid():
            refused += 1
            continue
        data = form.cleaned_data
        typed = data["score"].strip() or (data.get("tiebreak") or "").strip()
        if row.existing is None and not typed and data["status"] == Participation.Status.FINISHED:
            continue  # an empty row: this member was not in class
        if row.existing is not None and not form.has_changed():
            continue
        if not row.member.is_active:
            form.add_error(None, f"{row.member} is deactivated: reactivate them to record a result.")
            refused += 1
            continue
        if row.existing is not None and not data["score"].strip() and data["status"] == Participation.Status.FINISHED:
            form.add_error(
                "score", "A recorded score cannot be emptied here: type it again, or mark the row Withdrawn."
            )
            refused += 1
            continue
        try:
            results[row.member.pk] = result_values(
                workout=workout,
                scaling_level=data["scaling_level"],
                status=data["status"],
                score_text=data["score"],
                tiebreak_text=data.get("tiebreak") or "",
            )
        except ValidationError as exc:
            for field, errors in exc.message_dict.items():
                form.add_error(field if field in form.fields else None, errors)
            refused += 1
    return results, refused
