"""Classes for owners, admins and coaches: the schedule with its attendance, a class's page (roster, check-in,
walk-ins and drop-ins, the sheet of its workout), holidays and the booking rules."""

from __future__ import annotations

import datetime
from collections.abc import Callable

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_POST

from gym.accounts.access import COACH, MANAGE, role_of, role_required
from gym.classes.forms import (
    CancelClassForm,
    DropInVisitForm,
    HolidayForm,
    ScheduleForm,
    SettingsForm,
    WalkInForm,
)
from gym.classes.models import ClassBooking, ClassHoliday, ClassOccurrence, ClassSchedule
from gym.classes.selectors import ClassSlot, classes_between, occurrence_roster, schedule_attendance
from gym.classes.services import (
    BookingRefused,
    check_in,
    class_settings,
    class_settings_save,
    drop_in_add,
    occurrence_cancel,
    occurrence_get,
)
from gym.members.models import Member
from gym.params import date_param, id_param, monday_of, path_day


@role_required(*COACH)
def schedule(request: HttpRequest) -> HttpResponse:
    """The week's classes (any day opens its Monday) and the weekly schedule with recent attendance."""
    today = timezone.localdate()
    start = monday_of(date_param(request.GET, "start") or today)
    attendance = schedule_attendance(today=today)
    schedules = list(ClassSchedule.objects.select_related("coach"))
    rows = [(s, attendance.get(s.pk, [])[:6]) for s in schedules]
    context = {
        "days": classes_between(start=start, end=start + datetime.timedelta(days=6)),
        "start": start,
        "previous": start - datetime.timedelta(days=7),
        "next": start + datetime.timedelta(days=7),
        "today": today,
        "rows": rows,
        "holidays": ClassHoliday.objects.filter(on_date__gte=today)[:20],
        "settings": class_settings(),
        "manage": role_of(request) in MANAGE,
    }
    return render(request, "classes/schedule.html", context)


@role_required(*MANAGE)
def schedule_edit(request: HttpRequest, schedule_id: int | None = None) -> HttpResponse:
    found = get_object_or_404(ClassSchedule, pk=schedule_id) if schedule_id else None
    form = ScheduleForm(
        request.POST or None, instance=found, initial={} if found else {"active_from": timezone.localdate()}
    )
    if request.method == "POST" and form.is_valid():
        saved = form.save(commit=False)
        saved.active_from = saved.active_from or timezone.localdate()
        saved.save()
        messages.success(request, f"{saved} saved.")
        return redirect("classes:schedule")
    return render(request, "classes/schedule_form.html", {"form": form, "schedule": found})


@role_required(*MANAGE)
def holidays(request: HttpRequest) -> HttpResponse:
    form = HolidayForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        holiday = form.save()
        messages.success(request, f"No classes on {holiday.on_date:%A %-d %B %Y}: {holiday.reason}")
        return redirect("classes:schedule")
    return render(request, "classes/holiday_form.html", {"form": form})


@role_required(*MANAGE)
def booking_rules(request: HttpRequest) -> HttpResponse:
    form = SettingsForm(request.POST or None, instance=class_settings())
    if request.method == "POST" and form.is_valid():
        class_settings_save(**{name: form.cleaned_data[name] for name in SettingsForm.Meta.fields})
        messages.success(request, "Booking rules saved.")
        return redirect("classes:schedule")
    return render(request, "classes/settings_form.html", {"form": form})


def _slot(schedule_id: int, day: datetime.date) -> ClassSlot:
    found = get_object_or_404(ClassSchedule.objects.select_related("coach"), pk=schedule_id)
    if not found.runs_on(day):
        raise Http404("this class does not run that day")
    (class_day,) = classes_between(start=day, end=day)
    return next(slot for slot in class_day.slots if slot.schedule.pk == found.pk)


