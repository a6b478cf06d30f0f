"""The staff audit trail nobody can rewrite unnoticed (issue 19, part 2).

Every command-center change is in the trail with who, what, before and after (never a secret); each
record is chained to the one before it by a SHA-256 the database computes, and ``manage.py
audit_verify`` recomputes the chain in Python and names the record where it breaks.
"""

from __future__ import annotations

import datetime
import hashlib
import os
import shutil
import subprocess
import threading
import time
import uuid
from pathlib import Path

import psycopg
import pytest
from django.conf import settings
from django.contrib import admin
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group, Permission
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection, connections
from django.forms import MultiWidget
from django.urls import reverse

from affiliates.admin.audited import AuditedAdmin
from affiliates.audit import audit_record
from affiliates.audit.chain import GENESIS, ChainRow, chain_verify, row_hash, timestamp_text
from affiliates.infra import backups
from affiliates.infra.targets import DatabaseTarget
from affiliates.models import Affiliate, DatabaseServer, Domain, StaffAudit, StaffAuditChainHead
from tests.factories import PASSWORD, affiliate_requested, new_slug

SQL_DIR = Path(settings.BASE_DIR) / "sql" / "affiliate_management"
ROW_COLUMNS = (
    "id, chain_seq, created_at, actor, channel, action, target, outcome, detail, changes::text, prev_hash, row_hash"
)


# --- helpers ---


@pytest.fixture
def staff(client):
    """A logged-in superuser of the command center."""
    user = get_user_model().objects.create_superuser("auditor", "auditor@fitbuddy.localhost", PASSWORD)
    client.force_login(user)
    return user


def last_record() -> int:
    return StaffAudit.objects.order_by("-pk").values_list("pk", flat=True).first() or 0


def records_since(pk: int, action: str | None = None) -> list[StaffAudit]:
    rows = StaffAudit.objects.filter(pk__gt=pk).order_by("pk")
    return list(rows.filter(action=action) if action else rows)


def _add(data: dict, form) -> None:
    for name, field in form.fields.items():
        value = form[name].value()
        key = form.add_prefix(name)
        if value is None or value is False:
            continue
        if isinstance(field.widget, MultiWidget):  # a date and a time: one input each
            for index, part in enumerate(field.widget.decompress(value)):
                data[f"{key}_{index}"] = str(part)
            continue
        if value is True:
            data[key] = "on"
        elif isinstance(value, list | tuple):
            data[key] = [str(item) for item in value]
        else:
            data[key] = str(value)


def page_data(client, url: str, **changes) -> dict:
    """What a browser would post back from an admin page, unchanged, with ``changes`` on top."""
    context = client.get(url).context
    data: dict = {}
    _add(data, context["adminform"].form)
    for inline in context.get("inline_admin_formsets", []):
        formset = inline.formset
        _add(data, formset.management_form)
        for form in formset.forms:
            _add(data, form)
    data.update(changes)
    return data


def post(client, url: str, data: dict) -> None:
    response = client.post(url, data)
    errors = getattr(response, "context", None) and response.context.get("errors")
    assert response.status_code == 302, f"the page refused the post: {errors}"


def verify(*args: str) -> tuple[int, str, str]:
    """``manage.py audit_verify``: its exit code, stdout and stderr."""
    from io import StringIO

    out, err = StringIO(), StringIO()
    try:
        call_command("audit_verify", *args, stdout=out, stderr=err)
    except CommandError as exc:
        return 1, out.getvalue(), err.getvalue() + str(exc)
    return 0, out.getvalue(), err.getvalue()


def stored_rows(cursor, where: str = "TRUE", params=()) -> list[ChainRow]:
    cursor.execute(f"SELECT {ROW_COLUMNS} FROM master.staff_audit WHERE {where} ORDER BY chain_seq", params)
    return [ChainRow(*values) for values in cursor.fetchall()]


def as_table_owner(statement: str, params=()) -> None:
    """What the table's owner can do in this test's transaction: switch the triggers off and rewrite."""
    with connection.cursor() as cursor:
        cursor.execute("ALTER TABLE master.staff_audit DISABLE TRIGGER USER")
        cursor.execute(statement, params)
        cursor.execute("ALTER TABLE master.staff_audit ENABLE TRIGGER USER")


