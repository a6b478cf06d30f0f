"""The restore drill: a backup is only a backup once it has been restored.

Every week (Celery beat, or ``manage.py backup_drill [--affiliate SLUG]``) a random active gym's
newest good backup is fetched (its SHA-256 checked against the one recorded when it was taken),
restored with ``pg_restore`` into a scratch database ``fitbuddy_drill_<gym id>_<random>`` on the
gym's server (or ``BACKUP_DRILL_SERVER``), and checked:

- ``pg_restore`` exits 0 (one transaction, stopping at the first error);
- the Flyway version in the restored ``flyway_schema_history`` is the one recorded with the backup;
- every table the dump lists is there and readable, and its row count is recorded.

The scratch database is dropped whatever happens, and the drill is recorded (``backup_drill``) and
in the staff audit trail; a failed drill shows in the command center.
"""

from __future__ import annotations

import random
import secrets
import subprocess
import tempfile
from pathlib import Path
from typing import Any

import psycopg
from django.conf import settings
from django.utils import timezone
from psycopg import sql

from affiliates.audit import audit_record
from affiliates.errors import BackupError, OperationError, describe
from affiliates.infra import backups, databases
from affiliates.infra.targets import DatabaseTarget, on_database, server_admin_target
from affiliates.models import Affiliate, AffiliateBackup, BackupDrill, DatabaseServer, StaffAudit
from affiliates.operations.placement import database_server_default

GOOD = {"outcome": AffiliateBackup.Outcome.SUCCEEDED, "pruned_at__isnull": True}


def backup_choose(slug: str | None = None) -> AffiliateBackup:
    """The backup a drill restores: ``slug``'s newest good one, or a random active gym's."""
    good = AffiliateBackup.objects.filter(**GOOD).select_related("affiliate", "affiliate__database_server")
    if slug:
        chosen = good.filter(affiliate__schema_name=slug).order_by("-taken_at", "-id").first()
        if chosen is None:
            raise OperationError(f"{slug} has no good backup to drill (or no such affiliate)")
        return chosen
    gyms = list(
        good.filter(affiliate__status=Affiliate.Status.ACTIVE).values_list("affiliate_id", flat=True).distinct()
    )
    if not gyms:
        raise OperationError("no active gym has a good backup to drill")
    newest: AffiliateBackup = good.filter(affiliate_id=random.choice(gyms)).order_by("-taken_at", "-id")[0]
    return newest


def drill_server(affiliate: Affiliate) -> DatabaseServer:
    """Where the scratch database goes: BACKUP_DRILL_SERVER, else the gym's own server, else the default."""
    if settings.BACKUP_DRILL_SERVER:
        server = DatabaseServer.objects.filter(name=settings.BACKUP_DRILL_SERVER).first()
        if server is None:
            raise OperationError(f"BACKUP_DRILL_SERVER names {settings.BACKUP_DRILL_SERVER!r}: no such database server")
        return server
    return affiliate.database_server or database_server_default(create=False)


def drill_run(*, slug: str | None = None, requested_by: str = "", channel: str = "command") -> BackupDrill:
    """Run one drill (see the module's docstring); the recorded drill, succeeded or failed."""
    backup = backup_choose(slug)
    affiliate = backup.affiliate
    server = drill_server(affiliate)
    drill = BackupDrill.objects.create(
        affiliate=affiliate,
        backup=backup,
        server_name=server.name,
        scratch_database=f"fitbuddy_drill_{affiliate.pk}_{secrets.token_hex(4)}",
        schema_version=backup.schema_version,
        requested_by=requested_by[:150],
    )
    checks: list[str] = []
    admin = server_admin_target(server)
    try:
        drill.table_rows = _restore_and_check(backup, admin, drill.scratch_database, checks)
        drill.outcome = BackupDrill.Outcome.SUCCEEDED
    except Exception as exc:
        drill.outcome, drill.error = BackupDrill.Outcome.FAILED, describe(exc)[:4000]
    finally:
        try:
            with databases.admin_connect(admin) as conn:
                databases.database_drop(conn, drill.scratch_database)
            checks.append("scratch database dropped")
        except psycopg.Error as exc:
            drill.outcome = BackupDrill.Outcome.FAILED
            drill.error = (drill.error + f"\nthe scratch database could not be dropped: {describe(exc)}").strip()
        drill.checks, drill.finished_at = "\n".join(checks), timezone.now()
        drill.save()
    audit_record(
        actor=requested_by or "schedule",
        channel=channel,
        action="backup_drill",
        target=affiliate.slug,
        outcome=StaffAudit.Outcome.SUCCEEDED if drill.outcome == BackupDrill.Outcome.SUCCEEDED else "failed",
        detail=f"drill #{drill.pk} of backup #{backup.pk} ({backup.location}): {drill.error or 'every check passed'}",
    )
    return drill


