"""Writes to a gym's classes: booking, cancelling (which promotes the first waitlisted), checking in, drop-ins.

Every change to a class's list takes a row lock on its occurrence first (``SELECT … FOR UPDATE``), so two
bookings at once never exceed its capacity and a cancellation's promotion happens in the same transaction.
"""

from __future__ import annotations

import datetime
import logging
from dataclasses import dataclass

from django.core.mail import send_mail
from django.db import router, transaction
from django.db.models import Q
from django.utils import timezone

from gym.classes.models import ClassBooking, ClassHoliday, ClassOccurrence, ClassSchedule, ClassSettings
from gym.members.models import Member

Status = ClassBooking.Status
log = logging.getLogger(__name__)


class BookingRefused(Exception):
    """A booking, cancellation or check-in the gym's rules refuse; ``str(exc)`` says why, for the athlete."""


@dataclass(frozen=True)
class BookingOutcome:
    booking: ClassBooking
    #: Waitlist position (1 is next) when waitlisted, else None.
    position: int | None = None
    #: Who moved from the waitlist into the class (a cancellation's promotion), if anyone.
    promoted: Member | None = None


def _db() -> str:
    return router.db_for_write(ClassBooking)


def class_settings() -> ClassSettings:
    """The gym's booking rules (the row V9 inserted; its defaults if it was removed)."""
    found = ClassSettings.objects.filter(pk=1).first()
    return found if found is not None else ClassSettings(pk=1)


def class_settings_save(*, booking_cutoff_minutes: int, cancel_cutoff_minutes: int, checkin_opens_minutes: int) -> None:
    settings = class_settings()
    settings.booking_cutoff_minutes = booking_cutoff_minutes
    settings.cancel_cutoff_minutes = cancel_cutoff_minutes
    settings.checkin_opens_minutes = checkin_opens_minutes
    settings.save()


def starts_at(schedule: ClassSchedule, day: datetime.date) -> datetime.datetime:
    return datetime.datetime.combine(day, schedule.starts_at, tzinfo=datetime.UTC)


def occurrence_get(*, schedule: ClassSchedule, day: datetime.date) -> ClassOccurrence:
    """The occurrence row of ``schedule`` on ``day``, made on first need (concurrent first callers converge on
    one row through its unique key); refused when the class does not run that day."""
    if not schedule.runs_on(day):
        raise BookingRefused(f"{schedule.name} does not run on {day:%A %-d %B}.")
    occurrence, _ = ClassOccurrence.objects.get_or_create(schedule=schedule, on_date=day)
    occurrence.schedule = schedule
    return occurrence


def _locked(occurrence: ClassOccurrence) -> ClassOccurrence:
    locked = ClassOccurrence.objects.select_for_update().get(pk=occurrence.pk)
    locked.schedule = occurrence.schedule
    return locked


def _open_or_refuse(occurrence: ClassOccurrence) -> None:
    if occurrence.cancelled_reason:
        raise BookingRefused(f"This class is cancelled: {occurrence.cancelled_reason}")
    holiday = ClassHoliday.objects.filter(on_date=occurrence.on_date).first()
    if holiday is not None:
        raise BookingRefused(f"No classes on {occurrence.on_date:%A %-d %B}: {holiday.reason}")


def _cutoff_or_refuse(occurrence: ClassOccurrence, minutes: int, now: datetime.datetime, what: str) -> None:
    starts = starts_at(occurrence.schedule, occurrence.on_date)
    if now >= starts - datetime.timedelta(minutes=minutes):
        if minutes:
            raise BookingRefused(f"{what} closes {minutes} minutes before the class starts.")
        raise BookingRefused(f"{what} closes when the class starts.")


def _waitlist_position(booking: ClassBooking) -> int:
    return (
        ClassBooking.objects.filter(
            Q(queued_at__lt=booking.queued_at) | Q(queued_at=booking.queued_at, pk__lt=booking.pk),
            occurrence_id=booking.occurrence_id,
            status=Status.WAITLISTED,
        ).count()
        + 1
    )


def book(
    *, member: Member, schedule: ClassSchedule, day: datetime.date, now: datetime.datetime | None = None
) -> BookingOutcome:
    """Book ``member`` into the class (or onto its waitlist when it is full). Refused after the cut-off, on a
    cancelled class or a holiday, and for a deactivated member; booking twice changes nothing."""
    now = now or timezone.now()
    if not member.is_active:
        raise BookingRefused(f"{member} is deactivated: ask the gym to reactivate you.")
    with transaction.atomic(using=_db()):
        occurrence = _locked(occurrence_get(schedule=schedule, day=day))
        _open_or_refuse(occurrence)
        _cutoff_or_refuse(occurrence, class_settings().booking_cutoff_minutes, now, "Booking")
        booking = ClassBooking.objects.filter(occurrence=occurrence, member=member).first()
        if booking is not None and booking.status != Status.CANCELLED:
            position = _waitlist_position(booking) if booking.status == Status.WAITLISTED else None
            return BookingOutcome(booking, position)
        taken = ClassBooking.objects.filter(occurrence=occurrence, status=Status.BOOKED).count()
        status = Status.BOOKED if taken < schedule.capacity else Status.WAITLISTED
        if booking is None:
            booking = ClassBooking(occurrence=occurrence, member=member)
        booking.status, booking.queued_at, booking.checked_in_at = status, now, None
        booking.save()
        position = _waitlist_position(booking) if status == Status.WAITLISTED else None
        return BookingOutcome(booking, position)


