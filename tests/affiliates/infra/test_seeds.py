"""The local data seed guard (affiliates/infra/seeds.py) and the paths that go through it."""

from __future__ import annotations

import psycopg
import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connections

from affiliates.infra import flyway, seeds
from affiliates.infra.targets import DatabaseTarget

REMOTE_TARGETS = [
    "db.fitbuddy.example.com",
    "fitbuddy-prod.cluster-abc123.eu-west-1.rds.amazonaws.com",
    "localhost.attacker.example",
    "127.0.0.1.nip.io",
    "mylocalhost",
    "10.0.0.5",
    "192.168.1.20",
    "172.17.0.2",
    "8.8.8.8",
    "0.0.0.0",
    "2001:db8::1",
    "[2001:db8::1]",
    "postgres",
    "postgres://fitbud:password1@db.example.com:5432/affiliate-mgt",
    "postgresql://admin:s3cr3t@10.1.2.3/fitbuddy-dev?sslmode=require",
    "postgres://localhost/fitbuddy-dev?host=db.example.com",
    "postgres://localhost/fitbuddy-dev?hostaddr=10.0.0.9",
    "postgres://localhost,db.example.com/fitbuddy-dev",
    "postgres://user:pw@[2001:db8::1]:5432/db",
    "jdbc:postgresql://aurora.example.com:5432/fitbuddy-dev?user=fitbud&password=x",
    "jdbc:postgresql://localhost:5432/db?host=remote.example.com",
    "localhost,db.example.com",
    "/tmp,db.example.com",
    "/var/run/postgresql,10.0.0.5",
    "postgres://%2Ftmp,db.example.com/fitbuddy-dev",
    "/tmp hostaddr=10.0.0.5",
    "host=/tmp hostaddr=10.0.0.5",
]

#: Targets whose hosts come from somewhere the guard cannot read: refused as unprovable.
HIDDEN_HOST_TARGETS = [
    "postgres:///fitbuddy-dev?service=prod",
    "postgres://localhost/fitbuddy-dev?service=prod",
    "postgresql://localhost/db?SERVICE=prod",
    "postgres://localhost/db?servicefile=/etc/pg_service.conf",
    "service=prod dbname=fitbuddy-dev",
]

LOCAL_TARGETS = [
    "localhost",
    "LOCALHOST",
    "127.0.0.1",
    "127.0.0.2",
    "::1",
    "/var/run/postgresql",
    "postgres://fitbud:password1@localhost:5432/affiliate-mgt",
    "postgresql://fitbud@127.0.0.1/fitbuddy-dev?sslmode=disable",
    "postgres://fitbud@[::1]:5432/fitbuddy-dev",
    "jdbc:postgresql://localhost/fitbuddy-dev",
]


@pytest.mark.parametrize("target", REMOTE_TARGETS)
def test_guard_refuses_remote_targets(target):
    with pytest.raises(seeds.SeedGuardError, match="refusing to apply local data seeds") as caught:
        seeds.assert_seeding_allowed(target, environment="local", env={})
    assert "not this machine" in str(caught.value)


@pytest.mark.parametrize("target", HIDDEN_HOST_TARGETS)
def test_guard_refuses_hosts_it_cannot_see(target):
    with pytest.raises(seeds.SeedGuardError, match="cannot be proved to be this machine"):
        seeds.assert_seeding_allowed(target, environment="local", env={})


@pytest.mark.parametrize("target", LOCAL_TARGETS)
def test_guard_allows_this_machine_in_local_and_test(target):
    seeds.assert_seeding_allowed(target, environment="local", env={})
    seeds.assert_seeding_allowed(target, environment="test", env={})


@pytest.mark.parametrize("environment", ["production", "staging", ""])
def test_guard_refuses_outside_local_and_test_even_on_localhost(environment, settings):
    settings.FITBUDDY_ENV = environment or "production"
    with pytest.raises(seeds.SeedGuardError, match="FITBUDDY_ENV"):
        seeds.assert_seeding_allowed("localhost", environment=environment or None)


def test_guard_hides_passwords_in_its_message():
    with pytest.raises(seeds.SeedGuardError) as caught:
        seeds.assert_seeding_allowed("postgres://admin:s3cr3t@db.example.com/x", environment="local")
    assert "s3cr3t" not in str(caught.value)
    assert "db.example.com" in str(caught.value)


def _member_count(target: DatabaseTarget) -> int | None:
    with psycopg.connect(**target.conninfo()) as conn:
        exists = conn.execute("SELECT to_regclass('master.member')").fetchone()[0]
        return conn.execute("SELECT count(*) FROM master.member").fetchone()[0] if exists else None


@pytest.mark.django_db
def test_flyway_seed_refused_in_production_applies_nothing(fresh_database):
    with pytest.raises(seeds.SeedGuardError):
        flyway.migrate(fresh_database, kind="application", seed=True, environment="production")

    assert _member_count(fresh_database) is None  # not even sql/ ran: refused before Flyway started


@pytest.mark.django_db
def test_flyway_seed_refused_for_a_remote_host():
    target = DatabaseTarget(name="fitbuddy-dev", host="db.fitbuddy.example.com", password="x")
    with pytest.raises(seeds.SeedGuardError, match="db.fitbuddy.example.com"):
        flyway.migrate(target, kind="application", seed=True)


@pytest.mark.flyway
@pytest.mark.django_db
def test_flyway_applies_seeds_locally_with_every_score_type(fresh_database):
    result = flyway.migrate(fresh_database, kind="application", seed=True)

    assert result.target_version == flyway.latest_version("application")
    with psycopg.connect(**fresh_database.conninfo()) as conn:
        members = conn.execute("SELECT count(*) FROM master.member").fetchone()[0]
        score_types = {r[0] for r in conn.execute("SELECT DISTINCT score_type FROM master.workout")}
        statuses = {r[0] for r in conn.execute("SELECT DISTINCT status FROM master.participation")}
        levels = {r[0] for r in conn.execute("SELECT DISTINCT scaling_level FROM master.participation")}
        tiebreaks = conn.execute("SELECT count(*) FROM master.participation WHERE tiebreak_ms IS NOT NULL").fetchone()[
            0
        ]
    assert members >= 20
    assert score_types == {"time", "rounds_reps", "reps", "load", "calories", "distance", "points", "pass_fail", "none"}
    assert {"finished", "capped"} <= statuses
    assert {"rx", "scaled"} <= levels
    assert tiebreaks > 0

    again = flyway.migrate(fresh_database, kind="application", seed=True)
    assert again.migrations_executed == 0
    assert _member_count(fresh_database) == members


@pytest.mark.flyway
@pytest.mark.django_db
def test_a_seeded_database_still_migrates_without_seeds(fresh_database):
    flyway.migrate(fresh_database, kind="application", seed=True)

    result = flyway.migrate(fresh_database, kind="application")
    flyway.validate(fresh_database, kind="application")

    assert result.migrations_executed == 0


@pytest.mark.django_db
def test_start_local_database_refuses_a_remote_management_database():
    connections["default"].settings_dict["HOST"] = "db.example.com"
    try:
        with pytest.raises(CommandError, match="refusing to apply local data seeds"):
            call_command("start_local_database")
    finally:
        connections["default"].settings_dict["HOST"] = "localhost"
