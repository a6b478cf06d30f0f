"""The exercise library, workouts, and members' results."""

from __future__ import annotations

import datetime

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db import router, transaction
from django.db.models import Count
from django.shortcuts import get_object_or_404, redirect, render

from affiliates.access import COACH, role_required
from gym.leaderboards.selectors import leaderboard_for_workout
from gym.members.models import Member

from .forms import ExerciseForm, MovementFormSet, ResultForm, WorkoutForm
from .models import Exercise, Participation, Workout
from .scores import format_result, format_time_ms
from .services import participation_record


@role_required(*COACH)
def dashboard(request):
    today = datetime.date.today()
    context = {
        "members": Member.objects.filter(is_active=True).count(),
        "workouts": Workout.objects.annotate(results=Count("participations")).order_by("-scheduled_on", "-id")[:8],
        "results_this_week": Participation.objects.filter(performed_on__gte=today - datetime.timedelta(days=7)).count(),
    }
    return render(request, "workouts/dashboard.html", context)


@role_required(*COACH)
def exercise_list(request):
    return render(request, "workouts/exercise_list.html", {"exercises": Exercise.objects.order_by("category", "name")})


@role_required(*COACH)
def exercise_edit(request, exercise_id: int | None = None):
    exercise = get_object_or_404(Exercise, pk=exercise_id) if exercise_id else None
    form = ExerciseForm(request.POST or None, instance=exercise)
    if request.method == "POST" and form.is_valid():
        exercise = form.save()
        messages.success(request, f"{exercise} saved.")
        return redirect("workouts:exercises")
    return render(request, "workouts/exercise_form.html", {"form": form, "exercise": exercise})


@role_required(*COACH)
def workout_list(request):
    workouts = Workout.objects.annotate(results=Count("participations")).order_by("-scheduled_on", "-id")
    page = Paginator(workouts, 20).get_page(request.GET.get("page"))
    return render(request, "workouts/workout_list.html", {"page": page})


@role_required(*COACH)
def workout_edit(request, workout_id: int | None = None):
    workout = get_object_or_404(Workout, pk=workout_id) if workout_id else Workout()
    form = WorkoutForm(request.POST or None, instance=workout)
    formset = MovementFormSet(request.POST or None, instance=workout, prefix="movements")
    if request.method == "POST" and form.is_valid() and formset.is_valid():
        with transaction.atomic(using=router.db_for_write(Workout)):
            workout = form.save()
            formset.instance = workout
            movements = formset.save(commit=False)
            for obj in formset.deleted_objects:
                obj.delete()
            taken = set(
                workout.movements.exclude(pk__in=[m.pk for m in movements if m.pk]).values_list("position", flat=True)
            )
            for movement in movements:
                if not movement.position:
                    movement.position = max(taken, default=0) + 1
                    taken.add(movement.position)
                movement.save()
        messages.success(request, f"{workout} saved.")
        return redirect("workouts:detail", workout_id=workout.pk)
    return render(request, "workouts/workout_form.html", {"form": form, "formset": formset, "workout": workout})


def _score_text(p: Participation) -> str:
    """What the result form starts from when a result is edited (empty for DNF/DQ/withdrawn)."""
    if p.status not in (Participation.Status.FINISHED, Participation.Status.CAPPED) or (
        p.score_value is None and p.status == Participation.Status.FINISHED
    ):
        return ""
    return format_result(p, p.workout)


@role_required(*COACH)
def workout_detail(request, workout_id: int):
    workout = get_object_or_404(Workout, pk=workout_id)
    editing = None
    if request.GET.get("edit"):
        editing = get_object_or_404(Participation, pk=request.GET["edit"], workout=workout)
    initial = {}
    if editing:
        initial = {
            "member": editing.member_id,
            "scaling_level": editing.scaling_level,
            "status": editing.status if editing.status not in ("finished", "capped") else "finished",
            "score": _score_text(editing),
            "notes": editing.notes,
            "tiebreak": format_time_ms(editing.tiebreak_ms)
            if editing.tiebreak_ms and workout.tiebreak_scheme == "time"
            else (editing.tiebreak_ms or ""),
        }
    form = ResultForm(request.POST or None, workout=workout, initial=initial)
    if request.method == "POST" and form.is_valid():
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
    board = leaderboard_for_workout(workout)
    hidden = Participation.objects.filter(workout=workout, member__hide_scores=True).count()
    return render(
        request,
        "workouts/workout_detail.html",
        {
            "workout": workout,
            "form": form,
            "board": board,
            "editing": editing,
            "hidden": hidden,
            "movements": workout.movements.select_related("exercise"),
            "time_cap": format_time_ms(workout.time_cap_seconds * 1000) if workout.time_cap_seconds else "",
        },
    )
