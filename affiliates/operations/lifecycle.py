"""An affiliate after it is born: suspended, resumed, archived.

    active ⇄ suspended;   active / suspended / failed / requested → archived → (restored) active

Suspending stops the affiliate role's logins and ends its open sessions; resuming lets it log in
again. Archiving takes a checked backup, then drops the database and the role; the registry row
stays, as ``archived``, with the backup's path. Each is recorded in the affiliate's event log and
the staff audit trail, and is safe to repeat.

Each takes the affiliate's lock (``locks.affiliate_lock``), the one provisioning and fleet
migrations take: an affiliate being provisioned or migrated is refused with
:class:`AffiliateBusy` ("try again"), never changed under another operation's feet.
"""

from __future__ import annotations

import subprocess
import tempfile
from pathlib import Path

from django.core.exceptions import ValidationError
from django.utils import timezone

from affiliates.audit import audited
from affiliates.errors import BackupError, OperationError, describe
from affiliates.infra import backups, databases, locks, pooler_admin
from affiliates.infra.targets import on_database, pooler_for, server_admin_target
from affiliates.models import Affiliate
from affiliates.operations import affiliate_database, backup_records
from affiliates.operations.affiliate_database import name_of, role_of, server_of
from affiliates.operations.events import StepRecorder
from affiliates.operations.placement import database_server_choose
from affiliates.operations.placement import database_server_default as placement_default


def _slug(affiliate_id: int) -> str:
    """The slug the audit trail names (the id, if the row is gone)."""
    return Affiliate.objects.filter(pk=affiliate_id).values_list("schema_name", flat=True).first() or str(affiliate_id)


def _login_switch(*, affiliate_id: int, requested_by: str, suspend: bool, channel: str) -> Affiliate:
    """Suspend (``suspend=True``) or resume one affiliate; already there is a no-op."""
    action = "suspend" if suspend else "resume"
    slug = _slug(affiliate_id)
    with audited(action, actor=requested_by, channel=channel, target=slug), locks.affiliate_held(affiliate_id, action):
        return _login_switch_locked(affiliate_id=affiliate_id, requested_by=requested_by, suspend=suspend)


def _login_switch_locked(*, affiliate_id: int, requested_by: str, suspend: bool) -> Affiliate:
    affiliate: Affiliate = Affiliate.objects.select_related("database_server").get(pk=affiliate_id)
    before, after = (
        (Affiliate.Status.ACTIVE, Affiliate.Status.SUSPENDED)
        if suspend
        else (Affiliate.Status.SUSPENDED, Affiliate.Status.ACTIVE)
    )
    if affiliate.status == after:
        return affiliate
    if affiliate.status != before:
        verb = "suspended" if suspend else "resumed"
        raise OperationError(
            f"only {'an' if suspend else 'a'} {before} affiliate can be {verb}; {affiliate.slug} is {affiliate.status}"
        )

    def switch() -> bool | str:
        with databases.admin_connect(server_admin_target(server_of(affiliate))) as conn:
            databases.role_login_set(conn, role_of(affiliate), login=not suspend)
        return _pooled_sessions_end(affiliate) if suspend else True

    steps = StepRecorder(affiliate, requested_by)
    if not suspend:
        steps.step("resume", switch, status_after=after)
        return affiliate
    # The registry first: every web process answers 503 from its next request, and a request that
    # meets the sessions ended below finds the registry already saying why (the 503, not a 500).
    steps.set_status(after)
    try:
        steps.step("suspend", switch)
    except Exception as exc:
        steps.set_status(before, detail=f"suspend failed: {describe(exc)}")
        raise
    return affiliate


def _pooled_sessions_end(affiliate: Affiliate) -> str:
    """End the affiliate's connections in its server's pooler, so none waits there for a login PostgreSQL
    now refuses (PgBouncer's query_wait_timeout, 120 s); what was done."""
    pooler = pooler_for(server_of(affiliate))
    if pooler is None:
        return "no pooler"
    return pooler_admin.database_sessions_end(pooler, name_of(affiliate))


def affiliate_suspend(*, affiliate_id: int, requested_by: str = "", channel: str = "command") -> Affiliate:
    """Stop an active affiliate: its role can no longer log in and its open sessions end."""
    return _login_switch(affiliate_id=affiliate_id, requested_by=requested_by, suspend=True, channel=channel)


def affiliate_resume(*, affiliate_id: int, requested_by: str = "", channel: str = "command") -> Affiliate:
    """Let a suspended affiliate's role log in again."""
    return _login_switch(affiliate_id=affiliate_id, requested_by=requested_by, suspend=False, channel=channel)


def affiliate_archive(*, affiliate_id: int, requested_by: str = "", channel: str = "command") -> Affiliate:
    """Back the database up, then drop the database and role; keep the registry row as ``archived``."""
    slug = _slug(affiliate_id)
    with (
        audited("archive", actor=requested_by, channel=channel, target=slug),
        locks.affiliate_held(affiliate_id, "archive"),
    ):
        return _archive_locked(affiliate_id=affiliate_id, requested_by=requested_by)