def as_superuser(statement: str) -> None:
    """Run SQL on the test management database as the cluster's ``postgres`` superuser, with triggers off."""
    data = Path(os.environ.get("FITBUDDY_PGDATA", "/var/lib/fitbuddy/postgres"))
    db = connection.settings_dict
    if os.geteuid() == 0 and (data / "postmaster.pid").exists():
        command = ["runuser", "-u", "postgres", "--", "psql", "-h", str(data)]
    elif shutil.which("psql"):
        command = ["psql", "-h", db["HOST"] or "localhost", "-U", "postgres"]
    else:
        pytest.fail("no psql to reach the cluster as its superuser")
    script = f"SET session_replication_role = replica;\n{statement};\n"
    subprocess.run(
        [*command, "-p", str(db["PORT"] or 5432), "-d", db["NAME"], "-v", "ON_ERROR_STOP=1", "-q"],
        input=script,
        text=True,
        check=True,
        capture_output=True,
        timeout=30,
    )


# --- every staff operation in the command center is recorded, before and after ---


@pytest.mark.django_db
def test_a_domain_renamed_moved_to_another_affiliate_and_deleted_is_in_the_trail(client, staff):
    gym, other = affiliate_requested(), affiliate_requested()
    domain = Domain.objects.get(tenant=gym)
    old_name, new_name = domain.domain, f"{new_slug()}.localhost"
    url = reverse("admin:affiliates_domain_change", args=[domain.pk])
    start = last_record()

    post(client, url, page_data(client, url, domain=new_name))
    post(client, url, page_data(client, url, tenant=str(other.pk), is_primary=""))
    post(client, reverse("admin:affiliates_domain_delete", args=[domain.pk]), {"post": "yes"})

    renamed, moved = records_since(start, "domain.change")
    assert renamed.actor == "auditor" and renamed.channel == "admin" and renamed.outcome == "succeeded"
    assert renamed.changes == {"before": {"domain": old_name}, "after": {"domain": new_name}}
    assert moved.changes["before"]["tenant_id"] == gym.pk and moved.changes["after"]["tenant_id"] == other.pk
    (deleted,) = records_since(start, "domain.delete")
    assert f"domain #{domain.pk} {new_name}" == deleted.target
    assert deleted.changes == {
        "before": {"id": domain.pk, "domain": new_name, "tenant_id": other.pk, "is_primary": False}
    }


@pytest.mark.django_db
def test_a_domain_added_renamed_and_deleted_inline_on_the_affiliate_page_is_in_the_trail(client, staff):
    gym = affiliate_requested()
    first = Domain.objects.get(tenant=gym)
    url = reverse("admin:affiliates_affiliate_change", args=[gym.pk])
    added_name, renamed_name = f"{new_slug()}.localhost", f"{new_slug()}.localhost"
    start = last_record()

    data = page_data(client, url)
    data.update({"domains-TOTAL_FORMS": "2", "domains-1-domain": added_name, "domains-1-tenant": str(gym.pk)})
    post(client, url, data)
    added = Domain.objects.get(domain=added_name)

    def row_of(data: dict, domain: Domain) -> str:  # the inline lists domains by name: find the row
        return next(f"domains-{i}" for i in (0, 1) if data[f"domains-{i}-id"] == str(domain.pk))

    data = page_data(client, url)
    data[f"{row_of(data, first)}-domain"] = renamed_name
    post(client, url, data)
    data = page_data(client, url)
    data[f"{row_of(data, added)}-DELETE"] = "on"
    post(client, url, data)

    (add,) = records_since(start, "domain.add")
    assert add.changes["after"]["domain"] == added_name and add.changes["after"]["tenant_id"] == gym.pk
    (change,) = records_since(start, "domain.change")
    assert change.changes == {"before": {"domain": first.domain}, "after": {"domain": renamed_name}}
    (delete,) = records_since(start, "domain.delete")
    assert delete.target.startswith(f"domain #{added.pk} ") and delete.changes["before"]["domain"] == added_name


