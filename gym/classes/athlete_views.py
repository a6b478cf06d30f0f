"""An athlete's classes, on their phone (/me/classes/): this week's and next week's classes, book, cancel,
the waitlist with their place in it, and checking themselves in when the class is near."""

from __future__ import annotations

import datetime

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from gym.accounts.access import gym_login_of, role_required
from gym.accounts.models import GymLogin
from gym.classes.models import ClassOccurrence, ClassSchedule
from gym.classes.selectors import classes_between
from gym.classes.services import BookingRefused, book, cancel, class_settings, self_check_in
from gym.members.models import Member
from gym.params import path_day

ATHLETE = (GymLogin.Role.ATHLETE,)


def _me(request: HttpRequest) -> Member:
    login = gym_login_of(request)
    if login is None or login.member is None:
        raise Http404("Your login is not linked to a member of this gym: ask the gym to link it.")
    return login.member


@role_required(*ATHLETE)
def my_classes(request: HttpRequest) -> HttpResponse:
    member = _me(request)
    now = timezone.now()
    today = timezone.localdate()
    days = [d for d in classes_between(start=today, end=today + datetime.timedelta(days=7), member=member)]
    rules = class_settings()
    opens = datetime.timedelta(minutes=rules.checkin_opens_minutes)
    for day in days:
        for slot in day.slots:
            slot.past = slot.ends <= now
            slot.booking_closed = now >= slot.starts - datetime.timedelta(minutes=rules.booking_cutoff_minutes)
            slot.can_check_in = (
                slot.mine == "booked" and not slot.my_checked_in and slot.starts - opens <= now < slot.ends
            )
    return render(request, "classes/mine.html", {"days": days, "member": member, "rules": rules, "now": now})


@role_required(*ATHLETE)
@require_POST
def my_class_act(request: HttpRequest, schedule_id: int, day: str) -> HttpResponse:
    member = _me(request)
    on = path_day(day)
    found = get_object_or_404(ClassSchedule, pk=schedule_id)
    action = request.POST.get("action", "")
    try:
        if action == "book":
            outcome = book(member=member, schedule=found, day=on)
            if outcome.position is not None:
                messages.info(
                    request,
                    f"{found.name} on {on:%A %-d %B} at {found.starts_at:%H:%M} is full: you are number "
                    f"{outcome.position} on the waitlist. You will get an e-mail if a place opens.",
                )
            else:
                messages.success(request, f"You are booked into {found.name}, {on:%A %-d %B} {found.starts_at:%H:%M}.")
        elif action in ("cancel", "checkin"):
            occ = ClassOccurrence.objects.filter(schedule=found, on_date=on).first()
            if occ is None:
                raise BookingRefused("You are not booked into this class.")
            occ.schedule = found
            if action == "cancel":
                cancel(member=member, occurrence=occ)
                messages.success(request, f"Your place in {found.name} is cancelled.")
            else:
                self_check_in(member=member, occurrence=occ)
                messages.success(request, f"You are checked in to {found.name}. Have a good class!")
        else:
            raise BookingRefused("Nothing was done: unknown action.")
    except BookingRefused as exc:
        messages.error(request, f"{exc} Nothing was changed.")
    return redirect("classes:mine")
