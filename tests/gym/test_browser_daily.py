"""A gym's daily use in real headless Chromium, on a gym with the demo's data (the local seed):
the week's programming, Fran from the library, a class of fifteen on one results sheet, decimal
commas and tiebreaks on the boards, a member's progress chart, a CSV round trip, and the main
pages on a 390 px phone with the keyboard."""

from __future__ import annotations

import datetime
from pathlib import Path

import pytest
from django.conf import settings
from playwright.sync_api import expect, sync_playwright

from affiliates.routing.context import affiliate_context
from gym.members.models import Member
from gym.workouts.models import Participation, Workout
from tests.conftest import host
from tests.factories import PASSWORD, affiliate_provisioned, login
from tests.gym.test_browser import ARGS, CHROMIUM, forget_connections_of_this_loop

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.browser, pytest.mark.flyway]  # the demo's seed

SHOTS = Path(settings.BASE_DIR) / ".local"


@pytest.fixture
def demo(clean_registry, live_server):
    """A gym provisioned with the demo's data, its owner, and its address on the live server."""
    gym = affiliate_provisioned(name="Ironworks Demo", seed=True)
    login("demo_owner", gym, "owner")
    gym.base = f"http://{host(gym)}:{live_server.url.rsplit(':', 1)[1]}"
    return gym


@pytest.fixture
def browser(monkeypatch):
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=ARGS)
        yield chromium
        chromium.close()
        forget_connections_of_this_loop()


def logged_in(browser, gym, *, width=1280, height=900, **options):
    page = browser.new_context(viewport={"width": width, "height": height}, **options).new_page()
    page.set_default_timeout(15_000)
    page.goto(f"{gym.base}/login/")
    page.fill("#id_username", "demo_owner@gym.test")
    page.fill("#id_password", PASSWORD)
    page.click("button[type=submit]")
    expect(page.locator("h1")).to_have_text("Dashboard")
    return page


