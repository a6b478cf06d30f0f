"""manage.py move_affiliate SLUG [--to SERVER] [--method auto|logical|dump] [--queue]: a gym to another server."""

from __future__ import annotations

from argparse import ArgumentParser
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from affiliates.audit import command_actor
from affiliates.errors import OperationError
from affiliates.models import Affiliate
from affiliates.operations import move


class Command(BaseCommand):
    help = (
        "Move a gym's database to another server while it serves: copied by logical replication where both "
        "servers allow it (else dumped and restored during the pause), a short write pause to catch up, every "
        "table's rows and checksum compared, the registry switched, the old copy dropped. Runs here and prints "
        "each step; an open move of the gym is resumed."
    )

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("slug")
        parser.add_argument("--to", metavar="SERVER", help="the destination server (default: placement chooses)")
        parser.add_argument("--method", choices=move.METHODS, default="auto", help="how to copy (default: auto)")
        parser.add_argument("--queue", action="store_true", help="hand the move to a worker instead of running it here")

    def handle(self, *args: Any, slug: str, to: str | None, method: str, queue: bool, **options: Any) -> None:
        affiliate = Affiliate.objects.filter(schema_name=slug).first()
        if affiliate is None:
            raise CommandError(f"no affiliate with slug {slug!r}")
        try:
            if queue:
                task = move.move_enqueue(affiliate_id=affiliate.pk, server_name=to, requested_by=command_actor())
                self.stdout.write(f"Queued the move of {slug} (task {task}); its steps appear in its event log.")
                return
            done = move.affiliate_move(
                slug=slug,
                to=to,
                method=method,
                requested_by=command_actor(),
                progress=lambda line: self.stdout.write(f"  {line}"),
            )
        except OperationError as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(
            f"Moved {slug} from {done.source_server.name} to {done.destination_server.name} by {done.method}: "
            f"write pause {done.pause_ms} ms, {done.tables_checked} tables and {done.rows_checked} rows checked."
        )
