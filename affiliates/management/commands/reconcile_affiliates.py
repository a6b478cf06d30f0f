import json
from argparse import ArgumentParser
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from affiliates.errors import QueueUnavailable
from affiliates.operations import reconcile


class Command(BaseCommand):
    help = (
        "Queue again affiliates stuck in a provisioning state and migration runs left pending or running, "
        "when nobody holds them and nothing touched them for RECONCILE_AFTER_SECONDS (Celery beat does this "
        "every RECONCILE_EVERY_SECONDS)."
    )

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument(
            "--older-than",
            type=float,
            metavar="SECONDS",
            help="untouched for at least this long (default: RECONCILE_AFTER_SECONDS)",
        )
        parser.add_argument("--dry-run", action="store_true", help="list what is stuck; queue nothing")
        parser.add_argument("--json", action="store_true", help="print the outcome as JSON")

    def handle(self, *args: Any, older_than: float | None, dry_run: bool, **options: Any) -> None:
        if older_than is not None and older_than < 0:
            raise CommandError("--older-than must be 0 or more seconds")
        try:
            items = reconcile.reconcile(older_than=older_than, dry_run=dry_run)
        except QueueUnavailable as exc:
            raise CommandError(str(exc)) from exc
        verb = "stuck (not queued: --dry-run)" if dry_run else "queued again"
        if options["json"]:
            self.stdout.write(
                json.dumps(
                    {
                        "dry_run": dry_run,
                        "items": [
                            {
                                "kind": i.kind,
                                "id": i.id,
                                "label": i.label,
                                "state": i.state,
                                "since": i.since.isoformat(),
                            }
                            for i in items
                        ],
                    }
                )
            )
            return
        for item in items:
            self.stdout.write(f"  {item.describe()}")
        self.stdout.write(f"{len(items)} {verb}" if items else "nothing stuck")
