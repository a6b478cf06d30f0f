"""The whiteboard in real headless Chromium on a 1920x1080 screen: a coach makes a link, the TV opens it
without a login, a score recorded meanwhile appears without a reload, and a revoked link clears the
screen. Error pages on the live server, DEBUG off."""

from __future__ import annotations

import pytest
from django.utils import timezone
from playwright.sync_api import expect, sync_playwright

from affiliates.routing.context import affiliate_context
from gym.leaderboards import whiteboard_views
from gym.workouts import views as workout_views
from gym.workouts.models import ScalingLevel, ScoreType
from gym.workouts.services import participation_record
from tests.conftest import host
from tests.factories import PASSWORD, ExerciseFactory, MemberFactory, WorkoutExerciseFactory, WorkoutFactory
from tests.gym.test_browser import ARGS, CHROMIUM, forget_connections_of_this_loop

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.browser]

TV = {"viewport": {"width": 1920, "height": 1080}}


@pytest.fixture
def browser(monkeypatch, settings):
    settings.DEBUG = False
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=ARGS)
        yield chromium
        chromium.close()
        forget_connections_of_this_loop()


def _page(browser, **options):
    page = browser.new_context(**options).new_page()
    page.set_default_timeout(15_000)
    return page


def test_the_tv_shows_a_new_score_without_a_reload_and_stops_when_revoked(gyms, live_server, browser, monkeypatch):
    monkeypatch.setattr(whiteboard_views, "REFRESH_SECONDS", 1)  # the TV polls every second in this test
    base = f"http://{host(gyms.a)}:{live_server.url.rsplit(':', 1)[1]}"
    with affiliate_context(gyms.a):
        grace = WorkoutFactory(
            name="Grace",
            score_type=ScoreType.TIME,
            time_cap_seconds=600,
            scaling_levels=[ScalingLevel.RX, ScalingLevel.SCALED],
            scheduled_on=timezone.localdate(),
        )
        WorkoutExerciseFactory(workout=grace, exercise=ExerciseFactory(name="Clean and Jerk"), prescription="30 reps")
        participation_record(workout=grace, member=gyms.ann, scaling_level="rx", score_text="3:10")
        zoe = MemberFactory(first_name="Zoe", last_name="Zimmer", email="zoe@a.test")

    coach = _page(browser, viewport={"width": 1280, "height": 900})
    coach.goto(f"{base}/login/")
    coach.fill("#id_username", "coach_a@gym.test")
    coach.fill("#id_password", PASSWORD)
    coach.click("button[type=submit]")
    coach.get_by_role("link", name="Whiteboard").click()
    coach.fill("#label", "Main floor TV")
    coach.get_by_role("button", name="Make a link").click()
    link = coach.input_value("#new-link")
    assert "/tv/" in link

    tv = _page(browser, **TV)
    tv.goto(base + "/" + link.split("/", 3)[3])
    expect(tv.locator(".wb-workout h3")).to_have_text("Grace")
    expect(tv.locator(".wb-moves")).to_contain_text("Clean and Jerk 30 reps")
    expect(tv.locator(".level-rx li")).to_contain_text(["Ann A."])
    expect(tv.locator(".level-scaled")).to_contain_text("No scores yet")
    # Large type, on one screen: no sideways scrolling at 1920 px.
    assert float(tv.eval_on_selector(".level-rx li", "e => parseFloat(getComputedStyle(e).fontSize)")) >= 28
    assert tv.evaluate("document.documentElement.scrollWidth") <= 1920
    tv.evaluate("window.sameDocument = true")

    with affiliate_context(gyms.a):
        participation_record(workout=grace, member=zoe, scaling_level="scaled", score_text="5:20")
        participation_record(workout=grace, member=gyms.al, scaling_level="rx", score_text="2:50")
    expect(tv.locator(".level-scaled li")).to_contain_text(["Zoe Z."], timeout=10_000)
    expect(tv.locator(".level-rx li")).to_contain_text(["Al A.", "Ann A."])
    assert tv.evaluate("window.sameDocument") is True  # updated in place, never reloaded
    expect(tv.locator("#wb-status")).to_contain_text("updated")

    coach.get_by_role("button", name="Revoke the link of Main floor TV").click()
    expect(coach.locator(".messages")).to_contain_text("Main floor TV revoked")
    expect(tv.locator("h1")).to_contain_text("revoked", timeout=10_000)
    expect(tv.locator(".wb-board")).to_have_count(0)
    expect(tv.get_by_text("Ann A.")).to_have_count(0)


def test_error_pages_on_the_live_server(gyms, live_server, browser, monkeypatch):
    base = f"http://{host(gyms.a)}:{live_server.url.rsplit(':', 1)[1]}"
    page = _page(browser)
    missing = page.goto(f"{base}/tv/{'A' * 43}/")
    assert missing is not None and missing.status == 404
    expect(page.locator("h1")).to_contain_text("does not work here")
    missing = page.goto(f"{base}/no-such-page/")
    assert missing is not None and missing.status == 404
    expect(page.locator("h1")).to_have_text("Page not found")

    def broken(**kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr(workout_views, "dashboard_summary", broken)
    page.goto(f"{base}/login/")
    page.fill("#id_username", "coach_a@gym.test")
    page.fill("#id_password", PASSWORD)
    page.click("button[type=submit]")
    expect(page.locator("h1")).to_have_text("Something went wrong on our side")
    expect(page.locator("header")).to_contain_text("Gym A")
    assert "boom" not in page.content() and "Traceback" not in page.content()
