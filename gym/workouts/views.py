"""The exercise library, workouts, and members' results."""

from __future__ import annotations

import datetime

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.shortcuts import get_object_or_404, redirect, render

from affiliates.access import COACH, role_required
from gym.leaderboards.selectors import leaderboard_for_workout
from gym.params import id_param

from .forms import ExerciseForm, MovementFormSet, ResultForm, WorkoutForm
from .models import Exercise, Participation, Workout
from .scores import format_result, format_time_ms
from .selectors import (
    dashboard_summary,
    exercise_library,
    hidden_result_count,
    result_form_initial,
    workouts_with_result_counts,
)
from .services import exercise_save, participation_record, workout_save


@role_required(*COACH)
def dashboard(request):
    summary = dashboard_summary(today=datetime.date.today())
    context = {
        "members": summary.active_members,
        "workouts": summary.recent_workouts,
        "results_this_week": summary.results_this_week,
    }
    return render(request, "workouts/dashboard.html", context)


@role_required(*COACH)
def exercise_list(request):
    return render(request, "workouts/exercise_list.html", {"exercises": exercise_library()})


@role_required(*COACH)
def exercise_edit(request, exercise_id: int | None = None):
    exercise = get_object_or_404(Exercise, pk=exercise_id) if exercise_id else None
    form = ExerciseForm(request.POST or None, instance=exercise)
    if request.method == "POST" and form.is_valid():
        exercise = exercise_save(exercise=exercise, fields=form.cleaned_data)
        messages.success(request, f"{exercise} saved.")
        return redirect("workouts:exercises")
    return render(request, "workouts/exercise_form.html", {"form": form, "exercise": exercise})


@role_required(*COACH)
def workout_list(request):
    page = Paginator(workouts_with_result_counts(), 20).get_page(request.GET.get("page"))
    return render(request, "workouts/workout_list.html", {"page": page})


@role_required(*COACH)
def workout_edit(request, workout_id: int | None = None):
    workout = get_object_or_404(Workout, pk=workout_id) if workout_id else Workout()
    form = WorkoutForm(request.POST or None, instance=workout)
    formset = MovementFormSet(request.POST or None, instance=workout, prefix="movements")
    if request.method == "POST" and form.is_valid() and formset.is_valid():
        movements = formset.save(commit=False)
        workout = workout_save(workout=form.save(commit=False), movements=movements, removed=formset.deleted_objects)
        messages.success(request, f"{workout} saved.")
        return redirect("workouts:detail", workout_id=workout.pk)
    return render(request, "workouts/workout_form.html", {"form": form, "formset": formset, "workout": workout})


@role_required(*COACH)
def workout_detail(request, workout_id: int):
    workout = get_object_or_404(Workout, pk=workout_id)
    editing = None
    edit_id = id_param(request.GET, "edit")
    if edit_id is not None:
        editing = get_object_or_404(Participation, pk=edit_id, workout=workout)
    initial = result_form_initial(participation=editing) if editing else {}
    form = ResultForm(request.POST or None, workout=workout, initial=initial)
    existing = None
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        if editing is None or editing.member_id != data["member"].pk:
            existing = Participation.objects.filter(workout=workout, member=data["member"]).first()
    if existing is not None and not form.cleaned_data.get("replace"):
        form.ask_to_replace(existing, format_result(existing, workout))
    elif request.method == "POST" and form.is_valid():
        data = form.cleaned_data
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
            )
        except ValidationError as exc:
            for field, errors in exc.message_dict.items():
                form.add_error(field if field in form.fields else None, errors)
        else:
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
