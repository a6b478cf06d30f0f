"""Password links and invitations are built from configuration (GYM_BASE_URL and the gym's primary
domain), never from the Host header a visitor sends."""

from __future__ import annotations

import re

import pytest
from django.core import mail
from django.test import Client
from django.urls import reverse

from affiliates.models import Affiliate, Domain
from tests.conftest import client_for, host

pytestmark = [pytest.mark.django_db(transaction=True)]

URLCONF = "fitbuddy.urls_gym"


def _link(message) -> str:
    return re.search(r"\S+://\S+/reset/\S+/\S+/", message.body).group(0)


@pytest.mark.parametrize("port", [":6666", ":80", ":8000"])
def test_the_forgot_password_link_ignores_a_forged_host_port(gyms, settings, port):
    settings.GYM_BASE_URL = "https://{domain}"
    domain = host(gyms.a)
    client = Client(HTTP_HOST=domain + port)  # ALLOWED_HOSTS checks the name, never the port

    response = client.post(reverse("password_reset", urlconf=URLCONF), {"email": "owner_a@gym.test"})

    assert response.status_code == 302
    assert len(mail.outbox) == 1
    assert _link(mail.outbox[0]).startswith(f"https://{domain}/reset/")
    assert port not in mail.outbox[0].body


def test_the_forgot_password_link_uses_the_primary_domain_when_reached_on_another(gyms, settings):
    settings.GYM_BASE_URL = "https://{domain}:8443"
    primary = host(gyms.a)
    Domain.objects.create(domain="other-name.localhost", tenant=gyms.a, is_primary=False)
    Affiliate.objects.clear_host_cache()
    client = Client(HTTP_HOST="other-name.localhost:9999")
    client.post(reverse("password_reset", urlconf=URLCONF), {"email": "owner_a@gym.test"})

    assert _link(mail.outbox[0]).startswith(f"https://{primary}:8443/reset/")


def test_an_invitation_from_the_people_page_ignores_a_forged_port(gyms, settings):
    settings.GYM_BASE_URL = "https://{domain}"
    client = client_for(gyms.a, gyms.owner_a)
    client.defaults["HTTP_HOST"] = host(gyms.a) + ":6666"

    response = client.post(
        reverse("people:list", urlconf=URLCONF), {"email": "new.coach@a.test", "role": "coach", "name": "New"}
    )

    assert response.status_code in (200, 302)
    assert [m.to for m in mail.outbox] == [["new.coach@a.test"]]
    assert _link(mail.outbox[0]).startswith(f"https://{host(gyms.a)}/reset/")
    assert "6666" not in mail.outbox[0].body
