"""Database servers: registering one (checked by connecting as its administrator first), and letting
it take new affiliates or draining it. The ``database_server`` command and the command center both
call these."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import psycopg
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from affiliates.audit import audit_record
from affiliates.errors import OperationError
from affiliates.infra import aurora, credentials, databases
from affiliates.infra.targets import CONNECT_TIMEOUT, server_admin_target
from affiliates.models import DatabaseServer, StaffAudit


@dataclass(frozen=True)
class AuroraRequest:
    """An Aurora Serverless v2 cluster to register (``create``: make it and its writer first)."""

    cluster_id: str
    region: str | None = None
    create: bool = False
    min_acu: float = 0.5
    max_acu: float = 16
    #: Reach the writer endpoint through this address (a tunnel or proxy) instead of directly.
    connect_via: tuple[str, int] | None = None


@dataclass(frozen=True)
class Registered:
    server: DatabaseServer
    #: The administrative login the server was checked with.
    admin_login: str
    #: Maintenance databases left open to PUBLIC because the administrator does not own them.
    still_open: list[str]


def address_parse(text: str | None, *, flag: str) -> tuple[str, int] | None:
    """HOST:PORT as a pair, or None for nothing; ValidationError naming ``flag`` for anything else."""
    if not text:
        return None
    host, _, port = text.rpartition(":")
    if not host or not port.isdigit() or not 1 <= int(port) <= 65535 or any(c.isspace() for c in host):
        raise ValidationError(f"{flag} must be HOST:PORT, not {text!r}")
    return host, int(port)


def server_register(
    *,
    name: str,
    host: str | None = None,
    port: int = 5432,
    admin_secret: str | None = None,
    aurora_cluster: AuroraRequest | None = None,
    max_affiliates: int | None = None,
    pooler: tuple[str, int] | None = None,
    default: bool = False,
    actor: str,
    channel: str = StaffAudit.Channel.COMMAND,
    progress: Callable[[str], None] = lambda message: None,
) -> Registered:
    """Register a PostgreSQL server or an Aurora cluster after connecting to it as its administrator.

    ValidationError for a bad request (nothing done); OperationError when the server cannot be
    reached or its login cannot create databases and roles (nothing registered).
    """
    server = DatabaseServer(
        name=name,
        host=host or "",
        port=port,
        admin_secret_ref=admin_secret or "",
        max_affiliates=max_affiliates,
        is_default=default,
        pooler=f"{pooler[0]}:{pooler[1]}" if pooler else "",
    )
    if aurora_cluster:
        cluster = _aurora_cluster(aurora_cluster, progress)
        server.kind = DatabaseServer.Kind.AURORA
        server.aws_cluster_id, server.aws_region = cluster.cluster_id, cluster.region
        server.endpoint = cluster.endpoint
        server.host, server.port = aurora_cluster.connect_via or (cluster.endpoint, cluster.port)
        server.admin_secret_ref = f"{credentials.SECRETS_MANAGER_PREFIX}{cluster.secret_arn}"
    progress(f"Connecting to {server.host}:{server.port} with the login {server.admin_secret_ref} names …")
    login, still_open = admin_login_check(server)
    try:
        server.full_clean(exclude=["is_default"])
        with transaction.atomic():
            if default:
                DatabaseServer.objects.update(is_default=False)
            server.save()
    except IntegrityError as exc:
        raise ValidationError(f"not registered: {exc}") from exc
    audit_record(
        actor=actor,
        channel=channel,
        action="server_add",
        target=name,
        outcome=StaffAudit.Outcome.SUCCEEDED,
        detail=f"{server.host}:{server.port} as {login}"
        + (f", Aurora {aurora_cluster.cluster_id}" if aurora_cluster else ""),
    )
    return Registered(server=server, admin_login=login, still_open=still_open)


def _aurora_cluster(request: AuroraRequest, progress: Callable[[str], None]) -> aurora.Cluster:
    try:
        if request.create:
            return aurora.cluster_create(
                request.cluster_id,
                region=request.region,
                min_acu=request.min_acu,
                max_acu=request.max_acu,
                progress=lambda message: progress(f"  {message}"),
            )
        cluster = aurora.cluster_describe(request.cluster_id, region=request.region)
    except aurora.AuroraError as exc:
        raise OperationError(str(exc)) from exc
    if cluster.status != "available":
        raise OperationError(f"{request.cluster_id} is {cluster.status}, not available yet; run this again later")
    return cluster


def admin_login_check(server: DatabaseServer) -> tuple[str, list[str]]:
    """Connect as the server's administrator; it must be able to create databases and roles. Closes
    ``postgres`` and ``template1`` to PUBLIC where it may; returns the login and those it may not."""
    target = server_admin_target(server)
    try:
        with psycopg.connect(**target.conninfo(), connect_timeout=CONNECT_TIMEOUT) as conn:
            row = conn.execute(
                "SELECT rolsuper OR (rolcreatedb AND rolcreaterole) FROM pg_roles WHERE rolname = current_user"
            ).fetchone()
            can = bool(row and row[0])
            conn.commit()
            conn.autocommit = True
            still_open = databases.maintenance_lock_down(conn, admin=target.user) if can else []
    except psycopg.OperationalError as exc:
        message = str(exc).replace(target.password, "********") if target.password else str(exc)
        raise OperationError(f"cannot connect to {server.host}:{server.port} as {target.user}: {message}") from exc
    if not can:
        raise OperationError(f"{target.user} on {server.host}:{server.port} cannot create databases and roles")
    return target.user, still_open


def servers_accepting_set(*, names: list[str], accepting: bool, actor: str, channel: str) -> int:
    """Let these servers take new affiliates, or drain them (no new affiliates); how many there were.

    Each change is audited. OperationError when a name is not registered (nothing changed).
    """
    known = set(DatabaseServer.objects.filter(name__in=names).values_list("name", flat=True))
    missing = sorted(set(names) - known)
    if missing:
        raise OperationError(f"no database server {', '.join(repr(n) for n in missing)}")
    with transaction.atomic():
        DatabaseServer.objects.filter(name__in=names).update(is_accepting=accepting)
        for name in sorted(known):
            audit_record(
                actor=actor,
                channel=channel,
                action="server_accept" if accepting else "server_drain",
                target=name,
                outcome=StaffAudit.Outcome.SUCCEEDED,
            )
    return len(known)