@pytest.mark.django_db
def test_an_affiliate_renamed_is_in_the_trail_with_before_and_after(client, staff):
    gym = affiliate_requested(name="Old Name Barbell")
    url = reverse("admin:affiliates_affiliate_change", args=[gym.pk])
    start = last_record()

    post(client, url, page_data(client, url, name="New Name Barbell"))

    (record,) = records_since(start, "affiliate.change")
    assert record.actor == "auditor" and record.target.startswith(f"affiliate #{gym.pk} ")
    assert record.changes == {"before": {"name": "Old Name Barbell"}, "after": {"name": "New Name Barbell"}}


@pytest.mark.django_db
def test_a_database_server_added_and_edited_is_in_the_trail_without_its_secret_reference(client, staff):
    start = last_record()
    name = f"srv_{new_slug()}"
    add = {"name": name, "kind": "local", "host": "db1.internal", "port": "5432", "admin_secret_ref": "env:DB1_ADMIN"}
    post(client, reverse("admin:affiliates_databaseserver_add"), add)
    server = DatabaseServer.objects.get(name=name)
    url = reverse("admin:affiliates_databaseserver_change", args=[server.pk])
    post(client, url, page_data(client, url, host="db2.internal", admin_secret_ref="env:DB2_ADMIN"))

    (added,) = records_since(start, "databaseserver.add")
    assert added.changes["after"]["host"] == "db1.internal" and added.changes["after"]["name"] == name
    (edited,) = records_since(start, "databaseserver.change")
    assert edited.changes == {
        "before": {"host": "db1.internal", "admin_secret_ref": "[redacted]"},
        "after": {"host": "db2.internal", "admin_secret_ref": "[redacted]"},
    }
    for record in records_since(start):
        assert "DB1_ADMIN" not in str(record.changes) and "DB2_ADMIN" not in str(record.changes)


@pytest.mark.django_db
def test_a_staff_user_making_themself_superuser_is_in_the_trail_without_the_password_hash(client):
    user = get_user_model().objects.create_user("climber", password=PASSWORD, is_staff=True)
    user.user_permissions.add(Permission.objects.get(codename="change_user"))
    client.force_login(user)
    # The page shows times to the second (a browser posts them back so): start from whole seconds.
    whole = datetime.datetime(2026, 1, 5, 9, 30, tzinfo=datetime.UTC)
    get_user_model().objects.filter(pk=user.pk).update(date_joined=whole, last_login=whole)
    url = reverse("admin:auth_user_change", args=[user.pk])
    start = last_record()

    post(client, url, page_data(client, url, is_superuser="on"))

    (record,) = records_since(start, "user.change")
    assert record.actor == "climber" and record.target == f"user #{user.pk} climber"
    assert record.changes == {"before": {"is_superuser": False}, "after": {"is_superuser": True}}
    password_url = reverse("admin:auth_user_password_change", args=[user.pk])
    response = client.post(
        password_url, {"password1": "another-long-password-2", "password2": "another-long-password-2"}
    )
    assert response.status_code == 302
    user.refresh_from_db()
    for record in records_since(start):
        assert user.password not in f"{record.changes} {record.detail}"
    assert "password" in records_since(start, "user.change")[-1].detail.lower()


@pytest.mark.django_db
def test_a_groups_permissions_changed_is_in_the_trail(client, staff):
    group = Group.objects.create(name=f"Auditors {new_slug()}")
    group.permissions.add(Permission.objects.get(codename="view_affiliate"))
    url = reverse("admin:auth_group_change", args=[group.pk])
    archive = Permission.objects.get(codename="archive_affiliate")
    data = page_data(client, url)
    data["permissions"] = [*data.get("permissions", []), str(archive.pk)]
    start = last_record()

    post(client, url, data)

    (record,) = records_since(start, "group.change")
    assert record.changes == {
        "before": {"permissions": ["affiliates.view_affiliate"]},
        "after": {"permissions": ["affiliates.archive_affiliate", "affiliates.view_affiliate"]},
    }


