"""PostgreSQL restarted while a real worker provisions an affiliate: the retry converges.

The affiliate is placed on a second, throwaway PostgreSQL server this test starts (registered as
the default DatabaseServer), so restarting it does not disturb the suite's own server.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
from pathlib import Path

import psycopg
import pytest
from django.db import connections
from psycopg import sql

from affiliates import placement, provisioning
from affiliates.models import Affiliate, DatabaseServer
from tests.conftest import wait_for
from tests.factories import new_slug

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.worker]


def _bindir() -> Path:
    for candidate in sorted(Path("/usr/lib/postgresql").glob("*/bin"), reverse=True):
        if (candidate / "initdb").exists():
            return candidate
    found = shutil.which("initdb")
    assert found, "PostgreSQL server binaries (initdb) are needed"
    return Path(found).parent


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def second_server():
    """A PostgreSQL server of this test's own, with the same admin login as the suite's server."""
    bindir, port = _bindir(), _free_port()
    folder = Path(tempfile.mkdtemp(prefix="fitbuddy-pg2-"))  # under /tmp, reachable by any user
    data = folder / "data"
    as_owner: list[str] = []
    if os.geteuid() == 0:  # initdb refuses root: the cluster belongs to the postgres system user
        as_owner = ["runuser", "-u", "postgres", "--"]
        os.chmod(folder, 0o777)
    admin = connections["default"].settings_dict
    subprocess.run(
        [
            *as_owner,
            str(bindir / "initdb"),
            "-D",
            str(data),
            "-U",
            "postgres",
            "--auth-local=trust",
            "--auth-host=scram-sha-256",
            "-E",
            "UTF8",
            "--locale=C.UTF-8",
        ],
        check=True,
        capture_output=True,
    )
    with open(data / "postgresql.conf", "a") as conf:
        conf.write(f"port = {port}\nlisten_addresses = 'localhost'\nunix_socket_directories = '{data}'\nfsync = off\n")
    ctl = [*as_owner, str(bindir / "pg_ctl"), "-D", str(data), "-l", str(data / "server.log"), "-w", "-t", "60"]
    subprocess.run([*ctl, "start"], check=True, capture_output=True)
    try:
        with psycopg.connect(host=str(data), port=port, user="postgres", dbname="postgres", autocommit=True) as conn:
            conn.execute(
                sql.SQL("CREATE ROLE {} LOGIN CREATEDB CREATEROLE PASSWORD {}").format(
                    sql.Identifier(admin["USER"]), sql.Literal(admin["PASSWORD"])
                )
            )
            conn.execute(sql.SQL("GRANT pg_signal_backend TO {}").format(sql.Identifier(admin["USER"])))
        DatabaseServer.objects.update(is_default=False)
        server = DatabaseServer.objects.create(
            name="second", host="localhost", port=port, is_default=True, admin_secret_ref="env:DATABASE_URL"
        )
        yield server, (lambda: subprocess.run([*ctl, "-m", "fast", "restart"], check=True, capture_output=True))
    finally:
        subprocess.run([*ctl, "-m", "immediate", "stop"], capture_output=True)
        shutil.rmtree(folder, ignore_errors=True)


def _state(server) -> tuple[set[str], set[str]]:
    target = placement.server_admin_target(server)
    with psycopg.connect(**target.conninfo(), connect_timeout=5) as conn:
        dbs = {r[0] for r in conn.execute("SELECT datname FROM pg_database WHERE datname LIKE 'fitbuddy_t%'")}
        roles = {r[0] for r in conn.execute("SELECT rolname FROM pg_roles WHERE rolname LIKE 'fitbuddy_t%'")}
    return dbs, roles


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
    assert affiliate.status == "active" and affiliate.schema_version == "3"
    assert _state(server) == ({affiliate.database_name}, {affiliate.database_role})
    assert psycopg.connect(**placement.affiliate_target(affiliate).conninfo(), connect_timeout=5).close() is None
