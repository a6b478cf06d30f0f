"""Inputs an attacker sent to a running FitBuddy that ended in a 500: each is now a clear 4xx (or the
form again, with its error) and changes nothing."""

from __future__ import annotations

import pytest
from django.contrib import admin
from django.test import Client

from affiliates.admin_site import InputGuard
from affiliates.models import Affiliate, StaffAudit
from tests.conftest import host

pytestmark = [pytest.mark.django_db(transaction=True)]

LONG_NAME = "a" * 256


def _staff_client(gyms) -> Client:
    client = Client(HTTP_HOST="admin.localhost", raise_request_exception=False)
    client.force_login(gyms.staff)
    return client


@pytest.mark.parametrize("username", [LONG_NAME, "a" * 300 + "@example.com", "b" * 5000])
def test_a_long_username_on_the_command_center_login_is_refused_with_a_message(gyms, username):
    client = Client(HTTP_HOST="admin.localhost", raise_request_exception=False)

    response = client.post("/admin/login/", {"username": username, "password": "x"})

    assert response.status_code == 200
    assert "Ensure this value has at most 150 characters" in response.content.decode()
    assert "_auth_user_id" not in client.session


@pytest.mark.parametrize("username", [LONG_NAME, LONG_NAME + "@example.com", "x@" + "a" * 300 + ".test"])
def test_a_long_username_on_a_gyms_login_is_refused_with_a_message(gyms, username):
    client = Client(HTTP_HOST=host(gyms.a), raise_request_exception=False)

    response = client.post("/login/", {"username": username, "password": "x"})

    assert response.status_code == 200
    assert "Ensure this value has at most 254 characters" in response.content.decode()


def test_the_throttle_keeps_a_long_staff_name_under_a_key_axes_can_store():
    from affiliates.people.throttle import MAX_KEY_LENGTH, login_key

    key = login_key(None, "a" * 1000)
    assert len(key) <= MAX_KEY_LENGTH and key == login_key(None, "a" * 1000) != login_key(None, "a" * 999)
    assert login_key(None, "staff") == "staff"


@pytest.mark.parametrize(
    "query",
    [
        "created_at__gte=99999-01-01",
        "created_at__year=999999999",
        "created_at__year=99999999999999999999",  # past a C long, too
        "created_at__year__gte=999999999",
        "created_at__date=99999-01-01",
    ],
)
@pytest.mark.parametrize("changelist", ["affiliates/affiliate", "affiliates/affiliateevent", "affiliates/staffaudit"])
def test_an_impossible_date_filter_on_a_changelist_is_a_400_saying_why(gyms, changelist, query):
    response = _staff_client(gyms).get(f"/admin/{changelist}/?{query}")

    assert response.status_code == 400
    page = response.content.decode()
    assert "The filter in the address cannot be applied to this list" in page
    assert "Show the whole list" in page


def test_djangos_own_changelists_are_guarded_too(gyms):
    response = _staff_client(gyms).get("/admin/auth/user/?date_joined__year=999999999")

    assert response.status_code == 400
    assert "cannot be applied" in response.content.decode()


def test_every_model_admin_of_the_command_center_is_guarded():
    unguarded = [
        model.__name__ for model, model_admin in admin.site._registry.items() if not isinstance(model_admin, InputGuard)
    ]
    assert not unguarded


@pytest.mark.parametrize("selection", ["abc", "1.5", "", "1 OR 1=1"])
def test_a_bulk_action_on_a_selection_that_is_no_id_does_nothing_and_says_so(gyms, selection):
    client = _staff_client(gyms)
    audit_before = StaffAudit.objects.count()

    response = client.post(
        "/admin/affiliates/affiliate/",
        {"action": "suspend", "_selected_action": [str(gyms.a.pk), selection], "index": "0"},
        follow=True,
    )

    assert response.status_code == 200
    assert "Nothing was done: the selection" in response.content.decode()
    assert Affiliate.objects.get(pk=gyms.a.pk).status == Affiliate.Status.ACTIVE
    assert StaffAudit.objects.count() == audit_before


def test_a_nul_in_the_restore_forms_server_shows_the_form_again_and_queues_nothing(gyms):
    Affiliate.objects.filter(pk=gyms.b.pk).update(status=Affiliate.Status.ARCHIVED, status_detail="archived")
    client = _staff_client(gyms)

    response = client.post(
        "/admin/affiliates/affiliate/",
        {"action": "restore", "_selected_action": str(gyms.b.pk), "server": "a\x00b", "confirmed": "yes"},
    )

    assert response.status_code == 200
    assert "Database server: Null characters are not allowed." in response.content.decode()
    assert Affiliate.objects.get(pk=gyms.b.pk).status_detail == "archived"
