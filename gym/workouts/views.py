"""The exercise library, workouts, and members' results."""

from __future__ import annotations

import datetime
import uuid
from dataclasses import dataclass, field
from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from gym.accounts.access import COACH, EVERYONE, MANAGE, role_of, role_required
from gym.accounts.models import GymLogin
from gym.classes.forms import DropInVisitForm
from gym.classes.models import ClassOccurrence
from gym.classes.selectors import roster_member_ids
from gym.classes.services import drop_in_add
from gym.members.selectors import recent_events
from gym.params import date_param, id_param, text_param
from gym.workouts.forms import (
    BenchmarkAddForm,
    ExerciseForm,
    MovementFormSet,
    ResultForm,
    SheetRowForm,
    TimeCapForm,
    WorkoutForm,
    score_help,
)
from gym.workouts.models import Benchmark, Exercise, Participation, ScoreType, Workout
from gym.workouts.programming import movements_save
from gym.workouts.programming_forms import (
    ADD_MOVEMENT,
    CopyForm,
    movement_rows,
    movement_rows_added,
    new_workout_initial,
    shown_as_typed,
)
from gym.workouts.records_feed import record_feed
from gym.workouts.scores import format_result, format_time_ms
from gym.workouts.selectors import (
    SheetRow,
    benchmark_library,
    dashboard_summary,
    exercise_library,
    hidden_result_count,
    leaderboard_for_workout,
    result_form_initial,
    result_warnings,
    results_sheet_rows,
    week_programming,
    workout_results,
)
from gym.workouts.services import (
    ImplausibleResult,
    ResultExists,
    WorkoutHasResults,
    exercise_save,
    participation_delete,
    participation_record,
    participations_record,
    result_values,
    workout_delete,
    workout_from_benchmark,
    workout_time_cap_set,
)

#: The scaling level a coach chose last for new rows, per workout (results sheet and result form), kept in
#: the session: {workout id: level}. A level chosen on one workout never carries to another.
LEVEL_SESSION_KEY = "fitbuddy.scaling_level_by_workout"
#: How many workouts' levels a session keeps (the oldest is forgotten first).
LEVELS_KEPT = 20


def _level_remember(request: HttpRequest, workout: Workout, level: str) -> None:
    """Keep the level chosen last on this workout for its next new rows; the session is written only when
    it changes (a write is a commit on the management database, on every result saved otherwise)."""
    levels = request.session.get(LEVEL_SESSION_KEY)
    levels = dict(levels) if isinstance(levels, dict) else {}
    key = str(workout.pk)
    if levels.get(key) == level:
        return
    levels.pop(key, None)
    levels[key] = level
    request.session[LEVEL_SESSION_KEY] = dict(list(levels.items())[-LEVELS_KEPT:])


def _remembered_level(request: HttpRequest, workout: Workout) -> str:
    levels = request.session.get(LEVEL_SESSION_KEY)
    level = levels.get(str(workout.pk)) if isinstance(levels, dict) else None
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
        "record_feed": record_feed(today=today),
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
def week(request: HttpRequest) -> HttpResponse:
    start = date_param(request.GET, "start") or datetime.date.today()
    programming = week_programming(start=start)
    copy = CopyForm(initial={"target": programming.next_start, "token": uuid.uuid4()})
    context = {"week": programming, "today": datetime.date.today(), "copy_form": copy}
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
    initial = {} if workout_id else new_workout_initial(request.GET)
    adding = ADD_MOVEMENT in request.POST  # no script on the page: one more row, everything kept as typed
    data = movement_rows_added(request.POST) if adding else request.POST or None
    form = WorkoutForm(data, instance=workout, initial=initial)
    formset = MovementFormSet(data, instance=workout, prefix="movements")
    if adding:
        shown_as_typed(form, formset)
    elif request.method == "POST" and form.is_valid() and formset.is_valid():
        rows, removed = movement_rows(formset)
        workout = movements_save(workout=form.save(commit=False), movements=rows, removed=removed)
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
    if request.method == "POST" and form.is_valid() and _result_record(request, workout, form, editing):
        messages.success(request, f"Result saved for {form.cleaned_data['member']}.")
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


