"""The overall and all-time boards in real headless Chromium, on a desktop and on a 390 px phone:
dates head the overall board's columns, the all-time Fran board shows each athlete's best, and
neither page is wider than the phone."""

from __future__ import annotations

import datetime

import pytest
from playwright.sync_api import expect

from affiliates.routing.context import affiliate_context
from gym.workouts.models import Benchmark
from gym.workouts.services import participation_record, workout_from_benchmark
from tests.conftest import host
from tests.factories import PASSWORD, MemberFactory
from tests.gym.test_browser_athlete import PHONE, browser, fits_the_phone, log_in  # noqa: F401  (a fixture)

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.browser]

DESKTOP = {"viewport": {"width": 1280, "height": 800}}


def test_the_overall_and_all_time_boards_read_well_on_a_desktop_and_a_phone(gyms, live_server, browser):  # noqa: F811
    base = f"http://{host(gyms.a)}:{live_server.url.rsplit(':', 1)[1]}"
    with affiliate_context(gyms.a):
        fran = Benchmark.objects.get(name="Fran")
        members = [MemberFactory(first_name=f"Athlete{i}", last_name="Longname-Doubleparts") for i in range(6)]
        for week in range(6):
            workout, _ = workout_from_benchmark(
                benchmark=fran, scheduled_on=datetime.date(2026, 2, 2) + datetime.timedelta(days=7 * week)
            )
            for i, member in enumerate(members):
                level = "scaled" if i % 3 == 0 else "rx"
                score = f"{4 + (i + week) % 3}:{10 + i:02d}"
                participation_record(workout=workout, member=member, scaling_level=level, score_text=score)
    for options, phone in ((DESKTOP, False), (PHONE, True)):
        page = browser.new_context(**options).new_page()
        page.set_default_timeout(15_000)
        log_in(page, base, "coach_a@gym.test", PASSWORD)
        page.goto(f"{base}/leaderboards/overall/?start=2026-02-01&end=2026-03-31&division=rx")
        expect(page.locator("th.workout-column")).to_have_count(6)
        expect(page.locator("th.workout-column").first).to_contain_text("Mon 2 Feb")
        expect(page.locator("table.overall tbody tr")).to_have_count(4)  # the Rx division only
        if phone:
            fits_the_phone(page)
        page.get_by_role("link", name="All-time benchmark boards").click()
        page.get_by_role("link", name="Fran").click()
        expect(page.locator("h1")).to_have_text("All-time board: Fran")
        expect(page.locator("table.all-time tbody tr")).to_have_count(6)
        expect(page.locator("table.all-time tbody tr").first.locator("a.member")).to_have_count(1)
        if phone:
            fits_the_phone(page)
        page.context.close()
