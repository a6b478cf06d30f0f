"""Who may press the command center's dangerous buttons, and the audit trail of what staff did."""

from __future__ import annotations

import re

import psycopg
import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.db import connection
from django.urls import reverse

from affiliates.models import Affiliate, MigrationRun, StaffAudit
from affiliates.people import staff
from tests.factories import PASSWORD, UserFactory, affiliate_provisioned

pytestmark = pytest.mark.django_db(transaction=True)

DANGEROUS = [
    "provision_or_retry",
    "suspend",
    "resume",
    "migrate_to_latest",
    "check_for_drift",
    "archive",
    "restore",
    "send_password_links",
    "move_to_server",
]


def staff_client(client, group: str | None, username: str):
    user = get_user_model().objects.create_user(username, password=PASSWORD, is_staff=True)
    if group:
        user.groups.add(Group.objects.get(name=group))
    client.force_login(user)
    return client


def offered_actions(client) -> set[str]:
    page = client.get(reverse("admin:affiliates_affiliate_changelist")).content.decode()
    return set(re.findall(r'<option value="(\w+)"', page)) - {""}


def test_the_staff_groups_hold_the_documented_permissions():
    def perms(name):
        group = Group.objects.get(name=name)
        return {f"{p.content_type.app_label}.{p.codename}" for p in group.permissions.select_related("content_type")}

    dangerous = {staff.PROVISION, staff.SUSPEND, staff.MIGRATE, staff.ARCHIVE}
    assert perms("Support") & dangerous == set()
    assert "affiliates.view_affiliate" in perms("Support") and "affiliates.view_staffaudit" in perms("Support")
    assert perms("Operators") & dangerous == {staff.PROVISION, staff.SUSPEND, staff.MIGRATE}
    assert perms("Administrators") & dangerous == dangerous
    assert {"affiliates.add_databaseserver", "auth.change_user"} <= perms("Administrators")
    assert "auth.change_user" not in perms("Operators")


def test_view_only_staff_are_offered_nothing_dangerous_and_forged_posts_change_nothing(client, clean_registry):
    gym = affiliate_provisioned()
    support = staff_client(client, "Support", "support")
    url = reverse("admin:affiliates_affiliate_changelist")

    assert client.get(url).status_code == 200  # they can look
    assert offered_actions(support) & set(DANGEROUS) == set()
    assert client.get(reverse("admin:affiliates_affiliate_add")).status_code == 403

    for action in DANGEROUS:
        client.post(url, {"action": action, "_selected_action": [gym.pk], "confirmed": "yes"})
    gym.refresh_from_db()
    assert gym.status == "active"
    assert not MigrationRun.objects.exists()
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1 FROM pg_database WHERE datname = %s", [gym.database_name])
        assert cursor.fetchone()
    done = StaffAudit.objects.filter(actor="support").exclude(outcome="refused")
    assert not done.exists()


def test_operators_suspend_and_migrate_but_cannot_archive(client, clean_registry):
    gym = affiliate_provisioned()
    operator = staff_client(client, "Operators", "operator")
    url = reverse("admin:affiliates_affiliate_changelist")

    assert offered_actions(operator) >= {"provision_or_retry", "suspend", "resume", "migrate_to_latest"}
    assert {"archive", "restore"} & offered_actions(operator) == set()

    client.post(url, {"action": "archive", "_selected_action": [gym.pk], "confirmed": "yes"})
    assert Affiliate.objects.get(pk=gym.pk).status == "active"

    response = client.post(url, {"action": "suspend", "_selected_action": [gym.pk]}, follow=True)
    assert "1 affiliate suspended." in response.content.decode()
    record = StaffAudit.objects.get(action="suspend", target=gym.slug)
    assert (record.actor, record.channel, record.outcome) == ("operator", "admin", "succeeded")


def test_the_action_checks_again_even_when_called_past_the_admin_filter(rf, clean_registry):
    """The permission is enforced in the code that acts, not only by hiding the button."""
    from django.contrib.admin.sites import site
    from django.core.exceptions import PermissionDenied

    gym = affiliate_provisioned()
    request = rf.post("/")
    request.user = UserFactory(is_staff=True)
    request.user.groups.add(Group.objects.get(name="Operators"))
    model_admin = site._registry[Affiliate]

    with pytest.raises(PermissionDenied):
        model_admin.archive(request, Affiliate.objects.filter(pk=gym.pk))
    assert Affiliate.objects.get(pk=gym.pk).status == "active"
    assert StaffAudit.objects.filter(action="archive_affiliate", outcome="refused").exists()


def test_retrying_a_run_needs_the_migrate_permission(client, clean_registry):
    run = MigrationRun.objects.create(kind="migrate", status="stopped", target_version="3", started_by="someone")
    staff_client(client, "Support", "support2")

    client.post(
        reverse("admin:affiliates_migrationrun_changelist"), {"action": "retry_failed", "_selected_action": [run.pk]}
    )

    run.refresh_from_db()
    assert run.status == "stopped"


def test_operators_help_a_gyms_login_and_it_is_audited_by_number(client, clean_registry):
    from gym.accounts.models import GymLogin
    from tests.factories import gym_login

    gym = affiliate_provisioned()
    coach = gym_login(gym, "coach@gym.test", GymLogin.Role.COACH)
    staff_client(client, "Operators", "helper")

    response = client.post(
        reverse("admin:affiliates_login_help", args=[gym.pk]),
        {"email": "coach@gym.test", "action": "link"},
        follow=True,
    )
    assert response.status_code == 200 and f"login #{coach.pk} (coach)" in response.content.decode()
    trail = list(StaffAudit.objects.filter(actor="helper", target=gym.slug).values_list("action", "detail"))
    assert trail == [("login_link", f"login #{coach.pk}")]


def test_the_audit_trail_is_append_only(client, clean_registry):
    record = StaffAudit.objects.create(actor="someone", channel="command", action="suspend", outcome="succeeded")
    admin_user = get_user_model().objects.create_superuser("root", "root@fitbuddy.localhost", PASSWORD)
    client.force_login(admin_user)

    page = client.get(reverse("admin:affiliates_staffaudit_change", args=[record.pk])).content.decode()
    assert 'name="_save"' not in page
    assert (
        client.post(reverse("admin:affiliates_staffaudit_delete", args=[record.pk]), {"post": "yes"}).status_code == 403
    )
    assert client.get(reverse("admin:affiliates_staffaudit_add")).status_code == 403

    with connection.cursor() as cursor:
        for statement in (
            "UPDATE master.staff_audit SET actor = 'nobody' WHERE id = %s",
            "DELETE FROM master.staff_audit WHERE id = %s",
        ):
            with pytest.raises(Exception, match="append-only"):
                cursor.execute(statement, [record.pk])
    with pytest.raises(psycopg.errors.InsufficientPrivilege):
        with psycopg.connect(connection.connection.info.dsn, password=connection.settings_dict["PASSWORD"]) as conn:
            conn.execute("TRUNCATE master.staff_audit")
    assert StaffAudit.objects.get(pk=record.pk).actor == "someone"
