"""``{{ workout|publish_state }}``: what a coach reads next to a workout (published, scheduled, draft)."""

from __future__ import annotations

from django import template

from gym.workouts import publishing
from gym.workouts.models import Workout

register = template.Library()


@register.filter
def publish_state(workout: Workout) -> publishing.PublishState:
    return publishing.publish_state(workout)
