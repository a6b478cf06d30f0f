"""An athlete's pages, for a phone: the week's published workouts, logging their own score, the board,
their progress, and hiding their scores from the boards."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from gym.accounts.access import gym_login_of, role_required
from gym.accounts.models import GymLogin
from gym.athletes.forms import OwnResultForm
from gym.athletes.selectors import athlete_week, loggable, published_workouts
from gym.leaderboards import progress
from gym.leaderboards.selectors import member_profile
from gym.members.models import Member
from gym.workouts.models import Participation
from gym.workouts.scores import format_time_ms
from gym.workouts.selectors import leaderboard_for_workout, result_form_initial
from gym.workouts.services import ImplausibleResult, participation_record

ATHLETE = (GymLogin.Role.ATHLETE,)


def _me(request: HttpRequest) -> Member:
    login = gym_login_of(request)
    if login is None or login.member is None:
        raise Http404("Your login is not linked to a member of this gym: ask the gym to link it.")
    return login.member


@role_required(*ATHLETE)
def home(request: HttpRequest) -> HttpResponse:
    member = _me(request)
    today = timezone.localdate()
    return render(request, "athletes/home.html", {"member": member, "days": athlete_week(member=member, today=today)})


@role_required(*ATHLETE)
def workout(request: HttpRequest, workout_id: int) -> HttpResponse:
    member = _me(request)
    today = timezone.localdate()
    found = get_object_or_404(published_workouts(), pk=workout_id)
    mine = Participation.objects.filter(workout=found, member=member).first()
    initial = result_form_initial(participation=mine) if mine else {"scaling_level": found.scaling_levels[0]}
    can_log = loggable(found, today=today) and member.is_active
    form = OwnResultForm(request.POST or None, workout=found, initial=initial)
    if request.method == "POST":
        if not can_log:
            messages.error(request, "Scores are logged on the day of the workout or later.")
            return redirect("athletes:workout", workout_id=found.pk)
        if form.is_valid():
            data = form.cleaned_data
            try:
                participation_record(
                    workout=found,
                    member=member,
                    scaling_level=data["scaling_level"],
                    status=data["status"],
                    score_text=data.get("score", ""),
                    tiebreak_text=data.get("tiebreak", "") or "",
                    notes=data.get("notes", ""),
                    recorded_by=request.user.get_username(),
                    replace=True,
                    confirmed=bool(data.get("confirm")),
                )
            except ImplausibleResult as exc:
                form.ask_to_confirm(exc.warnings)  # a 12-second Fran: asked, nothing saved
            except ValidationError as exc:
                for field, errors in exc.message_dict.items():
                    form.add_error(field if field in form.fields else None, errors)
            else:
                messages.success(request, "Your score is saved.")
                return redirect("athletes:workout", workout_id=found.pk)
    return render(
        request,
        "athletes/workout.html",
        {
            "workout": found,
            "movements": found.movements.select_related("exercise"),
            "time_cap": format_time_ms(found.time_cap_seconds * 1000) if found.time_cap_seconds else "",
            "mine": mine,
            "form": form,
            "can_log": can_log,
            "board": leaderboard_for_workout(found),
            "member": member,
        },
    )


@role_required(*ATHLETE)
def my_progress(request: HttpRequest) -> HttpResponse:
    member = _me(request)
    profile = member_profile(member=member, results=50, published_only=True)
    context = progress.progress_context(member=member, records=profile.records, results=profile.results)
    return render(request, "athletes/progress.html", context)


@role_required(*ATHLETE)
@require_POST
def privacy(request: HttpRequest) -> HttpResponse:
    member = _me(request)
    hide = request.POST.get("hide_scores") == "1"
    Member.objects.filter(pk=member.pk).update(hide_scores=hide, updated_at=timezone.now())
    messages.success(
        request, "Your scores are hidden from the boards." if hide else "Your scores show on the boards again."
    )
    return redirect("athletes:home")
