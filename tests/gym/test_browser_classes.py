"""Classes in real headless Chromium on 390 px phones: an athlete books the 6 am class, a second one joins
its waitlist, the first cancels and the second sees themselves promoted; the coach checks the class in and
opens the results sheet, which lists the class first."""

from __future__ import annotations

import datetime

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from affiliates.routing.context import affiliate_context
from gym.accounts.models import GymLogin
from gym.classes.models import ClassSchedule
from tests.conftest import host
from tests.factories import PASSWORD, WorkoutFactory, gym_login
from tests.gym.test_browser_athlete import browser, fits_the_phone, log_in, phone  # noqa: F401 (fixture)

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.browser]


def test_booking_waitlist_promotion_check_in_and_the_class_sheet_on_phones(gyms, live_server, browser):  # noqa: F811
    base = f"http://{host(gyms.a)}:{live_server.url.rsplit(':', 1)[1]}"
    tomorrow = timezone.localdate() + datetime.timedelta(days=1)
    with affiliate_context(gyms.a):
        six = ClassSchedule.objects.create(
            name="6 am WOD",
            weekday=tomorrow.isoweekday(),
            starts_at=datetime.time(6, 0),
            length_minutes=60,
            capacity=1,
            track="main",
            active_from=timezone.localdate(),
            coach=gyms.coach_a,
        )
        WorkoutFactory(name="Class Grace", scheduled_on=tomorrow, track="main")
    gym_login(gyms.a, "ann@a.test", GymLogin.Role.ATHLETE, member=gyms.ann)
    gym_login(gyms.a, "al@a.test", GymLogin.Role.ATHLETE, member=gyms.al)
    slot_id = f"#class-{six.pk}-{tomorrow.isoformat()}"

    ann = phone(browser)
    log_in(ann, base, "ann@a.test", PASSWORD)
    ann.goto(f"{base}/me/classes/")
    fits_the_phone(ann)
    ann.locator(slot_id).get_by_role("button", name="Book").click()
    expect(ann.locator(".messages")).to_contain_text("You are booked into 6 am WOD")
    expect(ann.locator(slot_id)).to_contain_text("You are booked")

    al = phone(browser)
    log_in(al, base, "al@a.test", PASSWORD)
    al.goto(f"{base}/me/classes/")
    al.locator(slot_id).get_by_role("button", name="Join the waitlist").click()
    expect(al.locator(slot_id)).to_contain_text("Waitlist: you are number 1")

    ann.locator(slot_id).get_by_role("button", name="Cancel my place").click()
    expect(ann.locator(".messages")).to_contain_text("Your place in 6 am WOD is cancelled")
    al.reload()
    expect(al.locator(slot_id)).to_contain_text("You are booked")  # promoted by Ann's cancellation

    coach = phone(browser)
    log_in(coach, base, gyms.coach_a.email, PASSWORD)
    coach.goto(f"{base}/classes/{six.pk}/{tomorrow.isoformat()}/")
    fits_the_phone(coach)
    coach.get_by_role("button", name="Check in Al A").click()
    expect(coach.locator("#roster")).to_contain_text("✔ in")
    coach.get_by_role("link", name="Results sheet (class first)").click()
    expect(coach.locator("h1")).to_contain_text("Results sheet: Class Grace")
    rows = [text.strip().lower() for text in coach.locator("#sheet-rows tbody tr").all_inner_texts()]
    assert rows[0] == "in class" and rows[1].startswith("al a") and rows[2] == "everyone else"
