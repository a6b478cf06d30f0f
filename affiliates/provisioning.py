"""Onboarding and retiring affiliates: each gets its own database, role and Flyway schema.

The state machine (DESIGN.md §5) lives on the affiliate row:

    requested → database_created → migrated → (seeded: local only) → active
    any step → failed (retryable);  active ⇄ suspended;  active/suspended/failed → archived

Every step checks before it acts, so running provisioning again after a crash at any point
continues where it stopped and converges to ``active``. Names are derived from the slug, so a
retry finds what an earlier attempt created instead of leaving orphans. One provisioning run
per affiliate at a time: a PostgreSQL advisory lock on the management database guards it.
"""

from __future__ import annotations

import logging
import os
import shutil
import subprocess
import time
import zlib
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import psycopg
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, connections, transaction
from django.utils import timezone
from psycopg import sql

from . import credentials, databases, flyway, seeds, validation
from .models import Affiliate, DatabaseServer, Domain, Membership, ProvisioningEvent

logger = logging.getLogger(__name__)

_LOCK_PROVISION = zlib.crc32(b"fitbuddy:affiliate-provision") & 0x7FFFFFFF
_LOCK_TEMPLATE = zlib.crc32(b"fitbuddy:template") & 0x7FFFFFFF


class ProvisioningError(Exception):
    """Provisioning cannot go on; the message says why (shown to staff and operators)."""


class ProvisioningBusy(ProvisioningError):
    """Another worker is provisioning this affiliate right now."""


# --------------------------------------------------------------------------------------------
# Where affiliate databases live and how to reach them
# --------------------------------------------------------------------------------------------


def _management_target() -> flyway.DatabaseTarget:
    return flyway.DatabaseTarget.from_django(connections["default"].settings_dict)


def _local_server() -> DatabaseServer:
    management = _management_target()
    return DatabaseServer(
        name="local",
        kind=DatabaseServer.Kind.LOCAL,
        host=management.host,
        port=management.port,
        admin_secret_ref="env:DATABASE_URL",
        is_default=True,
    )


def database_server_default(*, create: bool = True) -> DatabaseServer:
    """The server new affiliates are placed on: the registered default, else the management database's own."""
    server = DatabaseServer.objects.filter(is_default=True, is_accepting=True).first()
    if server or not create:
        return server or _local_server()
    local = _local_server()
    server, _ = DatabaseServer.objects.get_or_create(
        name=local.name,
        defaults={
            "kind": local.kind,
            "host": local.host,
            "port": local.port,
            "admin_secret_ref": local.admin_secret_ref,
            "is_default": not DatabaseServer.objects.filter(is_default=True).exists(),
        },
    )
    return server


def server_admin_target(server: DatabaseServer, *, name: str = databases.MAINTENANCE_DATABASE) -> flyway.DatabaseTarget:
    """The administrative login for a server (the management login, per its admin_secret_ref)."""
    if server.admin_secret_ref not in ("", "env:DATABASE_URL"):
        raise ProvisioningError(f"unsupported admin secret reference {server.admin_secret_ref!r} for {server.name}")
    management = _management_target()
    return flyway.DatabaseTarget(
        name=name, host=server.host, port=server.port, user=management.user, password=management.password
    )


def affiliate_target(affiliate: Affiliate) -> flyway.DatabaseTarget:
    """How the application reaches an affiliate's database: as the affiliate's own role."""
    server = affiliate.database_server
    return flyway.DatabaseTarget(
        name=affiliate.database_name,
        host=server.host,
        port=server.port,
        user=affiliate.database_role,
        password=credentials.role_password(affiliate.database_role, secret_ref=affiliate.secret_ref),
    )


# --------------------------------------------------------------------------------------------
# Requesting an affiliate (validation first, nothing created on bad input)
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class AffiliateRequest:
    slug: str
    name: str
    domain: str
    owner_email: str | None
    seed: bool
    server: DatabaseServer


