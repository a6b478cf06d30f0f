"""When athletes see a workout (its publish time), and a coach publishing or unpublishing one.

A workout is visible to athletes (their week, their workout page and its board, the whiteboard on
the TV) when it is not a draft and its ``published_at`` is empty (as soon as it is saved) or has come.
Coaches always see every workout, marked with :func:`publish_state`.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass

from django.db.models import Q, QuerySet
from django.utils import timezone

from gym.workouts.models import Workout


def published_q(now: datetime.datetime | None = None) -> Q:
    """The filter for workouts athletes may see at ``now``."""
    moment = now or timezone.now()
    return Q(draft=False) & (Q(published_at__isnull=True) | Q(published_at__lte=moment))


def published_q_for(relation: str, now: datetime.datetime | None = None) -> Q:
    """:func:`published_q` across a relation (``"workout"`` from a result)."""
    moment = now or timezone.now()
    return Q(**{f"{relation}__draft": False}) & (
        Q(**{f"{relation}__published_at__isnull": True}) | Q(**{f"{relation}__published_at__lte": moment})
    )


def published_workouts(*, now: datetime.datetime | None = None) -> QuerySet[Workout]:
    """Workouts athletes see at ``now``."""
    return Workout.objects.filter(published_q(now))


def is_published(workout: Workout, *, now: datetime.datetime | None = None) -> bool:
    moment = now or timezone.now()
    return not workout.draft and (workout.published_at is None or workout.published_at <= moment)


@dataclass(frozen=True)
class PublishState:
    """What a coach reads next to a workout: ``code`` is published, scheduled or draft."""

    code: str
    text: str


def publish_state(workout: Workout, *, now: datetime.datetime | None = None) -> PublishState:
    if workout.draft:
        return PublishState("draft", "Draft: athletes do not see it")
    if is_published(workout, now=now):
        return PublishState("published", "Published")
    assert workout.published_at is not None  # not published and not a draft: a time still to come
    moment = timezone.localtime(workout.published_at)
    return PublishState("scheduled", f"Scheduled to publish at {moment:%a %-d %b %H:%M}")


def workout_publish_now(*, workout: Workout, now: datetime.datetime | None = None) -> Workout:
    """Athletes see it from now (a workout already published keeps its time)."""
    moment = now or timezone.now()
    fields: dict[str, object] = {"draft": False}
    if not is_published(workout, now=moment):
        fields["published_at"] = moment
    Workout.objects.filter(pk=workout.pk).update(updated_at=moment, **fields)
    for name, value in fields.items():
        setattr(workout, name, value)
    return workout


def workout_unpublish(*, workout: Workout, now: datetime.datetime | None = None) -> Workout:
    """Athletes no longer see it until a coach publishes it again."""
    Workout.objects.filter(pk=workout.pk).update(draft=True, updated_at=now or timezone.now())
    workout.draft = True
    return workout
