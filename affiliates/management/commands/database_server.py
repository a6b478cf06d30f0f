"""manage.py database_server add|list|drain|accept: the PostgreSQL servers affiliate databases live on."""

from __future__ import annotations

import json

import psycopg
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.db import IntegrityError

from affiliates import aurora, credentials, databases
from affiliates.audit import audit_record, command_actor
from affiliates.errors import ProvisioningError
from affiliates.models import DatabaseServer, StaffAudit
from affiliates.placement import server_admin_target, servers_with_load


class Command(BaseCommand):
    help = (
        "Register, list and drain the database servers affiliate databases are placed on. A new "
        "affiliate goes to the accepting server with room and the fewest affiliates."
    )

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True, metavar="add|list|drain|accept")
        add = sub.add_parser(
            "add",
            help="register a PostgreSQL server or an Aurora Serverless v2 cluster (checked by connecting first)",
        )
        add.add_argument("name")
        where = add.add_mutually_exclusive_group(required=True)
        where.add_argument("--host", help="a PostgreSQL server's host name")
        where.add_argument("--aurora", dest="cluster_id", metavar="CLUSTER_ID", help="an Aurora PostgreSQL cluster")
        add.add_argument("--port", type=int, default=5432)
        add.add_argument(
            "--admin-secret",
            metavar="REF",
            help="with --host: where its administrative login is, env:VAR or aws-secretsmanager:ARN (never the "
            "password); an Aurora cluster's is its RDS-managed master secret",
        )
        add.add_argument("--create", action="store_true", help="with --aurora: create the cluster and its writer")
        add.add_argument("--min-acu", type=float, default=0.5, help="with --create: minimum capacity (ACU)")
        add.add_argument("--max-acu", type=float, default=16, help="with --create: maximum capacity (ACU)")
        add.add_argument("--region", help="with --aurora: the AWS region (default AWS_REGION)")
        add.add_argument(
            "--connect-via",
            metavar="HOST:PORT",
            help="with --aurora: reach the writer endpoint through this address (a tunnel or proxy)",
        )
        add.add_argument("--max-affiliates", type=int, metavar="N", help="most affiliates it may hold")
        add.add_argument(
            "--pooler",
            metavar="HOST:PORT",
            help="the pooler affiliate connections go through (PgBouncer, or the cluster's RDS Proxy endpoint)",
        )
        add.add_argument("--default", action="store_true", help="preferred among servers equally used")
        listing = sub.add_parser("list", help="servers with their affiliates, capacity and whether they accept")
        listing.add_argument("--json", dest="as_json", action="store_true", help="print the servers as JSON")
        for name, text in (("drain", "take no new affiliates"), ("accept", "take new affiliates again")):
            sub.add_parser(name, help=text).add_argument("name")

    def handle(self, *args, action, **options):
        return getattr(self, f"do_{action}")(**options)

    # --- add ---

    def do_add(self, *, name, host, cluster_id, port, admin_secret, max_affiliates, default, **options):
        problems = []
        if DatabaseServer.objects.filter(name=name).exists():
            problems.append(f"a database server named {name!r} is already registered")
        if not 1 <= port <= 65535:
            problems.append("--port must be between 1 and 65535")
        if max_affiliates is not None and max_affiliates < 1:
            problems.append("--max-affiliates must be at least 1")
        if host and not admin_secret:
            problems.append("--admin-secret is required with --host")
        if cluster_id and admin_secret:
            problems.append("an Aurora cluster's login is its RDS-managed master secret: leave out --admin-secret")
        aurora_only = [f"--{o.replace('_', '-')}" for o in ("create", "region", "connect_via") if options.get(o)]
        if host and aurora_only:
            problems.append(f"{', '.join(aurora_only)} only go with --aurora")
        via = _address(options.get("connect_via"), problems)
        pooler = _address(options.get("pooler"), problems, flag="--pooler")
        if options["min_acu"] <= 0 or options["max_acu"] < options["min_acu"]:
            problems.append("--min-acu must be above 0 and --max-acu at least --min-acu")
        if problems:
            raise CommandError("; ".join(problems))
        server = DatabaseServer(
            name=name, host=host or "", port=port, admin_secret_ref=admin_secret or "", max_affiliates=max_affiliates
        )
        server.is_default = default
        server.pooler = f"{pooler[0]}:{pooler[1]}" if pooler else ""
        if cluster_id:
            cluster = self._aurora(cluster_id, options)
            server.kind = DatabaseServer.Kind.AURORA
            server.aws_cluster_id, server.aws_region = cluster.cluster_id, cluster.region
            server.endpoint = cluster.endpoint
            server.host, server.port = via or (cluster.endpoint, cluster.port)
            server.admin_secret_ref = f"{credentials.SECRETS_MANAGER_PREFIX}{cluster.secret_arn}"
        self.stdout.write(f"Connecting to {server.host}:{server.port} with the login {server.admin_secret_ref} names …")
        role, still_open = _check_admin_login(server)
        if still_open:
            self.stderr.write(
                f"warning: {', '.join(still_open)} on {server.host}:{server.port} stay open to every login "
                f"(PUBLIC), so an affiliate's role could connect there and list databases and roles: {role} "
                f"does not own them. As their owner run: REVOKE CONNECT ON DATABASE {', '.join(still_open)} "
                "FROM PUBLIC"
            )
        try:
            server.full_clean(exclude=["is_default"])
            if default:
                DatabaseServer.objects.update(is_default=False)
            server.save()
        except (ValidationError, IntegrityError) as exc:
            raise CommandError(f"not registered: {exc}") from exc
        audit_record(
            actor=command_actor(),
            channel=StaffAudit.Channel.COMMAND,
            action="server_add",
            target=name,
            outcome=StaffAudit.Outcome.SUCCEEDED,
            detail=f"{server.host}:{server.port} as {role}{f', Aurora {cluster_id}' if cluster_id else ''}",
        )
        self.stdout.write(
            self.style.SUCCESS(f"Registered {server.name}: {server.host}:{server.port}, administrator {role}.")
        )

    def _aurora(self, cluster_id: str, options) -> aurora.Cluster:
        try:
            if options["create"]:
                return aurora.cluster_create(
                    cluster_id,
                    region=options["region"],
                    min_acu=options["min_acu"],
                    max_acu=options["max_acu"],
                    progress=lambda message: self.stdout.write(f"  {message}"),
                )
            cluster = aurora.cluster_describe(cluster_id, region=options["region"])
        except aurora.AuroraError as exc:
            raise CommandError(str(exc)) from exc
        if cluster.status != "available":
            raise CommandError(f"{cluster_id} is {cluster.status}, not available yet; run this again later")
        return cluster

    # --- list ---

    def do_list(self, *, as_json: bool = False, **_):
        servers = list(servers_with_load().order_by("name"))
        rows = [
            {
                "name": s.name,
                "kind": s.kind,
                "host": s.host,
                "port": s.port,
                "affiliates": s.load,
                "max_affiliates": s.max_affiliates,
                "accepting": s.is_accepting,
                "default": s.is_default,
                "pooler": s.pooler,
            }
            for s in servers
        ]
        if as_json:
            self.stdout.write(json.dumps(rows, indent=2))
            return
        if not rows:
            self.stdout.write("No database servers registered: affiliates go to the management database's own.")
            return
        self.stdout.write(f"{'name':<20} {'kind':<7} {'address':<32} {'affiliates':>12}  state")
        for row in rows:
            capacity = f"{row['affiliates']}/{row['max_affiliates'] or '∞'}"
            state = ("accepting" if row["accepting"] else "draining") + (", default" if row["default"] else "")
            address = f"{row['host']}:{row['port']}" + (f" via {row['pooler']}" if row["pooler"] else "")
            self.stdout.write(f"{row['name']:<20} {row['kind']:<7} {address:<32} {capacity:>12}  {state}")

    # --- drain / accept ---

    def do_drain(self, *, name, **_):
        self._accepting(name, False)

    def do_accept(self, *, name, **_):
        self._accepting(name, True)

    def _accepting(self, name: str, accepting: bool) -> None:
        if not DatabaseServer.objects.filter(name=name).update(is_accepting=accepting):
            raise CommandError(f"no database server {name!r}")
        audit_record(
            actor=command_actor(),
            channel=StaffAudit.Channel.COMMAND,
            action="server_accept" if accepting else "server_drain",
            target=name,
            outcome=StaffAudit.Outcome.SUCCEEDED,
        )
        self.stdout.write(f"{name} {'accepts new affiliates' if accepting else 'is draining: no new affiliates'}.")