def affiliate_request_check(
    *, slug: str, name: str, domain: str, owner_email: str | None = None, seed: bool = False
) -> AffiliateRequest:
    """Every check onboarding makes before creating anything; ValidationError lists each problem by field."""
    errors: dict[str, list[str]] = {}

    def check(field: str, fn: Callable[[], object]) -> object | None:
        try:
            return fn()
        except ValidationError as exc:
            errors.setdefault(field, []).extend(exc.messages)
            return None

    slug_ok = check("slug", lambda: validation.validate_slug(slug))
    clean_name = check("name", lambda: validation.validate_name(name))
    host = check("domain", lambda: validation.validate_domain(domain))
    if owner_email:
        owner_email = owner_email.strip().lower()
        check("owner_email", lambda: validate_email(owner_email))
    if slug_ok and Affiliate.objects.filter(schema_name__iexact=slug).exists():
        errors.setdefault("slug", []).append(f"The slug {slug!r} is already taken.")
    if host and Domain.objects.filter(domain=host).exists():
        errors.setdefault("domain", []).append(f"The domain {host!r} is already taken.")
    server = database_server_default(create=False)  # checks create nothing, not even the server row
    if seed:
        check("seed", lambda: _seed_check(server))
    if slug_ok and "slug" not in errors:
        database_name, role = validation.database_name_for(slug), validation.role_name_for(slug)
        with databases.admin_connect(server_admin_target(server)) as conn:
            if databases.database_exists(conn, database_name):
                errors.setdefault("slug", []).append(
                    f"A database named {database_name!r} already exists on {server.name} and belongs to no "
                    f"affiliate; choose another slug."
                )
            elif _role_exists(conn, role):
                errors.setdefault("slug", []).append(
                    f"A role named {role!r} already exists on {server.name}; choose another slug."
                )
    if errors:
        raise ValidationError(errors)
    return AffiliateRequest(slug, clean_name, host, owner_email or None, seed, server)


def affiliate_request(
    *,
    slug: str,
    name: str,
    domain: str,
    owner_email: str | None = None,
    seed: bool = False,
    requested_by: str = "",
    enqueue: bool = True,
) -> Affiliate:
    """Validate, register the affiliate as ``requested`` and enqueue its provisioning after commit."""
    req = affiliate_request_check(slug=slug, name=name, domain=domain, owner_email=owner_email, seed=seed)
    slug, name, host, owner_email, server = req.slug, req.name, req.domain, req.owner_email, req.server

    try:
        with transaction.atomic():
            if server.pk is None:
                server = database_server_default()
            affiliate = Affiliate.objects.create(
                schema_name=slug,
                name=name,
                status=Affiliate.Status.REQUESTED,
                database_server=server,
                database_name=validation.database_name_for(slug),
                database_role=validation.role_name_for(slug),
                secret_ref=credentials.DERIVED_SECRET_REF,
                seed_requested=seed,
            )
            Domain.objects.create(domain=host, tenant=affiliate, is_primary=True)
            if owner_email:
                user, created = get_user_model().objects.get_or_create(
                    username=owner_email, defaults={"email": owner_email, "is_active": True}
                )
                if created:
                    # The owner sets a password through the password-reset flow or staff; none is invented here.
                    user.set_unusable_password()
                    user.save(update_fields=["password"])
                Membership.objects.create(affiliate=affiliate, user=user, role=Membership.Role.OWNER)
            ProvisioningEvent.objects.create(
                affiliate=affiliate,
                step="requested",
                outcome=ProvisioningEvent.Outcome.SUCCEEDED,
                duration_ms=0,
                requested_by=requested_by,
            )
            if enqueue:
                transaction.on_commit(lambda: affiliate_enqueue(affiliate_id=affiliate.pk, requested_by=requested_by))
    except (IntegrityError, ValidationError) as exc:
        # Someone registered the same slug or domain between our checks and our insert (the unique
        # constraints, or TenantMixin's case-insensitive check, caught it).
        raise ValidationError(f"The slug {slug!r} or the domain {host!r} is already taken.") from exc
    return affiliate


def _seed_check(server: DatabaseServer) -> None:
    try:
        seeds.assert_seeding_allowed(server.host)
    except seeds.SeedGuardError as exc:
        raise ValidationError(str(exc)) from exc


def affiliate_enqueue(*, affiliate_id: int, requested_by: str = "") -> str:
    """Queue provisioning (or a retry) for an affiliate; returns the Celery task id."""
    from .tasks import affiliate_provision_task

    return affiliate_provision_task.delay(affiliate_id, requested_by).id