def _result_record(request: HttpRequest, workout: Workout, form: ResultForm, editing: Participation | None) -> bool:
    """Record the valid form's result; False (the form carrying why) when it was refused or needs asking."""
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
            confirmed=bool(data.get("confirm")),
        )
    except ResultExists as exc:
        form.ask_to_replace(exc.existing, format_result(exc.existing, workout))
    except ImplausibleResult as exc:
        form.ask_to_confirm(exc.warnings)
    except ValidationError as exc:
        for field, errors in exc.message_dict.items():
            form.add_error(field if field in form.fields else None, errors)
    else:
        _level_remember(request, workout, data["scaling_level"])
        return True
    return False


@dataclass
class _SheetRowWithForm(SheetRow):
    """A results sheet's row with the form its result is typed in (``row.form`` on the page) and what
    looks wrong in it (``row.warnings``, asked about before anything is saved)."""

    form: SheetRowForm
    warnings: list[str] = field(default_factory=list)


@role_required(*COACH)
def results_sheet(request: HttpRequest, workout_id: int) -> HttpResponse:
    """A class in one page: a row per member, typed with the keyboard, saved together."""
    workout = get_object_or_404(Workout, pk=workout_id)
    if workout.score_type == ScoreType.NONE:
        messages.info(request, f"{workout} is unscored: it has no results to record.")
        return redirect("workouts:detail", workout_id=workout.pk)
    action = request.POST.get("action") if request.method == "POST" else None
    if request.method == "POST" and "fix_cap" in request.POST:
        action = "cap"
    # Opened for a class (?class=<occurrence>): its roster first, and a drop-in is checked in to it.
    occurrence_id = id_param(request.GET, "class")
    occurrence = (
        get_object_or_404(ClassOccurrence.objects.select_related("schedule"), pk=occurrence_id)
        if occurrence_id
        else None
    )
    here = reverse("workouts:sheet", args=[workout.pk]) + (f"?class={occurrence.pk}" if occurrence else "")
    dropin = DropInVisitForm(request.POST if action == "dropin" else None, prefix="dropin")
    if action == "dropin" and dropin.is_valid():
        member, _ = drop_in_add(occurrence=occurrence, visited_on=workout.scheduled_on, **dropin.cleaned_data)
        messages.success(request, f"{member} added as a drop-in (a visit, not a member): their row is on the sheet.")
        return redirect(f"{here}{'&' if occurrence else '?'}with={member.pk}#m{member.pk}")
    roster = roster_member_ids(occurrence_id=occurrence.pk) if occurrence else []
    added = id_param(request.GET, "with")  # someone just added: listed even if not otherwise on this sheet
    first = roster + ([added] if added and added not in roster else [])
    cap_form = _sheet_cap_fix(request, workout, action)
    level = _remembered_level(request, workout)
    if action in ("save", "cap") and request.POST.get("default_level") in workout.scaling_levels:
        level = request.POST["default_level"]
        _level_remember(request, workout, level)
    rows = _sheet_rows(request, workout, level, bound=action in ("save", "cap"), first=first)
    if action == "save" and _sheet_save(request, workout, rows):
        return redirect(here)
    context = {
        "workout": workout,
        "rows": rows,
        "level": level,
        "recorded": sum(1 for row in rows if row.existing),
        "dropin": dropin,
        "occurrence": occurrence,
        "in_class": len(roster),
        "cap_form": cap_form,
        "time_cap": format_time_ms(workout.time_cap_seconds * 1000) if workout.time_cap_seconds else "",
        "score_help": score_help(workout),
    }
    return render(request, "workouts/results_sheet.html", context)


def _sheet_cap_fix(request: HttpRequest, workout: Workout, action: str | None) -> TimeCapForm:
    """The sheet's time-cap field; with ``action`` "cap", the workout's cap is fixed (the rows typed so far
    are shown again as typed, nothing of them saved)."""
    if action != "cap":
        return TimeCapForm(
            initial={"time_cap": format_time_ms(workout.time_cap_seconds * 1000) if workout.time_cap_seconds else ""}
        )
    cap_form = TimeCapForm(request.POST)
    if cap_form.is_valid():
        workout_time_cap_set(workout=workout, seconds=cap_form.cleaned_data["time_cap"])
        cap = format_time_ms(workout.time_cap_seconds * 1000) if workout.time_cap_seconds else "none"
        messages.success(request, f"Time cap set to {cap}. The rows you typed are below, not saved yet.")
    else:
        messages.error(request, "The time cap was not changed (see below). The rows you typed are kept.")
    return cap_form


