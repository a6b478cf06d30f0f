"""Secret references resolved for real: environment variables and Secrets Manager (moto's server)."""

from __future__ import annotations

import json

import psycopg
import pytest
from django.db import connection
from psycopg import sql

from affiliates.infra import credentials
from affiliates.infra.credentials import Login, SecretError
from affiliates.infra.targets import server_admin_target
from affiliates.models import Affiliate
from tests.factories import affiliate_provisioned

PASSWORD = "s3cret-Admin-pw!"


def test_an_environment_variable_holds_a_database_url_or_json(monkeypatch):
    credentials.cache_clear()
    monkeypatch.setenv("FB_TEST_URL", "postgres://fleet%40admin:p%40ss@db.example:5432/postgres")
    monkeypatch.setenv("FB_TEST_JSON", json.dumps({"username": "fleet", "password": PASSWORD}))

    assert credentials.login_resolve("env:FB_TEST_URL") == Login("fleet@admin", "p@ss")
    assert credentials.login_resolve("env:FB_TEST_JSON") == Login("fleet", PASSWORD)


@pytest.mark.parametrize(
    ("ref", "value", "message"),
    [
        ("env:FB_TEST_UNSET", None, "FB_TEST_UNSET is not set"),
        ("env:FB_TEST_BAD", "not json " + PASSWORD, "expected JSON with 'username' and 'password'"),
        ("env:FB_TEST_BAD", json.dumps({"password": PASSWORD}), "expected JSON"),
        ("vault:secret/x", None, "unknown secret reference"),
    ],
)
def test_a_bad_reference_is_a_clear_error_that_never_shows_the_secret(monkeypatch, ref, value, message):
    credentials.cache_clear()
    monkeypatch.delenv("FB_TEST_UNSET", raising=False)
    if value is not None:
        monkeypatch.setenv("FB_TEST_BAD", value)
    with pytest.raises(SecretError, match=message) as caught:
        credentials.login_resolve(ref)
    assert PASSWORD not in str(caught.value)


def test_a_login_never_shows_its_password():
    assert PASSWORD not in repr(Login("u", PASSWORD)) and PASSWORD not in str(Login("u", PASSWORD))


def test_a_secrets_manager_secret_is_resolved_cached_and_fetched_again_when_asked(aws, settings):
    secret = aws.secrets.create_secret(
        Name="fitbuddy/test/admin", SecretString=json.dumps({"username": "fleet", "password": PASSWORD})
    )
    ref = f"aws-secretsmanager:{secret['ARN']}"

    assert credentials.login_resolve(ref) == Login("fleet", PASSWORD)

    aws.secrets.put_secret_value(
        SecretId=secret["ARN"], SecretString=json.dumps({"username": "fleet", "password": "x2"})
    )
    assert credentials.login_resolve(ref).password == PASSWORD  # within SECRET_CACHE_SECONDS: the cached one
    settings.SECRET_CACHE_SECONDS = 0
    assert credentials.login_resolve(ref, fresh=True).password == "x2"  # after a rotation: fetched again
    aws.secrets.put_secret_value(
        SecretId=secret["ARN"], SecretString=json.dumps({"username": "fleet", "password": "x3"})
    )
    assert credentials.login_resolve(ref).password == "x3"  # expired: fetched again


def test_a_missing_secret_names_the_reference_and_what_aws_said(aws):
    ref = "aws-secretsmanager:arn:aws:secretsmanager:us-east-1:123456789012:secret:nope-AbCdEf"
    with pytest.raises(SecretError, match="ResourceNotFoundException") as caught:
        credentials.login_resolve(ref)
    assert ref in str(caught.value)


@pytest.mark.cluster
@pytest.mark.flyway
@pytest.mark.django_db(transaction=True)
def test_a_server_whose_admin_login_lives_in_secrets_manager_gets_affiliates(aws, request, clean_registry):
    """The second server's administrator is a login of its own, known only to Secrets Manager."""
    server, _restart = request.getfixturevalue("second_server")
    with psycopg.connect(**server_admin_target(server).conninfo(), autocommit=True) as conn:
        conn.execute(
            sql.SQL("CREATE ROLE fleet_admin LOGIN CREATEDB CREATEROLE PASSWORD {}").format(sql.Literal(PASSWORD))
        )
        conn.execute("GRANT pg_signal_backend TO fleet_admin")
    secret = aws.secrets.create_secret(
        Name="fitbuddy/second/admin", SecretString=json.dumps({"username": "fleet_admin", "password": PASSWORD})
    )
    server.admin_secret_ref = f"aws-secretsmanager:{secret['ARN']}"
    server.save(update_fields=["admin_secret_ref"])

    gym = affiliate_provisioned()

    assert gym.status == Affiliate.Status.ACTIVE and gym.database_server_id == server.pk
    with psycopg.connect(**server_admin_target(server).conninfo()) as conn:
        owner = conn.execute(
            "SELECT pg_get_userbyid(datdba) FROM pg_database WHERE datname = %s", [gym.database_name]
        ).fetchone()[0]
    assert owner == "fleet_admin"
    # The registry holds references, never the password.
    with connection.cursor() as cursor:
        cursor.execute("SELECT row_to_json(s)::text FROM master.database_server s")
        rows = " ".join(r[0] for r in cursor.fetchall())
    assert secret["ARN"] in rows and PASSWORD not in rows
