"""affiliates/operations/local.py and `manage.py start_local_database`."""

from __future__ import annotations

import io
import json
import uuid

import psycopg
import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.db import connections
from django.test import Client

from affiliates.infra import databases, flyway
from affiliates.infra.targets import DatabaseTarget
from affiliates.models import Affiliate, Domain, Membership

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.xdist_group("local_databases")]


@pytest.fixture
def local_application_name(settings, admin_connection):
    name = f"test_fitbuddy_dev_{uuid.uuid4().hex[:8]}"
    settings.LOCAL_APPLICATION_DATABASE = name
    yield name
    databases.database_drop(admin_connection, name)
    # Django's flush after a transactional test leaves Flyway's (unmanaged) tables alone.
    with connections["default"].cursor() as cursor:
        cursor.execute("TRUNCATE master.affiliate, master.database_server, master.migration_run CASCADE")
        # ...and the seed's history row, so that the next run seeds again.
        cursor.execute("DELETE FROM master.flyway_schema_history WHERE version IS NULL")


@pytest.mark.flyway
def test_start_local_database_creates_migrates_and_seeds_both_databases(local_application_name, admin_connection):
    out = io.StringIO()
    call_command("start_local_database", stdout=out)

    assert databases.database_exists(admin_connection, local_application_name)
    assert f"database {local_application_name}: created" in out.getvalue()
    application = DatabaseTarget.from_django(connections["default"].settings_dict, name=local_application_name)
    management = DatabaseTarget.from_django(connections["default"].settings_dict)
    assert flyway.info(application, kind="application")["schemaVersion"] == flyway.latest_version("application")
    assert flyway.info(management, kind="affiliate_management")["schemaVersion"] == flyway.latest_version(
        "affiliate_management"
    )
    # The management seed: the demo affiliate, its domain, its business contact; staff's demo login only.
    demo = Affiliate.objects.get(schema_name="ironworks")
    assert demo.status == Affiliate.Status.ACTIVE
    assert Domain.objects.filter(domain="ironworks.localhost", tenant=demo).exists()
    assert demo.contact_email == "owner@ironworks.localhost"
    assert not Membership.objects.exists()
    assert list(get_user_model().objects.values_list("username", flat=True)) == ["staff"]
    with psycopg.connect(**application.conninfo()) as conn:
        assert conn.execute("SELECT count(*) FROM master.participation").fetchone()[0] > 100
        logins = set(conn.execute("SELECT email, role FROM master.gym_login").fetchall())
    assert logins == {
        ("owner@ironworks.localhost", "owner"),
        ("coach@ironworks.localhost", "coach"),
        ("ava.alvarez@ironworks.localhost", "athlete"),
    }
    # The demo owner logs in on the demo gym's host with the demo password.
    Affiliate.objects.clear_host_cache()
    client = Client(HTTP_HOST="ironworks.localhost")
    response = client.post("/login/", {"username": "owner@ironworks.localhost", "password": "fitbuddy"})
    assert response.status_code == 302 and client.get("/members/").status_code == 200


@pytest.mark.flyway
def test_start_local_database_twice_is_harmless(local_application_name):
    call_command("start_local_database", stdout=io.StringIO())
    out = io.StringIO()
    call_command("start_local_database", "--json", stdout=out)

    report = {row["database"]: row for row in json.loads(out.getvalue())}
    assert report[local_application_name] == {
        "database": local_application_name,
        "kind": "application",
        "created": False,
        "migrations_executed": 0,
        "version": flyway.latest_version("application"),
    }
    assert Affiliate.objects.filter(schema_name="ironworks").count() == 1


@pytest.mark.flyway
def test_start_local_database_without_seeds_leaves_the_application_database_empty(local_application_name):
    call_command("start_local_database", "--no-seed", stdout=io.StringIO())

    application = DatabaseTarget.from_django(connections["default"].settings_dict, name=local_application_name)
    with psycopg.connect(**application.conninfo()) as conn:
        assert conn.execute("SELECT count(*) FROM master.member").fetchone()[0] == 0


@pytest.mark.flyway
def test_the_seeds_run_again_on_a_demo_made_by_an_earlier_version(local_application_name):
    """A repeatable seed runs again whenever it changes, on the data its earlier version left: it must
    neither fail nor add results without a score (the first weeks' results only go to the first weeks)."""
    call_command("start_local_database", stdout=io.StringIO())
    application = DatabaseTarget.from_django(connections["default"].settings_dict, name=local_application_name)
    with psycopg.connect(**application.conninfo(), autocommit=True) as conn:
        before = conn.execute("SELECT count(*) FROM master.participation").fetchone()[0]
        # What an earlier seed left: its history row's checksum differs, so Flyway runs the seed again.
        conn.execute("UPDATE master.flyway_schema_history SET checksum = checksum + 1 WHERE version IS NULL")
    call_command("start_local_database", stdout=io.StringIO())
    with psycopg.connect(**application.conninfo()) as conn:
        after = conn.execute("SELECT count(*) FROM master.participation").fetchone()[0]
        unscored = conn.execute(
            "SELECT count(*) FROM master.participation p JOIN master.workout w ON w.id = p.workout_id"
            " WHERE p.status = 'finished' AND p.score_value IS NULL AND w.score_type <> 'none'"
        ).fetchone()[0]
    assert (after, unscored) == (before, 0)
