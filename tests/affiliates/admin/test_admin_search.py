"""Support finds a gym the way a caller describes it: its name, a domain, or the owner's contact e-mail."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.urls import reverse

from affiliates.models import Affiliate
from tests.factories import PASSWORD, affiliate_requested

pytestmark = pytest.mark.django_db(transaction=True)


def _found(client, query: str) -> set[str]:
    page = client.get(reverse("admin:affiliates_affiliate_changelist"), {"q": query})
    assert page.status_code == 200
    return {a.slug for a in page.context["cl"].result_list}


def test_support_finds_a_gym_by_its_owners_e_mail_its_domain_or_its_name(client, clean_registry):
    caps = affiliate_requested(name="Caps Barbell", owner_email="boss@caps-gym.com")
    other = affiliate_requested(name="Other Box", owner_email="owner@other.test")
    support = get_user_model().objects.create_user("support", password=PASSWORD, is_staff=True)
    support.groups.add(Group.objects.get(name="Support"))
    client.force_login(support)

    assert _found(client, "boss@caps-gym.com") == {caps.slug}  # the address that calls
    assert _found(client, "BOSS@Caps-Gym.com") == {caps.slug}  # however it is typed
    assert _found(client, f"{other.slug}.localhost") == {other.slug}  # a domain
    assert _found(client, "caps barbell") == {caps.slug}  # the gym's name
    assert _found(client, "nobody@nowhere.test") == set()

    page = client.get(reverse("admin:affiliates_affiliate_change", args=[caps.pk])).content.decode()
    assert "boss@caps-gym.com" in page  # the owner contact is on the gym's page
    assert Affiliate.objects.count() == 2