def test_programming_fran_from_the_library_and_a_class_on_one_sheet(demo, browser):
    page = logged_in(browser, demo)

    # The week view: this week is empty, and leads to the demo's programming.
    page.get_by_role("navigation", name="Gym").get_by_role("link", name="Week").click()
    expect(page.get_by_role("link", name="Week", exact=True)).to_have_attribute("aria-current", "page")
    page.get_by_role("link", name="The nearest earlier programming").click()
    expect(page.locator("h1")).to_have_text("Week of 19 January 2026")
    expect(page.locator(".week .day").nth(0)).to_contain_text("Fran")
    expect(page.locator(".week .day").nth(1)).to_contain_text("Back Squat 5RM")
    page.get_by_role("link", name="← Previous week").click()
    expect(page.locator("h1")).to_have_text("Week of 12 January 2026")
    expect(page.locator(".week .day").nth(1)).to_contain_text("Chipper 26.1")

    # Fran from the library, onto today, in one step.
    page.goto(f"{demo.base}/")
    page.get_by_role("link", name="Add from the library").click()
    page.fill("#q", "fran")
    page.click("text=Search")
    fran = page.locator('article[data-benchmark="Fran"]')
    expect(fran).to_contain_text("Thruster, Pull-up")
    fran.get_by_role("button", name="Add Fran").click()
    expect(page.locator(".messages")).to_contain_text("Fran added to")
    expect(page.locator("h1")).to_have_text("Fran")
    page.goto(f"{demo.base}/")
    expect(page.locator(".today-workout")).to_contain_text("Fran")

    # A class of fifteen: the level for new rows, then a score and Enter per athlete.
    page.locator(".today-workout").get_by_role("link", name="Results sheet").click()
    page.select_option("#default_level", "scaled")
    rows = page.locator("#sheet-rows tbody tr")
    first = rows.first.locator("input[name$='-score']")
    first.focus()
    for n in range(15):
        page.keyboard.type("12:65" if n == 6 else f"{4 + n // 6}:{n * 7 % 60:02d}")
        page.keyboard.press("Enter")  # to the next member's score, not a submit
    expect(page.locator(".messages")).to_have_count(0)
    page.get_by_role("button", name="Save results").first.click()
    expect(page.locator(".messages")).to_contain_text("1 row needs fixing (marked below); nothing was saved.")
    bad = rows.nth(6).locator("input[name$='-score']")
    expect(bad).to_be_focused()  # the keyboard is on the row to fix
    expect(rows.nth(6)).to_contain_text("seconds must be below 60")
    expect(rows.nth(5).locator("input[name$='-score']")).to_have_value("4:35")  # typed rows stay typed
    bad.fill("5:05")
    page.get_by_role("button", name="Save results").first.click()
    expect(page.locator(".messages")).to_contain_text("Saved 15 results.")
    expect(page.locator("#default_level")).to_have_value("scaled")  # remembered
    expect(page.locator("#sheet-rows tbody tr.recorded")).to_have_count(15)
    with affiliate_context(demo):
        today = Workout.objects.get(name="Fran", scheduled_on=datetime.date.today())
        saved = Participation.objects.filter(workout=today)
        assert saved.count() == 15 and set(saved.values_list("scaling_level", flat=True)) == {"scaled"}

    # Find a member on the sheet by typing, accents ignored.
    page.fill("#find", "ava alv")
    expect(page.locator("#sheet-rows tbody tr:visible")).to_have_count(1)

    # Decimal commas rank as decimals; tiebreaks read as times.
    page.goto(f"{demo.base}/library/?q=back+squat+1rm")
    page.locator('article[data-benchmark="Back Squat 1RM"]').get_by_role("button", name="Add Back Squat 1RM").click()
    page.get_by_role("link", name="Results sheet").click()
    page.locator("#sheet-rows tbody tr").nth(0).locator("input[name$='-score']").fill("102,5")
    page.locator("#sheet-rows tbody tr").nth(1).locator("input[name$='-score']").fill("103")
    page.locator("#sheet-rows tbody tr").nth(2).locator("input[name$='-score']").fill("1025")
    page.get_by_role("button", name="Save results").first.click()
    # 1025 kg is asked about first (heavier than anyone has lifted): the row is flagged, every row kept.
    expect(page.locator(".messages")).to_contain_text("1 row needs confirming (marked below); nothing was saved.")
    flagged = page.locator("#sheet-rows tbody tr").nth(2)
    expect(flagged).to_contain_text("more than anyone has lifted")
    expect(page.locator("#sheet-rows tbody tr").nth(0).locator("input[name$='-score']")).to_have_value("102,5")
    flagged.get_by_label("Yes, this result is right").check()
    page.get_by_role("button", name="Save results").first.click()
    expect(page.locator(".messages")).to_contain_text("Saved 3 results.")
    page.get_by_role("link", name="Leaderboard").click()
    board = page.locator("table.leaderboard tbody tr")
    expect(board.nth(0)).to_contain_text("1025 kg")
    expect(board.nth(1)).to_contain_text("103 kg")
    expect(board.nth(2)).to_contain_text("102.5 kg")
    with affiliate_context(demo):
        chipper = Workout.objects.get(name="Chipper 26.1")
    page.goto(f"{demo.base}/workouts/{chipper.pk}/leaderboard/")
    tiebreaks = page.locator("table.leaderboard tbody tr td:nth-child(5)").all_inner_texts()
    assert tiebreaks and all(t == "—" or ":" in t for t in tiebreaks), tiebreaks
    SHOTS.mkdir(exist_ok=True)
    page.screenshot(path=str(SHOTS / "chipper-board.png"), full_page=True)


