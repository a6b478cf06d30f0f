"""manage.py database_server add|list|drain|accept: the PostgreSQL servers affiliate databases live on."""

from __future__ import annotations

import json

import psycopg
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.db import IntegrityError

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
        add = sub.add_parser("add", help="register an existing PostgreSQL server (checked by connecting first)")
        add.add_argument("name")
        add.add_argument("--host", required=True)
        add.add_argument("--port", type=int, default=5432)
        add.add_argument(
            "--admin-secret",
            required=True,
            metavar="REF",
            help="where its administrative login is: env:VAR or aws-secretsmanager:ARN (never the password)",
        )
        add.add_argument("--max-affiliates", type=int, metavar="N", help="most affiliates it may hold")
        add.add_argument("--default", action="store_true", help="preferred among servers equally used")
        listing = sub.add_parser("list", help="servers with their affiliates, capacity and whether they accept")
        listing.add_argument("--json", dest="as_json", action="store_true", help="print the servers as JSON")
        for name, text in (("drain", "take no new affiliates"), ("accept", "take new affiliates again")):
            sub.add_parser(name, help=text).add_argument("name")

    def handle(self, *args, action, **options):
        return getattr(self, f"do_{action}")(**options)

    # --- add ---

    def do_add(self, *, name, host, port, admin_secret, max_affiliates, default, **_):
        problems = []
        if DatabaseServer.objects.filter(name=name).exists():
            problems.append(f"a database server named {name!r} is already registered")
        if not 1 <= port <= 65535:
            problems.append("--port must be between 1 and 65535")
        if max_affiliates is not None and max_affiliates < 1:
            problems.append("--max-affiliates must be at least 1")
        if problems:
            raise CommandError("; ".join(problems))
        server = DatabaseServer(
            name=name,
            host=host,
            port=port,
            admin_secret_ref=admin_secret,
            max_affiliates=max_affiliates,
            is_default=default,
        )
        self.stdout.write(f"Connecting to {host}:{port} with the login {admin_secret} names …")
        role = _check_admin_login(server)
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
            detail=f"{host}:{port} as {role}",
        )
        self.stdout.write(self.style.SUCCESS(f"Registered {server.name}: {host}:{port}, administrator {role}."))

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
            address = f"{row['host']}:{row['port']}"
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



def _check_admin_login(server: DatabaseServer) -> str:
    """Connect as the server's administrator; it must be able to create databases and roles."""
    try:
        target = server_admin_target(server)
    except ProvisioningError as exc:
        raise CommandError(str(exc)) from exc
    try:
        with psycopg.connect(**target.conninfo(), connect_timeout=10) as conn:
            can = conn.execute(
                "SELECT rolsuper OR (rolcreatedb AND rolcreaterole) FROM pg_roles WHERE rolname = current_user"
            ).fetchone()[0]
    except psycopg.OperationalError as exc:
        message = str(exc).replace(target.password, "********") if target.password else str(exc)
        raise CommandError(f"cannot connect to {server.host}:{server.port} as {target.user}: {message}") from exc
    if not can:
        raise CommandError(f"{target.user} on {server.host}:{server.port} cannot create databases and roles")
    return target.user
