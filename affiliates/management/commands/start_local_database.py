import json
from argparse import ArgumentParser
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from affiliates.infra import flyway, seeds
from affiliates.operations.local import local_databases_start


class Command(BaseCommand):
    help = (
        "Create the local databases (affiliate-mgt and fitbuddy-dev) if missing and bring both to "
        "the latest Flyway version with the local data seeds. Safe to run again."
    )

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("--no-seed", action="store_true", help="Apply sql/ only, without seeds/.")
        parser.add_argument("--json", action="store_true", help="Print the result as JSON.")

    def handle(self, *args: Any, **options: Any) -> None:
        progress = (lambda _: None) if options["json"] else (lambda line: self.stdout.write(line))
        try:
            results = local_databases_start(seed=not options["no_seed"], progress=progress)
        except (flyway.FlywayError, seeds.SeedGuardError) as exc:
            raise CommandError(str(exc)) from exc
        except Exception as exc:  # psycopg.OperationalError and friends: say what and where
            raise CommandError(f"could not prepare the local databases: {exc}") from exc
        if options["json"]:
            self.stdout.write(
                json.dumps(
                    [
                        {
                            "database": r.target.name,
                            "kind": r.kind,
                            "created": r.created,
                            "migrations_executed": r.migrations_executed,
                            "version": r.version,
                        }
                        for r in results
                    ],
                    indent=2,
                )
            )
            return
        for r in results:
            self.stdout.write(self.style.SUCCESS(f"{r.target.name}: at version {r.version}"))
