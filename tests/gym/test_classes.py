"""Classes: the weekly schedule, booking with a capacity and a waitlist that promotes itself, the gym's
cut-offs, check-in, drop-ins that are visits rather than members, and the results sheet listing a class first."""

from __future__ import annotations

import datetime
import threading

import pytest
from django.core import mail
from django.db import connections
from django.utils import timezone

from affiliates.routing.context import affiliate_context
from gym.accounts.models import GymLogin
from gym.classes.models import ClassBooking, ClassHoliday, ClassOccurrence, ClassSchedule, ClassSettings
from gym.classes.selectors import class_under_way, classes_between, member_attendance, roster_member_ids
from gym.classes.services import BookingRefused, book, cancel, check_in, drop_in_add, self_check_in
from gym.members.models import Member
from gym.members.selectors import member_search
from gym.workouts.selectors import dashboard_summary
from tests.conftest import client_for
from tests.factories import MemberFactory, WorkoutFactory, gym_login

pytestmark = pytest.mark.django_db(transaction=True)

UTC = datetime.UTC
#: A Monday far ahead, so no cut-off is reached by the clock of the day the tests run.
MONDAY = datetime.date(2030, 1, 7)
EARLY = datetime.datetime(2030, 1, 1, 12, 0, tzinfo=UTC)


def _schedule(capacity: int = 2, **extra) -> ClassSchedule:
    fields = {
        "name": "6 am WOD",
        "weekday": 1,
        "starts_at": datetime.time(6, 0),
        "length_minutes": 60,
        "capacity": capacity,
        "track": "main",
        "active_from": datetime.date(2026, 1, 1),
        **extra,
    }
    return ClassSchedule.objects.create(**fields)


@pytest.fixture
def box(gyms):
    """Gym A with a Monday 6 am class of 2 places and a third member, Cat."""
    with affiliate_context(gyms.a):
        gyms.six = _schedule()
        gyms.cat = MemberFactory(first_name="Cat", last_name="C", email="cat@a.test")
    return gyms


def test_a_full_class_waitlists_and_a_cancellation_promotes_the_first_waiting(box):
    with affiliate_context(box.a):
        assert book(member=box.ann, schedule=box.six, day=MONDAY, now=EARLY).position is None
        assert book(member=box.al, schedule=box.six, day=MONDAY, now=EARLY).position is None
        waiting = book(member=box.cat, schedule=box.six, day=MONDAY, now=EARLY)
        assert (waiting.booking.status, waiting.position) == ("waitlisted", 1)
        # Booking twice changes nothing.
        again = book(member=box.cat, schedule=box.six, day=MONDAY, now=EARLY)
        assert again.booking.pk == waiting.booking.pk and again.position == 1
        occurrence = ClassOccurrence.objects.get(schedule=box.six, on_date=MONDAY)
        outcome = cancel(member=box.ann, occurrence=occurrence, now=EARLY)
        assert outcome.promoted == box.cat
        # The promoted member is told, once the promotion committed.
        (told,) = mail.outbox
        assert told.to == [box.cat.email] and told.subject.startswith("You have a place in 6 am WOD, Monday 7 January")
        statuses = dict(ClassBooking.objects.filter(occurrence=occurrence).values_list("member_id", "status"))
        assert statuses == {box.ann.pk: "cancelled", box.al.pk: "booked", box.cat.pk: "booked"}
        (day,) = classes_between(start=MONDAY, end=MONDAY, member=box.cat)
        assert (day.slots[0].booked, day.slots[0].waitlisted, day.slots[0].mine) == (2, 0, "booked")


