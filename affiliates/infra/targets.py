"""Connection targets: where a PostgreSQL database is, and the login and TLS to reach it with.

Every layer that opens a connection (routing, Flyway, DDL, backups, locks) asks here: the
management database (:func:`management_target`), a database server's administrative login
(:func:`server_admin_target`), an affiliate's own role (:func:`affiliate_target`), and the pooler
in front of a server (:func:`pooler_for`).
"""

from __future__ import annotations

import dataclasses
import os
from dataclasses import dataclass, field
from typing import Any, cast
from urllib.parse import quote

from django.conf import settings
from django.db import connections

from affiliates.errors import OperationError
from affiliates.infra import credentials
from affiliates.models import Affiliate, DatabaseServer

#: Seconds a connection attempt may take before it gives up (every connection FitBuddy opens).
CONNECT_TIMEOUT = 10

#: The database every PostgreSQL server has, for administrative connections.
MAINTENANCE_DATABASE = "postgres"


@dataclass(frozen=True)
class DatabaseTarget:
    """Where a PostgreSQL database is and how to log in to it."""

    name: str
    host: str = "localhost"
    port: int = 5432
    user: str = "fitbud"
    password: str = field(default="", repr=False)
    #: TLS for servers outside this machine (placement sets these): libpq's sslmode, the CA
    #: bundle to verify the server against, and the only password authentication accepted.
    sslmode: str = ""
    sslrootcert: str = ""
    require_auth: str = ""

    @classmethod
    def from_django(cls, db_settings: dict[str, Any], *, name: str | None = None) -> DatabaseTarget:
        """Build a target from a Django DATABASES entry (optionally for another database name)."""
        return cls(
            name=name or db_settings["NAME"],
            host=db_settings.get("HOST") or "localhost",
            port=int(db_settings.get("PORT") or 5432),
            user=db_settings.get("USER") or "",
            password=db_settings.get("PASSWORD") or "",
        )

    @property
    def jdbc_url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        url = f"jdbc:postgresql://{host}:{self.port}/{quote(self.name, safe='')}"
        wanted = (("sslmode", self.sslmode), ("sslrootcert", self.sslrootcert))
        tls = [f"{key}={quote(value, safe='')}" for key, value in wanted if value]
        return url + ("?" + "&".join(tls) if tls else "")

    def conninfo(self, **overrides: Any) -> dict[str, Any]:
        """Keyword arguments for ``psycopg.connect``."""
        params = {
            "host": self.host,
            "port": self.port,
            "dbname": self.name,
            "user": self.user,
            "password": self.password,
            **self.tls_params(),
        }
        params.update(overrides)
        return params

    def tls_params(self) -> dict[str, str]:
        """The libpq TLS parameters this target sets (none for a server on this machine)."""
        wanted = {"sslmode": self.sslmode, "sslrootcert": self.sslrootcert, "require_auth": self.require_auth}
        return {key: value for key, value in wanted.items() if value}

    def client_args(self) -> list[str]:
        """Where and as whom, for PostgreSQL's command-line clients (pg_dump, psql, pg_restore)."""
        return ["-h", self.host, "-p", str(self.port), "-U", self.user]

    def client_env(self) -> dict[str, str]:
        """The environment for those clients: the password in PGPASSWORD, never on the command line."""
        env = {**os.environ, "PGPASSWORD": self.password}
        names = {"sslmode": "PGSSLMODE", "sslrootcert": "PGSSLROOTCERT", "require_auth": "PGREQUIREAUTH"}
        env.update({names[key]: value for key, value in self.tls_params().items()})
        return env

    def __str__(self) -> str:
        return f"{self.name} on {self.host}:{self.port}"


#: The only administrative login FitBuddy knows so far: the management database's own.
MANAGEMENT_LOGIN_REF = "env:DATABASE_URL"


def management_target() -> DatabaseTarget:
    """The management database, as Django's ``default`` reaches it."""
    return DatabaseTarget.from_django(connections["default"].settings_dict)


def provisioning_management_target() -> DatabaseTarget:
    """The management database as the administrator login reaches it: ``PROVISIONING_DATABASE_URL``
    (the worker's and operators' commands'; the web process is never given it), else Django's own
    login (local development and tests, where that login administers the server)."""
    if not settings.PROVISIONING_DATABASE_URL:
        return management_target()
    login = credentials.login_resolve("env:PROVISIONING_DATABASE_URL")
    management = management_target()
    return dataclasses.replace(management, user=login.username, password=login.password)


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


def server_admin_target(server: DatabaseServer, *, name: str = MAINTENANCE_DATABASE) -> DatabaseTarget:
    """The administrative login for a server, from its ``admin_secret_ref``.

    ``env:DATABASE_URL`` (or none) is the administrator login of the management database's own server
    (:func:`provisioning_management_target`); any other reference is resolved by
    ``credentials.login_resolve`` (an environment variable, a
    Secrets Manager secret).
    """
    ref = server.admin_secret_ref or MANAGEMENT_LOGIN_REF
    if ref == MANAGEMENT_LOGIN_REF:
        management = provisioning_management_target()
        user, password = management.user, management.password
    else:
        try:
            login = credentials.login_resolve(ref)
        except credentials.SecretError as exc:
            raise OperationError(f"database server {server.name}: {exc}") from exc
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
    # Registration gives every affiliate its database and role names; the columns are nullable only
    # in the schema (the type checker sees str | None).
    name, role = cast(str, affiliate.database_name), cast(str, affiliate.database_role)
    return DatabaseTarget(
        name=name,
        host=server.host,
        port=server.port,
        user=role,
        password=credentials.role_password(role, secret_ref=affiliate.secret_ref),
        **tls_for(server.host),
    )
