"""manage.py rotate_affiliate_credentials SLUG...|--all: new role passwords, kept in Secrets Manager."""

from argparse import ArgumentParser
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from affiliates.errors import OperationError
from affiliates.management.base import for_each_affiliate
from affiliates.operations import role_passwords


class Command(BaseCommand):
    help = (
        "Give affiliate roles whose password lives in Secrets Manager a new random password: the secret first, "
        "then the role. Running web processes keep serving: a login refused for the old password fetches the "
        "secret once more and retries. (Derived passwords follow the secret key: rekey_affiliate_roles.)"
    )

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("slugs", nargs="*", metavar="SLUG")
        parser.add_argument(
            "--all", dest="every", action="store_true", help="every affiliate with a Secrets Manager password"
        )

    def handle(self, *args: Any, slugs: list[str], every: bool, **options: Any) -> None:
        if bool(slugs) == bool(every):
            raise CommandError("name the affiliates to rotate, or pass --all (not both)")
        try:
            affiliates = role_passwords.affiliates_with_secret(slugs)
        except OperationError as exc:
            raise CommandError(str(exc)) from exc
        for_each_affiliate(
            self,
            affiliates,
            role_passwords.role_password_rotate,
            done="rotated",
            audit_action="rotate_credentials",
            audit_target="all" if every else ", ".join(slugs),
        )
