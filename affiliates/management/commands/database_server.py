"""manage.py database_server add|list|drain|accept: the PostgreSQL servers affiliate databases live on."""

from __future__ import annotations

import json
from argparse import ArgumentParser
from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from affiliates.audit import command_actor
from affiliates.errors import OperationError
from affiliates.models import DatabaseServer, StaffAudit
from affiliates.operations import move as moves
from affiliates.operations import servers
from affiliates.operations.placement import servers_with_load


class Command(BaseCommand):
    help = (
        "Register, list and drain the database servers affiliate databases are placed on. A new "
        "affiliate goes to the accepting server with room and the fewest affiliates."
    )

    def add_arguments(self, parser: ArgumentParser) -> None:
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
        sub.choices["drain"].add_argument(
            "--move",
            action="store_true",
            help="then move every active gym on it to other servers (placement chooses), one at a time",
        )

    def handle(self, *args: Any, action: str, **options: Any) -> None:
        getattr(self, f"do_{action}")(**options)

    # --- add ---

    def do_add(
        self,
        *,
        name: str,
        host: str | None,
        cluster_id: str | None,
        port: int,
        admin_secret: str | None,
        max_affiliates: int | None,
        default: bool,
        **options: Any,
    ) -> None:
        problems, via, pooler = _add_problems(
            name=name, host=host, cluster_id=cluster_id, port=port, admin_secret=admin_secret,
            max_affiliates=max_affiliates, options=options,
        )  # fmt: skip
        if problems:
            raise CommandError("; ".join(problems))
        cluster = None
        if cluster_id:
            cluster = servers.AuroraRequest(
                cluster_id=cluster_id,
                region=options["region"],
                create=options["create"],
                min_acu=options["min_acu"],
                max_acu=options["max_acu"],
                connect_via=via,
            )
        try:
            registered = servers.server_register(
                name=name,
                host=host,
                port=port,
                admin_secret=admin_secret,
                aurora_cluster=cluster,
                max_affiliates=max_affiliates,
                pooler=pooler,
                default=default,
                actor=command_actor(),
                progress=self.stdout.write,
            )
        except ValidationError as exc:
            raise CommandError(" ".join(exc.messages)) from exc
        except OperationError as exc:
            raise CommandError(str(exc)) from exc
        server = registered.server
        if registered.still_open:
            still_open = ", ".join(registered.still_open)
            self.stderr.write(
                f"warning: {still_open} on {server.host}:{server.port} stay open to every login "
                f"(PUBLIC), so an affiliate's role could connect there and list databases and roles: "
                f"{registered.admin_login} does not own them. As their owner run: REVOKE CONNECT ON DATABASE "
                f"{still_open} FROM PUBLIC"
            )
        self.stdout.write(
            self.style.SUCCESS(
                f"Registered {server.name}: {server.host}:{server.port}, administrator {registered.admin_login}."
            )
        )

    # --- list ---

    def do_list(self, *, as_json: bool = False, **_: Any) -> None:
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

    def do_drain(self, *, name: str, move: bool = False, **_: Any) -> None:
        self._accepting(name, False)
        if not move:
            return
        try:
            outcomes = moves.server_empty(
                name=name, requested_by=command_actor(), progress=lambda line: self.stdout.write(f"  {line}")
            )
        except OperationError as exc:
            raise CommandError(str(exc)) from exc
        failed = [o for o in outcomes if o.error]
        for outcome in outcomes:
            self.stdout.write(outcome.describe())
        if failed:
            raise CommandError(
                f"{len(failed)} of {len(outcomes)} gyms could not be moved off {name}; they serve from it still: "
                + ", ".join(o.slug for o in failed)
            )
        self.stdout.write(f"{name} is empty: {len(outcomes)} gyms moved.")

    def do_accept(self, *, name: str, **_: Any) -> None:
        self._accepting(name, True)

    def _accepting(self, name: str, accepting: bool) -> None:
        try:
            servers.servers_accepting_set(
                names=[name], accepting=accepting, actor=command_actor(), channel=StaffAudit.Channel.COMMAND
            )
        except OperationError as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(f"{name} {'accepts new affiliates' if accepting else 'is draining: no new affiliates'}.")


def _add_problems(
    *,
    name: str,
    host: str | None,
    cluster_id: str | None,
    port: int,
    admin_secret: str | None,
    max_affiliates: int | None,
    options: dict[str, Any],
) -> tuple[list[str], tuple[str, int] | None, tuple[str, int] | None]:
    """Everything wrong with an ``add`` at once (nothing is tried while any is), and the parsed addresses."""
    problems: list[str] = []
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
    addresses: list[tuple[str, int] | None] = []
    for flag, key in (("--connect-via", "connect_via"), ("--pooler", "pooler")):
        try:
            addresses.append(servers.address_parse(options.get(key), flag=flag))
        except ValidationError as exc:
            problems.extend(exc.messages)
            addresses.append(None)
    if options["min_acu"] <= 0 or options["max_acu"] < options["min_acu"]:
        problems.append("--min-acu must be above 0 and --max-acu at least --min-acu")
    return problems, addresses[0], addresses[1]