@pytest.mark.django_db
def test_a_bulk_delete_of_domains_records_each_one(client, staff):
    gym = affiliate_requested()
    extra = [Domain.objects.create(domain=f"{new_slug()}.localhost", tenant=gym, is_primary=False) for _ in range(2)]
    start = last_record()

    response = client.post(
        reverse("admin:affiliates_domain_changelist"),
        {"action": "delete_selected", "_selected_action": [d.pk for d in extra], "post": "yes"},
    )

    assert response.status_code == 302
    deleted = records_since(start, "domain.delete")
    assert sorted(r.changes["before"]["domain"] for r in deleted) == sorted(d.domain for d in extra)
    assert all(r.detail == "deleted in bulk" and r.actor == "auditor" for r in deleted)


def test_every_command_center_page_for_the_registry_staff_and_groups_is_audited():
    """A new model admin for the registry, users or groups that is not an AuditedAdmin fails here."""
    unaudited = [
        model._meta.label
        for model, model_admin in admin.site._registry.items()
        if model._meta.app_label in {"affiliates", "auth"} and not isinstance(model_admin, AuditedAdmin)
    ]
    assert not unaudited
    assert {Group, get_user_model(), Affiliate, Domain, DatabaseServer} <= set(admin.site._registry)


# --- the chain: computed by the database, recomputed by Python ---


@pytest.mark.django_db
def test_python_recomputes_exactly_what_postgresql_computed():
    awkward = [
        {"actor": "ünïcødé 🏋️", "detail": "line one\nline two\ttab, comma: colon 12:3,"},
        {"actor": "", "target": "", "detail": "", "changes": None},
        {"actor": "x", "changes": {"after": {"name": 'Ça "va"', "n": 1.5, "none": None, "list": [3, 1]}}},
        {"actor": "y", "changes": {}},
    ]
    start = last_record()
    for fields in awkward:
        audit_record(channel="admin", action="test.hash", outcome="succeeded", **{"actor": "a", **fields})

    with connection.cursor() as cursor:
        rows = stored_rows(cursor, "id > %s", [start])
        # NULLs, and a time on a whole second (PostgreSQL and Python must both write .000000).
        cursor.execute(
            "SELECT master.staff_audit_chain_hash(7, 8, '2026-01-05 10:30:00+01', NULL, '', 'é', NULL, NULL,"
            " NULL, NULL, NULL)"
        )
        sql_hash = cursor.fetchone()[0]
    assert len(rows) == 4
    for row in rows:
        assert row_hash(row) == row.row_hash, f"Python and PostgreSQL disagree on record {row.id}"
    moment = datetime.datetime(2026, 1, 5, 9, 30, tzinfo=datetime.UTC)
    assert timestamp_text(moment) == "2026-01-05T09:30:00.000000Z"
    expected = hashlib.sha256(
        b"fitbuddy.staff_audit.v1" + b"1:7,1:8,27:2026-01-05T09:30:00.000000Z,-,0:,2:\xc3\xa9,-,-,-,-,-,"
    ).hexdigest()
    assert sql_hash == expected


@pytest.mark.django_db
def test_the_database_sets_time_place_and_hash_whatever_the_client_sends():
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO master.staff_audit"
            " (created_at, actor, channel, action, outcome, chain_seq, prev_hash, row_hash)"
            " VALUES ('2001-01-01', 'forger', 'admin', 'x', 'succeeded', 1, %s, %s) RETURNING id",
            ["f" * 64, "e" * 64],
        )
        (pk,) = cursor.fetchone()
        (row,) = stored_rows(cursor, "id = %s", [pk])
        head = StaffAuditChainHead.objects.get()
    assert row.created_at.year >= 2026 and row.row_hash == row_hash(row) != "e" * 64
    assert (head.chain_seq, head.row_hash) == (row.chain_seq, row.row_hash)
    with pytest.raises(Exception, match="moves only with a new staff_audit row"):
        with connection.cursor() as cursor:
            cursor.execute("UPDATE master.staff_audit_chain_head SET chain_seq = 1")


