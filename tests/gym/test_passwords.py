"""Owners and coaches set their own passwords: an invitation for a new gym's owner, "forgot your
password?" on the gym's login page, and a link staff send again from the command center."""

from __future__ import annotations

import re

import pytest
from django.contrib.auth import get_user_model
from django.core import mail
from django.test import Client
from django.urls import reverse

from affiliates.models import AffiliateEvent, StaffAudit
from affiliates.operations import provisioning
from tests.conftest import host
from tests.factories import PASSWORD, new_slug

pytestmark = pytest.mark.django_db(transaction=True)

NEW_PASSWORD = "a-new-long-password-7"


def link_in(message) -> str:
    return re.search(r"https?://\S+/reset/\S+/\S+/", message.body).group(0)


def set_password(client: Client, link: str, password: str = NEW_PASSWORD) -> None:
    path = "/" + link.split("/", 3)[3]
    step = client.get(path)  # Django moves the token into the session and redirects
    assert step.status_code == 302
    form = client.get(step["Location"])
    assert "Set your password" in form.content.decode()
    done = client.post(step["Location"], {"new_password1": password, "new_password2": password})
    assert done.status_code == 302 and done["Location"].endswith("/reset/done/")


def test_a_new_gyms_owner_sets_a_password_from_the_invitation_and_logs_in(clean_registry, settings):
    settings.GYM_BASE_URL = "http://{domain}:8000"
    slug = new_slug()
    gym = provisioning.affiliate_request(
        slug=slug, name="New Gym", domain=f"{slug}.localhost", owner_email="boss@newgym.test", enqueue=False
    )
    provisioning.affiliate_provision(affiliate_id=gym.pk)

    assert len(mail.outbox) == 1
    invitation = mail.outbox[0]
    assert invitation.to == ["boss@newgym.test"] and "New Gym" in invitation.subject
    link = link_in(invitation)
    assert link.startswith(f"http://{slug}.localhost:8000/reset/")
    event = AffiliateEvent.objects.get(affiliate=gym, step="invite_owner")
    assert event.outcome == "succeeded" and "boss@newgym.test" in event.detail

    client = Client(HTTP_HOST=host(gym))
    set_password(client, link)
    logged_in = client.post("/login/", {"username": "boss@newgym.test", "password": NEW_PASSWORD})
    assert logged_in.status_code == 302
    assert client.get("/").status_code == 200
    # The link worked once.
    again = client.get("/" + link.split("/", 3)[3], follow=True)
    assert "This link no longer works" in again.content.decode()


def test_forgot_password_on_the_gym_page_mails_only_this_gyms_logins(gyms):
    client = Client(HTTP_HOST=host(gyms.a))
    assert "Forgot your password?" in client.get("/login/").content.decode()
    gyms.owner_a.email = "owner.a@gym.test"
    gyms.owner_a.save()
    gyms.owner_b.email = "owner.b@gym.test"
    gyms.owner_b.save()

    for address in ("owner.b@gym.test", "nobody@gym.test"):  # another gym's login, and no login at all
        response = client.post(reverse("password_reset", urlconf="fitbuddy.urls_gym"), {"email": address})
        assert response.status_code == 302  # the same answer either way: addresses are not disclosed
    assert mail.outbox == []

    client.post(reverse("password_reset", urlconf="fitbuddy.urls_gym"), {"email": "OWNER.A@gym.test"})
    assert len(mail.outbox) == 1 and mail.outbox[0].to == ["owner.a@gym.test"]
    link = link_in(mail.outbox[0])
    assert link.startswith(f"http://{host(gyms.a)}/reset/")
    set_password(client, link)
    user = get_user_model().objects.get(pk=gyms.owner_a.pk)
    assert user.check_password(NEW_PASSWORD) and not user.check_password(PASSWORD)


def test_staff_send_the_owners_a_password_link_from_the_command_center(gyms, settings):
    settings.GYM_BASE_URL = "https://{domain}"
    gyms.owner_a.email = "owner.a@gym.test"
    gyms.owner_a.save()
    client = Client(HTTP_HOST="admin.localhost")
    client.force_login(gyms.staff)
    response = client.post(
        reverse("admin:affiliates_affiliate_changelist"),
        {"action": "send_password_links", "_selected_action": [gyms.a.pk]},
        follow=True,
    )
    assert "1 password link sent." in response.content.decode()
    assert [m.to for m in mail.outbox] == [["owner.a@gym.test"]]
    domain = gyms.a.domains.get().domain
    assert link_in(mail.outbox[0]).startswith(f"https://{domain}/reset/")
    assert StaffAudit.objects.filter(
        pk__gt=gyms.audit_from, action="password_link", target=gyms.a.slug, actor=gyms.staff.username
    ).exists()
