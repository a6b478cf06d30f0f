"""Reads of a gym's classes: a week's classes (derived from the schedule), a class's roster, the class under
way (for the whiteboard), and attendance per member and per class."""

from __future__ import annotations

import datetime
from collections import defaultdict
from dataclasses import dataclass, field

from django.db.models import Count, Q

from gym.classes.models import ClassBooking, ClassHoliday, ClassOccurrence, ClassSchedule
from gym.members.models import Member

Status = ClassBooking.Status


@dataclass
class ClassSlot:
    """One class on one date, whether or not its occurrence row exists yet."""

    schedule: ClassSchedule
    day: datetime.date
    occurrence: ClassOccurrence | None = None
    booked: int = 0
    waitlisted: int = 0
    checked_in: int = 0
    cancelled: str = ""  # the reason athletes read (the class's own, or the day's holiday)
    mine: str = ""  # the member's status in it: booked, waitlisted, or ""
    my_position: int | None = None  # on the waitlist, 1 is next
    my_checked_in: bool = False
    past: bool = False  # over (set by the page that shows it)
    can_check_in: bool = False  # the member may check themselves in now (set by the page)
    booking_closed: bool = False  # past the booking cut-off (set by the page)

    @property
    def starts(self) -> datetime.datetime:
        return datetime.datetime.combine(self.day, self.schedule.starts_at, tzinfo=datetime.UTC)

    @property
    def ends(self) -> datetime.datetime:
        return self.starts + datetime.timedelta(minutes=self.schedule.length_minutes)

    @property
    def full(self) -> bool:
        return self.booked >= self.schedule.capacity

    @property
    def spaces(self) -> int:
        return max(self.schedule.capacity - self.booked, 0)


@dataclass
class ClassDay:
    day: datetime.date
    holiday: str
    slots: list[ClassSlot] = field(default_factory=list)


def _schedules_between(start: datetime.date, end: datetime.date) -> list[ClassSchedule]:
    return list(
        ClassSchedule.objects.filter(Q(active_until__isnull=True) | Q(active_until__gte=start), active_from__lte=end)
        .select_related("coach")
        .order_by("starts_at", "id")
    )


def classes_between(*, start: datetime.date, end: datetime.date, member: Member | None = None) -> list[ClassDay]:
    """Every class from ``start`` to ``end`` (inclusive) by day and start time, with its counts and, given a
    ``member``, their place in it. A fixed number of queries whatever the number of classes or members."""
    schedules = _schedules_between(start, end)
    holidays = dict(ClassHoliday.objects.filter(on_date__range=(start, end)).values_list("on_date", "reason"))
    occurrences = {
        (o.schedule_id, o.on_date): o
        for o in ClassOccurrence.objects.filter(on_date__range=(start, end)).annotate(
            n_booked=Count("bookings", filter=Q(bookings__status=Status.BOOKED)),
            n_waiting=Count("bookings", filter=Q(bookings__status=Status.WAITLISTED)),
            n_in=Count("bookings", filter=Q(bookings__checked_in_at__isnull=False)),
        )
    }
    mine: dict[int, ClassBooking] = {}
    positions: dict[int, int] = {}
    if member is not None and occurrences:
        ids = [o.pk for o in occurrences.values()]
        mine = {
            b.occurrence_id: b
            for b in ClassBooking.objects.filter(occurrence_id__in=ids, member=member).exclude(status=Status.CANCELLED)
        }
        waiting = [oid for oid, b in mine.items() if b.status == Status.WAITLISTED]
        if waiting:
            queue: dict[int, list[int]] = defaultdict(list)
            for oid, mid in (
                ClassBooking.objects.filter(occurrence_id__in=waiting, status=Status.WAITLISTED)
                .order_by("queued_at", "id")
                .values_list("occurrence_id", "member_id")
            ):
                queue[oid].append(mid)
            positions = {oid: queue[oid].index(member.pk) + 1 for oid in waiting if member.pk in queue[oid]}
    days = []
    day = start
    while day <= end:
        found = ClassDay(day=day, holiday=holidays.get(day, ""))
        for schedule in schedules:
            if not schedule.runs_on(day):
                continue
            slot = ClassSlot(schedule=schedule, day=day, cancelled=found.holiday)
            occurrence = occurrences.get((schedule.pk, day))
            if occurrence is not None:
                occurrence.schedule = schedule
                slot.occurrence = occurrence
                slot.booked, slot.waitlisted, slot.checked_in = (
                    occurrence.n_booked,
                    occurrence.n_waiting,
                    occurrence.n_in,
                )
                slot.cancelled = occurrence.cancelled_reason or found.holiday
                booking = mine.get(occurrence.pk)
                if booking is not None:
                    slot.mine, slot.my_checked_in = booking.status, booking.checked_in_at is not None
                    slot.my_position = positions.get(occurrence.pk)
            found.slots.append(slot)
        days.append(found)
        day += datetime.timedelta(days=1)
    return days


