"""Local execution: create and migrate `affiliate-mgt` and `fitbuddy-dev` (what `make start_local_database` runs)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from django.conf import settings
from django.core.management import call_command
from django.db import connections

from affiliates.infra import databases, flyway, seeds
from affiliates.infra.targets import DatabaseTarget, management_target, on_database
from affiliates.models import Affiliate
from affiliates.operations import gym_logins, management_database, provisioning


@dataclass(frozen=True)
class LocalDatabase:
    kind: str
    target: DatabaseTarget
    created: bool
    migrations_executed: int
    version: str | None


def local_databases_start(
    *, seed: bool = True, progress: Callable[[str], None] = lambda _: None
) -> list[LocalDatabase]:
    """Create both local databases if missing, migrate them with Flyway (plus seeds), idempotently."""
    management = management_target()
    application = on_database(management, settings.LOCAL_APPLICATION_DATABASE)
    if seed:
        # Refuse before anything is created, not halfway through.
        for target in (management, application):
            seeds.assert_seeding_allowed(target.host)

    created = {}
    with databases.admin_connect(management) as conn:
        for target in (management, application):
            created[target.name] = databases.database_create(conn, target.name)
            progress(f"database {target.name}: {'created' if created[target.name] else 'exists'}")

    connections["default"].close()
    progress("django migrate (framework tables) on the management database")
    call_command("migrate", database="default", interactive=False, verbosity=0)

    results = []
    for kind, target in (("affiliate_management", management), ("application", application)):
        progress(f"flyway migrate {target.name} (sql/{kind}{' + seeds' if seed else ''})")
        result = flyway.migrate(target, kind=kind, seed=seed)
        progress(
            f"  {target.name}: version {result.initial_version or '(empty)'} -> {result.target_version}, "
            f"{result.migrations_executed} script(s) applied"
        )
        results.append(
            LocalDatabase(kind, target, created[target.name], result.migrations_executed, result.target_version)
        )

    # The web login (rows only) and the audit trail's owner, as at every deploy.
    management_database.logins_ensure(progress=progress)

    # The local default affiliate (fitbuddy-dev) is provisioned like any other: its own role, grants,
    # recorded schema version. Every step finds its work done on later runs.
    for affiliate in Affiliate.objects.filter(database_name=application.name).exclude(status=Affiliate.Status.ACTIVE):
        progress(f"provisioning affiliate {affiliate.slug} on {application.name}")
        provisioning.affiliate_provision(affiliate_id=affiliate.pk, requested_by="start_local_database")
    # A database prepared before gym logins lived in each gym: its owners and coaches move into their gyms.
    moved = gym_logins.memberships_move(progress=progress)
    if moved.moved or moved.already_there or moved.users_deleted:
        progress(
            f"gym logins: {moved.moved} moved into their gyms' databases, {moved.already_there} already there;"
            f" {moved.users_deleted} user(s) removed from the management database"
        )
    for line in moved.kept:
        progress(f"gym login kept in the management database: {line}")
    return results