def _archive_locked(*, affiliate_id: int, requested_by: str) -> Affiliate:
    affiliate: Affiliate = Affiliate.objects.select_related("database_server").get(pk=affiliate_id)
    if affiliate.status == Affiliate.Status.ARCHIVED:
        return affiliate
    admin = server_admin_target(server_of(affiliate))
    steps = StepRecorder(affiliate, requested_by)
    backup: dict[str, backups.Backup] = {}

    def take_backup() -> bool | str:
        with databases.admin_connect(admin) as conn:
            if not databases.database_exists(conn, name_of(affiliate)):
                return False  # nothing to back up (never created, or dropped by an earlier attempt)
        backup["taken"] = backup_records.backup_recorded(
            affiliate, on_database(admin, name_of(affiliate)), kind="archive", requested_by=requested_by
        )
        return str(backup["taken"])

    def drop() -> bool:
        with databases.admin_connect(admin) as conn:
            if databases.role_exists(conn, role_of(affiliate)):
                databases.role_login_set(conn, role_of(affiliate), login=False)
            _pooled_sessions_end(affiliate)
            dropped = databases.database_drop(conn, name_of(affiliate))
            dropped = databases.role_drop(conn, role_of(affiliate)) or dropped
        return dropped

    try:
        steps.step("backup", take_backup)
        steps.step("drop_database", drop)
    except Exception as exc:
        steps.set_status(affiliate.status, detail=f"archive failed: {describe(exc)}")
        raise
    steps.set_status(Affiliate.Status.ARCHIVED, detail=f"backup: {backup['taken'].location}" if backup else "")
    return affiliate


def affiliate_backup(*, slug: str, requested_by: str = "", channel: str = "command") -> backups.Backup:
    """A checked backup of an active or suspended affiliate's database (nothing dropped); where it went."""
    affiliate: Affiliate | None = Affiliate.objects.select_related("database_server").filter(schema_name=slug).first()
    if affiliate is None:
        raise OperationError(f"no affiliate with slug {slug!r}")
    if affiliate.status not in (Affiliate.Status.ACTIVE, Affiliate.Status.SUSPENDED) or not affiliate.database_server:
        raise OperationError(f"{slug} is {affiliate.status}: it has no database to back up")
    with audited("backup", actor=requested_by, channel=channel, target=slug):
        with locks.affiliate_held(affiliate.pk, "back up"):
            admin = server_admin_target(affiliate.database_server)
            target = on_database(admin, name_of(affiliate))
            return backup_records.backup_recorded(affiliate, target, kind="manual", requested_by=requested_by)


def affiliate_restore(
    *,
    affiliate_id: int,
    backup: str | None = None,
    server_name: str | None = None,
    requested_by: str = "",
    channel: str = "command",
) -> Affiliate:
    """Bring an archived affiliate back from a backup (its newest, or ``backup``), on the chosen server.

    Recreates the role and an empty database, restores into it (data and schema without the dump's
    owners and privileges: the target server's administrator may be another login), grants and
    locks it down like provisioning, migrates with Flyway if the backup is older than the code, and marks the
    affiliate active. A failed attempt drops the database it created and leaves the affiliate
    archived, so running it again converges; the backup itself is never touched.
    """
    slug = _slug(affiliate_id)
    with (
        audited("restore", actor=requested_by, channel=channel, target=slug),
        locks.affiliate_held(affiliate_id, "restore"),
    ):
        return _restore_locked(affiliate_id, backup=backup, server_name=server_name, requested_by=requested_by)


def _restore_locked(affiliate_id: int, *, backup: str | None, server_name: str | None, requested_by: str) -> Affiliate:
    affiliate: Affiliate = Affiliate.objects.select_related("database_server").get(pk=affiliate_id)
    if affiliate.status != Affiliate.Status.ARCHIVED:
        raise OperationError(f"only an archived affiliate can be restored; {affiliate.slug} is {affiliate.status}")
    location = backup or backups.backup_latest(affiliate.slug)
    try:
        server = database_server_choose(server_name=server_name)
    except ValidationError as exc:
        raise OperationError(" ".join(exc.messages)) from exc
    if server.pk is None:
        server = placement_default()
    admin = server_admin_target(server)
    affiliate.database_server = server
    steps = StepRecorder(affiliate, requested_by)
    created: list[str] = []

    def create() -> str:
        affiliate_database.affiliate_role_ensure(admin, affiliate)
        with databases.admin_connect(admin) as conn:
            if databases.database_exists(conn, name_of(affiliate)):
                raise OperationError(
                    f"a database {affiliate.database_name} already exists on {server.name}; it belongs to no "
                    "active affiliate, so look at it before restoring over it"
                )
            databases.database_create(conn, name_of(affiliate))
            created.append(name_of(affiliate))
            databases.database_lock_down(conn, name_of(affiliate), role=role_of(affiliate))
        return f"{affiliate.database_name} on {server.name}"

    def restore() -> str:
        with tempfile.TemporaryDirectory(prefix="fitbuddy-restore-") as folder:
            path = backups.backup_fetch(location, Path(folder))
            target = on_database(admin, name_of(affiliate))
            completed = subprocess.run(
                backups.restore_command(target, str(path)), env=target.client_env(), capture_output=True, text=True
            )
        if completed.returncode != 0:
            raise BackupError(f"pg_restore of {location} failed: {completed.stderr.strip()[-2000:]}")
        return location

    try:
        steps.step("create_database", create)
        steps.step("restore", restore)
        steps.step("migrate", lambda: affiliate_database.affiliate_schema_ensure(admin, affiliate))
        steps.step("grant_privileges", lambda: affiliate_database.affiliate_privileges_ensure(admin, affiliate))
        with databases.admin_connect(admin) as conn:
            databases.role_login_set(conn, role_of(affiliate), login=True)
        Affiliate.objects.filter(pk=affiliate.pk).update(database_server=server)
        steps.set_status(Affiliate.Status.ACTIVE, detail=f"restored from {location}", activated_at=timezone.now())
    except Exception as exc:
        with databases.admin_connect(admin) as conn:
            for name in created:
                databases.database_drop(conn, name)
        steps.set_status(Affiliate.Status.ARCHIVED, detail=f"restore failed: {describe(exc)}")
        raise
    return affiliate