@dataclass
class RosterRow:
    booking: ClassBooking
    member: Member
    position: int | None  # on the waitlist


def occurrence_roster(*, occurrence: ClassOccurrence) -> list[RosterRow]:
    """The class's list: booked (and walk-ins) by name, then the waitlist in order. One query."""
    bookings = (
        ClassBooking.objects.filter(occurrence=occurrence)
        .exclude(status=Status.CANCELLED)
        .select_related("member")
        .order_by("queued_at", "id")
    )
    booked: list[RosterRow] = []
    waiting: list[RosterRow] = []
    for booking in bookings:
        if booking.status == Status.BOOKED:
            booked.append(RosterRow(booking, booking.member, None))
        else:
            waiting.append(RosterRow(booking, booking.member, len(waiting) + 1))
    booked.sort(key=lambda row: (row.member.first_name.lower(), row.member.last_name.lower(), row.member.pk))
    return booked + waiting


def roster_member_ids(*, occurrence_id: int) -> list[int]:
    """Who is in the class (booked or checked in, not waiting), checked in first, then by name: the results
    sheet lists them first. One query."""
    rows = ClassBooking.objects.filter(occurrence_id=occurrence_id, status=Status.BOOKED).values_list(
        "member_id", "checked_in_at", "member__first_name", "member__last_name"
    )
    ordered = sorted(rows, key=lambda r: (r[1] is None, r[2].lower(), r[3].lower(), r[0]))
    return [member_id for member_id, *_ in ordered]


@dataclass(frozen=True)
class ClassUnderWay:
    """The class on the floor now: for the whiteboard (its track's workouts, its roster's scores)."""

    schedule: ClassSchedule
    day: datetime.date
    occurrence: ClassOccurrence | None  # None while nothing attached to it (nobody booked)
    track: str
    starts: datetime.datetime
    ends: datetime.datetime
    roster_ids: list[int]


def class_under_way(now: datetime.datetime) -> ClassUnderWay | None:
    """The class running at ``now`` (the latest started, when two overlap), not cancelled nor on a holiday;
    None between classes. A fixed number of queries."""
    day = now.astimezone(datetime.UTC).date()
    if ClassHoliday.objects.filter(on_date=day).exists():
        return None
    running = []
    for schedule in _schedules_between(day, day):
        if not schedule.runs_on(day):
            continue
        starts = datetime.datetime.combine(day, schedule.starts_at, tzinfo=datetime.UTC)
        ends = starts + datetime.timedelta(minutes=schedule.length_minutes)
        if starts <= now < ends:
            running.append((starts, ends, schedule))
    occurrences = {
        o.schedule_id: o
        for o in ClassOccurrence.objects.filter(on_date=day, schedule_id__in=[s.pk for _, _, s in running])
    }
    for starts, ends, schedule in sorted(running, key=lambda r: r[0], reverse=True):
        occurrence = occurrences.get(schedule.pk)
        if occurrence is not None and occurrence.cancelled_reason:
            continue
        if occurrence is not None:
            occurrence.schedule = schedule
        ids = roster_member_ids(occurrence_id=occurrence.pk) if occurrence is not None else []
        return ClassUnderWay(schedule, day, occurrence, schedule.track, starts, ends, ids)
    return None


@dataclass(frozen=True)
class Attendance:
    visits: int  # classes checked in to
    recent: list[ClassBooking]  # the latest visits, each with its occurrence and schedule


def member_attendance(*, member: Member, recent: int = 10) -> Attendance:
    """How often ``member`` came to class, and their latest classes. Two queries."""
    visits = ClassBooking.objects.filter(member=member, checked_in_at__isnull=False)
    latest = list(
        visits.select_related("occurrence__schedule").order_by("-occurrence__on_date", "-checked_in_at")[:recent]
    )
    return Attendance(visits=visits.count(), recent=latest)


def schedule_attendance(*, today: datetime.date, days: int = 28) -> dict[int, list[ClassOccurrence]]:
    """Each schedule's occurrences of the last ``days`` days (latest first), each with ``n_booked`` and
    ``n_in`` (checked in). One query."""
    found: dict[int, list[ClassOccurrence]] = defaultdict(list)
    occurrences = (
        ClassOccurrence.objects.filter(on_date__range=(today - datetime.timedelta(days=days), today))
        .annotate(
            n_booked=Count("bookings", filter=Q(bookings__status=Status.BOOKED)),
            n_in=Count("bookings", filter=Q(bookings__checked_in_at__isnull=False)),
        )
        .order_by("-on_date")
    )
    for occurrence in occurrences:
        found[occurrence.schedule_id].append(occurrence)
    return found
