"""The command center flags a gym whose backup is late or missing, filters by it, and shows a gym's
backups and last restore drill; the metrics' overview counts the same."""

from __future__ import annotations

import datetime

import pytest
from django.contrib.auth import get_user_model
from django.urls import reverse
from django.utils import timezone

from affiliates.models import Affiliate, AffiliateBackup, BackupDrill
from affiliates.operations import backup_status

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def staff_client(client, clean_registry):
    user = get_user_model().objects.create_superuser("staffer", "staffer@fitbuddy.localhost", "a-long-password-1")
    client.force_login(user)
    return client


def backup(affiliate: Affiliate, hours_ago: float, **fields) -> AffiliateBackup:
    values = {"kind": "nightly", "outcome": "succeeded", "location": f"/b/{affiliate.slug}.dump", "sha256": "ab"}
    taken = timezone.now() - datetime.timedelta(hours=hours_ago)
    return AffiliateBackup.objects.create(affiliate=affiliate, taken_at=taken, **{**values, **fields})


def test_the_command_center_flags_a_late_gym_filters_by_backup_and_shows_its_backups(staff_client, gyms, settings):
    settings.BACKUP_LATE_HOURS = 26
    backup(gyms.a, 30)  # late
    backup(gyms.a, 2, outcome="failed", location="", sha256="", error="pg_dump: connection refused")
    backup(gyms.b, 3)  # ok
    BackupDrill.objects.create(affiliate=gyms.a, outcome="failed", server_name="local", error="pg_restore exited 1")
    url = reverse("admin:affiliates_affiliate_changelist")

    page = staff_client.get(url).content.decode()
    assert page.count("· late") == 1 and 'class="fb-warn" title="backup late"' in page
    late = staff_client.get(url, {"backup": "late"}).content.decode()
    assert gyms.a.slug in late and gyms.b.slug not in late
    ok = staff_client.get(url, {"backup": "ok"}).content.decode()
    assert gyms.b.slug in ok and gyms.a.slug not in ok

    # Missing: active for longer than BACKUP_LATE_HOURS without one good backup (the failed one does not count).
    AffiliateBackup.objects.filter(affiliate=gyms.a, outcome="succeeded").delete()
    Affiliate.objects.filter(pk=gyms.a.pk).update(activated_at=timezone.now() - datetime.timedelta(days=3))
    missing = staff_client.get(url, {"backup": "missing"}).content.decode()
    assert gyms.a.slug in missing and gyms.b.slug not in missing and 'class="fb-bad" title="backup missing"' in missing
    overview = backup_status.backup_overview()
    assert (overview.active_gyms, overview.late, overview.missing) == (2, 0, 1)
    assert overview.oldest_last_good_age_seconds is not None and overview.oldest_last_good_age_seconds > 3 * 3600 - 60
    assert overview.last_drill_outcome == "failed"

    gym_page = staff_client.get(reverse("admin:affiliates_affiliate_change", args=[gyms.a.pk])).content.decode()
    assert 'Last restore drill: <strong class="fb-bad">Failed</strong>' in gym_page
    assert "pg_restore exited 1" in gym_page and "pg_dump: connection refused" in gym_page
    drills = staff_client.get(reverse("admin:affiliates_backupdrill_changelist"), {"outcome": "failed"})
    assert drills.status_code == 200 and gyms.a.slug in drills.content.decode()


def test_backup_overview_counts_a_late_gym_in_two_queries(gyms, settings, django_assert_max_num_queries):
    settings.BACKUP_LATE_HOURS = 26
    backup(gyms.a, 40)
    backup(gyms.b, 1)
    with django_assert_max_num_queries(2):
        overview = backup_status.backup_overview()
    assert (overview.active_gyms, overview.late, overview.missing) == (2, 1, 0)
    assert 40 * 3600 - 60 < overview.oldest_last_good_age_seconds < 40 * 3600 + 60
    assert overview.last_drill_outcome == "" and overview.last_drill_age_seconds is None