@role_required(*COACH)
def occurrence(request: HttpRequest, schedule_id: int, day: str) -> HttpResponse:
    """A class on a date: its roster with check-in, a walk-in or a drop-in added, the sheet of its workout."""
    slot = _slot(schedule_id, path_day(day))
    context = {
        "slot": slot,
        "roster": occurrence_roster(occurrence=slot.occurrence) if slot.occurrence else [],
        "walk_in": WalkInForm(prefix="walkin"),
        "drop_in": DropInVisitForm(prefix="dropin"),
        "cancel_form": CancelClassForm(),
    }
    return render(request, "classes/occurrence.html", context)


@role_required(*COACH)
@require_POST
def occurrence_act(request: HttpRequest, schedule_id: int, day: str) -> HttpResponse:
    """Check in (or out) a member, add a walk-in or a drop-in, cancel or reinstate the class."""
    on = path_day(day)
    found = get_object_or_404(ClassSchedule, pk=schedule_id)
    page = reverse("classes:occurrence", args=[found.pk, on.isoformat()])
    action = request.POST.get("action", "")

    def occ(*, make: bool = True) -> ClassOccurrence:
        """The class's occurrence row, made only once the input is known good (``make``: else it must exist)."""
        if make:
            return occurrence_get(schedule=found, day=on)
        existing = ClassOccurrence.objects.filter(schedule=found, on_date=on).first()
        if existing is None:
            raise BookingRefused("Nobody is on this class's list yet.")
        existing.schedule = found
        return existing

    try:
        message = _act(request, occ, action)
    except BookingRefused as exc:
        messages.error(request, str(exc))
        return redirect(page)
    messages.success(request, message)
    return redirect(page)


def _act(request: HttpRequest, occ: Callable[..., ClassOccurrence], action: str) -> str:
    """Do ``action`` on the class; its occurrence row (``occ()``) is fetched or made after the input is checked."""
    if action in ("in", "out"):
        member_id = id_param(request.POST, "member")
        member = get_object_or_404(Member, pk=member_id) if member_id else None
        if member is None:
            raise BookingRefused("Choose a member.")
        check_in(occurrence=occ(make=action == "in"), member=member, present=action == "in")
        return f"{member} checked in." if action == "in" else f"{member} is no longer checked in."
    if action == "walkin":
        return _walk_in(request, occ)
    if action == "dropin":
        return _drop_in(request, occ)
    if action == "cancel":
        cancelling = CancelClassForm(request.POST)
        if not cancelling.is_valid():
            raise BookingRefused("Say why the class is cancelled: athletes read it.")
        occurrence_cancel(occurrence=occ(), reason=cancelling.cleaned_data["reason"])
        return "Class cancelled."
    if action == "reinstate":
        occurrence_cancel(occurrence=occ(make=False), reason="")
        return "Class reinstated."
    raise BookingRefused("Nothing was done: unknown action.")


def _walk_in(request: HttpRequest, occ: Callable[..., ClassOccurrence]) -> str:
    """A member who did not book comes to the class (one who is here already stays one visit)."""
    form = WalkInForm(request.POST, prefix="walkin")
    if not form.is_valid():
        raise BookingRefused("Choose an active member to add.")
    member = form.cleaned_data["member"]
    occurrence = occ()
    present = ClassBooking.objects.filter(occurrence=occurrence, member=member, checked_in_at__isnull=False)
    if present.exists():
        return f"{member} is checked in already: nothing was changed."
    check_in(occurrence=occurrence, member=member)
    return f"{member} added and checked in."


def _drop_in(request: HttpRequest, occ: Callable[..., ClassOccurrence]) -> str:
    """A visitor comes to the class: found by e-mail when known here, else added as a drop-in."""
    dropin = DropInVisitForm(request.POST, prefix="dropin")
    if not dropin.is_valid():
        problems = "; ".join(f"{dropin.fields[k].label}: {' '.join(map(str, v))}" for k, v in dropin.errors.items())
        raise BookingRefused(f"The drop-in was not added ({problems}).")
    member, created = drop_in_add(occurrence=occ(), **dropin.cleaned_data)
    if created:
        return f"{member} added as a drop-in and checked in."
    return f"{member} (already known here by that e-mail) checked in."
