"""Affiliate role passwords after setup: a new random password for roles kept in Secrets Manager
(rotation), and the password the current secret key derives for the others (re-keying)."""

from __future__ import annotations

from django.db.models import QuerySet

from affiliates.errors import OperationError
from affiliates.infra import credentials, databases, locks
from affiliates.infra.targets import server_admin_target
from affiliates.models import Affiliate
from affiliates.operations.affiliate_database import role_of


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
