"""affiliates/operations/lifecycle.py: suspend, resume and archive, against real PostgreSQL."""

from __future__ import annotations

import subprocess

import psycopg
import pytest

from affiliates.errors import OperationError
from affiliates.infra.targets import affiliate_target
from affiliates.models import Affiliate
from affiliates.operations import lifecycle
from tests.conftest import can_connect, server_state
from tests.factories import affiliate_provisioned, affiliate_requested

pytestmark = pytest.mark.django_db(transaction=True)


def test_suspend_blocks_the_role_and_resume_restores_it(clean_registry):
    affiliate = affiliate_provisioned()
    target = affiliate_target(affiliate)

    lifecycle.affiliate_suspend(affiliate_id=affiliate.pk, requested_by="pytest")
    assert Affiliate.objects.get(pk=affiliate.pk).status == Affiliate.Status.SUSPENDED
    assert not can_connect(target)

    lifecycle.affiliate_resume(affiliate_id=affiliate.pk, requested_by="pytest")
    assert Affiliate.objects.get(pk=affiliate.pk).status == Affiliate.Status.ACTIVE
    assert can_connect(target)


def test_archive_backs_up_then_drops_database_and_role(clean_registry, admin_connection, settings, tmp_path):
    settings.BACKUP_DIR = tmp_path / "backups"
    affiliate = affiliate_provisioned()
    with psycopg.connect(**affiliate_target(affiliate).conninfo()) as conn:
        conn.execute("INSERT INTO member (first_name, email) VALUES ('Keep', 'keep@example.com')")

    lifecycle.affiliate_archive(affiliate_id=affiliate.pk, requested_by="pytest")

    affiliate.refresh_from_db()
    assert affiliate.status == Affiliate.Status.ARCHIVED
    backups = list(settings.BACKUP_DIR.glob(f"{affiliate.slug}-*.dump"))
    assert len(backups) == 1 and str(backups[0]) in affiliate.status_detail
    restored = subprocess.run(
        ["pg_restore", "--data-only", "--table=member", "-f", "-", str(backups[0])],
        capture_output=True,
        text=True,
        check=True,
    )
    assert "keep@example.com" in restored.stdout
    assert server_state(admin_connection) == (set(), set())
    # Archiving again is harmless; provisioning an archived affiliate is refused.
    lifecycle.affiliate_archive(affiliate_id=affiliate.pk)
    with pytest.raises(OperationError, match="archived"):
        affiliate_provisioned(affiliate)


def test_suspend_and_resume_refuse_the_wrong_status_and_repeat_harmlessly(clean_registry):
    affiliate = affiliate_provisioned()

    lifecycle.affiliate_resume(affiliate_id=affiliate.pk)  # already active: nothing to do
    lifecycle.affiliate_suspend(affiliate_id=affiliate.pk)
    lifecycle.affiliate_suspend(affiliate_id=affiliate.pk)  # already suspended: nothing to do
    steps = list(affiliate.events.values_list("step", flat=True))
    assert steps.count("suspend") == 1 and "resume" not in steps

    requested = affiliate_requested()
    with pytest.raises(OperationError, match="only an active affiliate can be suspended; .* is requested"):
        lifecycle.affiliate_suspend(affiliate_id=requested.pk)
    with pytest.raises(OperationError, match="only a suspended affiliate can be resumed; .* is requested"):
        lifecycle.affiliate_resume(affiliate_id=requested.pk)
