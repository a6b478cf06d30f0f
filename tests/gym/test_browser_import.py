"""A gym switching in, in real headless Chromium on a desktop: the owner uploads a members file with
odd headers, fixes the one column the guess missed, sees the bad row with its value, and imports the
good rows; then a file of past results."""

from __future__ import annotations

import datetime

import pytest
from playwright.sync_api import expect

from affiliates.routing.context import affiliate_context
from gym.members.models import Member
from gym.workouts.models import Participation
from tests.conftest import host
from tests.factories import PASSWORD
from tests.gym.test_browser import page  # noqa: F401  (the desktop page fixture)

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.browser]

MEMBERS = (
    "Given name,Surname,Mail Address Here,Sex,Birthday,Member Since,Phone\n"
    "Wanda,West,wanda@a.test,Woman,31.12.1990,15-Mar-2024,555-0100\n"
    "Walt,West,walt@a.test,Robot,Dec 1 1985,2024-03-16,555-0101\n"
    "Wes,West,wes@a.test,M,1988-02-30,2024-03-17,555-0102\n"
)
RESULTS = "Athlete Name,Date,Component,Result,Is Rx\nWanda West,2026-01-05,Fran,4:05,True\n"


def test_the_owner_maps_odd_headers_sees_the_bad_rows_and_imports_the_good_ones(gyms, live_server, page, tmp_path):  # noqa: F811
    base = f"http://{host(gyms.a)}:{live_server.url.rsplit(':', 1)[1]}"
    page.goto(f"{base}/login/")
    page.fill("#id_username", gyms.owner_a.email)
    page.fill("#id_password", PASSWORD)
    page.click("button[type=submit]")

    page.goto(f"{base}/members/")
    page.get_by_role("link", name="Import CSV").click()
    members_file = tmp_path / "from-old-software.csv"
    members_file.write_text(MEMBERS)
    page.set_input_files("#file", str(members_file))
    page.get_by_role("button", name="Read the file").click()

    # "Mail Address Here" names no field: the guess leaves it out, and the page says what is missing.
    expect(page.locator("#mapping-errors")).to_contain_text("Choose the column that holds the e-mail address")
    expect(page.locator("#column-0")).to_have_value("first_name")
    expect(page.locator("#column-6")).to_have_value("")  # Phone: ignored
    page.select_option("#column-2", "email")
    page.get_by_role("button", name="Preview again").click()

    expect(page.locator("#ready")).to_contain_text("Ready: 1 to add, 0 to update, 0 unchanged; 2 refused")
    refused = page.locator("table.import-refused")
    expect(refused).to_contain_text("Robot")
    expect(refused).to_contain_text("is not Female, Male or Other")
    expect(refused).to_contain_text("1988-02-30")
    expect(refused).to_contain_text("is not a day of the calendar")

    page.get_by_label("Import the good rows and report the bad ones").check()
    page.get_by_role("button", name="Import", exact=True).click()
    expect(page.locator(".messages")).to_contain_text(
        "Imported members: 1 added, 0 updated, 0 unchanged. 2 refused rows left out (line 3, 4)."
    )
    with affiliate_context(gyms.a):
        wanda = Member.objects.get(email="wanda@a.test")
        assert (wanda.gender, wanda.birth_date, wanda.joined_on) == (
            "F",
            datetime.date(1990, 12, 31),
            datetime.date(2024, 3, 15),
        )
        assert not Member.objects.filter(email__in=["walt@a.test", "wes@a.test"]).exists()

    page.goto(f"{base}/workouts/")
    page.get_by_role("link", name="Import past results").click()
    results_file = tmp_path / "wodify.csv"
    results_file.write_text(RESULTS)
    page.set_input_files("#file", str(results_file))
    page.get_by_role("button", name="Read the file").click()
    expect(page.locator("#ready")).to_contain_text("Ready: 1 to add")
    page.get_by_role("button", name="Import", exact=True).click()
    expect(page.locator(".messages")).to_contain_text("Imported results: 1 added")
    with affiliate_context(gyms.a):
        assert Participation.objects.get(workout=gyms.fran_a, member=wanda).score_value == 245_000