def affiliate_retry(*, affiliate_id: int, requested_by: str = "") -> str:
    affiliate = Affiliate.objects.get(pk=affiliate_id)
    if affiliate.status in (Affiliate.Status.ARCHIVED, Affiliate.Status.SUSPENDED):
        raise ProvisioningError(f"{affiliate.slug} is {affiliate.status}; it cannot be provisioned again")
    return affiliate_enqueue(affiliate_id=affiliate_id, requested_by=requested_by)


# --------------------------------------------------------------------------------------------
# Provisioning: the steps
# --------------------------------------------------------------------------------------------


@contextmanager
def _advisory_lock(key: int, object_id: int, *, wait: bool) -> Iterator[bool]:
    """A session-level advisory lock on the management database, released on exit or on crash."""
    with psycopg.connect(**_management_target().conninfo(), autocommit=True, connect_timeout=10) as conn:
        if wait:
            conn.execute("SELECT pg_advisory_lock(%s, %s)", [key, object_id])
            acquired = True
        else:
            acquired = conn.execute("SELECT pg_try_advisory_lock(%s, %s)", [key, object_id]).fetchone()[0]
        try:
            yield acquired
        finally:
            if acquired and not conn.closed:
                conn.execute("SELECT pg_advisory_unlock(%s, %s)", [key, object_id])


@dataclass
class _Run:
    affiliate: Affiliate
    requested_by: str
    progress: Callable[[ProvisioningEvent], None] | None

    def step(self, name: str, action: Callable[[], bool | None], *, status_after: str | None = None) -> None:
        """Run one step and record it: ``skipped`` when it found its work already done."""
        started = time.monotonic()
        try:
            did_work = action()
        except Exception as exc:
            self.record(name, ProvisioningEvent.Outcome.FAILED, started, error=_describe(exc))
            raise
        outcome = ProvisioningEvent.Outcome.SKIPPED if did_work is False else ProvisioningEvent.Outcome.SUCCEEDED
        if status_after:
            self.set_status(status_after)
        self.record(name, outcome, started)

    def record(self, step: str, outcome: str, started: float, *, error: str = "") -> None:
        event = ProvisioningEvent.objects.create(
            affiliate=self.affiliate,
            step=step,
            outcome=outcome,
            duration_ms=int((time.monotonic() - started) * 1000),
            error=error,
            requested_by=self.requested_by,
        )
        if self.progress:
            self.progress(event)

    def set_status(self, status: str, *, detail: str = "", **fields) -> None:
        self.affiliate.status = status
        self.affiliate.status_detail = detail
        for key, value in fields.items():
            setattr(self.affiliate, key, value)
        Affiliate.objects.filter(pk=self.affiliate.pk).update(
            status=status, status_detail=detail, updated_at=timezone.now(), **fields
        )
        # This process routes by status at once; other processes within AFFILIATE_CACHE_SECONDS.
        from . import middleware

        middleware.clear_cache()


def _describe(exc: Exception) -> str:
    if isinstance(exc, flyway.FlywayError):
        return str(exc)
    return f"{type(exc).__name__}: {exc}".strip()


def affiliate_provision(
    *, affiliate_id: int, requested_by: str = "", progress: Callable[[ProvisioningEvent], None] | None = None
) -> Affiliate:
    """Bring an affiliate to ``active``, step by step; safe to run again after any failure."""
    with _advisory_lock(_LOCK_PROVISION, affiliate_id, wait=False) as acquired:
        if not acquired:
            raise ProvisioningBusy(f"affiliate {affiliate_id} is being provisioned by another worker")
        affiliate = Affiliate.objects.select_related("database_server").get(pk=affiliate_id)
        if affiliate.status == Affiliate.Status.ACTIVE:
            return affiliate
        if affiliate.status in (Affiliate.Status.SUSPENDED, Affiliate.Status.ARCHIVED):
            raise ProvisioningError(f"{affiliate.slug} is {affiliate.status}; it cannot be provisioned")
        run = _Run(affiliate, requested_by, progress)
        admin = server_admin_target(affiliate.database_server)
        try:
            run.step("create_role", lambda: _ensure_role(admin, affiliate))
            run.step(
                "create_database",
                lambda: _ensure_database(admin, affiliate),
                status_after=_later(affiliate.status, Affiliate.Status.DATABASE_CREATED),
            )
            run.step("migrate", lambda: _ensure_schema(admin, affiliate))
            run.step(
                "grant_privileges",
                lambda: _ensure_privileges(admin, affiliate),
                status_after=_later(affiliate.status, Affiliate.Status.MIGRATED),
            )
            if affiliate.seed_requested:
                run.step(
                    "seed",
                    lambda: _seed(admin, affiliate),
                    status_after=_later(affiliate.status, Affiliate.Status.SEEDED),
                )
            run.step("activate", lambda: True)
            run.set_status(Affiliate.Status.ACTIVE, activated_at=timezone.now())
        except Exception as exc:
            run.set_status(Affiliate.Status.FAILED, detail=_describe(exc))
            raise
        return affiliate


