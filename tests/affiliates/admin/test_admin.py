"""The command center's affiliate pages and actions, through Django's test client."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.urls import reverse

from affiliates.models import Affiliate, AffiliateEvent, AffiliateNote, StaffAudit
from affiliates.operations import lifecycle, provisioning
from tests.conftest import wait_for
from tests.factories import new_slug

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def staff_client(client, clean_registry):
    user = get_user_model().objects.create_superuser("staffer", "staffer@fitbuddy.localhost", "a-long-password-1")
    client.force_login(user)
    return client


def wait_for_status(affiliate_id: int, status: str) -> None:
    wait_for(lambda: Affiliate.objects.get(pk=affiliate_id).status == status, what=f"status {status}")


def test_anonymous_and_non_staff_are_kept_out(client, clean_registry):
    url = reverse("admin:affiliates_affiliate_changelist")
    assert client.get(url).status_code == 302
    client.force_login(get_user_model().objects.create_user("gymowner", password="a-long-password-1"))
    assert client.get(url).status_code == 302


def test_add_form_refuses_bad_input_and_creates_nothing(staff_client):
    response = staff_client.post(
        reverse("admin:affiliates_affiliate_add"),
        {"schema_name": "Bad Slug;", "name": "Bad", "domain": "http://nope"},
    )

    assert response.status_code == 200
    content = response.content.decode()
    assert "Invalid slug" in content and "Invalid host name" in content
    assert not Affiliate.objects.exists()


@pytest.mark.worker
def test_staff_onboard_a_gym_and_see_it_active_with_its_event_log(staff_client, worker):
    slug = new_slug()
    response = staff_client.post(
        reverse("admin:affiliates_affiliate_add"),
        {"schema_name": slug, "name": "Admin Gym", "domain": f"{slug}.localhost", "owner_email": "boss@gym.localhost"},
        follow=True,
    )
    assert response.status_code == 200
    affiliate = Affiliate.objects.get(schema_name=slug)
    wait_for_status(affiliate.pk, "active")

    page = staff_client.get(reverse("admin:affiliates_affiliate_change", args=[affiliate.pk])).content.decode()
    for text in ("Active", "fitbuddy_" + slug, "create_database", "grant_privileges", "staffer", "boss@gym.localhost"):
        assert text in page
    listing = staff_client.get(reverse("admin:affiliates_affiliate_changelist")).content.decode()
    assert slug in listing and f"{slug}.localhost" in listing


@pytest.mark.worker
def test_retry_action_requeues_a_failed_affiliate(staff_client, worker):
    affiliate = provisioning.affiliate_request(
        slug=new_slug(), name="Retry", domain=f"{new_slug()}.localhost", enqueue=False
    )
    Affiliate.objects.filter(pk=affiliate.pk).update(status="failed", status_detail="database unreachable")

    response = staff_client.post(
        reverse("admin:affiliates_affiliate_changelist"),
        {"action": "provision_or_retry", "_selected_action": [affiliate.pk]},
        follow=True,
    )

    assert "1 affiliate queued for provisioning." in response.content.decode()
    wait_for_status(affiliate.pk, "active")


def test_suspend_resume_and_archive_actions(staff_client, settings, tmp_path):
    settings.BACKUP_DIR = tmp_path
    affiliates = []
    for _ in range(2):
        affiliate = provisioning.affiliate_request(
            slug=new_slug(), name="Bulk", domain=f"{new_slug()}.localhost", enqueue=False
        )
        provisioning.affiliate_provision(affiliate_id=affiliate.pk)
        affiliates.append(affiliate.pk)
    url = reverse("admin:affiliates_affiliate_changelist")

    response = staff_client.post(url, {"action": "suspend", "_selected_action": affiliates}, follow=True)
    assert "2 affiliates suspended." in response.content.decode()
    assert set(Affiliate.objects.values_list("status", flat=True)) == {"suspended"}

    response = staff_client.post(url, {"action": "resume", "_selected_action": affiliates}, follow=True)
    assert "2 affiliates resumed." in response.content.decode()

    # Archive first shows what will be dropped and where the backup goes; nothing is dropped yet.
    confirm = staff_client.post(url, {"action": "archive", "_selected_action": affiliates[:1]})
    page = confirm.content.decode()
    assert "Archive affiliates?" in page and Affiliate.objects.get(pk=affiliates[0]).database_name in page
    assert str(tmp_path) in page
    assert Affiliate.objects.get(pk=affiliates[0]).status == "active"
    assert not list(tmp_path.glob("*.dump"))

    response = staff_client.post(
        url, {"action": "archive", "_selected_action": affiliates[:1], "confirmed": "yes"}, follow=True
    )
    assert "1 affiliate archived." in response.content.decode()
    assert Affiliate.objects.get(pk=affiliates[0]).status == "archived"
    assert AffiliateEvent.objects.filter(affiliate_id=affiliates[0], step="backup", outcome="succeeded").exists()
    assert len(list(tmp_path.glob("*.dump"))) == 1

    response = staff_client.post(url, {"action": "resume", "_selected_action": affiliates[:1]}, follow=True)
    assert "only a suspended affiliate can be resumed" in response.content.decode()


def test_affiliates_cannot_be_deleted_only_archived(staff_client):
    affiliate = provisioning.affiliate_request(
        slug=new_slug(), name="Keep", domain=f"{new_slug()}.localhost", enqueue=False
    )
    page = staff_client.get(reverse("admin:affiliates_affiliate_change", args=[affiliate.pk])).content.decode()

    assert "deletelink" not in page
    assert staff_client.post(reverse("admin:affiliates_affiliate_delete", args=[affiliate.pk])).status_code == 403
    assert Affiliate.objects.filter(pk=affiliate.pk).exists()


def test_an_upper_case_domain_typed_in_the_command_center_is_stored_lower_case(staff_client):
    affiliate = provisioning.affiliate_request(
        slug=new_slug(), name="Caps", domain=f"{new_slug()}.localhost", enqueue=False
    )
    domain = affiliate.domains.get()
    url = reverse("admin:affiliates_domain_change", args=[domain.pk])

    response = staff_client.post(url, {"domain": "Caps-Gym.LOCALHOST", "tenant": affiliate.pk, "is_primary": "on"})
    assert response.status_code == 302
    assert affiliate.domains.get().domain == "caps-gym.localhost"

    response = staff_client.post(url, {"domain": "http://nope/", "tenant": affiliate.pk, "is_primary": "on"})
    assert response.status_code == 200 and "Invalid host name" in response.content.decode()
    assert affiliate.domains.get().domain == "caps-gym.localhost"


def test_a_contact_address_typed_with_capitals_is_stored_as_the_registry_keeps_it(staff_client):
    from django.contrib import admin as django_admin
    from django.test import RequestFactory

    from affiliates.admin.affiliate import AffiliateAdmin

    affiliate = provisioning.affiliate_request(
        slug=new_slug(), name="Caps", domain=f"{new_slug()}.localhost", enqueue=False
    )
    request = RequestFactory().get("/admin/")
    request.user = get_user_model().objects.create_superuser("capsadmin", "c@fitbuddy.localhost", "a-long-pw-1")
    form_class = AffiliateAdmin(Affiliate, django_admin.site).get_form(request, affiliate)
    form = form_class(
        {"schema_name": affiliate.slug, "name": "Caps", "contact_email": "  Boss@Caps-Gym.COM "}, instance=affiliate
    )
    assert form.is_valid(), form.errors
    form.save()
    assert Affiliate.objects.get(pk=affiliate.pk).contact_email == "boss@caps-gym.com"


def test_view_on_site_opens_the_gyms_own_site_and_no_link_leads_back_to_the_command_center(staff_client, gyms):
    """Support opening a gym's site from its page reached the command center's own root before."""
    page = staff_client.get(reverse("admin:affiliates_affiliate_change", args=[gyms.a.pk]))
    html = page.content.decode()
    assert page.status_code == 200
    assert f'href="http://{gyms.a.domains.get().domain}:8000/"' in html
    index = staff_client.get(reverse("admin:index")).content.decode()
    assert "View site" not in index


def test_a_gyms_page_shows_its_members_logins_activity_size_and_last_backup(staff_client, gyms, settings, tmp_path):
    settings.BACKUP_DIR = tmp_path
    page = reverse("admin:affiliates_affiliate_change", args=[gyms.a.pk])
    before = staff_client.get(page).content.decode()
    assert "2 active members · 3 logins · last activity " in before
    assert "last backup: none recorded" in before

    lifecycle.affiliate_backup(slug=gyms.a.slug, requested_by="staffer")
    after = staff_client.get(page).content.decode()
    assert "last backup: none recorded" not in after and "last backup: 20" in after

    Affiliate.objects.filter(pk=gyms.b.pk).update(status=Affiliate.Status.SUSPENDED)
    suspended = staff_client.get(reverse("admin:affiliates_affiliate_change", args=[gyms.b.pk])).content.decode()
    assert "the gym is suspended" in suspended


def test_staff_add_a_signed_note_to_a_gym_close_it_but_never_rewrite_it(staff_client, gyms):
    from tests.security.test_audit import page_data, post

    url = reverse("admin:affiliates_affiliate_change", args=[gyms.a.pk])
    data = page_data(staff_client, url)
    data.update({"notes-0-body": "  Owner called: wants a second coach login.  ", "notes-0-is_open": "on"})
    post(staff_client, url, data)
    note = AffiliateNote.objects.get(affiliate=gyms.a)
    assert (note.author, note.body, note.is_open) == ("staffer", "Owner called: wants a second coach login.", True)
    assert StaffAudit.objects.filter(pk__gt=gyms.audit_from, action="affiliatenote.add").count() == 1

    data = page_data(staff_client, url)
    row = next(f"notes-{i}" for i in range(3) if data.get(f"notes-{i}-id") == str(note.pk))
    data[f"{row}-body"] = "Rewritten"
    data.pop(f"{row}-is_open", None)  # closed
    post(staff_client, url, data)
    note.refresh_from_db()
    assert (note.body, note.is_open) == ("Owner called: wants a second coach login.", False)
    assert "Owner called: wants a second coach login." in staff_client.get(url).content.decode()


# --- the Gym load page (affiliates/admin/load.py) ---


def test_the_gym_load_page_lists_heavy_busy_and_growing_gyms_and_each_servers_balance(client, gyms):
    from django.contrib.auth.models import Group

    from affiliates.models import AffiliateLoad
    from affiliates.operations import load

    load.load_collect()
    AffiliateLoad.objects.filter(affiliate=gyms.a).update(xacts_per_day=12_345, growth_7d_bytes=3_000_000)
    support = get_user_model().objects.create_user("support_load", password="a-long-password-1", is_staff=True)
    support.groups.add(Group.objects.get(name="Support"))
    client.force_login(support)

    page = client.get(reverse("admin:affiliates_load"))
    html = page.content.decode()
    assert page.status_code == 200
    for table in ('id="balance"', 'id="heaviest"', 'id="busiest"', 'id="growing"'):
        assert table in html
    heaviest = html.split('id="heaviest"')[1].split("</table>")[0]
    assert gyms.a.slug in heaviest and gyms.b.slug in heaviest
    busiest = html.split('id="busiest"')[1].split("</table>")[0]
    assert gyms.a.slug in busiest and "12,345" in busiest
    growing = html.split('id="growing"')[1].split("</table>")[0]
    assert gyms.a.slug in growing and gyms.b.slug not in growing and "+2.9\xa0MB" in growing
    balance = html.split('id="balance"')[1].split("</table>")[0]
    assert gyms.a.database_server.name in balance and "100%" in balance
    fleet = client.get(reverse("admin:affiliates_fleet")).content.decode()
    assert reverse("admin:affiliates_load") in fleet


def test_the_gym_load_page_refuses_staff_without_the_view_permission(client, clean_registry):
    nobody = get_user_model().objects.create_user("no_perms", password="a-long-password-1", is_staff=True)
    client.force_login(nobody)
    assert client.get(reverse("admin:affiliates_load")).status_code == 403
