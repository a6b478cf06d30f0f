"""Athletes and the owner's people, in real headless Chromium on a 390 px phone: the owner invites an
athlete, the athlete sets a password from the link, logs in by e-mail, logs today's Fran and appears on
the board; a coach invited the same way corrects it and the board shows who did; the coach is removed."""

from __future__ import annotations

import re

import pytest
from django.core import mail
from django.utils import timezone
from playwright.sync_api import expect, sync_playwright

from affiliates.routing.context import affiliate_context
from gym.workouts.models import Participation, ScalingLevel, ScoreType
from tests.conftest import host
from tests.factories import PASSWORD, WorkoutFactory
from tests.gym.test_browser import ARGS, CHROMIUM, forget_connections_of_this_loop

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.browser]

PHONE = {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True}


@pytest.fixture
def browser(monkeypatch):
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=ARGS)
        yield chromium
        chromium.close()
        forget_connections_of_this_loop()


def phone(browser):
    page = browser.new_context(**PHONE).new_page()
    page.set_default_timeout(15_000)
    return page


def log_in(page, base: str, email: str, password: str) -> None:
    page.goto(f"{base}/login/")
    page.fill("#id_username", email)
    page.fill("#id_password", password)
    page.click("button[type=submit]")


def invite(owner, base: str, email: str, role: str) -> str:
    """The owner invites someone from the people page; the link from the mail it sent."""
    sent = len(mail.outbox)
    owner.goto(f"{base}/people/")
    owner.fill("#id_email", email)
    owner.select_option("#id_role", role)
    owner.get_by_role("button", name="Send invitation").click()
    expect(owner.locator(".messages")).to_contain_text(f"Invitation sent to {email.lower()}")
    assert len(mail.outbox) == sent + 1
    return re.search(r"https?://\S+/reset/\S+/\S+/", mail.outbox[-1].body).group(0)


def set_password(page, link: str, base: str, password: str) -> None:
    page.goto(base + "/" + link.split("/", 3)[3])
    expect(page.locator("h1")).to_have_text("Set your password")
    page.fill("#id_new_password1", password)
    page.fill("#id_new_password2", password)
    page.click("button[type=submit]")


def fits_the_phone(page) -> None:
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 390, f"{page.url} is {width} px wide on a 390 px phone"


def test_an_invited_athlete_logs_fran_on_a_phone_and_a_coach_corrects_it(gyms, live_server, browser):
    base = f"http://{host(gyms.a)}:{live_server.url.rsplit(':', 1)[1]}"
    with affiliate_context(gyms.a):
        fran = WorkoutFactory(
            name="Fran",
            score_type=ScoreType.TIME,
            time_cap_seconds=600,
            reps_per_round=90,
            scaling_levels=[ScalingLevel.RX, ScalingLevel.SCALED],
            scheduled_on=timezone.localdate(),
        )

    # The owner invites Ann (a member of the gym) as an athlete.
    owner = phone(browser)
    log_in(owner, base, "owner_a@gym.test", PASSWORD)
    expect(owner.locator("h1")).to_have_text("Dashboard")
    link = invite(owner, base, "Ann@A.test", "athlete")
    fits_the_phone(owner)

    # Ann sets her password from the link and logs in by e-mail on the gym's host.
    ann = phone(browser)
    set_password(ann, link, base, "ann-strong-pass-31")
    expect(ann.locator("h1")).to_contain_text("Password set")
    log_in(ann, base, "ann@a.test", "ann-strong-pass-31")
    expect(ann.locator("h1")).to_have_text("Hi Ann")
    today = ann.locator(".athlete-day").first
    expect(today).to_contain_text("Today")
    expect(today).to_contain_text("Fran")
    fits_the_phone(ann)

    # She logs her Fran time with her thumb: 16 px fields (no zoom), a 44 px button, the full keyboard.
    today.get_by_role("link", name=re.compile("Fran")).tap()
    score = ann.locator("#id_score")
    assert float(score.evaluate("el => getComputedStyle(el).fontSize").removesuffix("px")) >= 16
    assert score.get_attribute("autocapitalize") == "characters"
    save = ann.get_by_role("button", name="Save my score")
    assert save.bounding_box()["height"] >= 44
    score.fill("3:45")
    save.tap()
    expect(ann.locator(".messages")).to_contain_text("Your score is saved.")
    board = ann.locator("table.leaderboard")
    expect(board.locator("tr", has_text="Ann A")).to_contain_text("3:45")
    fits_the_phone(ann)

    # A coach is invited the same way, logs in and corrects Ann's entry.
    coach_link = invite(owner, base, "carla@a.test", "coach")
    coach = phone(browser)
    set_password(coach, coach_link, base, "carla-strong-pass-8")
    log_in(coach, base, "carla@a.test", "carla-strong-pass-8")
    expect(coach.locator("h1")).to_have_text("Dashboard")
    coach.goto(f"{base}/workouts/{fran.pk}/")
    coach.locator("tr", has_text="Ann A").get_by_role("link", name="Edit").click()
    coach.fill("#id_score", "3:54")
    coach.get_by_role("button", name=re.compile("Save")).first.click()
    expect(coach.locator(".messages")).to_contain_text("Result saved for Ann A")

    ann.reload()
    row = ann.locator("table.leaderboard tr", has_text="Ann A")
    expect(row).to_contain_text("3:54")
    expect(row).to_contain_text("changed by carla")
    with affiliate_context(gyms.a):
        result = Participation.objects.get(workout=fran, member=gyms.ann)
    assert (result.entered_by, result.recorded_by) == ("ann@a.test", "carla@a.test")

    # The owner removes the coach's login: her session ends, and she cannot log in again.
    owner.goto(f"{base}/people/")
    owner.locator("tr", has_text="carla@a.test").get_by_role("link", name="Remove…").click()
    owner.get_by_role("button", name="Remove the login").click()
    expect(owner.locator(".messages")).to_contain_text("The login of carla@a.test is removed")
    coach.goto(f"{base}/workouts/{fran.pk}/")
    expect(coach.locator("h1")).to_have_text("Log in to Gym A")
    log_in(coach, base, "carla@a.test", "carla-strong-pass-8")
    expect(coach.locator(".errorlist")).to_contain_text("do not match a login of this gym")
