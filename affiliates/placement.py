"""Where affiliate databases live and how to reach them: database servers and connection targets.

A new affiliate is placed on the accepting database server with room (``max_affiliates``) and the
fewest affiliates, the default server first among equals; ``server_name`` chooses one outright.
Without any registered server, on the management database's own (registered as ``local`` on
first use). When no server has room, placement refuses before anything is created.
"""

from __future__ import annotations

import dataclasses

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import connections
from django.db.models import Count, F, Q

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


def pooler_for(server: DatabaseServer) -> tuple[str, int] | None:
    """Where the application's affiliate connections to ``server`` go: its pooler (HOST:PORT), or
    ``DATABASE_POOLER`` for the management database's own server, or None (straight to it)."""
    address = server.pooler
    if not address and settings.DATABASE_POOLER:
        management = management_target()
        if (server.host, int(server.port)) == (management.host, int(management.port)):
            address = settings.DATABASE_POOLER
    if not address:
        return None
    host, _, port = address.rpartition(":")
    return host.strip("[]"), int(port)


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


def servers_with_load():
    """Servers with the number of affiliates they hold (every affiliate but archived ones)."""
    return DatabaseServer.objects.annotate(
        load=Count("affiliates", filter=~Q(affiliates__status=Affiliate.Status.ARCHIVED))
    )


def database_server_choose(*, server_name: str | None = None) -> DatabaseServer:
    """The server a new affiliate goes to (unsaved ``local`` when none is registered); ValidationError when
    none can take it."""
    if server_name:
        server = servers_with_load().filter(name=server_name).first()
        if server is None:
            names = ", ".join(DatabaseServer.objects.values_list("name", flat=True)) or "none registered"
            raise ValidationError(f"No database server {server_name!r} (servers: {names}).")
        if not server.is_accepting:
            raise ValidationError(f"{server.name} is draining: it takes no new affiliates.")
        if server.max_affiliates is not None and server.load >= server.max_affiliates:
            raise ValidationError(f"{server.name} is full ({server.load} of {server.max_affiliates} affiliates).")
        return server
    if not DatabaseServer.objects.exists():
        return database_server_default(create=False)
    server = (
        servers_with_load()
        .filter(is_accepting=True)
        .filter(Q(max_affiliates__isnull=True) | Q(max_affiliates__gt=F("load")))
        .order_by("load", "-is_default", "name")
        .first()
    )
    if server is None:
        summary = ", ".join(
            f"{s.name}: {s.load}/{s.max_affiliates or '∞'}{'' if s.is_accepting else ' draining'}"
            for s in servers_with_load().order_by("name")
        )
        raise ValidationError(f"No database server has room for a new affiliate ({summary}).")
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
    return DatabaseTarget(
        name=name, host=server.host, port=server.port, user=user, password=password, **tls_for(server.host)
    )


LOCAL_HOSTS = {"localhost", "127.0.0.1", "::1", ""}


def tls_for(host: str) -> dict[str, str]:
    """TLS settings for a connection to ``host`` (DATABASE_TLS: off, remote or always)."""
    if settings.DATABASE_TLS == "off" or (settings.DATABASE_TLS == "remote" and host in LOCAL_HOSTS):
        return {}
    return {
        "sslmode": settings.DATABASE_SSLMODE,
        "sslrootcert": settings.DATABASE_CA_BUNDLE,
        "require_auth": "scram-sha-256",
    }


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
        **tls_for(server.host),
    )
