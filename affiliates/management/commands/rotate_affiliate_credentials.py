"""manage.py rotate_affiliate_credentials SLUG...|--all: new role passwords, kept in Secrets Manager."""

from django.core.management.base import BaseCommand, CommandError

from affiliates import credentials, databases, locks
from affiliates.management.base import for_each_affiliate
from affiliates.models import Affiliate
from affiliates.placement import server_admin_target


class Command(BaseCommand):
    help = (
        "Give affiliate roles whose password lives in Secrets Manager a new random password: the secret first, "
        "then the role. Running web processes keep serving: a login refused for the old password fetches the "
        "secret once more and retries. (Derived passwords follow the secret key: rekey_affiliate_roles.)"
    )

    def add_arguments(self, parser):
        parser.add_argument("slugs", nargs="*", metavar="SLUG")
        parser.add_argument(
            "--all", dest="every", action="store_true", help="every affiliate with a Secrets Manager password"
        )

    def handle(self, *args, slugs, every, **options):
        if bool(slugs) == bool(every):
            raise CommandError("name the affiliates to rotate, or pass --all (not both)")
        affiliates = (
            Affiliate.objects.select_related("database_server")
            .filter(secret_ref__startswith=credentials.SECRETS_MANAGER_PREFIX, database_server__isnull=False)
            .exclude(status=Affiliate.Status.ARCHIVED)
            .order_by("schema_name")
        )
        if slugs:
            known = set(affiliates.filter(schema_name__in=slugs).values_list("schema_name", flat=True))
            missing = sorted(set(slugs) - known)
            if missing:
                raise CommandError(f"no affiliate with a Secrets Manager password: {', '.join(missing)}")
            affiliates = affiliates.filter(schema_name__in=slugs)

        def rotate(affiliate: Affiliate) -> None:
            with locks.affiliate_held(affiliate.pk, "rotate"):
                password = credentials.role_secret_rotate(affiliate.secret_ref, affiliate.database_role)
                with databases.admin_connect(server_admin_target(affiliate.database_server)) as conn:
                    databases.role_password_set(
                        conn, affiliate.database_role, password_verifier=credentials.scram_verifier(password)
                    )

        for_each_affiliate(
            self,
            affiliates,
            rotate,
            done="rotated",
            audit_action="rotate_credentials",
            audit_target="all" if every else ", ".join(slugs),
        )
