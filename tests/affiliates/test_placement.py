"""Database servers as a fleet: placement by room and load, drain, and manage.py database_server."""

from __future__ import annotations

import io
import json

import pytest
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connections

from affiliates import placement, provisioning
from affiliates.models import Affiliate, DatabaseServer, StaffAudit
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
