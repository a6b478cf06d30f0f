from typing import Any

from django.core.management.base import BaseCommand, CommandError

from affiliates.infra.management_logins import LoginMissing
from affiliates.operations.management_database import logins_ensure


class Command(BaseCommand):
    help = (
        "As the management database's owner (after Flyway and migrate): give the web login "
        "(WEB_DATABASE_LOGIN) read and write on rows only, and the audit trail to AUDIT_OWNER_ROLE, "
        "which no login the application uses holds. Safe to run again."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            logins_ensure(progress=lambda line: self.stdout.write(line))
        except LoginMissing as exc:
            raise CommandError(str(exc)) from exc
        except Exception as exc:  # psycopg errors: not the owner, server away
            raise CommandError(f"could not set the management database's logins: {exc}") from exc
