"""PostgreSQL restarted while a real worker provisions an affiliate: the retry converges.

The affiliate is placed on a second, throwaway PostgreSQL server this test starts (registered as
the default DatabaseServer), so restarting it does not disturb the suite's own server.
"""

from __future__ import annotations

import psycopg
import pytest

from affiliates.infra.targets import affiliate_target, server_admin_target
from affiliates.models import Affiliate
from affiliates.operations import provisioning
from tests.conftest import APP_VERSION, wait_for
from tests.factories import new_slug

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.worker]


def _state(server) -> tuple[set[str], set[str]]:
    target = server_admin_target(server)
    with psycopg.connect(**target.conninfo(), connect_timeout=5) as conn:
        dbs = {r[0] for r in conn.execute("SELECT datname FROM pg_database WHERE datname LIKE 'fitbuddy_t%'")}
        roles = {r[0] for r in conn.execute("SELECT rolname FROM pg_roles WHERE rolname LIKE 'fitbuddy_t%'")}
    return dbs, roles


@pytest.mark.flyway
@pytest.mark.cluster
def test_postgresql_restarted_mid_provisioning_then_retry_converges(second_server, worker_factory, settings):
    server, restart = second_server
    settings.PROVISIONING_STRATEGY = "flyway"  # CREATE DATABASE, then a Flyway run: a window to restart in
    worker_factory()
    affiliate = provisioning.affiliate_request(slug=new_slug(), name="Restart", domain=f"{new_slug()}.localhost")
    assert affiliate.database_server_id == server.pk

    def database_exists() -> bool:
        try:
            return affiliate.database_name in _state(server)[0]
        except psycopg.OperationalError:
            return False

    wait_for(database_exists, timeout=60, what="the affiliate's database on the second server")
    restart()

    def settled() -> str | None:
        status = Affiliate.objects.values_list("status", flat=True).get(pk=affiliate.pk)
        return status if status in ("active", "failed") else None

    if wait_for(settled, timeout=120, what="provisioning to settle after the restart") == "failed":
        provisioning.affiliate_retry(affiliate_id=affiliate.pk, requested_by="pytest")
        wait_for(lambda: settled() == "active", timeout=120, what="active after retry")

    affiliate.refresh_from_db()
    assert affiliate.status == "active" and affiliate.schema_version == APP_VERSION
    assert _state(server) == ({affiliate.database_name}, {affiliate.database_role})
    assert psycopg.connect(**affiliate_target(affiliate).conninfo(), connect_timeout=5).close() is None
