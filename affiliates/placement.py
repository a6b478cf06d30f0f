"""Where affiliate databases live and how to reach them: database servers and connection targets.

A new affiliate is placed on the default database server that accepts affiliates; without a
registered one, on the management database's own server (registered as ``local`` on first use).
"""

from __future__ import annotations

import dataclasses

from django.db import connections

from . import credentials
from .databases import MAINTENANCE_DATABASE
from .errors import ProvisioningError
from .flyway import DatabaseTarget
from .models import Affiliate, DatabaseServer

#: The only administrative login FitBuddy knows so far: the management database's own.
MANAGEMENT_LOGIN_REF = "env:DATABASE_URL"


def management_target() -> DatabaseTarget:
    """The management database, as Django's ``default`` reaches it."""
    return DatabaseTarget.from_django(connections["default"].settings_dict)


def _local_server() -> DatabaseServer:
    management = management_target()
    return DatabaseServer(
        name="local",
        kind=DatabaseServer.Kind.LOCAL,
        host=management.host,
        port=management.port,
        admin_secret_ref=MANAGEMENT_LOGIN_REF,
        is_default=True,
    )


def database_server_default(*, create: bool = True) -> DatabaseServer:
    """The server new affiliates are placed on: the registered default, else the management database's own.

    With ``create=False`` nothing is written: an unsaved ``local`` server stands in for the one
    that would be registered.
    """
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


def server_admin_target(server: DatabaseServer, *, name: str = MAINTENANCE_DATABASE) -> DatabaseTarget:
    """The administrative login for a server, from its ``admin_secret_ref``.

    ``env:DATABASE_URL`` (or none) is the management database's own login, as Django has it; any
    other reference is resolved by ``credentials.login_resolve`` (an environment variable, a
    Secrets Manager secret).
    """
    ref = server.admin_secret_ref or MANAGEMENT_LOGIN_REF
    if ref == MANAGEMENT_LOGIN_REF:
        management = management_target()
        user, password = management.user, management.password
    else:
        try:
            login = credentials.login_resolve(ref)
        except credentials.SecretError as exc:
            raise ProvisioningError(f"database server {server.name}: {exc}") from exc
        user, password = login.username, login.password
    return DatabaseTarget(name=name, host=server.host, port=server.port, user=user, password=password)


def on_database(target: DatabaseTarget, name: str) -> DatabaseTarget:
    """The same login and server, on another database."""
    return dataclasses.replace(target, name=name)


def affiliate_target(affiliate: Affiliate) -> DatabaseTarget:
    """How the application reaches an affiliate's database: as the affiliate's own role."""
    server = affiliate.database_server or management_target()  # unplaced: the management database's server
    return DatabaseTarget(
        name=affiliate.database_name,
        host=server.host,
        port=server.port,
        user=affiliate.database_role,
        password=credentials.role_password(affiliate.database_role, secret_ref=affiliate.secret_ref),
    )