_ORDER = [
    Affiliate.Status.REQUESTED,
    Affiliate.Status.FAILED,
    Affiliate.Status.DATABASE_CREATED,
    Affiliate.Status.MIGRATED,
    Affiliate.Status.SEEDED,
    Affiliate.Status.ACTIVE,
]


def _later(current: str, proposed: str) -> str:
    """Status moves forward only (a retry from ``failed`` moves on as its steps succeed)."""
    return proposed if _ORDER.index(proposed) > _ORDER.index(current) or current == Affiliate.Status.FAILED else current


def _role_exists(conn: psycopg.Connection, role: str) -> bool:
    return conn.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", [role]).fetchone() is not None


def _ensure_role(admin: flyway.DatabaseTarget, affiliate: Affiliate) -> bool:
    role = affiliate.database_role
    verifier = credentials.scram_verifier(credentials.role_password(role, secret_ref=affiliate.secret_ref))
    with databases.admin_connect(admin) as conn:
        existed = _role_exists(conn, role)
        if not existed:
            try:
                conn.execute(
                    sql.SQL(
                        "CREATE ROLE {} LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOINHERIT CONNECTION LIMIT {}"
                    ).format(sql.Identifier(role), sql.Literal(settings.AFFILIATE_ROLE_CONNECTION_LIMIT))
                )
            except psycopg.errors.DuplicateObject:
                existed = True
        # Always (re)set the password, so a retry after a secret-key rotation still converges.
        conn.execute(sql.SQL("ALTER ROLE {} PASSWORD {}").format(sql.Identifier(role), sql.Literal(verifier)))
    return not existed


def _ensure_database(admin: flyway.DatabaseTarget, affiliate: Affiliate) -> bool:
    name, role = affiliate.database_name, affiliate.database_role
    with databases.admin_connect(admin) as conn:
        exists = databases.database_exists(conn, name)
    created = False
    if not exists:
        if settings.PROVISIONING_STRATEGY == "template":
            template = template_ensure(admin)
            with databases.admin_connect(admin) as conn:
                created = databases.database_create(conn, name, template=template)
        else:
            with databases.admin_connect(admin) as conn:
                created = databases.database_create(conn, name)
    with databases.admin_connect(admin) as conn:
        conn.execute(sql.SQL("REVOKE CONNECT, TEMPORARY ON DATABASE {} FROM PUBLIC").format(sql.Identifier(name)))
        conn.execute(sql.SQL("GRANT CONNECT ON DATABASE {} TO {}").format(sql.Identifier(name), sql.Identifier(role)))
    # Affiliate roles must never reach the management database either (on its own server, which
    # need not be the affiliate's).
    management = _management_target()
    with databases.admin_connect(management) as conn:
        conn.execute(
            sql.SQL("REVOKE CONNECT, TEMPORARY ON DATABASE {} FROM PUBLIC").format(sql.Identifier(management.name))
        )
    return created


def _schema_version(target: flyway.DatabaseTarget) -> str | None:
    """The Flyway version a database is at, read from its history table (no JVM start)."""
    with psycopg.connect(**target.conninfo(), connect_timeout=10) as conn:
        if conn.execute("SELECT to_regclass('master.flyway_schema_history')").fetchone()[0] is None:
            return None
        row = conn.execute(
            "SELECT version FROM master.flyway_schema_history WHERE success AND version IS NOT NULL"
            " ORDER BY installed_rank DESC LIMIT 1"
        ).fetchone()
    return row[0] if row else None