def cancel(*, member: Member, occurrence: ClassOccurrence, now: datetime.datetime | None = None) -> BookingOutcome:
    """Cancel ``member``'s booking or waitlist place; a booked place goes, in the same transaction, to the first
    waitlisted member. Refused after the cancellation cut-off and once checked in."""
    now = now or timezone.now()
    with transaction.atomic(using=_db()):
        occurrence = _locked(occurrence)
        booking = ClassBooking.objects.filter(occurrence=occurrence, member=member).first()
        if booking is None or booking.status == Status.CANCELLED:
            raise BookingRefused("You are not booked into this class.")
        if booking.checked_in_at is not None:
            raise BookingRefused("You are checked in to this class already.")
        if booking.status == Status.BOOKED:
            _cutoff_or_refuse(occurrence, class_settings().cancel_cutoff_minutes, now, "Cancelling")
        was_booked = booking.status == Status.BOOKED
        booking.status = Status.CANCELLED
        booking.save(update_fields=["status", "updated_at"])
        promoted = _promote(occurrence) if was_booked else None
        if promoted is not None:
            transaction.on_commit(lambda: promotion_mail(promoted, occurrence), using=_db())
        return BookingOutcome(booking, promoted=promoted)


def promotion_mail(member: Member, occurrence: ClassOccurrence) -> None:
    """Tell a member who moved up from the waitlist that they have a place (after the promotion committed).

    A mail that cannot go is logged, not raised: the place is theirs either way, and their class page says so."""
    schedule = occurrence.schedule
    when = f"{occurrence.on_date:%A %-d %B} at {schedule.starts_at:%H:%M}"
    try:
        send_mail(
            f"You have a place in {schedule.name}, {when}",
            f"Hello {member.first_name},\n\nA place opened in {schedule.name} on {when}, and it is yours: you "
            "moved up from the waitlist and are now booked.\n\nIf you cannot come, cancel it on your classes "
            "page so the next person on the waitlist gets it.\n",
            None,
            [member.email],
        )
    except Exception:  # noqa: BLE001  (any mail failure: SMTP refused, DNS, timeout)
        log.warning("waitlist promotion mail to member %s not sent", member.pk, exc_info=True)


def _promote(occurrence: ClassOccurrence) -> Member | None:
    """Move the first waitlisted member into a place freed in ``occurrence`` (locked by the caller)."""
    taken = ClassBooking.objects.filter(occurrence=occurrence, status=Status.BOOKED).count()
    if taken >= occurrence.schedule.capacity:
        return None
    first = (
        ClassBooking.objects.filter(occurrence=occurrence, status=Status.WAITLISTED)
        .select_related("member")
        .order_by("queued_at", "id")
        .first()
    )
    if first is None:
        return None
    first.status = Status.BOOKED
    first.save(update_fields=["status", "updated_at"])
    return first.member


def check_in(
    *, occurrence: ClassOccurrence, member: Member, present: bool = True, now: datetime.datetime | None = None
) -> ClassBooking:
    """A coach marks ``member`` present (or not) in the class: a booked or waitlisted member takes their place,
    anyone else is a walk-in (the coach's call, over capacity too)."""
    now = now or timezone.now()
    with transaction.atomic(using=_db()):
        occurrence = _locked(occurrence)
        booking = ClassBooking.objects.filter(occurrence=occurrence, member=member).first()
        if booking is None:
            if not present:
                raise BookingRefused(f"{member} is not on this class's list.")
            booking = ClassBooking(occurrence=occurrence, member=member, queued_at=now)
        if present:
            booking.status, booking.checked_in_at = Status.BOOKED, booking.checked_in_at or now
        else:
            booking.checked_in_at = None
        booking.save()
        return booking


def self_check_in(*, member: Member, occurrence: ClassOccurrence, now: datetime.datetime | None = None) -> ClassBooking:
    """An athlete checks themselves in: booked, and from ``checkin_opens_minutes`` before the start to its end."""
    now = now or timezone.now()
    starts = starts_at(occurrence.schedule, occurrence.on_date)
    opens = starts - datetime.timedelta(minutes=class_settings().checkin_opens_minutes)
    ends = starts + datetime.timedelta(minutes=occurrence.schedule.length_minutes)
    if not (opens <= now <= ends):
        raise BookingRefused(f"Check-in opens at {opens:%H:%M} and closes when the class ends ({ends:%H:%M}).")
    booking = ClassBooking.objects.filter(occurrence=occurrence, member=member).first()
    if booking is None or booking.status != Status.BOOKED:
        raise BookingRefused("Only a booked athlete checks in here: ask the coach.")
    return check_in(occurrence=occurrence, member=member, now=now)


def occurrence_cancel(*, occurrence: ClassOccurrence, reason: str) -> None:
    """Cancel (reason non-empty) or reinstate (reason empty) one class; athletes read the reason."""
    ClassOccurrence.objects.filter(pk=occurrence.pk).update(cancelled_reason=reason.strip())


def drop_in_add(
    *,
    first_name: str,
    last_name: str,
    email: str,
    occurrence: ClassOccurrence | None = None,
    visited_on: datetime.date | None = None,
    now: datetime.datetime | None = None,
) -> tuple[Member, bool]:
    """A visitor comes to a class: a drop-in (a member row of kind drop_in, not one of the gym's members) made
    on their first visit (``joined_on``: the occurrence's date, else ``visited_on``, else today), or the person
    with that e-mail found again; checked in to ``occurrence`` when given. Returns the person and whether they
    were new."""
    email = email.strip().lower()
    with transaction.atomic(using=_db()):
        member = Member.objects.filter(email=email).first()
        created = member is None
        if member is None:
            member = Member.objects.create(
                first_name=first_name.strip(),
                last_name=last_name.strip(),
                email=email,
                kind=Member.Kind.DROP_IN,
                joined_on=occurrence.on_date if occurrence else visited_on or timezone.localdate(),
            )
        if occurrence is not None:
            check_in(occurrence=occurrence, member=member, now=now)
        return member, created
