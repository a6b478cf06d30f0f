"""The management database's logins at deploy: the web login's rights and the audit trail's owner.

Run as the owner login (the deploy step's ``DATABASE_URL``) after Flyway and Django's ``migrate``:
by ``manage.py management_logins`` and by ``start_local_database``.
"""

from __future__ import annotations

from collections.abc import Callable

from django.conf import settings

from affiliates.infra import databases
from affiliates.infra.management_logins import LoginsReport, management_logins_ensure
from affiliates.infra.targets import management_target


def logins_ensure(*, progress: Callable[[str], None] = lambda _: None) -> LoginsReport:
    """Give the web login exactly its rights on the management database and the audit trail to its owner."""
    target = management_target()
    with databases.admin_connect(target, dbname=target.name) as conn:
        report = management_logins_ensure(
            conn,
            database=target.name,
            web_login=settings.WEB_DATABASE_LOGIN,
            web_password=settings.WEB_DATABASE_PASSWORD,
            audit_owner=settings.AUDIT_OWNER_ROLE,
        )
    for role in report.created:
        progress(f"created role {role}")
    progress(
        f"{settings.WEB_DATABASE_LOGIN}: rows of {target.name} (the audit trail: insert and read only); "
        f"staff_audit owned by {settings.AUDIT_OWNER_ROLE}"
    )
    return report
