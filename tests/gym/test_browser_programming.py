"""A coach's programming in real headless Chromium (desktop): a day of three parts, a fourth movement row
added with the button, last week copied to next week, and a search for "thruster"."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from affiliates.routing.context import affiliate_context
from gym.workouts.models import Workout
from tests.conftest import host
from tests.factories import PASSWORD
from tests.gym.test_browser import page  # noqa: F401  # the desktop page fixture
from tests.gym.test_browser_athlete import log_in

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.browser]

LAST_MONDAY, NEXT_MONDAY = "2026-11-09", "2026-11-23"


def add_part(tab, *, part: str, name: str, score_type: str) -> None:
    """From the day tab: the track's add-a-part form, then the new workout's form (prefilled)."""
    tab.locator("form.add-part input[name=part]").first.fill(part)
    tab.locator("form.add-part").first.get_by_role("button", name="Add a part").click()
    expect(tab.locator("h1")).to_have_text("New workout")
    expect(tab.locator("#id_part")).to_have_value(part)
    expect(tab.locator("#id_scheduled_on")).to_have_value(LAST_MONDAY)
    tab.fill("#id_name", name)
    tab.select_option("#id_score_type", score_type)


def test_a_coach_builds_a_day_of_three_parts_copies_the_week_and_searches(gyms, live_server, page):  # noqa: F811
    base = f"http://{host(gyms.a)}:{live_server.url.rsplit(':', 1)[1]}"
    log_in(page, base, "coach_a@gym.test", PASSWORD)
    day = f"{base}/workouts/day/{LAST_MONDAY}/"

    page.goto(day)
    expect(page.locator("main")).to_contain_text("Nothing is programmed on this day yet.")
    add_part(page, part="Warm-up", name="Row and stretch", score_type="none")
    page.get_by_role("button", name="Save workout").click()
    expect(page.locator(".messages")).to_contain_text("Row and stretch saved.")

    page.goto(day)
    add_part(page, part="Strength", name="Back squat 5x5", score_type="load")
    page.get_by_role("button", name="Save workout").click()
    expect(page.locator(".messages")).to_contain_text("Back squat 5x5 saved.")

    page.goto(day)
    add_part(page, part="Metcon", name="Thruster chipper", score_type="time")
    rows = page.locator("#movement-rows tr.movement-row")
    expect(rows).to_have_count(3)
    for n, exercise in enumerate(["Thruster", "Pull-up", "Burpee"]):
        page.select_option(f"select[name='movements-{n}-exercise']", label=exercise)
        page.fill(f"input[name='movements-{n}-prescription']", "21-15-9")
    page.get_by_role("button", name="Add a movement").click()
    expect(rows).to_have_count(4)  # added on the page, no round trip: what was typed is still there
    expect(page.locator("#id_movements-TOTAL_FORMS")).to_have_value("4")
    expect(page.locator("#id_name")).to_have_value("Thruster chipper")
    page.select_option("select[name='movements-3-exercise']", label="Row")
    page.fill("input[name='movements-3-prescription']", "500 m")
    rows.nth(3).get_by_role("button", name="Move up").click()  # the row goes third; positions follow
    expect(page.locator("input[name='movements-3-ORDER']")).to_have_value("3")
    expect(page.locator("input[name='movements-2-ORDER']")).to_have_value("4")
    page.get_by_role("button", name="Save workout").click()
    expect(page.locator(".messages")).to_contain_text("Thruster chipper saved.")
    expect(page.locator("main ul").first).to_contain_text("Thruster")
    with affiliate_context(gyms.a):
        chipper = Workout.objects.get(name="Thruster chipper")
        movements = list(chipper.movements.order_by("position").values_list("exercise__name", flat=True))
        assert movements == ["Thruster", "Pull-up", "Row", "Burpee"]

    page.goto(day)
    expect(page.locator(".part .part-label")).to_have_text(["Warm-up", "Strength", "Metcon"])

    page.goto(f"{base}/workouts/week/?start={LAST_MONDAY}")
    page.fill("#id_target", NEXT_MONDAY)
    page.get_by_role("button", name="Copy the week").click()
    expect(page.locator(".messages")).to_contain_text("3 workouts copied.")
    expect(page.locator("h1")).to_have_text("Week of 23 November 2026")
    expect(page.locator(".week")).to_contain_text("Metcon: Thruster chipper")

    page.goto(f"{base}/workouts/")
    page.fill("#id_q", "thruster")
    page.get_by_role("button", name="Search").click()
    expect(page.locator("[role=status]")).to_contain_text("workouts found")
    results = page.locator("table tbody tr")
    expect(results.filter(has_text="Thruster chipper")).to_have_count(2)  # last week's and its copy
    expect(results.filter(has_text="Back squat 5x5")).to_have_count(0)
    with affiliate_context(gyms.a):
        copies = Workout.objects.filter(scheduled_on=NEXT_MONDAY).order_by("part_position")
        assert [w.part for w in copies] == ["Warm-up", "Strength", "Metcon"]