@pytest.mark.django_db
def test_a_login_that_may_only_insert_and_select_still_extends_the_chain():
    """When the application's login is split from the table's owner, the SECURITY DEFINER trigger still
    moves the head, and the login cannot move it by hand (a role made in this test's transaction)."""
    role = f"test_audit_writer_{uuid.uuid4().hex[:8]}"
    with connection.cursor() as cursor:
        cursor.execute(f"CREATE ROLE {role} NOLOGIN")
        cursor.execute(f"GRANT {role} TO CURRENT_USER")
        cursor.execute(f"GRANT USAGE ON SCHEMA master TO {role}")
        cursor.execute(f"GRANT INSERT, SELECT ON master.staff_audit TO {role}")
        cursor.execute(f"SET LOCAL ROLE {role}")
        cursor.execute(
            "INSERT INTO master.staff_audit (actor, channel, action, outcome)"
            " VALUES ('web', 'admin', 'test.role', 'succeeded') RETURNING id"
        )
        (pk,) = cursor.fetchone()
        cursor.execute("SAVEPOINT by_hand")
        with pytest.raises(Exception, match="permission denied"):
            cursor.execute("UPDATE master.staff_audit_chain_head SET chain_seq = 0")
        cursor.execute("ROLLBACK TO SAVEPOINT by_hand")
        cursor.execute("RESET ROLE")
        (row,) = stored_rows(cursor, "id = %s", [pk])
    head = StaffAuditChainHead.objects.get()
    assert (head.chain_seq, head.row_hash) == (row.chain_seq, row.row_hash) and row_hash(row) == row.row_hash


@pytest.mark.django_db
def test_audit_verify_passes_on_a_clean_history():
    for n in range(3):
        audit_record(actor="clean", channel="command", action="test.clean", outcome="succeeded", detail=str(n))

    code, out, err = verify()

    count = StaffAudit.objects.count()
    assert (code, err) == (0, ""), err
    assert f"audit chain intact: {count} records" in out


@pytest.mark.django_db
def test_audit_verify_names_the_record_its_owner_edited_with_the_triggers_off():
    records = [audit_record(actor="honest", channel="admin", action="test.edit", outcome="succeeded") for _ in range(3)]
    victim = records[1]

    as_table_owner("UPDATE master.staff_audit SET actor = 'someone else' WHERE id = %s", [victim.pk])
    code, _, err = verify()

    assert code == 1
    assert f"record id={victim.pk} (chain #{victim.chain_seq})" in err and "changed after it was written" in err
    assert f"record id={records[0].pk} " not in err and f"record id={records[2].pk} " not in err


@pytest.mark.django_db
def test_audit_verify_names_the_record_after_a_deleted_one():
    records = [
        audit_record(actor="honest", channel="admin", action="test.delete", outcome="succeeded") for _ in range(3)
    ]

    as_table_owner("DELETE FROM master.staff_audit WHERE id = %s", [records[1].pk])
    code, _, err = verify()

    assert code == 1
    assert f"record id={records[2].pk} (chain #{records[2].chain_seq})" in err
    assert f"chain #{records[1].chain_seq} before it is missing" in err


@pytest.mark.django_db
def test_audit_verify_notices_records_deleted_at_the_end():
    records = [audit_record(actor="honest", channel="admin", action="test.tail", outcome="succeeded") for _ in range(2)]

    as_table_owner("DELETE FROM master.staff_audit WHERE id = %s", [records[1].pk])
    code, _, err = verify()

    assert code == 1 and f"the head says the chain ends at #{records[1].chain_seq}" in err


@pytest.mark.django_db
def test_audit_verify_names_a_record_inserted_out_of_order():
    first, second = (
        audit_record(actor="honest", channel="admin", action="test.insert", outcome="succeeded") for _ in range(2)
    )
    # A forged record, hashed correctly, claiming to follow the first record: it cannot also precede the second.
    forged = ChainRow(
        10**12,
        second.chain_seq + 1,
        first.created_at,
        "forger",
        "admin",
        "test.insert",
        "",
        "succeeded",
        "",
        None,
        first.row_hash,
        "",
    )
    forged_hash = row_hash(forged)

    as_table_owner(
        "INSERT INTO master.staff_audit"
        " (id, created_at, actor, channel, action, outcome, chain_seq, prev_hash, row_hash)"
        " OVERRIDING SYSTEM VALUE VALUES (%s, %s, 'forger', 'admin', 'test.insert', 'succeeded', %s, %s, %s)",
        [forged.id, forged.created_at, forged.chain_seq, forged.prev_hash, forged_hash],
    )
    code, _, err = verify()

    assert code == 1
    assert f"record id={forged.id} (chain #{forged.chain_seq})" in err and "inserted out of order" in err