def test_a_members_progress_chart_and_a_csv_round_trip(demo, browser, tmp_path):
    page = logged_in(browser, demo, accept_downloads=True)
    with affiliate_context(demo):
        ava = Member.objects.get(email="ava.alvarez@ironworks.localhost")
    page.goto(f"{demo.base}/members/{ava.pk}/")
    chart = page.locator('svg[role="img"][aria-label^="Fran, for time: 2 results"]')
    expect(chart).to_be_visible()
    expect(chart.locator("circle")).to_have_count(2)
    box = chart.bounding_box()
    assert box and box["width"] > 300 and box["height"] > 80  # drawn, at a readable size
    expect(page.locator('svg[aria-label^="Back Squat, personal record"]')).to_be_visible()
    expect(page.locator("table.rep-max")).to_contain_text("Back Squat")
    page.screenshot(path=str(SHOTS / "member-progress.png"), full_page=True)

    page.goto(f"{demo.base}/members/")
    with page.expect_download() as exported:
        page.get_by_role("link", name="Export CSV").click()
    first = tmp_path / "first.csv"
    exported.value.save_as(first)
    page.get_by_role("link", name="Import CSV").click()
    page.set_input_files("#file", str(first))
    page.get_by_role("button", name="Read the file").click()
    expect(page.locator("#ready")).to_contain_text("0 to add, 0 to update, 24 unchanged")
    page.get_by_role("button", name="Import", exact=True).click()
    expect(page.locator(".messages")).to_contain_text("Imported members: 0 added, 0 updated, 24 unchanged.")
    with page.expect_download() as again:
        page.get_by_role("link", name="Export CSV").click()
    second = tmp_path / "second.csv"
    again.value.save_as(second)
    assert second.read_bytes() == first.read_bytes() and first.read_bytes().startswith(b"\xef\xbb\xbf")

    # A file with one bad row: the preview says which, and nothing is imported.
    bad = tmp_path / "bad.csv"
    bad.write_text("first_name,last_name,email\nNew,Person,new@x.test\nNo,Email,\n", encoding="utf-8")
    page.get_by_role("link", name="Import CSV").click()
    page.set_input_files("#file", str(bad))
    page.get_by_role("button", name="Read the file").click()
    expect(page.locator("#ready")).to_contain_text("1 to add, 0 to update, 0 unchanged; 1 refused")
    expect(page.locator("table.import-refused")).to_contain_text("Enter an e-mail address.")
    # All or nothing (the default): importing with a refused row imports nothing.
    page.get_by_role("button", name="Import", exact=True).click()
    expect(page.locator("table.import-refused")).to_be_visible()
    with affiliate_context(demo):
        assert not Member.objects.filter(email="new@x.test").exists()


PHONE_PAGES = [
    "/",
    "/workouts/week/?start=2026-01-05",
    "/workouts/",
    "/library/?q=fran",
    "/members/",
    "/members/import/",
    "/leaderboards/overall/?start=2026-01-01&end=2026-01-31",
    "/exercises/",
]


def test_the_main_pages_fit_a_phone_and_work_with_the_keyboard(demo, browser):
    page = logged_in(browser, demo, width=390, height=844, is_mobile=True, has_touch=True)
    with affiliate_context(demo):
        fran = Workout.objects.get(name="Fran", scheduled_on="2026-01-05")
        ava = Member.objects.get(email="ava.alvarez@ironworks.localhost")
    pages = [*PHONE_PAGES, f"/workouts/{fran.pk}/", f"/workouts/{fran.pk}/sheet/", f"/members/{ava.pk}/"]
    for path in pages:
        page.goto(f"{demo.base}{path}")
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= 390, f"{path} is {width} px wide on a 390 px phone"
        header = page.locator("header").bounding_box()
        assert header and header["height"] <= 100, f"{path}: the header takes {header['height']} px"
        expect(page.get_by_role("navigation", name="Gym")).to_be_visible()
        unlabelled = page.evaluate(
            """() => [...document.querySelectorAll('main input:not([type=hidden]), main select, main textarea')]
                 .filter(el => !(el.labels && el.labels.length) && !el.getAttribute('aria-label'))
                 .map(el => el.name || el.id)"""
        )
        assert unlabelled == [], f"{path}: inputs without a label: {unlabelled}"
    page.screenshot(path=str(SHOTS / "phone-member.png"), full_page=True)

    # The members table scrolls inside its card instead of widening the page.
    page.goto(f"{demo.base}/members/")
    scroll = page.locator(".scroll").first
    assert scroll.evaluate("el => el.scrollWidth > el.clientWidth")
    page.screenshot(path=str(SHOTS / "phone-members.png"), full_page=True)

    # The skip link is the first thing the keyboard reaches, and it lands on the content.
    page.keyboard.press("Tab")
    skip = page.get_by_role("link", name="Skip to the content")
    expect(skip).to_be_focused()
    expect(skip).to_be_in_viewport()
    page.keyboard.press("Enter")
    expect(page.locator("main")).to_be_focused()
    current = page.locator('nav[aria-label="Gym"] a[aria-current="page"]')
    expect(current).to_have_text("Members")
