"""The upgrade that moves gym logins out of the management database into each gym's own."""

from __future__ import annotations

import io

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import Client

from affiliates.models import Affiliate, Membership
from affiliates.routing.context import affiliate_context
from gym.accounts.models import GymLogin
from tests.conftest import host
from tests.factories import PASSWORD, affiliate_requested, gym_login, legacy_membership

pytestmark = pytest.mark.django_db(transaction=True)


def logins_of(affiliate: Affiliate) -> dict[str, tuple[str, str]]:
    with affiliate_context(affiliate.pk):
        return {g.email: (g.role, g.name) for g in GymLogin.objects.all()}


def upgrade() -> str:
    out, err = io.StringIO(), io.StringIO()
    try:
        call_command("gym_logins_upgrade", stdout=out, stderr=err)
    except CommandError as exc:
        return f"{out.getvalue()}{err.getvalue()}FAILED: {exc}"
    return out.getvalue()


def test_the_upgrade_moves_memberships_with_their_passwords_keeps_what_it_cannot_and_runs_again(gyms):
    # A registry shaped like before this release: Django users tied to their gyms by memberships.
    User = get_user_model()
    legacy_membership(gyms.a, "olivia", "owner", email="Olivia@Gym-A.test", first_name="Olivia", last_name="Owens")
    carl = legacy_membership(gyms.a, "carl", "coach", email="carl@gyms.test")
    Membership.objects.create(affiliate=gyms.b, user=carl, role="admin")  # works at two gyms
    sam = legacy_membership(gyms.b, "sam", "owner", email="sam@fitbuddy.test", is_staff=True)  # staff too
    legacy_membership(gyms.a, "nomail", "coach")  # no address to log in with
    not_yet = affiliate_requested()  # its database does not exist yet
    legacy_membership(not_yet, "early", "owner", email="early@gym.test")
    # A crash after a login was written but before its membership was deleted: the gym has it already,
    # and its password has been changed in the gym since.
    gym_login(gyms.b, "carl@gyms.test", "admin", password="changed-in-the-gym-9")

    first = upgrade()

    assert "FAILED: 2 membership(s) were kept" in first
    assert "nomail has no e-mail address" in first and f"{not_yet.slug}: early (requested" in first
    assert logins_of(gyms.a) == {
        "coach_a@gym.test": ("coach", ""),
        "owner_a@gym.test": ("owner", ""),
        "admin_a@gym.test": ("admin", ""),
        "olivia@gym-a.test": ("owner", "Olivia Owens"),
        "carl@gyms.test": ("coach", ""),
    }
    assert logins_of(gyms.b)["carl@gyms.test"] == ("admin", "") and logins_of(gyms.b)["sam@fitbuddy.test"][0] == "owner"
    # The password hashes came along: the old passwords log in on each gym's host.
    for affiliate, email, password in (
        (gyms.a, "olivia@gym-a.test", PASSWORD),
        (gyms.a, "carl@gyms.test", PASSWORD),
        (gyms.b, "carl@gyms.test", "changed-in-the-gym-9"),  # the gym's own, newer password was kept
    ):
        client = Client(HTTP_HOST=host(affiliate))
        assert client.post("/login/", {"username": email, "password": password}).status_code == 302, email
    # What moved left the management database; what could not move stayed, with its user.
    assert set(Membership.objects.values_list("user__username", flat=True)) == {"nomail", "early"}
    assert not User.objects.filter(username__in=["olivia", "carl"]).exists()
    assert User.objects.filter(pk=sam.pk, is_staff=True).exists()  # a staff account stays, without the gym
    assert Affiliate.objects.get(pk=gyms.a.pk).contact_email == "olivia@gym-a.test"

    # Run again: nothing changes, nothing is lost.
    again = upgrade()
    assert "0 login(s) moved, 0 already in their gym" in again
    assert set(Membership.objects.values_list("user__username", flat=True)) == {"nomail", "early"}

    # Once the last two are dealt with, the management database holds no gym login at all.
    User.objects.filter(username="nomail").update(email="nomail@gym-a.test")
    Membership.objects.filter(affiliate=not_yet).delete()
    done = upgrade()
    assert "FAILED" not in done and "1 login(s) moved" in done
    assert not Membership.objects.exists()
    assert set(User.objects.values_list("username", flat=True)) <= {"staff", "sam", "early"}
    assert not User.objects.filter(is_staff=False, email__iendswith="gym-a.test").exists()