def _sheet_rows(
    request: HttpRequest, workout: Workout, level: str, *, bound: bool, first: list[int]
) -> list[_SheetRowWithForm]:
    rows: list[_SheetRowWithForm] = []
    for row in results_sheet_rows(workout=workout, level=level, first=first):
        prefix = f"m{row.member.pk}"
        # A member added after the sheet was opened has no fields in the post: their row stays as it was.
        data = request.POST if bound and f"{prefix}-status" in request.POST else None
        form = SheetRowForm(data, workout=workout, member=row.member, prefix=prefix, initial=row.initial)
        rows.append(_SheetRowWithForm(member=row.member, existing=row.existing, initial=row.initial, form=form))
    return rows


def _sheet_save(request: HttpRequest, workout: Workout, rows: list[_SheetRowWithForm]) -> bool:
    """Save the sheet's rows, all or none: True once saved (or when there was nothing to save, False)."""
    results, refused = _sheet_results(workout, rows)
    unconfirmed = _sheet_warnings(workout, rows, results)
    if refused or unconfirmed:
        problems = []
        if refused:
            problems.append(f"{refused} row{'s' if refused != 1 else ''} need{'s' if refused == 1 else ''} fixing")
        if unconfirmed:
            plural = "s need" if unconfirmed != 1 else " needs"
            problems.append(f"{unconfirmed} row{plural} confirming")
        messages.error(request, f"{' and '.join(problems)} (marked below); nothing was saved.".capitalize())
        return False
    if not results:
        messages.info(request, "Nothing to save: no row was filled in or changed.")
        return False
    participations_record(workout=workout, results=results, recorded_by=request.user.get_username())
    messages.success(request, f"Saved {len(results)} result{'s' if len(results) != 1 else ''}.")
    return True


def _sheet_warnings(workout: Workout, rows: list[_SheetRowWithForm], results: dict[int, dict[str, Any]]) -> int:
    """Flag the rows whose result looks wrong (``result_warnings``, as the single-result form asks) and
    are not confirmed; returns how many."""
    by_member = {row.member.pk: row for row in rows}
    warnings = result_warnings(
        workout=workout, results={by_member[pk].member: values for pk, values in results.items()}
    )
    unconfirmed = 0
    for member_id, found in warnings.items():
        row = by_member[member_id]
        row.warnings = found
        if not row.form.cleaned_data.get("confirm"):
            unconfirmed += 1
    return unconfirmed


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


@role_required(*COACH)
@require_POST
def delete_result(request: HttpRequest, workout_id: int, participation_id: int) -> HttpResponse:
    """Delete one result (kept as an event for the owner: who, when, what it was)."""
    workout = get_object_or_404(Workout, pk=workout_id)
    participation = get_object_or_404(
        Participation.objects.select_related("member"), pk=participation_id, workout=workout
    )
    participation.workout = workout  # known already: no query for it
    shown = format_result(participation, workout)
    participation_delete(participation=participation, actor=request.user.get_username())
    messages.success(request, f"{participation.member}'s result ({shown}) deleted.")
    return redirect("workouts:detail", workout_id=workout.pk)


@role_required(*COACH)
@require_POST
def delete_workout(request: HttpRequest, workout_id: int) -> HttpResponse:
    """Delete a workout: at once when it has no results; with results, only from the confirmation page
    that lists them (which posts how many it listed)."""
    workout = get_object_or_404(Workout, pk=workout_id)
    confirmed = request.POST.get("confirm") == "delete"
    listed = request.POST.get("results", "")
    listed_count = int(listed) if confirmed and listed.isascii() and listed.isdigit() and len(listed) < 10 else 0
    try:
        workout_delete(workout=workout, actor=request.user.get_username(), results_confirmed=listed_count)
    except WorkoutHasResults as exc:
        if confirmed:
            messages.error(request, "The results changed since the list below was shown: check it again.")
        context = {"workout": workout, "results": workout_results(workout=workout), "count": exc.results}
        return render(request, "workouts/workout_delete.html", context)
    messages.success(request, f"{workout.name} ({workout.scheduled_on}) deleted.")
    return redirect("workouts:list")


@role_required(*MANAGE)
def events(request: HttpRequest) -> HttpResponse:
    """What was deleted or deactivated, by whom and when: for the gym's owner and admins."""
    return render(request, "workouts/events.html", {"events": recent_events()})
