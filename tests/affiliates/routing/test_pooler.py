"""Affiliate connections through PgBouncer (transaction pooling, auth_query with a lookup login)."""

from __future__ import annotations

import csv
import io

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connections as django_connections
from django.urls import reverse

from affiliates.infra.targets import pooler_for
from affiliates.models import DatabaseServer
from affiliates.routing import connections
from affiliates.routing.context import affiliate_context
from gym.accounts.models import GymLogin
from gym.workouts.models import Participation, ScoreType
from tests.conftest import client_for, pooler_show
from tests.factories import MemberFactory, WorkoutFactory, affiliate_provisioned, login

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def pooled(pooler, settings, clean_registry):
    settings.DATABASE_POOLER = pooler
    connections.forget_all()
    yield pooler
    connections.forget_all()


def test_a_gym_is_served_through_pgbouncer_reads_writes_and_exports(pooled):
    gym = affiliate_provisioned()
    owner = login("pooled_owner", gym, GymLogin.Role.OWNER)
    with affiliate_context(gym):
        alias = connections.alias_for(gym)
        assert django_connections[alias].settings_dict["PORT"] == int(pooled.rsplit(":", 1)[1])
        for i in range(30):
            MemberFactory(first_name=f"Pooled{i:02d}", email=f"p{i}@gym.test")
        fran = WorkoutFactory(name="Fran", score_type=ScoreType.TIME, scaling_levels=["rx"])
        ann = MemberFactory(first_name="Ann", email="ann@gym.test")
    client = client_for(gym, owner)

    assert "Pooled00" in client.get("/members/?q=pooled").content.decode()
    url = reverse("workouts:detail", args=[fran.pk], urlconf="fitbuddy.urls_gym")
    saved = client.post(url, {"member": ann.pk, "scaling_level": "rx", "status": "finished", "score": "3:05"})
    assert saved.status_code == 302  # a transaction (result and personal records) through the pooler
    with affiliate_context(gym):
        assert Participation.objects.get(workout=fran).score_value is not None
    export = client.get(reverse("members:export", urlconf="fitbuddy.urls_gym"))
    rows = list(csv.reader(io.StringIO(export.content.decode("utf-8-sig"))))
    assert len(rows) == 1 + 31  # the header and every member

    pools = {(p["database"], p["user"]) for p in pooler_show("POOLS")}
    assert (gym.database_name, gym.database_role) in pools  # the pages really went through PgBouncer


def test_the_pooler_knows_no_gym_password_of_its_own_and_refuses_other_logins(pooled):
    """auth_query answers for affiliate roles only: not the administrator, not the lookup login."""
    import psycopg

    host, port = pooled.rsplit(":", 1)
    for user, password in [("fitbud", "password1"), ("postgres", "")]:
        with pytest.raises(psycopg.OperationalError):
            psycopg.connect(
                host=host, port=int(port), user=user, password=password, dbname="postgres", connect_timeout=5
            )


@pytest.mark.cluster
def test_database_server_add_records_a_pooler_and_refuses_a_malformed_one(clean_registry, second_server):
    server, _restart = second_server
    args = ["add", "pooled2", "--host", "localhost", "--port", str(server.port), "--admin-secret", "env:DATABASE_URL"]
    with pytest.raises(CommandError, match="--pooler must be HOST:PORT"):
        call_command("database_server", *args, "--pooler", "proxy.example.com", stdout=io.StringIO())
    assert not DatabaseServer.objects.filter(name="pooled2").exists()

    call_command("database_server", *args, "--pooler", "proxy.example.com:6432", stdout=io.StringIO())
    pooled = DatabaseServer.objects.get(name="pooled2")
    assert pooled.pooler == "proxy.example.com:6432"
    assert pooler_for(pooled) == ("proxy.example.com", 6432)
    assert pooler_for(server) is None  # no pooler named, not the management database's server
    out = io.StringIO()
    call_command("database_server", "list", stdout=out)
    assert "via proxy.example.com:6432" in out.getvalue()
