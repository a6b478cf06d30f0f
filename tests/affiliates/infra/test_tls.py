"""TLS to database servers: verified certificates, and never a cleartext password."""

from __future__ import annotations

import subprocess

import psycopg
import pytest
from psycopg import sql

from affiliates.infra.flyway_runner import run_many
from affiliates.infra.targets import affiliate_target, on_database, server_admin_target, tls_for
from affiliates.routing import connections
from gym.accounts.models import GymLogin
from tests.conftest import APP_VERSION, client_for
from tests.factories import affiliate_provisioned, login

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def tls_always(settings, clean_registry, tls_server):
    settings.DATABASE_TLS = "always"
    settings.DATABASE_CA_BUNDLE = str(tls_server.ca)
    connections.forget_all()
    yield tls_server
    connections.forget_all()


@pytest.mark.flyway
@pytest.mark.cluster
def test_an_affiliate_on_a_tls_server_is_provisioned_migrated_and_served_over_verified_tls(tls_always, clean_registry):
    gym = affiliate_provisioned()  # roles, CREATE DATABASE, the template migrated by Flyway over JDBC + TLS

    assert gym.database_server == tls_always.server and gym.status == "active" and gym.schema_version == APP_VERSION
    target = affiliate_target(gym)
    assert target.sslmode == "verify-full" and target.require_auth == "scram-sha-256"
    assert "sslmode=verify-full" in target.jdbc_url
    with psycopg.connect(**target.conninfo()) as conn:
        assert conn.execute("SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()").fetchone()[0] is True
    as_admin = on_database(server_admin_target(gym.database_server), gym.database_name)
    results = run_many("check", {"gym": as_admin}, kind="application", threads=1)
    assert results["gym"].state == "current"  # the fleet runner (Java API) over TLS too
    owner = login("tls_owner", gym, GymLogin.Role.OWNER)
    assert client_for(gym, owner).get("/members/").status_code == 200  # the gym's pages, over TLS


@pytest.mark.cluster
def test_a_certificate_from_another_authority_is_refused(tls_always, settings, tmp_path):
    other = tmp_path / "other.crt"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=localhost",
         "-keyout", str(tmp_path / "other.key"), "-out", str(other)],
        check=True,
        capture_output=True,
    )  # fmt: skip
    settings.DATABASE_CA_BUNDLE = str(other)
    target = server_admin_target(tls_always.server)
    with pytest.raises(psycopg.OperationalError, match="certificate verify failed"):
        psycopg.connect(**target.conninfo(), connect_timeout=5)


@pytest.mark.cluster
def test_a_server_without_tls_is_refused_when_tls_is_required(clean_registry, second_server, settings):
    settings.DATABASE_TLS = "always"
    server, _restart = second_server
    with pytest.raises(psycopg.OperationalError, match="SSL"):
        psycopg.connect(**server_admin_target(server).conninfo(), connect_timeout=5)


@pytest.mark.cluster
@pytest.mark.flyway
def test_a_cleartext_password_request_is_refused(tls_always):
    server = tls_always.server
    admin = server_admin_target(server)
    with psycopg.connect(**admin.conninfo(), autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE ROLE cleartext_user LOGIN PASSWORD {}").format(sql.Literal("pw-cleartext-1")))
    target = on_database(admin, "postgres")
    params = {**target.conninfo(), "user": "cleartext_user", "password": "pw-cleartext-1"}

    with pytest.raises(psycopg.OperationalError, match="password"):
        psycopg.connect(**params, connect_timeout=5)  # require_auth=scram-sha-256: refused by the client
    params.pop("require_auth")
    psycopg.connect(**params, connect_timeout=5).close()  # without it, it connects: the server did ask for cleartext


def test_servers_on_this_machine_need_no_tls_unless_asked(settings):
    settings.DATABASE_TLS = "remote"
    assert tls_for("localhost") == {}
    assert tls_for("db.eu-west-1.rds.amazonaws.com")["sslmode"] == "verify-full"
    settings.DATABASE_TLS = "off"
    assert tls_for("db.eu-west-1.rds.amazonaws.com") == {}
