"""Database servers as a fleet: placement by room and load, drain, and manage.py database_server."""

from __future__ import annotations

import io
import json

import psycopg
import pytest
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection, connections
from psycopg import sql

from affiliates.infra import aurora
from affiliates.infra.targets import server_admin_target
from affiliates.models import Affiliate, DatabaseServer, StaffAudit
from affiliates.operations import placement, provisioning
from tests.factories import affiliate_provisioned, new_slug

pytestmark = pytest.mark.django_db(transaction=True)


def server(name: str, **fields) -> DatabaseServer:
    return DatabaseServer.objects.create(name=name, host=f"{name}.db.example", **fields)


def hold(srv: DatabaseServer, count: int, status: str = "active") -> None:
    """Registry rows standing for affiliates on a server (placement counts rows; it never connects)."""
    for _ in range(count):
        slug = new_slug()
        Affiliate.objects.create(schema_name=slug, name=slug, status=status, database_server=srv)


def test_a_new_affiliate_goes_to_the_accepting_server_with_room_and_the_fewest_affiliates(clean_registry):
    busy, quiet, full, draining = (
        server("busy"),
        server("quiet"),
        server("full", max_affiliates=1),
        server("draining", is_accepting=False),
    )
    hold(busy, 3)
    hold(quiet, 1)
    hold(quiet, 5, status="archived")  # archived affiliates hold no database: they do not count
    hold(full, 1)

    assert placement.database_server_choose() == quiet
    hold(quiet, 3)
    assert placement.database_server_choose() == busy  # 3 beside 4 now; full and draining never
    assert draining.pk and full.pk


def test_among_equally_used_servers_the_default_is_first(clean_registry):
    server("alpha")
    beta = server("beta", is_default=True)
    assert placement.database_server_choose() == beta


def test_when_no_server_has_room_placement_refuses_and_names_each(clean_registry):
    hold(server("small", max_affiliates=1), 1)
    server("resting", is_accepting=False)

    with pytest.raises(ValidationError, match="No database server has room") as caught:
        placement.database_server_choose()
    assert "small: 1/1" in str(caught.value) and "resting: 0/∞ draining" in str(caught.value)

    before = Affiliate.objects.count()
    with pytest.raises(ValidationError) as refused:
        provisioning.affiliate_request(slug=new_slug(), name="No room", domain=f"{new_slug()}.localhost")
    assert "server" in refused.value.message_dict
    assert Affiliate.objects.count() == before  # nothing created


def test_choosing_a_server_by_name_is_checked(clean_registry):
    server("open")
    hold(server("packed", max_affiliates=2), 2)
    server("closing", is_accepting=False)

    assert placement.database_server_choose(server_name="open").name == "open"
    for name, message in [
        ("nowhere", "No database server 'nowhere'"),
        ("packed", r"packed is full \(2 of 2 affiliates\)"),
        ("closing", "closing is draining"),
    ]:
        with pytest.raises(ValidationError, match=message):
            placement.database_server_choose(server_name=name)


def run(*args: str) -> tuple[int, str]:
    out = io.StringIO()
    try:
        call_command("database_server", *args, stdout=out)
    except CommandError as exc:
        return exc.returncode, out.getvalue() + str(exc)
    return 0, out.getvalue()


