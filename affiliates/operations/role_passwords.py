"""Affiliate role passwords after setup: a new random password for roles kept in Secrets Manager
(rotation), the password the current secret key derives for the others (re-keying), and the repair of
a role whose password was changed from inside."""

from __future__ import annotations

import psycopg
from django.db.models import QuerySet

from affiliates.audit import audit_record
from affiliates.errors import OperationError
from affiliates.infra import credentials, databases, locks
from affiliates.infra.targets import CONNECT_TIMEOUT, affiliate_target, server_admin_target
from affiliates.models import Affiliate, StaffAudit
from affiliates.operations.affiliate_database import role_of
from affiliates.operations.affiliate_database import server_of as server_of_affiliate


def _with_role(affiliates: QuerySet[Affiliate], slugs: list[str], kind: str) -> QuerySet[Affiliate]:
    affiliates = affiliates.exclude(status=Affiliate.Status.ARCHIVED).order_by("schema_name")
    if not slugs:
        return affiliates
    known = set(affiliates.filter(schema_name__in=slugs).values_list("schema_name", flat=True))
    missing = sorted(set(slugs) - known)
    if missing:
        raise OperationError(f"no affiliate with {kind}: {', '.join(missing)}")
    return affiliates.filter(schema_name__in=slugs)


def affiliates_with_secret(slugs: list[str]) -> QuerySet[Affiliate]:
    """Placed affiliates whose role password lives in Secrets Manager (these slugs only, if any)."""
    affiliates = Affiliate.objects.select_related("database_server").filter(
        secret_ref__startswith=credentials.SECRETS_MANAGER_PREFIX, database_server__isnull=False
    )
    return _with_role(affiliates, slugs, "a Secrets Manager password")


def affiliates_derived(slugs: list[str]) -> QuerySet[Affiliate]:
    """Placed affiliates whose role password is derived from the secret key (these slugs only, if any)."""
    affiliates = Affiliate.objects.select_related("database_server").filter(
        secret_ref=credentials.DERIVED_SECRET_REF, database_server__isnull=False
    )
    return _with_role(affiliates, slugs, "a derived password")


def role_password_rotate(affiliate: Affiliate) -> None:
    """A new random password: the secret first, then the role (a refused login fetches the secret again)."""
    if affiliate.database_server is None:
        raise OperationError(f"{affiliate.slug} has no database server")
    with locks.affiliate_held(affiliate.pk, "rotate"):
        password = credentials.role_secret_rotate(affiliate.secret_ref, role_of(affiliate))
        with databases.admin_connect(server_admin_target(affiliate.database_server)) as conn:
            databases.role_password_set(
                conn, role_of(affiliate), password_verifier=credentials.scram_verifier(password)
            )


def role_rekey(affiliate: Affiliate) -> str | None:
    """Set the role to the password the current secret key derives; a note when there is no role yet."""
    if affiliate.database_server is None:
        raise OperationError(f"{affiliate.slug} has no database server")
    verifier = credentials.scram_verifier(credentials.role_password(role_of(affiliate)))
    with databases.admin_connect(server_admin_target(affiliate.database_server)) as conn:
        if not databases.role_exists(conn, role_of(affiliate)):
            return "no role yet (provisioning will create it)"
        databases.role_password_set(conn, role_of(affiliate), password_verifier=verifier)
    return None


#: Who the audit trail names for a repair nobody asked for by hand.
REPAIR_ACTOR = "fitbuddy (automatic)"


def role_repair(affiliate_id: int) -> str:
    """Give an active affiliate's role back the password FitBuddy knows, if the role refuses it.

    PostgreSQL lets any role change its own password, so whoever holds a gym role's password can lock
    the application out of that gym. The web process notices (every known password refused) and asks
    for this; it checks the refusal itself, sets the password with the server's administrator login
    and records it in the audit trail. Safe to run again: a role that accepts its password is left alone.
    """
    affiliate = Affiliate.objects.select_related("database_server").filter(pk=affiliate_id).first()
    if affiliate is None or affiliate.status != Affiliate.Status.ACTIVE:
        return "not active"
    target = affiliate_target(affiliate)
    # The password this process derives or fetches, then those a running process may still use (the
    # previous secret key's, the secret fetched again): any that works means nothing to repair.
    ref = affiliate.secret_ref or credentials.DERIVED_SECRET_REF
    passwords = [target.password, *credentials.role_password_alternatives(target.user, secret_ref=ref)]
    for password in passwords:
        try:
            psycopg.connect(**target.conninfo(password=password), connect_timeout=CONNECT_TIMEOUT).close()
            return "accepted"
        except psycopg.OperationalError as exc:
            if "password authentication failed" not in str(exc):
                raise
    with locks.affiliate_held(affiliate.pk, "role repair"):
        if affiliate.secret_ref in ("", credentials.DERIVED_SECRET_REF):
            note = role_rekey(affiliate)
        else:  # the role's own secret holds the password: set it again on the role
            password = credentials.role_password(role_of(affiliate), secret_ref=affiliate.secret_ref)
            with databases.admin_connect(server_admin_target(server_of_affiliate(affiliate))) as conn:
                databases.role_password_set(
                    conn, role_of(affiliate), password_verifier=credentials.scram_verifier(password)
                )
            note = None
    audit_record(
        actor=REPAIR_ACTOR,
        channel=StaffAudit.Channel.TASK,
        action="role_repair",
        target=affiliate.slug,
        outcome=StaffAudit.Outcome.SUCCEEDED,
        detail=note
        or f"{role_of(affiliate)} refused its password (changed from inside); set back as the provisioning login",
    )
    return "repaired"
