"""Logins: throttled on both login pages, and a gym's session is never a command-center session."""

from __future__ import annotations

import pytest
from django.test import Client

from gym.accounts.models import GymLogin
from tests.conftest import host
from tests.factories import PASSWORD, UserFactory, affiliate_provisioned, gym_login, login

pytestmark = pytest.mark.django_db(transaction=True)


def _gym_login(client: Client, username: str, password: str = PASSWORD):
    return client.post("/login/", {"username": username, "password": password})


def test_a_session_from_a_gyms_login_page_does_not_open_the_command_center_or_another_gym(gyms):
    # A FitBuddy staff member who also owns gym A: a staff account in the management database and,
    # with the same e-mail, a login in gym A's database. They log in on gym A's page.
    both = login("both@fitbuddy.test", is_staff=True, is_superuser=True, email="both@fitbuddy.test")
    gym_login(gyms.a, "both@fitbuddy.test", "owner")
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
    owner = login("lockme", gym, GymLogin.Role.OWNER)
    client = Client(HTTP_HOST=host(gym))
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        response = _gym_login(client, owner.email, "wrong-password")
        assert (
            response.status_code == 200
            and "That e-mail and password do not match a login of this gym" in response.content.decode()
        )

    locked = _gym_login(client, owner.email, "wrong-password")
    assert locked.status_code == 429 and "Too many failed logins" in locked.content.decode()
    # Even the right password is refused while locked.
    assert _gym_login(client, owner.email).status_code == 429
    # Another login from the same address is not locked (username and address together).
    other = login("notlocked", gym, GymLogin.Role.COACH)
    assert _gym_login(client, other.email).status_code == 302


def test_failed_logins_lock_the_command_center_login_too(clean_registry, settings):
    staff = UserFactory(username="staffer", is_staff=True)
    client = Client(HTTP_HOST="admin.localhost")
    for _ in range(settings.AXES_FAILURE_LIMIT):
        client.post("/admin/login/", {"username": staff.username, "password": "wrong-password"})
    locked = client.post("/admin/login/", {"username": staff.username, "password": PASSWORD})
    assert locked.status_code == 429 and "Too many failed logins" in locked.content.decode()


def test_a_successful_login_clears_earlier_failures(clean_registry, settings):
    gym = affiliate_provisioned()
    owner = login("forgetful", gym, GymLogin.Role.OWNER)
    client = Client(HTTP_HOST=host(gym))
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        _gym_login(client, owner.email, "wrong-password")
    assert _gym_login(client, owner.email).status_code == 302
    client.post("/logout/")
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        assert _gym_login(client, owner.email, "wrong-password").status_code == 200


def test_a_gym_login_is_its_e_mail_in_any_case_and_staff_accounts_do_not_log_in_on_a_gym(gyms):
    gym = Client(HTTP_HOST=host(gyms.a))
    assert _gym_login(gym, "  Coach_A@GYM.test ").status_code == 302  # case and spaces do not matter
    assert gym.get("/workouts/").status_code == 200

    # The staff account (management database) is no login of the gym, whatever its password.
    staff_try = Client(HTTP_HOST=host(gyms.a))
    assert _gym_login(staff_try, gyms.staff.username).status_code == 200
    assert staff_try.get("/workouts/").status_code == 302
    # And a gym login does not open the command center.
    admin = Client(HTTP_HOST="admin.localhost")
    admin.post("/admin/login/?next=/admin/", {"username": "coach_a@gym.test", "password": PASSWORD})
    assert admin.get("/admin/").status_code == 302


def test_a_lockout_at_one_gym_is_not_one_at_another_and_keeps_no_e_mail_in_the_management_database(gyms, settings):
    from axes.models import AccessAttempt

    same = "twogyms@example.com"
    gym_login(gyms.a, same, "coach")
    gym_login(gyms.b, same, "coach")
    at_a = Client(HTTP_HOST=host(gyms.a))
    for _ in range(settings.AXES_FAILURE_LIMIT):
        _gym_login(at_a, same, "wrong-password")
    assert _gym_login(at_a, same).status_code == 429

    assert _gym_login(Client(HTTP_HOST=host(gyms.b)), same).status_code == 302  # gym B's login is its own
    usernames = list(AccessAttempt.objects.values_list("username", flat=True))
    assert usernames and not any("@" in name for name in usernames), usernames