@pytest.mark.django_db(transaction=True)
def test_audit_verify_names_a_record_a_database_superuser_edited():
    records = [
        audit_record(actor="honest", channel="admin", action="test.super", outcome="succeeded") for _ in range(3)
    ]
    victim = records[1]
    try:
        as_superuser(f"UPDATE master.staff_audit SET detail = 'nothing to see' WHERE id = {int(victim.pk)}")
        code, _, err = verify()
    finally:  # the test database's trail is kept between runs: put the record back as it was
        as_superuser(f"UPDATE master.staff_audit SET detail = '' WHERE id = {int(victim.pk)}")

    assert code == 1 and f"record id={victim.pk} (chain #{victim.chain_seq})" in err
    assert verify()[0] == 0


@pytest.mark.django_db(transaction=True)
def test_concurrent_inserts_from_two_connections_keep_one_chain():
    target = DatabaseTarget.from_django(connections["default"].settings_dict)
    insert = (
        "INSERT INTO master.staff_audit (actor, channel, action, outcome)"
        " VALUES (%s, 'command', 'test.race', 'succeeded')"
        " RETURNING id, chain_seq, prev_hash, row_hash"
    )
    first_inserted, results = threading.Event(), {}

    def first() -> None:
        with psycopg.connect(**target.conninfo()) as conn:
            results["first"] = conn.execute(insert, ["first"]).fetchone()
            first_inserted.set()
            time.sleep(0.5)  # hold the chain's head, uncommitted

    def second() -> None:
        first_inserted.wait(10)
        started = time.monotonic()
        with psycopg.connect(**target.conninfo()) as conn:
            results["second"] = conn.execute(insert, ["second"]).fetchone()
        results["waited"] = time.monotonic() - started

    threads = [threading.Thread(target=first), threading.Thread(target=second)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)

    assert results["waited"] >= 0.3, "the second insert did not wait for the first to commit"
    assert results["second"][1] == results["first"][1] + 1 and results["second"][2] == results["first"][3]

    def many(name: str) -> None:
        with psycopg.connect(**target.conninfo(), autocommit=True) as conn:
            for _ in range(40):
                conn.execute(insert, [name])

    racers = [threading.Thread(target=many, args=(name,)) for name in ("a", "b")]
    for thread in racers:
        thread.start()
    for thread in racers:
        thread.join(60)
    with connection.cursor() as cursor:
        report = chain_verify(cursor)
        cursor.execute("SELECT count(*), max(chain_seq) FROM master.staff_audit")
        count, top = cursor.fetchone()
    assert report.intact, [str(b) for b in report.breaks]
    assert count == top == report.checked


def test_the_migration_chains_the_records_written_before_it(fresh_database):
    """V9 on a trail that already has records: they join the chain in the order they were written."""
    scripts = sorted(SQL_DIR.glob("V*__*.sql"), key=lambda p: int(p.name[1:].split("__")[0]))
    with psycopg.connect(**fresh_database.conninfo(), autocommit=True) as conn:
        conn.execute("CREATE SCHEMA master")
        conn.execute("SET search_path = master")
        for script in scripts:
            if script.name.startswith("V9__"):
                conn.execute(
                    "INSERT INTO staff_audit (created_at, actor, channel, action, outcome, detail) VALUES"
                    " ('2025-03-01 10:00:00.5+01', 'old', 'admin', 'suspend', 'succeeded', ''),"
                    " ('2025-03-01 10:00:00+01', 'older', 'command', 'archive', 'failed', 'boom\n')"
                )
            conn.execute(script.read_text().replace("${flyway:defaultSchema}", "master"))
        audit_record_sql = (
            "INSERT INTO staff_audit (actor, channel, action, outcome) VALUES ('new', 'task', 'x', 'started')"
        )
        conn.execute(audit_record_sql)
        with conn.cursor() as cursor:
            report = chain_verify(cursor)
            rows = stored_rows(cursor)

    assert report.intact and report.checked == 3, [str(b) for b in report.breaks]
    assert [r.actor for r in rows] == ["old", "older", "new"] and rows[0].prev_hash == GENESIS


