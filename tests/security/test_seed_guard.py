"""The seed guard refuses every target whose host it cannot see for itself: no host, libpq's
environment defaults, and connection settings that choose the server (affiliates/infra/seeds.py)."""

from __future__ import annotations

import pytest

from affiliates.infra import seeds

UNPROVABLE = "cannot be proved to be this machine"

#: Targets whose server is chosen by something the guard cannot see.
UNSEEN = [
    "",  # no host: PGHOST, a service file or libpq's default socket decides
    "   ",
    "postgres:///fitbuddy-dev",
    "postgresql://@/fitbuddy-dev",
    "jdbc:postgresql:///fitbuddy-dev",
    "dbname=fitbuddy-dev user=fitbud",
    "postgres:///fitbuddy-dev?service=prod",
    "postgres://localhost/fitbuddy-dev?Service=prod",
    "host=localhost service=prod",
    "host=localhost servicefile=/etc/pg_service.conf",
    "postgres://localhost/db?options=-c%20host%3Ddb.example.com",
    "host=localhost options=host=db.example.com",
    "jdbc:postgresql://localhost/db?socketFactory=org.example.Tunnel&socketFactoryArg=db.example.com",
    "jdbc:postgresql://localhost/db?sslfactory=org.example.Factory",
    "jdbc:postgresql://localhost,127.0.0.1/db?loadBalanceHosts=true",
    "jdbc:postgresql://localhost,127.0.0.1/db?targetServerType=primary",
    "postgres://localhost,127.0.0.1/db?target_session_attrs=read-write",
    "postgres://localhost/db?load_balance_hosts=random",
    "postgres://localhost/db?requirepeer=postgres&krbsrvname=x",
]


@pytest.mark.parametrize("target", UNSEEN)
def test_the_guard_refuses_a_target_whose_server_it_cannot_see(target):
    with pytest.raises(seeds.SeedGuardError, match=UNPROVABLE):
        seeds.assert_seeding_allowed(target, environment="local", env={})


@pytest.mark.parametrize(
    ("env", "target"),
    [
        ({"PGHOSTADDR": "10.0.0.5"}, "localhost"),  # libpq connects to it, whatever the host's name
        ({"PGSERVICE": "prod"}, "localhost"),  # a service can set hostaddr
        ({"PGSERVICEFILE": "/etc/pg_service.conf"}, "/var/run/postgresql"),
        ({"PGHOST": "db.example.com"}, ""),
        ({"PGHOST": "db.example.com"}, "postgres:///fitbuddy-dev"),
        ({"PGHOST": "localhost,db.example.com"}, "localhost"),
    ],
)
def test_the_guard_refuses_when_libpqs_environment_could_send_it_elsewhere(env, target):
    with pytest.raises(seeds.SeedGuardError, match=UNPROVABLE) as caught:
        seeds.assert_seeding_allowed(target, environment="local", env=env)
    assert next(iter(env)) in str(caught.value)


def test_the_guard_reads_this_processs_environment_by_default(monkeypatch):
    monkeypatch.setenv("PGHOSTADDR", "192.0.2.7")
    with pytest.raises(seeds.SeedGuardError, match="PGHOSTADDR"):
        seeds.assert_seeding_allowed("localhost", environment="local")


@pytest.mark.parametrize(
    ("env", "target"),
    [
        ({"PGHOST": "localhost"}, "localhost"),
        ({"PGHOSTADDR": "127.0.0.1"}, "localhost"),
        ({}, "host=/var/run/postgresql dbname=fitbuddy-dev user=fitbud"),
        ({}, "postgres:///fitbuddy-dev?host=/var/run/postgresql"),
        ({}, "postgres://localhost/db?target_session_attrs=read-write&sslmode=disable&application_name=seed"),
        ({}, "jdbc:postgresql://localhost:5432/db?user=fitbud&password=x&currentSchema=master&ssl=false"),
    ],
)
def test_the_guard_still_allows_what_it_can_see_is_this_machine(env, target):
    seeds.assert_seeding_allowed(target, environment="local", env=env)


def test_the_guards_message_shows_no_password():
    with pytest.raises(seeds.SeedGuardError) as caught:
        seeds.assert_seeding_allowed(
            "jdbc:postgresql://localhost/db?password=s3cr3t&socketFactory=x", environment="local", env={}
        )
    assert "s3cr3t" not in str(caught.value) and "socketfactory=" in str(caught.value)
