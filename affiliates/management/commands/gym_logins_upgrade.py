from typing import Any

from django.core.management.base import BaseCommand, CommandError

from affiliates.operations import gym_logins


class Command(BaseCommand):
    help = (
        "Move today's gym logins (owners, admins and coaches: Django users with a membership) into their gyms' "
        "own databases, password hashes intact, then remove them from the management database. Safe to run again; "
        "run migrate_affiliates first, so every gym has its gym_login table."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        report = gym_logins.memberships_move(progress=self.stdout.write)
        self.stdout.write(
            f"{report.moved} login(s) moved, {report.already_there} already in their gym, "
            f"{report.users_deleted} user(s) removed from the management database"
        )
        if not report.complete:
            for line in report.kept:
                self.stderr.write(f"kept: {line}")
            raise CommandError(f"{len(report.kept)} membership(s) were kept in the management database (above)")