def test_a_cancelled_waitlist_place_promotes_nobody_and_a_rebooking_joins_the_end(box):
    with affiliate_context(box.a):
        for member in (box.ann, box.al, box.cat):
            book(member=member, schedule=box.six, day=MONDAY, now=EARLY)
        occurrence = ClassOccurrence.objects.get(schedule=box.six, on_date=MONDAY)
        assert cancel(member=box.cat, occurrence=occurrence, now=EARLY).promoted is None
        assert ClassBooking.objects.filter(occurrence=occurrence, status="booked").count() == 2
        assert book(member=box.cat, schedule=box.six, day=MONDAY, now=EARLY).position == 1


def test_two_bookings_at_once_never_exceed_the_capacity(box):
    """Two real connections book the last place at the same moment: one gets it, the other waits."""
    with affiliate_context(box.a):
        one = _schedule(capacity=1, name="Tiny")
    barrier = threading.Barrier(2)
    outcomes: dict[int, str] = {}
    errors: list[BaseException] = []

    def attempt(member: Member) -> None:
        try:
            with affiliate_context(box.a):
                barrier.wait(timeout=10)
                outcomes[member.pk] = book(member=member, schedule=one, day=MONDAY, now=EARLY).booking.status
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=attempt, args=(m,)) for m in (box.ann, box.al)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert not errors, errors
    assert sorted(outcomes.values()) == ["booked", "waitlisted"]
    with affiliate_context(box.a):
        assert ClassOccurrence.objects.filter(schedule=one, on_date=MONDAY).count() == 1  # the first bookings converged
        assert ClassBooking.objects.filter(occurrence__schedule=one, status="booked").count() == 1


def test_booking_after_the_cut_off_is_refused_and_changes_nothing(box):
    starts = datetime.datetime.combine(MONDAY, datetime.time(6, 0), tzinfo=UTC)
    with affiliate_context(box.a):
        ClassSettings.objects.filter(pk=1).update(booking_cutoff_minutes=60, cancel_cutoff_minutes=120)
        with pytest.raises(BookingRefused, match="60 minutes before"):
            book(member=box.ann, schedule=box.six, day=MONDAY, now=starts - datetime.timedelta(minutes=30))
        assert not ClassBooking.objects.exists()
        book(member=box.ann, schedule=box.six, day=MONDAY, now=starts - datetime.timedelta(minutes=90))
        occurrence = ClassOccurrence.objects.get(schedule=box.six, on_date=MONDAY)
        with pytest.raises(BookingRefused, match="120 minutes before"):
            cancel(member=box.ann, occurrence=occurrence, now=starts - datetime.timedelta(minutes=90))
        assert ClassBooking.objects.get(member=box.ann).status == "booked"


def test_holidays_cancelled_classes_and_other_days_are_refused(box):
    with affiliate_context(box.a):
        with pytest.raises(BookingRefused, match="does not run"):
            book(member=box.ann, schedule=box.six, day=MONDAY + datetime.timedelta(days=1), now=EARLY)
        ClassHoliday.objects.create(on_date=MONDAY, reason="New Year break")
        with pytest.raises(BookingRefused, match="New Year break"):
            book(member=box.ann, schedule=box.six, day=MONDAY, now=EARLY)
        (day,) = classes_between(start=MONDAY, end=MONDAY)
        assert day.holiday == "New Year break" and day.slots[0].cancelled == "New Year break"
        next_monday = MONDAY + datetime.timedelta(days=7)
        ClassOccurrence.objects.create(schedule=box.six, on_date=next_monday, cancelled_reason="Coach ill")
        with pytest.raises(BookingRefused, match="Coach ill"):
            book(member=box.ann, schedule=box.six, day=next_monday, now=EARLY)
        assert not ClassBooking.objects.exists()


