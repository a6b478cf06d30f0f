"""The dashboard's feed of personal records: exercise records (a new 1RM, max pull-ups) and benchmark
bests (a member's best Fran beaten), newest first. Members who hide their scores are left out, as
the boards leave them out (docs/domain.md, "The record feed")."""

from __future__ import annotations

import datetime
from dataclasses import dataclass

from django.db.models import F, OuterRef, Q, Subquery

from gym.members.models import Member
from gym.workouts.models import Participation, PersonalRecord
from gym.workouts.scores import format_result, format_score

#: How far back the feed looks for benchmark bests.
FEED_DAYS = 60


@dataclass(frozen=True)
class FeedItem:
    member: Member
    what: str  # the exercise or the benchmark
    value: str  # as people read it (110 kg, 3:45)
    level: str  # a benchmark best's scaling level (Rx, Scaled), or ''
    day: datetime.date
    previous: str = ""  # a benchmark best's earlier best, as people read it
    workout_id: int | None = None  # where it was set, when known
    benchmark_id: int | None = None


def _exercise_records(*, limit: int) -> list[FeedItem]:
    records = (
        PersonalRecord.objects.filter(member__hide_scores=False, member__is_active=True)
        .select_related("member", "exercise", "participation")
        .order_by("-achieved_on", "-id")[:limit]
    )
    return [
        FeedItem(
            member=r.member,
            what=r.exercise.name,
            value=format_score(r.value, r.exercise.unit),
            level="",
            day=r.achieved_on,
            workout_id=r.participation.workout_id if r.participation else None,
        )
        for r in records
    ]


def _benchmark_bests(*, today: datetime.date, limit: int) -> list[FeedItem]:
    """Results since ``FEED_DAYS`` ago that rank ahead of the member's every earlier result on the same
    benchmark (by the board's rules: Rx ahead of Scaled, then the score). Two queries."""
    earlier = (
        Participation.objects.filter(
            member_id=OuterRef("member_id"),
            workout__benchmark_id=OuterRef("workout__benchmark_id"),
            workout__score_type=OuterRef("workout__score_type"),
            sort_key__isnull=False,
        )
        .filter(
            Q(performed_on__lt=OuterRef("performed_on"))
            | Q(performed_on=OuterRef("performed_on"), id__lt=OuterRef("id"))
        )
        .order_by("sort_key", "performed_on", "id")
    )
    bests = list(
        Participation.objects.filter(
            workout__benchmark__isnull=False,
            workout__benchmark__score_type=F("workout__score_type"),
            sort_key__isnull=False,
            status=Participation.Status.FINISHED,
            member__hide_scores=False,
            member__is_active=True,
            performed_on__gte=today - datetime.timedelta(days=FEED_DAYS),
            performed_on__lte=today,
        )
        .annotate(previous_key=Subquery(earlier.values("sort_key")[:1]), previous_id=Subquery(earlier.values("id")[:1]))
        .filter(previous_key__isnull=False, sort_key__lt=F("previous_key"))
        .select_related("member", "workout", "workout__benchmark")
        .order_by("-performed_on", "-id")[:limit]
    )
    previous = Participation.objects.select_related("workout").in_bulk([p.previous_id for p in bests])
    items = []
    for p in bests:
        before = previous[p.previous_id]
        items.append(
            FeedItem(
                member=p.member,
                what=p.workout.benchmark.name if p.workout.benchmark else p.workout.name,
                value=format_result(p, p.workout),
                level=p.get_scaling_level_display(),
                day=p.performed_on,
                previous=f"{format_result(before, before.workout)} {before.get_scaling_level_display()}",
                workout_id=p.workout_id,
                benchmark_id=p.workout.benchmark_id,
            )
        )
    return items


def record_feed(*, today: datetime.date, limit: int = 10) -> list[FeedItem]:
    """The latest personal records and benchmark bests together, newest first. Four queries."""
    items = _exercise_records(limit=limit) + _benchmark_bests(today=today, limit=limit)
    items.sort(key=lambda item: item.day, reverse=True)
    return items[:limit]
