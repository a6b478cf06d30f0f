"""The command center in real headless Chromium: staff act in bulk, and view-only staff cannot."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from playwright.sync_api import expect, sync_playwright

from affiliates.models import Affiliate, AffiliateBackup, BackupDrill, StaffAudit
from affiliates.operations import load
from tests.factories import PASSWORD, affiliate_provisioned
from tests.gym.test_browser import ARGS, CHROMIUM, forget_connections_of_this_loop

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.browser]


@pytest.fixture
def page(monkeypatch):
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=ARGS)
        page = browser.new_context(viewport={"width": 1280, "height": 900}).new_page()
        page.set_default_timeout(15_000)
        yield page
        browser.close()
        forget_connections_of_this_loop()


def log_in(page, base: str, username: str) -> None:
    page.goto(f"{base}/admin/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", PASSWORD)
    page.click("input[type=submit]")
    expect(page.locator("#site-name")).to_contain_text("FitBuddy command center")


def staff(username: str, group: str):
    user = get_user_model().objects.create_user(username, password=PASSWORD, is_staff=True)
    user.groups.add(Group.objects.get(name=group))
    return user


def test_an_administrator_suspends_two_gyms_then_archives_one_after_confirming(
    live_server, page, clean_registry, settings, tmp_path
):
    settings.BACKUP_DIR = tmp_path
    audit_from = StaffAudit.objects.order_by("-pk").values_list("pk", flat=True).first() or 0  # append-only
    gyms = [affiliate_provisioned() for _ in range(2)]
    staff("ada", "Administrators")
    base = f"http://admin.localhost:{live_server.url.rsplit(':', 1)[1]}"
    log_in(page, base, "ada")

    page.goto(f"{base}/admin/affiliates/affiliate/")
    for gym in gyms:
        page.locator("tr", has_text=gym.slug).locator("input.action-select").check()
    page.select_option("select[name=action]", "suspend")
    page.click("button[name=index]")
    expect(page.locator(".messagelist")).to_contain_text("2 affiliates suspended.")

    page.locator("tr", has_text=gyms[0].slug).locator("input.action-select").check()
    page.select_option("select[name=action]", "archive")
    page.click("button[name=index]")
    expect(page.locator("h1")).to_have_text("Archive affiliates?")
    expect(page.locator("#content")).to_contain_text(gyms[0].database_name)
    expect(page.locator("#content")).to_contain_text(str(tmp_path))
    assert Affiliate.objects.get(pk=gyms[0].pk).status == "suspended"  # nothing dropped yet
    page.click("input[type=submit]")
    expect(page.locator(".messagelist")).to_contain_text("1 affiliate archived.")

    assert Affiliate.objects.get(pk=gyms[0].pk).status == "archived"
    assert Affiliate.objects.get(pk=gyms[1].pk).status == "suspended"
    assert StaffAudit.objects.filter(pk__gt=audit_from, actor="ada", action="archive", outcome="succeeded").count() == 1

    page.click("text=Fleet overview")
    expect(page.locator("#by-status")).to_contain_text("archived")
    expect(page.locator("#servers")).to_contain_text("local")


def test_support_staff_see_the_fleet_but_no_dangerous_action(live_server, page, clean_registry):
    gym = affiliate_provisioned()
    staff("sam", "Support")
    base = f"http://admin.localhost:{live_server.url.rsplit(':', 1)[1]}"
    log_in(page, base, "sam")

    page.goto(f"{base}/admin/affiliates/affiliate/")
    expect(page.locator("#result_list")).to_contain_text(gym.slug)
    assert page.locator("select[name=action]").count() == 0  # no action to choose at all
    expect(page.locator("text=Add affiliate")).to_have_count(0)
    page.click("text=Fleet overview")
    expect(page.locator("#attention-behind")).to_contain_text("0 affiliates behind")


def test_every_command_center_page_fits_a_phone(live_server, page, clean_registry):
    """Support answers a gym's call from a phone too: no page is wider than a 390 px screen."""
    gym = affiliate_provisioned()
    load.load_collect()
    load.load_collect()  # the gym load page's lists have a row (rates need two readings)
    long_path = f"s3://fitbuddy-backups-production/affiliates/{gym.slug}/20260301T021500.123456Z.dump"
    backup = AffiliateBackup.objects.create(
        affiliate=gym, kind="nightly", outcome="succeeded", location=long_path, sha256="ab" * 32, size_bytes=10**6
    )
    BackupDrill.objects.create(affiliate=gym, backup=backup, outcome="failed", error="pg_restore: " + "x" * 300)
    get_user_model().objects.create_superuser("phone_staff", "phone@fitbuddy.localhost", PASSWORD)
    page.set_viewport_size({"width": 390, "height": 844})
    base = f"http://admin.localhost:{live_server.url.rsplit(':', 1)[1]}"
    log_in(page, base, "phone_staff")
    too_wide = {}
    for url in (
        "/admin/",
        "/admin/affiliates/affiliate/",
        "/admin/affiliates/affiliate/fleet/",
        "/admin/affiliates/affiliate/load/",
        f"/admin/affiliates/affiliate/{gym.pk}/change/",
        "/admin/affiliates/databaseserver/",
        "/admin/affiliates/migrationrun/",
        "/admin/affiliates/affiliateevent/",
        "/admin/affiliates/staffaudit/",
        "/admin/affiliates/affiliatebackup/",
        "/admin/affiliates/backupdrill/",
        "/admin/auth/user/",
    ):
        page.goto(base + url)
        width = page.evaluate("document.documentElement.scrollWidth")
        if width > 390:
            too_wide[url] = width
    assert too_wide == {}
