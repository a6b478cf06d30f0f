"""Logins: throttled on both login pages, and a gym's session is never a command-center session."""

from __future__ import annotations

import pytest
from django.test import Client

from affiliates.models import Membership
from tests.conftest import host
from tests.factories import PASSWORD, UserFactory, affiliate_provisioned, login

pytestmark = pytest.mark.django_db(transaction=True)


def _gym_login(client: Client, username: str, password: str = PASSWORD):
    return client.post("/login/", {"username": username, "password": password})


def test_a_session_from_a_gyms_login_page_does_not_open_the_command_center_or_another_gym(gyms):
    # A FitBuddy staff member who is also a member of gym A logs in on gym A's page.
    both = login("both", gyms.a, Membership.Role.OWNER, is_staff=True, is_superuser=True)
    gym = Client(HTTP_HOST=host(gyms.a))
    assert _gym_login(gym, both.username).status_code == 302
    assert gym.get("/members/").status_code == 200
    stolen = gym.cookies["sessionid"].value

    command_center = Client(HTTP_HOST="admin.localhost")
    command_center.cookies["sessionid"] = stolen
    page = command_center.get("/admin/")
    assert page.status_code == 302 and "/admin/login/" in page["Location"]  # not logged in there

    other_gym = Client(HTTP_HOST=host(gyms.b))
    other_gym.cookies["sessionid"] = stolen
    assert other_gym.get("/members/").status_code == 302  # to gym B's login page

    # The other way round: a command-center session is no gym session either.
    admin = Client(HTTP_HOST="admin.localhost")
    assert (
        admin.post("/admin/login/?next=/admin/", {"username": both.username, "password": PASSWORD}).status_code == 302
    )
    assert admin.get("/admin/").status_code == 200
    gym_again = Client(HTTP_HOST=host(gyms.a))
    gym_again.cookies["sessionid"] = admin.cookies["sessionid"].value
    assert gym_again.get("/members/").status_code == 302


def test_failed_logins_lock_the_gym_login_page_with_a_clear_message(clean_registry, settings):
    gym = affiliate_provisioned()
    owner = login("lockme", gym, Membership.Role.OWNER)
    client = Client(HTTP_HOST=host(gym))
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        response = _gym_login(client, owner.username, "wrong-password")
        assert (
            response.status_code == 200 and "Please enter a correct username and password" in response.content.decode()
        )

    locked = _gym_login(client, owner.username, "wrong-password")
    assert locked.status_code == 429 and "Too many failed logins" in locked.content.decode()
    # Even the right password is refused while locked.
    assert _gym_login(client, owner.username).status_code == 429
    # Another login from the same address is not locked (username and address together).
    other = login("notlocked", gym, Membership.Role.COACH)
    assert _gym_login(client, other.username).status_code == 302


def test_failed_logins_lock_the_command_center_login_too(clean_registry, settings):
    staff = UserFactory(username="staffer", is_staff=True)
    client = Client(HTTP_HOST="admin.localhost")
    for _ in range(settings.AXES_FAILURE_LIMIT):
        client.post("/admin/login/", {"username": staff.username, "password": "wrong-password"})
    locked = client.post("/admin/login/", {"username": staff.username, "password": PASSWORD})
    assert locked.status_code == 429 and "Too many failed logins" in locked.content.decode()


def test_a_successful_login_clears_earlier_failures(clean_registry, settings):
    gym = affiliate_provisioned()
    owner = login("forgetful", gym, Membership.Role.OWNER)
    client = Client(HTTP_HOST=host(gym))
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        _gym_login(client, owner.username, "wrong-password")
    assert _gym_login(client, owner.username).status_code == 302
    client.post("/logout/")
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        assert _gym_login(client, owner.username, "wrong-password").status_code == 200
