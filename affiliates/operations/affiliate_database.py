"""The steps that build an affiliate's database on its server, each checking before it acts.

Provisioning runs them all in order; a restore runs the role, schema and privilege steps around
``pg_restore``. Each returns whether it did any work, for the step log, and is safe to run again.
"""

from __future__ import annotations

import logging
from typing import cast

import psycopg
from django.conf import settings

from affiliates.errors import OperationError
from affiliates.infra import credentials, databases, flyway, locks
from affiliates.infra.targets import CONNECT_TIMEOUT, DatabaseTarget, on_database, provisioning_management_target
from affiliates.models import Affiliate, DatabaseServer

log = logging.getLogger(__name__)


# --- where a registered affiliate's database is ---
#
# Registration (provisioning._affiliate_register) places every affiliate and names its database and
# role after the slug, though the registry's columns are nullable. These give the values registration
# set and check nothing: a row without them fails where the value is used.


def server_of(affiliate: Affiliate) -> DatabaseServer:
    """The server the affiliate is placed on."""
    return cast(DatabaseServer, affiliate.database_server)


def name_of(affiliate: Affiliate) -> str:
    """The affiliate's database name."""
    return cast(str, affiliate.database_name)


def role_of(affiliate: Affiliate) -> str:
    """The affiliate's database role."""
    return cast(str, affiliate.database_role)


class SchemaSource:
    """How a new affiliate database gets its schema (setting ``PROVISIONING_STRATEGY``)."""

    TEMPLATE = "template"  # clone a Flyway-migrated template database, then confirm its version
    FLYWAY = "flyway"  # create an empty database and run Flyway on it
    ALL = (TEMPLATE, FLYWAY)


def affiliate_role_ensure(admin: DatabaseTarget, affiliate: Affiliate) -> bool:
    if not affiliate.secret_ref:  # AFFILIATE_CREDENTIALS=secretsmanager: the role's own secret, made once
        affiliate.secret_ref = credentials.role_secret_ensure(role_of(affiliate))
        Affiliate.objects.filter(pk=affiliate.pk).update(secret_ref=affiliate.secret_ref)
    password = credentials.role_password(role_of(affiliate), secret_ref=affiliate.secret_ref)
    with databases.admin_connect(admin) as conn:
        return databases.role_ensure(
            conn,
            role_of(affiliate),
            password_verifier=credentials.scram_verifier(password),
            connection_limit=settings.AFFILIATE_ROLE_CONNECTION_LIMIT,
        )


def affiliate_database_ensure(admin: DatabaseTarget, affiliate: Affiliate) -> bool:
    name = name_of(affiliate)
    with databases.admin_connect(admin) as conn:
        exists = databases.database_exists(conn, name)
    created = False
    if not exists:
        template = template_ensure(admin) if settings.PROVISIONING_STRATEGY == SchemaSource.TEMPLATE else None
        with databases.admin_connect(admin) as conn:
            created = databases.database_create(conn, name, template=template)
    with databases.admin_connect(admin) as conn:
        databases.database_lock_down(conn, name, role=role_of(affiliate))
        still_open = databases.maintenance_lock_down(conn, admin=admin.user)
    if still_open:
        log.warning(
            "%s on %s: %s still open to PUBLIC (%s owns them, not %s); an affiliate role can connect there "
            "and list databases and roles: REVOKE CONNECT ON DATABASE ... FROM PUBLIC as their owner",
            affiliate.slug,
            admin.host,
            ", ".join(still_open),
            "another login",
            admin.user,
        )
    # Affiliate roles must never reach the management database either (on its own server, which
    # need not be the affiliate's).
    management = provisioning_management_target()
    with databases.admin_connect(management) as conn:
        databases.database_lock_down(conn, management.name)
    return created


def affiliate_schema_ensure(admin: DatabaseTarget, affiliate: Affiliate) -> bool:
    target = on_database(admin, name_of(affiliate))
    latest = flyway.latest_version("application")
    version = databases.schema_version(target)
    did_work = False
    if version != latest:
        version = flyway.migrate(target, kind="application").target_version
        did_work = True
    if version != latest:
        raise OperationError(f"{affiliate.database_name} is at version {version}, expected {latest}")
    affiliate.schema_version = version
    Affiliate.objects.filter(pk=affiliate.pk).update(schema_version=version)
    return did_work


def affiliate_privileges_ensure(admin: DatabaseTarget, affiliate: Affiliate) -> bool:
    target = on_database(admin, name_of(affiliate))
    with psycopg.connect(**target.conninfo(), connect_timeout=CONNECT_TIMEOUT) as conn:  # one transaction
        databases.schema_privileges_grant(conn, role=role_of(affiliate), owner=admin.user, database=name_of(affiliate))
    return True


def affiliate_seed(admin: DatabaseTarget, affiliate: Affiliate) -> bool:
    result = flyway.migrate(on_database(admin, name_of(affiliate)), kind="application", seed=True)
    return result.migrations_executed > 0


def template_ensure(admin: DatabaseTarget) -> str:
    """The Flyway-migrated template new affiliate databases are cloned from, kept at the latest version."""
    template: str = settings.PROVISIONING_TEMPLATE_DATABASE
    latest = flyway.latest_version("application")
    target = on_database(admin, template)
    with databases.admin_connect(admin) as conn:
        exists = databases.database_exists(conn, template)
    if exists and databases.schema_version(target) == latest:
        return template
    with locks.template_lock():
        with databases.admin_connect(admin) as conn:
            databases.database_create(conn, template)
            databases.database_lock_down(conn, template)
        if databases.schema_version(target) != latest:
            flyway.migrate(target, kind="application")
    return template