def _ensure_schema(admin: flyway.DatabaseTarget, affiliate: Affiliate) -> bool:
    target = flyway.DatabaseTarget(**{**admin.__dict__, "name": affiliate.database_name})
    latest = flyway.latest_version("application")
    version = _schema_version(target)
    did_work = False
    if version != latest:
        result = flyway.migrate(target, kind="application")
        version = result.target_version
        did_work = True
    if version != latest:
        raise ProvisioningError(f"{affiliate.database_name} is at version {version}, expected {latest}")
    affiliate.schema_version = version
    Affiliate.objects.filter(pk=affiliate.pk).update(schema_version=version)
    return did_work


def _ensure_privileges(admin: flyway.DatabaseTarget, affiliate: Affiliate) -> bool:
    """The affiliate's role reads and writes rows in schema master but cannot change the schema."""
    role = sql.Identifier(affiliate.database_role)
    owner = sql.Identifier(admin.user)
    target = flyway.DatabaseTarget(**{**admin.__dict__, "name": affiliate.database_name})
    statements = [
        sql.SQL("REVOKE ALL ON SCHEMA public FROM PUBLIC"),
        sql.SQL("REVOKE CREATE ON SCHEMA master FROM PUBLIC"),
        sql.SQL("GRANT USAGE ON SCHEMA master TO {}").format(role),
        sql.SQL("GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA master TO {}").format(role),
        sql.SQL("REVOKE INSERT, UPDATE, DELETE, TRUNCATE ON master.flyway_schema_history FROM {}").format(role),
        sql.SQL("GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA master TO {}").format(role),
        sql.SQL(
            "ALTER DEFAULT PRIVILEGES FOR ROLE {} IN SCHEMA master GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO {}"
        ).format(owner, role),
        sql.SQL("ALTER DEFAULT PRIVILEGES FOR ROLE {} IN SCHEMA master GRANT USAGE, SELECT ON SEQUENCES TO {}").format(
            owner, role
        ),
        sql.SQL("ALTER ROLE {} IN DATABASE {} SET search_path = master").format(
            role, sql.Identifier(affiliate.database_name)
        ),
    ]
    with psycopg.connect(**target.conninfo(), connect_timeout=10) as conn:
        for statement in statements:
            conn.execute(statement)
    return True


def _seed(admin: flyway.DatabaseTarget, affiliate: Affiliate) -> bool:
    target = flyway.DatabaseTarget(**{**admin.__dict__, "name": affiliate.database_name})
    result = flyway.migrate(target, kind="application", seed=True)
    return result.migrations_executed > 0


def template_ensure(admin: flyway.DatabaseTarget) -> str:
    """The Flyway-migrated template new affiliate databases are cloned from, kept at the latest version."""
    template = settings.PROVISIONING_TEMPLATE_DATABASE
    latest = flyway.latest_version("application")
    target = flyway.DatabaseTarget(**{**admin.__dict__, "name": template})
    with databases.admin_connect(admin) as conn:
        exists = databases.database_exists(conn, template)
    if exists and _schema_version(target) == latest:
        return template
    with _advisory_lock(_LOCK_TEMPLATE, 0, wait=True):
        with databases.admin_connect(admin) as conn:
            databases.database_create(conn, template)
            conn.execute(
                sql.SQL("REVOKE CONNECT, TEMPORARY ON DATABASE {} FROM PUBLIC").format(sql.Identifier(template))
            )
        if _schema_version(target) != latest:
            flyway.migrate(target, kind="application")
    return template


# --------------------------------------------------------------------------------------------
# Suspend, resume, archive
# --------------------------------------------------------------------------------------------


def _terminate_sessions(conn: psycopg.Connection, affiliate: Affiliate) -> None:
    conn.execute(
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = %s AND pid <> pg_backend_pid()",
        [affiliate.database_role],
    )


def _set_login(affiliate: Affiliate, *, login: bool) -> bool:
    """Let the affiliate's role log in, or not (ending its open sessions)."""
    with databases.admin_connect(server_admin_target(affiliate.database_server)) as conn:
        verb = sql.SQL("LOGIN" if login else "NOLOGIN")
        conn.execute(sql.SQL("ALTER ROLE {} {}").format(sql.Identifier(affiliate.database_role), verb))
        if not login:
            _terminate_sessions(conn, affiliate)
    return True