def test_check_in_by_the_coach_and_by_the_athlete_counts_as_attendance(box):
    starts = datetime.datetime.combine(MONDAY, datetime.time(6, 0), tzinfo=UTC)
    with affiliate_context(box.a):
        book(member=box.ann, schedule=box.six, day=MONDAY, now=EARLY)
        occurrence = ClassOccurrence.objects.get(schedule=box.six, on_date=MONDAY)
        occurrence.schedule = box.six
        with pytest.raises(BookingRefused, match="Check-in opens"):
            self_check_in(member=box.ann, occurrence=occurrence, now=starts - datetime.timedelta(hours=2))
        self_check_in(member=box.ann, occurrence=occurrence, now=starts - datetime.timedelta(minutes=10))
        with pytest.raises(BookingRefused, match="booked athlete"):
            self_check_in(member=box.al, occurrence=occurrence, now=starts)
        check_in(occurrence=occurrence, member=box.al, now=starts)  # a walk-in, by the coach
        assert roster_member_ids(occurrence_id=occurrence.pk) == [box.al.pk, box.ann.pk]
        attendance = member_attendance(member=box.ann)
        assert attendance.visits == 1 and attendance.recent[0].occurrence_id == occurrence.pk
        under_way = class_under_way(starts + datetime.timedelta(minutes=20))
        assert under_way is not None and under_way.track == "main"
        assert sorted(under_way.roster_ids) == sorted([box.ann.pk, box.al.pk])
        assert class_under_way(starts + datetime.timedelta(minutes=61)) is None


def test_a_drop_in_is_a_visit_not_a_member(box):
    with affiliate_context(box.a):
        before = dashboard_summary(today=MONDAY).active_members
        occurrence = ClassOccurrence.objects.create(schedule=box.six, on_date=MONDAY)
        occurrence.schedule = box.six
        visitor, created = drop_in_add(
            first_name="Dee", last_name="Visitor", email="Dee@Elsewhere.test", occurrence=occurrence
        )
        assert created and visitor.kind == Member.Kind.DROP_IN
        again, created_again = drop_in_add(first_name="Dee", last_name="V", email="dee@elsewhere.test")
        assert again.pk == visitor.pk and not created_again  # found again, not duplicated
        assert ClassBooking.objects.get(member=visitor).checked_in_at is not None
        assert dashboard_summary(today=MONDAY).active_members == before
        assert visitor not in member_search(query="Dee")
        assert visitor in member_search(query="Dee", include_inactive=True)


def test_the_results_sheet_for_a_class_lists_its_roster_first_and_adds_a_drop_in_to_it(box):
    coach = client_for(box.a, box.coach_a)
    with affiliate_context(box.a):
        wod = WorkoutFactory(name="Monday Grace", scheduled_on=MONDAY, track="main")
        book(member=box.cat, schedule=box.six, day=MONDAY, now=EARLY)
        occurrence = ClassOccurrence.objects.get(schedule=box.six, on_date=MONDAY)
    found = coach.get(f"/classes/{box.six.pk}/{MONDAY}/sheet/")
    assert found.status_code == 302 and found["Location"] == f"/workouts/{wod.pk}/sheet/?class={occurrence.pk}"
    page = coach.get(found["Location"]).content.decode()
    assert page.index("Cat C") < page.index("Everyone else") < page.index("Al A") < page.index("Ann A")
    added = coach.post(
        found["Location"],
        {"action": "dropin", "dropin-first_name": "Dee", "dropin-last_name": "Visitor", "dropin-email": "dee@x.test"},
    )
    assert added.status_code == 302
    page = coach.get(found["Location"]).content.decode()
    assert page.index("Dee Visitor") < page.index("Everyone else")
    with affiliate_context(box.a):
        dee = Member.objects.get(email="dee@x.test")
        assert dee.kind == "drop_in" and ClassBooking.objects.get(member=dee).occurrence_id == occurrence.pk
    # The plain sheet (no class) does not list a drop-in from another day.
    with affiliate_context(box.a):
        other = WorkoutFactory(name="Tuesday", scheduled_on=MONDAY + datetime.timedelta(days=1))
    assert "Dee Visitor" not in coach.get(f"/workouts/{other.pk}/sheet/").content.decode()


