"""A gym admin's evening in real headless Chromium: log in, create a workout, record results, read the board."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from django.conf import settings
from django.core import mail
from django.test import override_settings
from playwright.sync_api import expect, sync_playwright

from affiliates.operations import provisioning
from affiliates.routing.context import affiliate_context
from gym.members.models import Member
from tests.conftest import host
from tests.factories import PASSWORD, new_slug

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.browser]

CHROMIUM = "/usr/bin/chromium"
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture
def page(monkeypatch):
    # Playwright's sync API keeps an event loop on this thread; the test's own ORM calls are
    # still synchronous (Playwright's documented Django workaround).
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=ARGS)
        context = browser.new_context(viewport={"width": 1280, "height": 900})
        page = context.new_page()
        page.set_default_timeout(15_000)
        yield page
        browser.close()
        forget_connections_of_this_loop()


def forget_connections_of_this_loop() -> None:
    """Close the database connections this thread opened while Playwright's event loop ran.

    Django keeps connections per context: those opened under Playwright's loop are not the ones the
    next test's fixtures see and close, and a later loop would find them again, dead once the gym's
    database has been made again (the gym pair is, for every test). The aliases stay registered:
    the next test's fixtures close their own context's connections through them."""
    from django.db import connections

    for alias in connections.settings:
        connections[alias].close()
        try:
            delattr(connections._connections, alias)  # Django's per-context store of open connections
        except AttributeError:
            pass


def test_log_in_create_a_workout_record_results_and_read_the_ranked_board(gyms, live_server, page):
    with affiliate_context(gyms.a):
        Member.objects.create(first_name="Cleo", last_name="C", email="cleo@a.test", gender="F")
    base = f"http://{host(gyms.a)}:{live_server.url.rsplit(':', 1)[1]}"

    page.goto(f"{base}/")
    expect(page).to_have_url(f"{base}/login/?next=/")
    page.fill("#id_username", "owner_a@gym.test")
    page.fill("#id_password", PASSWORD)
    page.click("button[type=submit]")
    expect(page.locator("h1")).to_have_text("Dashboard")

    page.click("text=New workout")
    page.fill("#id_name", "Browser Fran")
    page.fill("#id_scheduled_on", "2026-03-10")
    page.select_option("#id_score_type", "time")
    page.fill("#id_time_cap", "10:00")
    page.fill("#id_reps_per_round", "90")
    page.select_option("#id_movements-0-exercise", label="Back Squat")
    page.fill("#id_movements-0-prescription", "21-15-9")
    page.click("text=Save workout")
    expect(page.locator("h1")).to_have_text("Browser Fran")

    for member, level, score in [("Ann A", "rx", "3:10"), ("Al A", "rx", "CAP+12"), ("Cleo C", "scaled", "2:50")]:
        page.select_option("#id_member", label=member)
        page.select_option("#id_scaling_level", level)
        page.fill("#id_score", score)
        page.click("text=Save result")
        expect(page.locator(".messages")).to_contain_text(f"Result saved for {member}")

    # Ann already has a result: the page says which, and asks before replacing it.
    page.select_option("#id_member", label="Ann A")
    page.fill("#id_score", "12:99")
    page.click("text=Save result")
    expect(page.locator(".errorlist")).to_contain_text("Ann A already has a result on this workout: 3:10 (Rx)")
    page.check("#id_replace")
    page.click("text=Save result")
    expect(page.locator(".errorlist")).to_contain_text("seconds must be below 60")

    page.click("text=Leaderboard")
    rows = page.locator("table.leaderboard tbody tr")
    expect(rows).to_have_count(3)
    board = [[cell.strip() for cell in rows.nth(i).locator("td").all_inner_texts()][:4] for i in range(3)]
    assert board == [
        ["1", "Ann A", "Rx", "3:10"],
        ["2", "Al A", "Rx", "CAP+12"],
        ["3", "Cleo C", "Scaled", "2:50"],
    ]
    page.select_option("#level", "scaled")
    page.click("text=Filter")
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("Cleo C")
    shots = Path(settings.BASE_DIR) / ".local"
    shots.mkdir(exist_ok=True)
    page.screenshot(path=str(shots / "leaderboard.png"), full_page=True)


def test_an_outsider_sees_no_data_in_the_browser(gyms, live_server, page):
    base = f"http://{host(gyms.a)}:{live_server.url.rsplit(':', 1)[1]}"
    page.goto(f"{base}/login/")
    # Gym B's owner, with gym B's password, on gym A's page: gym A has no such login.
    page.fill("#id_username", "owner_b@gym.test")
    page.fill("#id_password", PASSWORD)
    page.click("button[type=submit]")
    expect(page.locator(".errorlist")).to_contain_text("do not match a login of this gym")
    page.goto(f"{base}/members/")
    expect(page.locator("h1")).to_have_text("Log in to Gym A")
    expect(page.locator("body")).not_to_contain_text("ann@a.test")


def test_a_new_gyms_owner_sets_a_password_from_the_invitation_in_the_browser(
    clean_registry, live_server, page, settings
):
    port = live_server.url.rsplit(":", 1)[1]
    slug = new_slug()
    gym = provisioning.affiliate_request(
        slug=slug, name="Brand New Box", domain=f"{slug}.localhost", owner_email="boss@brandnew.test", enqueue=False
    )
    with override_settings(GYM_BASE_URL="http://{domain}:" + port):  # the live server's port in the link
        provisioning.affiliate_provision(affiliate_id=gym.pk)
    link = re.search(r"http://\S+/reset/\S+/\S+/", mail.outbox[-1].body).group(0)

    page.goto(link)
    expect(page.locator("h1")).to_have_text("Set your password")
    page.fill("#id_new_password1", "a-brand-new-password-9")
    page.fill("#id_new_password2", "a-brand-new-password-9")
    page.click("text=Set password")
    expect(page.locator("h1")).to_have_text("Password set")
    page.click("text=Log in")
    page.fill("#id_username", "boss@brandnew.test")
    page.fill("#id_password", "a-brand-new-password-9")
    page.click("button[type=submit]")
    expect(page.locator("h1")).to_have_text("Dashboard")

    # "Forgot your password?" from the login page sends another link.
    page.click("text=Log out")
    page.goto(f"http://{slug}.localhost:{port}/login/")
    page.click("text=Forgot your password?")
    page.fill("#id_email", "boss@brandnew.test")
    page.click("text=Send the link")
    expect(page.locator("h1")).to_have_text("Check your e-mail")
    assert mail.outbox[-1].to == ["boss@brandnew.test"] and "/reset/" in mail.outbox[-1].body
