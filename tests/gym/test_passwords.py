"""Owners and coaches set their own passwords: an invitation for a new gym's owner, "forgot your
password?" on the gym's login page, and a link staff send again from the command center."""

from __future__ import annotations

import re

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core import mail
from django.test import Client
from django.urls import reverse

from affiliates.models import AffiliateEvent, StaffAudit
from affiliates.operations import provisioning
from affiliates.routing.context import affiliate_context
from gym.accounts.models import GymLogin
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
    assert event.outcome == "succeeded" and "1 owner login" in event.detail
    assert "boss@newgym.test" not in event.detail  # the gym's people are not written into the registry

    client = Client(HTTP_HOST=host(gym))
    set_password(client, link)
    logged_in = client.post("/login/", {"username": "boss@newgym.test", "password": NEW_PASSWORD})
    assert logged_in.status_code == 302
    assert client.get("/").status_code == 200
    # The link worked once.
    again = client.get("/" + link.split("/", 3)[3], follow=True)
    assert "This link no longer works" in again.content.decode()


def test_forgot_password_on_the_gym_page_mails_only_this_gyms_logins(gyms, settings):
    settings.GYM_BASE_URL = "http://{domain}"
    client = Client(HTTP_HOST=host(gyms.a))
    assert "Forgot your password?" in client.get("/login/").content.decode()

    for address in ("owner_b@gym.test", "nobody@gym.test"):  # another gym's login, and no login at all
        response = client.post(reverse("password_reset", urlconf="fitbuddy.urls_gym"), {"email": address})
        assert response.status_code == 302  # the same answer either way: addresses are not disclosed
    assert mail.outbox == []

    client.post(reverse("password_reset", urlconf="fitbuddy.urls_gym"), {"email": "OWNER_A@gym.test"})
    assert len(mail.outbox) == 1 and mail.outbox[0].to == ["owner_a@gym.test"]
    link = link_in(mail.outbox[0])
    assert link.startswith(f"http://{host(gyms.a)}/reset/")
    set_password(client, link)
    with affiliate_context(gyms.a):
        login = GymLogin.objects.get(pk=gyms.owner_a.pk)
    assert login.check_password(NEW_PASSWORD) and not login.check_password(PASSWORD)
    # The same link number on gym B's host is gym B's login, and the token is not its token.
    on_b = Client(HTTP_HOST=host(gyms.b))
    assert "This link no longer works" in on_b.get("/" + link.split("/", 3)[3], follow=True).content.decode()


def test_staff_send_the_owners_a_password_link_from_the_command_center(gyms, settings):
    settings.GYM_BASE_URL = "https://{domain}"
    client = Client(HTTP_HOST="admin.localhost")
    client.force_login(gyms.staff)
    response = client.post(
        reverse("admin:affiliates_affiliate_changelist"),
        {"action": "send_password_links", "_selected_action": [gyms.a.pk]},
        follow=True,
    )
    assert "1 password link sent." in response.content.decode()
    assert [m.to for m in mail.outbox] == [["owner_a@gym.test"]]
    domain = gyms.a.domains.get().domain
    assert link_in(mail.outbox[0]).startswith(f"https://{domain}/reset/")
    audit = StaffAudit.objects.get(
        pk__gt=gyms.audit_from, action="password_link", target=gyms.a.slug, actor=gyms.staff.username
    )
    assert audit.detail == f"login #{gyms.owner_a.pk}"  # by number: no gym login's e-mail in the registry


def test_staff_help_one_login_from_the_affiliate_page_a_link_or_an_unlock(gyms, settings):
    settings.GYM_BASE_URL = "https://{domain}"
    locked_out = Client(HTTP_HOST=host(gyms.a))
    for _ in range(settings.AXES_FAILURE_LIMIT):
        locked_out.post("/login/", {"username": "coach_a@gym.test", "password": "wrong-password"})
    assert locked_out.post("/login/", {"username": "coach_a@gym.test", "password": PASSWORD}).status_code == 429

    staff = Client(HTTP_HOST="admin.localhost")
    staff.force_login(gyms.staff)
    page = reverse("admin:affiliates_login_help", args=[gyms.a.pk])
    assert "Help a login" in staff.get(reverse("admin:affiliates_affiliate_change", args=[gyms.a.pk])).content.decode()
    refused = staff.post(page, {"email": "nobody@gym.test", "action": "unlock"})
    assert "has no login with that e-mail" in refused.content.decode()
    done = staff.post(page, {"email": "Coach_A@gym.test", "action": "unlock"}, follow=True)
    assert f"login #{gyms.coach_a.pk} (coach): unlocked" in done.content.decode()
    assert locked_out.post("/login/", {"username": "coach_a@gym.test", "password": PASSWORD}).status_code == 302

    staff.post(page, {"email": "coach_a@gym.test", "action": "link"})
    assert [m.to for m in mail.outbox] == [["coach_a@gym.test"]]
    details = list(
        StaffAudit.objects.filter(pk__gt=gyms.audit_from, target=gyms.a.slug, action__startswith="login_")
        .order_by("pk")
        .values_list("action", "outcome", "detail")
    )
    assert details == [
        ("login_unlock", "succeeded", f"login #{gyms.coach_a.pk}"),
        ("login_link", "succeeded", f"login #{gyms.coach_a.pk}"),
    ]


def test_support_staff_cannot_help_a_login(gyms):
    support = get_user_model().objects.create_user("support1", password=PASSWORD, is_staff=True)
    support.groups.add(Group.objects.get(name="Support"))
    client = Client(HTTP_HOST="admin.localhost")
    client.force_login(support)
    response = client.post(
        reverse("admin:affiliates_login_help", args=[gyms.a.pk]), {"email": "coach_a@gym.test", "action": "link"}
    )
    assert response.status_code == 403 and mail.outbox == []