def test_an_athlete_books_and_cancels_from_the_phone_pages_and_a_late_booking_is_refused(box):
    today = timezone.localdate()
    with affiliate_context(box.a):
        ClassSchedule.objects.filter(pk=box.six.pk).update(weekday=today.isoweekday(), starts_at=datetime.time(23, 59))
        login = gym_login(box.a, "ann@a.test", GymLogin.Role.ATHLETE, member=box.ann)
    me = client_for(box.a, login)
    page = me.get("/me/classes/").content.decode()
    assert "6 am WOD" in page and ">Book<" in page
    url = f"/me/classes/{box.six.pk}/{today}/"
    page = me.post(url, {"action": "book"}, follow=True).content.decode()
    assert "You are booked" in page
    page = me.post(url, {"action": "cancel"}, follow=True).content.decode()
    assert "is cancelled" in page and ">Book<" in page
    with affiliate_context(box.a):
        ClassSettings.objects.filter(pk=1).update(booking_cutoff_minutes=10080)
    page = me.post(url, {"action": "book"}, follow=True).content.decode()
    assert "Booking closes 10080 minutes before" in page and "Nothing was changed" in page
    # Past the cut-off the page says so instead of offering a button the server would refuse.
    slot = page[page.index(f'id="class-{box.six.pk}-{today}"') :]
    slot = slot[: slot.index("</div>")]
    assert "Booking closed" in slot and ">Book<" not in slot
    with affiliate_context(box.a):
        assert ClassBooking.objects.get(member=box.ann).status == "cancelled"
    assert me.post(f"/me/classes/{box.six.pk}/not-a-day/", {"action": "book"}).status_code == 404
    assert me.get("/classes/").status_code == 403


def test_coach_pages_check_in_and_owners_set_the_rules(box):
    coach = client_for(box.a, box.coach_a)
    owner = client_for(box.a, box.owner_a)
    page = f"/classes/{box.six.pk}/{MONDAY}/"
    assert "6 am WOD" in coach.get("/classes/").content.decode()
    assert coach.get(page).status_code == 200
    coach.post(page + "act/", {"action": "walkin", "walkin-member": box.al.pk})
    shown = coach.get(page).content.decode()
    assert "Al A" in shown and "✔ in" in shown
    # Adding him again says he is here already (one visit, not two).
    again = coach.post(page + "act/", {"action": "walkin", "walkin-member": box.al.pk}, follow=True)
    assert "is checked in already: nothing was changed" in again.content.decode()
    refused = coach.post(page + "act/", {"action": "in", "member": "x"})
    assert refused.status_code == 404
    assert coach.get("/classes/rules/").status_code == 403
    bad = owner.post(
        "/classes/rules/", {"booking_cutoff_minutes": "-5", "cancel_cutoff_minutes": "0", "checkin_opens_minutes": "30"}
    )
    assert bad.status_code == 200 and "Enter minutes from 0" in bad.content.decode()
    owner.post(
        "/classes/rules/",
        {"booking_cutoff_minutes": "30", "cancel_cutoff_minutes": "60", "checkin_opens_minutes": "15"},
    )
    with affiliate_context(box.a):
        rules = ClassSettings.objects.get(pk=1)
        assert (rules.booking_cutoff_minutes, rules.cancel_cutoff_minutes) == (30, 60)
        al_visits = member_attendance(member=box.al).visits
    assert al_visits == 1
    assert ">1</strong> class attended" in owner.get(f"/members/{box.al.pk}/").content.decode()
    created = owner.post(
        "/classes/new/",
        {
            "name": "Noon",
            "weekday": "3",
            "starts_at": "12:00",
            "length_minutes": "45",
            "capacity": "12",
            "track": "main",
            "active_from": "2026-01-01",
        },
    )
    assert created.status_code == 302
    with affiliate_context(box.a):
        assert ClassSchedule.objects.filter(name="Noon", capacity=12).exists()