def _address(text: str | None, problems: list[str], *, flag: str = "--connect-via") -> tuple[str, int] | None:
    if not text:
        return None
    host, _, port = text.rpartition(":")
    if not host or not port.isdigit() or not 1 <= int(port) <= 65535 or any(c.isspace() for c in host):
        problems.append(f"{flag} must be HOST:PORT, not {text!r}")
        return None
    return host, int(port)


def _check_admin_login(server: DatabaseServer) -> tuple[str, list[str]]:
    """Connect as the server's administrator; it must be able to create databases and roles. Closes
    ``postgres`` and ``template1`` to PUBLIC where it may; returns the login and those it may not."""
    try:
        target = server_admin_target(server)
    except ProvisioningError as exc:
        raise CommandError(str(exc)) from exc
    try:
        with psycopg.connect(**target.conninfo(), connect_timeout=10) as conn:
            can = conn.execute(
                "SELECT rolsuper OR (rolcreatedb AND rolcreaterole) FROM pg_roles WHERE rolname = current_user"
            ).fetchone()[0]
            conn.commit()
            conn.autocommit = True
            still_open = databases.maintenance_lock_down(conn, admin=target.user) if can else []
    except psycopg.OperationalError as exc:
        message = str(exc).replace(target.password, "********") if target.password else str(exc)
        raise CommandError(f"cannot connect to {server.host}:{server.port} as {target.user}: {message}") from exc
    if not can:
        raise CommandError(f"{target.user} on {server.host}:{server.port} cannot create databases and roles")
    return target.user, still_open
