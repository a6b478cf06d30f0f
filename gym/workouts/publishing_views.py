"""A coach publishes a workout now, or takes it back from athletes (the week view, the workout page)."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404, redirect
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST

from gym.accounts.access import COACH, role_required
from gym.workouts.models import Workout
from gym.workouts.publishing import workout_publish_now, workout_unpublish


@role_required(*COACH)
@require_POST
def publish(request: HttpRequest, workout_id: int) -> HttpResponse:
    """``action`` publish (athletes see it from now) or unpublish (a draft again); back to ``next``."""
    workout = get_object_or_404(Workout, pk=workout_id)
    action = request.POST.get("action")
    if action == "publish":
        workout_publish_now(workout=workout)
        messages.success(request, f"{workout.name} ({workout.scheduled_on:%a %-d %b}) is published: athletes see it.")
    elif action == "unpublish":
        workout_unpublish(workout=workout)
        messages.success(
            request, f"{workout.name} ({workout.scheduled_on:%a %-d %b}) is a draft: athletes do not see it."
        )
    else:
        messages.error(request, "Nothing changed: choose Publish now or Unpublish.")
    target = request.POST.get("next", "")
    # Back to the page it was posted from: a path on this site only.
    if (
        target.startswith("/")
        and target.isprintable()
        and url_has_allowed_host_and_scheme(
            target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
        )
    ):
        return HttpResponseRedirect(target)
    return redirect("workouts:detail", workout_id=workout.pk)