@pytest.mark.flyway
@pytest.mark.cluster
def test_database_server_add_checks_the_login_then_list_drain_and_provision_there(request, clean_registry, monkeypatch):
    second, _restart = request.getfixturevalue("second_server")
    admin = connections["default"].settings_dict
    monkeypatch.setenv("FB_THIRD_ADMIN", f"postgres://{admin['USER']}:{admin['PASSWORD']}@ignored/postgres")
    monkeypatch.setenv("FB_WRONG_ADMIN", f"postgres://{admin['USER']}:wrong-password@ignored/postgres")

    code, out = run(
        "add", "third", "--host", "localhost", "--port", str(second.port), "--admin-secret", "env:FB_WRONG_ADMIN"
    )
    assert code == 1 and "cannot connect" in out and "wrong-password" not in out
    assert not DatabaseServer.objects.filter(name="third").exists()

    code, out = run(
        "add", "third", "--host", "localhost", "--port", str(second.port),
        "--admin-secret", "env:FB_THIRD_ADMIN", "--max-affiliates", "5",
    )  # fmt: skip
    assert code == 0, out
    third = DatabaseServer.objects.get(name="third")
    assert third.admin_secret_ref == "env:FB_THIRD_ADMIN" and third.max_affiliates == 5
    assert StaffAudit.objects.filter(action="server_add", target="third", outcome="succeeded").exists()
    assert run("add", "third", "--host", "x", "--admin-secret", "env:FB_THIRD_ADMIN")[1].count("already registered")

    gym = affiliate_provisioned(server_name="third")
    assert gym.database_server == third and gym.status == "active"

    code, out = run("list", "--json")
    rows = {row["name"]: row for row in json.loads(out)}
    assert rows["third"]["affiliates"] == 1 and rows["third"]["max_affiliates"] == 5 and rows["third"]["accepting"]

    assert run("drain", "third")[0] == 0
    assert "draining" in run("list")[1]
    with pytest.raises(ValidationError, match="third is draining"):
        provisioning.affiliate_request(slug=new_slug(), name="X", domain=f"{new_slug()}.localhost", server_name="third")
    assert run("accept", "third")[0] == 0
    assert run("drain", "ghost")[0] == 1


@pytest.mark.flyway
@pytest.mark.cluster
def test_an_aurora_cluster_created_through_rds_and_reached_via_a_local_stand_in(aws, request, clean_registry):
    """moto's RDS creates the cluster; the second local PostgreSQL server stands for its writer."""
    second, _restart = request.getfixturevalue("second_server")
    via = f"localhost:{second.port}"
    args = [
        "add",
        "east",
        "--aurora",
        "fb-east",
        "--create",
        "--min-acu",
        "0.5",
        "--max-acu",
        "4",
        "--connect-via",
        via,
    ]

    code, out = run(*args)

    # RDS made the cluster and its writer, but the stand-in has no master user yet: nothing registered.
    assert code == 1 and "cannot connect" in out, out
    assert not DatabaseServer.objects.filter(name="east").exists()
    rds = aurora.rds_client()
    cluster = rds.describe_db_clusters(DBClusterIdentifier="fb-east")["DBClusters"][0]
    assert cluster["Engine"] == "aurora-postgresql"
    assert cluster["ServerlessV2ScalingConfiguration"] == {"MinCapacity": 0.5, "MaxCapacity": 4.0}
    writer = rds.describe_db_instances(DBInstanceIdentifier="fb-east-writer")["DBInstances"][0]
    assert writer["DBInstanceClass"] == "db.serverless"

    # What Aurora does at creation: its master user, with the password RDS keeps in Secrets Manager.
    arn = cluster["MasterUserSecret"]["SecretArn"]
    master = json.loads(aws.secrets.get_secret_value(SecretId=arn)["SecretString"])
    with psycopg.connect(**server_admin_target(second).conninfo(), autocommit=True) as conn:
        conn.execute(
            sql.SQL("CREATE ROLE {} LOGIN CREATEDB CREATEROLE PASSWORD {}").format(
                sql.Identifier(master["username"]), sql.Literal(master["password"])
            )
        )
        conn.execute(sql.SQL("GRANT pg_signal_backend TO {}").format(sql.Identifier(master["username"])))

    code, out = run(*args)  # the same command again: the cluster exists, and now the login works

    assert code == 0, out
    east = DatabaseServer.objects.get(name="east")
    assert (east.kind, east.aws_cluster_id, east.endpoint) == ("aurora", "fb-east", cluster["Endpoint"])
    assert (east.host, east.port) == ("localhost", second.port)
    assert east.admin_secret_ref == f"aws-secretsmanager:{arn}"

    gym = affiliate_provisioned(server_name="east")
    assert gym.status == "active" and gym.database_server == east
    with connection.cursor() as cursor:
        cursor.execute("SELECT row_to_json(s)::text FROM master.database_server s")
        registry = " ".join(row[0] for row in cursor.fetchall())
    assert master["password"] not in registry


def test_an_unknown_aurora_cluster_is_a_clear_error(aws, clean_registry):
    code, out = run("add", "west", "--aurora", "no-such-cluster")
    assert code == 1 and "DBClusterNotFoundFault" in out
    assert not DatabaseServer.objects.filter(name="west").exists()