def affiliate_suspend(*, affiliate_id: int, requested_by: str = "") -> Affiliate:
    """Stop an active affiliate: its role can no longer log in and its open sessions end."""
    affiliate = Affiliate.objects.select_related("database_server").get(pk=affiliate_id)
    if affiliate.status == Affiliate.Status.SUSPENDED:
        return affiliate
    if affiliate.status != Affiliate.Status.ACTIVE:
        raise ProvisioningError(f"only an active affiliate can be suspended; {affiliate.slug} is {affiliate.status}")
    _Run(affiliate, requested_by, None).step(
        "suspend", lambda: _set_login(affiliate, login=False), status_after=Affiliate.Status.SUSPENDED
    )
    return affiliate


def affiliate_resume(*, affiliate_id: int, requested_by: str = "") -> Affiliate:
    """Let a suspended affiliate's role log in again."""
    affiliate = Affiliate.objects.select_related("database_server").get(pk=affiliate_id)
    if affiliate.status == Affiliate.Status.ACTIVE:
        return affiliate
    if affiliate.status != Affiliate.Status.SUSPENDED:
        raise ProvisioningError(f"only a suspended affiliate can be resumed; {affiliate.slug} is {affiliate.status}")
    _Run(affiliate, requested_by, None).step(
        "resume", lambda: _set_login(affiliate, login=True), status_after=Affiliate.Status.ACTIVE
    )
    return affiliate


def affiliate_archive(*, affiliate_id: int, requested_by: str = "") -> Affiliate:
    """Back the database up with pg_dump, then drop the database and role; keep the row as archived."""
    affiliate = Affiliate.objects.select_related("database_server").get(pk=affiliate_id)
    if affiliate.status == Affiliate.Status.ARCHIVED:
        return affiliate
    admin = server_admin_target(affiliate.database_server)
    run = _Run(affiliate, requested_by, None)
    backup: dict[str, Path] = {}

    def take_backup() -> bool:
        with databases.admin_connect(admin) as conn:
            if not databases.database_exists(conn, affiliate.database_name):
                return False  # nothing to back up (never created, or dropped by an earlier attempt)
        backup["path"] = _pg_dump(admin, affiliate)
        return True

    def drop() -> bool:
        with databases.admin_connect(admin) as conn:
            if _role_exists(conn, affiliate.database_role):
                conn.execute(sql.SQL("ALTER ROLE {} NOLOGIN").format(sql.Identifier(affiliate.database_role)))
                _terminate_sessions(conn, affiliate)
            dropped = databases.database_drop(conn, affiliate.database_name)
            if _role_exists(conn, affiliate.database_role):
                conn.execute(sql.SQL("DROP ROLE {}").format(sql.Identifier(affiliate.database_role)))
                dropped = True
        return dropped

    try:
        run.step("backup", take_backup)
        run.step("drop_database", drop)
    except Exception as exc:
        run.set_status(affiliate.status, detail=f"archive failed: {_describe(exc)}")
        raise
    detail = f"backup: {backup['path']}" if "path" in backup else ""
    run.set_status(Affiliate.Status.ARCHIVED, detail=detail)
    return affiliate


def _pg_dump(admin: flyway.DatabaseTarget, affiliate: Affiliate) -> Path:
    folder = Path(settings.BACKUP_DIR)
    folder.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    path = folder / f"{affiliate.slug}-{stamp}.dump"
    partial = path.with_suffix(".dump.partial")
    pg_dump = shutil.which("pg_dump") or "pg_dump"
    env = {**os.environ, "PGPASSWORD": admin.password}
    completed = subprocess.run(
        [
            pg_dump,
            "--format=custom",
            "--no-owner",
            f"--file={partial}",
            "-h",
            admin.host,
            "-p",
            str(admin.port),
            "-U",
            admin.user,
            affiliate.database_name,
        ],
        env=env,
        capture_output=True,
        text=True,
        timeout=3600,
    )
    if completed.returncode != 0:
        partial.unlink(missing_ok=True)
        raise ProvisioningError(f"pg_dump of {affiliate.database_name} failed: {completed.stderr.strip()}")
    # A backup that pg_restore cannot read is no backup: check before anything is dropped.
    check = subprocess.run(["pg_restore", "--list", str(partial)], capture_output=True, text=True)
    if check.returncode != 0 or "TABLE DATA master participation" not in check.stdout:
        raise ProvisioningError(f"the backup of {affiliate.database_name} is unreadable: {check.stderr.strip()}")
    partial.rename(path)
    return path