def _restore_and_check(backup: AffiliateBackup, admin: DatabaseTarget, scratch: str, checks: list[str]) -> Any:
    with tempfile.TemporaryDirectory(prefix="fitbuddy-drill-") as folder:
        path = backups.backup_fetch(backup.location, Path(folder))
        if backups.sha256_of(path) != backup.sha256:
            raise BackupError(f"{backup.location} does not match the SHA-256 recorded when it was taken")
        checks.append(f"sha256 {backup.sha256[:12]}… matches")
        listed = _dump_tables(path)
        with databases.admin_connect(admin) as conn:
            databases.database_create(conn, scratch)
            databases.database_lock_down(conn, scratch)
        target = on_database(admin, scratch)
        completed = subprocess.run(
            backups.restore_command(target, str(path)), env=target.client_env(), capture_output=True, text=True
        )
    if completed.returncode != 0:
        raise BackupError(f"pg_restore exited {completed.returncode}: {completed.stderr.strip()[-2000:]}")
    checks.append("pg_restore exit 0")
    version = databases.schema_version(target) or ""
    if version != backup.schema_version:
        raise BackupError(
            f"the restored Flyway version is {version or 'none'}, the backup recorded {backup.schema_version}"
        )
    checks.append(f"Flyway version {version} as recorded")
    rows = _table_rows(target)
    missing = sorted(listed - rows.keys())
    if missing or not listed:
        raise BackupError(f"tables missing after the restore: {', '.join(missing) or 'every one'}")
    checks.append(f"{len(rows)} tables readable")
    return rows


def _dump_tables(path: Path) -> set[str]:
    """The FitBuddy tables a dump holds (``pg_restore --list``: ``TABLE <schema> <name>`` entries)."""
    listing = subprocess.run(["pg_restore", "--list", str(path)], capture_output=True, text=True)
    if listing.returncode != 0:
        raise BackupError(f"pg_restore --list cannot read the backup: {listing.stderr.strip()[-500:]}")
    tables = set()
    for line in listing.stdout.splitlines():
        parts = line.split()  # "231; 1259 20640 TABLE master benchmark owner" (ACL and DATA lines differ)
        if len(parts) > 5 and parts[3:5] == ["TABLE", settings.FLYWAY_SCHEMA]:
            tables.add(parts[5])
    return tables


def _table_rows(target: DatabaseTarget) -> dict[str, int]:
    """Each table of the restored schema and its row count (reading each proves it readable)."""
    with psycopg.connect(**target.conninfo(), connect_timeout=10) as conn:
        names = [
            row[0]
            for row in conn.execute(
                "SELECT tablename FROM pg_tables WHERE schemaname = %s ORDER BY 1", [settings.FLYWAY_SCHEMA]
            )
        ]
        rows = {}
        for name in names:
            query = sql.SQL("SELECT count(*) FROM {}").format(sql.Identifier(settings.FLYWAY_SCHEMA, name))
            found = conn.execute(query).fetchone()
            rows[name] = int(found[0]) if found else 0
    return rows
