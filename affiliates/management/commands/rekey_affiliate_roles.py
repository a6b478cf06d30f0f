"""manage.py rekey_affiliate_roles: after a DJANGO_SECRET_KEY rotation, give every derived role its new password."""

from django.core.management.base import BaseCommand, CommandError

from affiliates import credentials, databases
from affiliates.management.base import for_each_affiliate
from affiliates.models import Affiliate
from affiliates.placement import server_admin_target


class Command(BaseCommand):
    help = (
        "Set each affiliate role whose password is derived from the secret key to the password the current "
        "DJANGO_SECRET_KEY derives. Until it has run, logins fall back to SECRET_KEY_FALLBACKS; afterwards the "
        "old key can leave SECRET_KEY_FALLBACKS."
    )

    def add_arguments(self, parser):
        parser.add_argument("slugs", nargs="*", metavar="SLUG", help="only these affiliates (default: every one)")

    def handle(self, *args, slugs, **options):
        affiliates = Affiliate.objects.select_related("database_server").filter(
            secret_ref=credentials.DERIVED_SECRET_REF, database_server__isnull=False
        )
        affiliates = affiliates.exclude(status=Affiliate.Status.ARCHIVED).order_by("schema_name")
        if slugs:
            missing = sorted(
                set(slugs) - set(affiliates.filter(schema_name__in=slugs).values_list("schema_name", flat=True))
            )
            if missing:
                raise CommandError(f"no affiliate with a derived password: {', '.join(missing)}")
            affiliates = affiliates.filter(schema_name__in=slugs)

        def rekey(affiliate: Affiliate) -> str | None:
            verifier = credentials.scram_verifier(credentials.role_password(affiliate.database_role))
            with databases.admin_connect(server_admin_target(affiliate.database_server)) as conn:
                if not databases.role_exists(conn, affiliate.database_role):
                    return "no role yet (provisioning will create it)"
                databases.role_password_set(conn, affiliate.database_role, password_verifier=verifier)
            return None

        for_each_affiliate(
            self,
            affiliates,
            rekey,
            done="re-keyed",
            audit_action="rekey_roles",
            audit_target=", ".join(slugs) or "all",
        )