# --- the head shipped to S3 under Object Lock: what catches a determined superuser ---

ANCHOR_BUCKET = "fitbuddy-test-audit-anchors"


@pytest.fixture
def anchor_bucket(aws, settings):
    settings.AUDIT_ANCHOR_BUCKET = ANCHOR_BUCKET
    s3 = backups.s3_client()
    s3.create_bucket(Bucket=ANCHOR_BUCKET, ObjectLockEnabledForBucket=True)
    return s3


def ship_head() -> str:
    from io import StringIO

    out = StringIO()
    call_command("audit_ship_head", stdout=out)
    return out.getvalue()


def rewrite_chain(statement: str, params=()) -> None:
    """What a determined superuser (or the table's owner) does, here in the test's transaction: change
    the trail with the triggers off, then recompute every hash after the first changed place and move
    the head, with the database's own function. The chain alone then verifies."""
    with connection.cursor() as cursor:
        for table in ("staff_audit", "staff_audit_chain_head"):
            cursor.execute(f"ALTER TABLE master.{table} DISABLE TRIGGER USER")
        cursor.execute(statement, params)
        cursor.execute(
            """
            DO $$
            DECLARE r record; previous text := '0000000000000000000000000000000000000000000000000000000000000000';
            BEGIN
                FOR r IN SELECT * FROM master.staff_audit ORDER BY chain_seq LOOP
                    UPDATE master.staff_audit
                       SET prev_hash = previous,
                           row_hash = master.staff_audit_chain_hash(r.chain_seq, r.id, r.created_at, r.actor,
                                      r.channel, r.action, r.target, r.outcome, r.detail, r.changes, previous)
                     WHERE id = r.id
                    RETURNING row_hash INTO previous;
                END LOOP;
                UPDATE master.staff_audit_chain_head
                   SET chain_seq = (SELECT max(chain_seq) FROM master.staff_audit), row_hash = previous;
            END $$
            """
        )
        for table in ("staff_audit", "staff_audit_chain_head"):
            cursor.execute(f"ALTER TABLE master.{table} ENABLE TRIGGER USER")


@pytest.mark.django_db
def test_a_chain_recomputed_by_a_superuser_verifies_alone_but_not_against_the_shipped_heads(anchor_bucket):
    records = []
    for _ in range(3):
        records.append(audit_record(actor="honest", channel="admin", action="test.anchor", outcome="succeeded"))
        assert f"shipped head #{records[-1].chain_seq} {records[-1].row_hash}" in ship_head()
    code, out, _ = verify()
    assert code == 0 and "3 shipped head(s)" in out

    rewrite_chain("UPDATE master.staff_audit SET actor = 'someone else' WHERE id = %s", [records[1].pk])

    assert verify("--without-anchors")[0] == 0  # the chain alone cannot tell: this is what the anchor is for
    code, _, err = verify()
    assert code == 1 and "rewritten after that head was shipped" in err
    assert f"record id={records[1].pk} (chain #{records[1].chain_seq})" in err  # the first anchor that no longer holds
    assert f"record id={records[0].pk} " not in err


@pytest.mark.django_db
def test_records_cut_from_the_end_with_the_head_moved_back_are_caught_by_the_shipped_head(anchor_bucket):
    records = [audit_record(actor="honest", channel="admin", action="test.cut", outcome="succeeded") for _ in range(2)]
    ship_head()

    rewrite_chain("DELETE FROM master.staff_audit WHERE id = %s", [records[1].pk])

    assert verify("--without-anchors")[0] == 0
    code, _, err = verify()
    assert code == 1 and f"says the chain reached #{records[1].chain_seq}; that record is gone" in err


@pytest.mark.django_db
def test_the_head_is_shipped_only_to_a_bucket_with_object_lock(aws, settings):
    settings.AUDIT_ANCHOR_BUCKET = "fitbuddy-test-unlocked"
    backups.s3_client().create_bucket(Bucket="fitbuddy-test-unlocked")

    with pytest.raises(CommandError, match="Object Lock"):
        ship_head()
    assert verify()[0] == 0  # no head shipped there: the chain alone is checked, and holds
