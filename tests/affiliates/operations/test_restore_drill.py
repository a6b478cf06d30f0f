"""The restore drill: a real gym's backup restored into a scratch database and checked, then dropped;
a corrupted backup fails the drill, and the failure is recorded and audited."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from affiliates.infra import backups, databases
from affiliates.models import AffiliateBackup, BackupDrill, StaffAudit
from affiliates.operations import backup_status, lifecycle, restore_drill

pytestmark = pytest.mark.django_db(transaction=True)


def scratch_databases(admin_connection) -> list[str]:
    return [
        r[0] for r in admin_connection.execute("SELECT datname FROM pg_database WHERE datname LIKE 'fitbuddy_drill_%'")
    ]


def test_a_drill_restores_a_real_gym_checks_it_and_drops_the_scratch_database(
    gyms, settings, tmp_path, admin_connection
):
    settings.BACKUP_DIR = tmp_path
    lifecycle.affiliate_backup(slug=gyms.a.slug, requested_by="pytest")
    backup = AffiliateBackup.objects.get(affiliate=gyms.a)

    out = io.StringIO()
    call_command("backup_drill", "--affiliate", gyms.a.slug, stdout=out)
    drill = BackupDrill.objects.get(affiliate=gyms.a)
    assert drill.outcome == "succeeded" and drill.backup == backup and drill.finished_at is not None
    assert drill.schema_version == gyms.a.schema_version
    assert (
        drill.table_rows["member"] == 2 and drill.table_rows["gym_login"] == 3 and "participation" in drill.table_rows
    )
    assert "pg_restore exit 0" in drill.checks and f"Flyway version {gyms.a.schema_version} as recorded" in drill.checks
    assert "scratch database dropped" in drill.checks and f"Drill #{drill.pk} succeeded" in out.getvalue()
    assert drill.scratch_database.startswith(f"fitbuddy_drill_{gyms.a.pk}_")
    assert drill.scratch_database not in scratch_databases(admin_connection)
    assert StaffAudit.objects.filter(
        pk__gt=gyms.audit_from, action="backup_drill", target=gyms.a.slug
    ).get().outcome == ("succeeded")
    # A random drill picks an active gym with a backup: only gym A has one.
    assert restore_drill.drill_run(requested_by="pytest").affiliate == gyms.a
    assert backup_status.backup_overview().last_drill_outcome == "succeeded"


def test_a_corrupted_backup_fails_the_drill_and_the_failure_is_recorded(gyms, settings, tmp_path, admin_connection):
    settings.BACKUP_DIR = tmp_path
    lifecycle.affiliate_backup(slug=gyms.b.slug, requested_by="pytest")
    backup = AffiliateBackup.objects.get(affiliate=gyms.b)
    path = Path(backup.location)
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0xFF  # one flipped byte in the middle of the dump
    path.write_bytes(bytes(data))

    with pytest.raises(CommandError, match="SHA-256"):
        call_command("backup_drill", "--affiliate", gyms.b.slug, stdout=io.StringIO())
    drill = BackupDrill.objects.get(affiliate=gyms.b)
    assert drill.outcome == "failed" and "does not match the SHA-256" in drill.error

    # Corrupted when it was taken (its recorded SHA-256 is the corrupted file's): pg_restore finds out.
    path.write_bytes(bytes(data[: len(data) // 2]))
    AffiliateBackup.objects.filter(pk=backup.pk).update(sha256=backups.sha256_of(path))
    failed = restore_drill.drill_run(slug=gyms.b.slug, requested_by="pytest")
    assert failed.outcome == "failed" and "pg_restore" in failed.error and "sha256" in failed.checks
    assert "scratch database dropped" in failed.checks
    with databases.admin_connect(databases_target(gyms.b)) as conn:
        assert not databases.database_exists(conn, failed.scratch_database)
    assert not {drill.scratch_database, failed.scratch_database} & set(scratch_databases(admin_connection))
    audits = StaffAudit.objects.filter(pk__gt=gyms.audit_from, action="backup_drill", target=gyms.b.slug)
    assert [a.outcome for a in audits] == ["failed", "failed"]
    overview = backup_status.backup_overview()
    assert overview.last_drill_outcome == "failed" and overview.last_drill_age_seconds is not None


def databases_target(affiliate):
    from affiliates.infra.targets import server_admin_target

    return server_admin_target(affiliate.database_server)
