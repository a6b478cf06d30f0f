"""manage.py collect_load [--server NAME …]: each gym's load, read from its server's statistics now."""

from argparse import ArgumentParser
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from affiliates.models import DatabaseServer
from affiliates.operations import load


class Command(BaseCommand):
    help = (
        "Read each gym's database size, connections, transactions and rows changed from every database "
        "server's statistics into the registry (Celery beat does this every LOAD_COLLECT_EVERY_SECONDS). "
        "Exits 1 when a server could not be read; the others are still collected."
    )

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument(
            "--server", action="append", dest="servers", metavar="NAME", help="only this server (repeatable)"
        )

    def handle(self, *args: Any, servers: list[str] | None, **options: Any) -> None:
        if servers:
            unknown = sorted(
                set(servers) - set(DatabaseServer.objects.filter(name__in=servers).values_list("name", flat=True))
            )
            if unknown:
                names = ", ".join(DatabaseServer.objects.values_list("name", flat=True)) or "none registered"
                raise CommandError(f"No database server {', '.join(unknown)} (servers: {names}).")

        def show(outcome: load.ServerOutcome) -> None:
            (self.stderr if outcome.failed else self.stdout).write(f"  {outcome.describe()}")
            self.stdout.flush()

        report = load.load_collect(server_names=servers, progress=show)
        if not report.servers:
            self.stdout.write("No database server registered: nothing to read.")
            return
        self.stdout.write(f"{report.read} gym{'' if report.read == 1 else 's'} read on {len(report.servers)} server(s)")
        if report.failed:
            raise CommandError(
                f"{len(report.failed)} server(s) could not be read: {', '.join(o.server for o in report.failed)}"
            )
