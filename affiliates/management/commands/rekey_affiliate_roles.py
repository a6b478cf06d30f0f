"""manage.py rekey_affiliate_roles: after a DJANGO_SECRET_KEY rotation, give every derived role its new password."""

from argparse import ArgumentParser
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from affiliates.errors import OperationError
from affiliates.management.base import for_each_affiliate
from affiliates.operations import role_passwords


class Command(BaseCommand):
    help = (
        "Set each affiliate role whose password is derived from the secret key to the password the current "
        "DJANGO_SECRET_KEY derives. Until it has run, logins fall back to SECRET_KEY_FALLBACKS; afterwards the "
        "old key can leave SECRET_KEY_FALLBACKS."
    )

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("slugs", nargs="*", metavar="SLUG", help="only these affiliates (default: every one)")

    def handle(self, *args: Any, slugs: list[str], **options: Any) -> None:
        try:
            affiliates = role_passwords.affiliates_derived(slugs)
        except OperationError as exc:
            raise CommandError(str(exc)) from exc
        for_each_affiliate(
            self,
            affiliates,
            role_passwords.role_rekey,
            done="re-keyed",
            audit_action="rekey_roles",
            audit_target=", ".join(slugs) or "all",
        )
