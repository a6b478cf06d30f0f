"""Least privilege, one login per job: each row of docs/security.md's table of logins, tried.

Each test does what an attacker holding that login would try, and expects PostgreSQL to refuse it.
"""

from __future__ import annotations

import dataclasses
import json
import os
import stat
import subprocess
import sys
import time
from pathlib import Path

import psycopg
import pytest
from django.conf import settings

from affiliates.infra.targets import affiliate_target, management_target
from affiliates.models import StaffAudit
from affiliates.routing.backend import base as backend_base
from affiliates.routing.connections import forget_all
from tests.conftest import client_for, database_url, host, pooler_lookup_password
from tests.factories import PASSWORD

pytestmark = pytest.mark.django_db(transaction=True)

ROOT = Path(settings.BASE_DIR)


def _as_web_login() -> psycopg.Connection:
    management = management_target()
    web = dataclasses.replace(management, user=settings.WEB_DATABASE_LOGIN, password=settings.WEB_DATABASE_PASSWORD)
    return psycopg.connect(**web.conninfo(), autocommit=True)


WEB_LOGIN_REFUSED = [
    ("CREATE DATABASE fitbuddy_attacker", "permission denied to create database"),
    ("CREATE ROLE fitbuddy_attacker LOGIN", "permission denied to create role"),
    # PostgreSQL 15: a login with CREATEROLE could grant itself this and run programs on the host.
    ("GRANT pg_execute_server_program TO CURRENT_USER", "must have admin option"),
    ("CREATE TABLE master.attacker (id int)", "permission denied for schema master"),
    ("CREATE TABLE public.attacker (id int)", "permission denied for schema public"),
    ("ALTER TABLE master.staff_audit DISABLE TRIGGER USER", "must be owner"),
    ("UPDATE master.staff_audit SET actor = 'someone else'", "permission denied"),
    ("DELETE FROM master.staff_audit", "permission denied"),
    ("TRUNCATE master.staff_audit", "permission denied"),
    ("DELETE FROM master.flyway_schema_history", "permission denied"),
    ("UPDATE master.staff_audit_chain_head SET chain_seq = 0", "permission denied"),
    ("ALTER TABLE master.staff_audit_chain_head DISABLE TRIGGER USER", "must be owner"),
    ("DROP TABLE master.affiliate", "must be owner"),
    ("ALTER TABLE master.affiliate ADD COLUMN attacker int", "must be owner"),
]


@pytest.mark.parametrize(("statement", "refusal"), WEB_LOGIN_REFUSED, ids=[s for s, _ in WEB_LOGIN_REFUSED])
def test_the_web_login_is_refused_everything_but_rows(statement, refusal):
    with _as_web_login() as conn:
        with pytest.raises(psycopg.Error) as refused:
            conn.execute(statement)
    assert refusal in str(refused.value)


def test_the_web_login_holds_no_server_rights_and_owns_nothing_and_may_append_to_the_audit_trail():
    with _as_web_login() as conn:
        rights = conn.execute(
            "SELECT rolsuper, rolcreatedb, rolcreaterole, rolbypassrls FROM pg_roles WHERE rolname = current_user"
        ).fetchone()
        owned = conn.execute(
            "SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace"
            " WHERE n.nspname IN ('master', 'public')"
            " AND c.relowner = (SELECT oid FROM pg_roles WHERE rolname = current_user)"
        ).fetchone()[0]
        audit_owner = conn.execute("SELECT tableowner FROM pg_tables WHERE tablename = 'staff_audit'").fetchone()[0]
        conn.execute(
            "INSERT INTO master.staff_audit (actor, channel, action, target, outcome, detail)"
            " VALUES ('web', 'admin', 'probe', '', 'succeeded', '')"
        )
        # Rows it needs: the registry and Django's own tables (sessions, users).
        conn.execute("SELECT count(*) FROM master.affiliate").fetchone()
        conn.execute("SELECT count(*) FROM django_session").fetchone()
    assert (rights, owned, audit_owner) == ((False, False, False, False), 0, settings.AUDIT_OWNER_ROLE)
    assert StaffAudit.objects.filter(action="probe", actor="web").exists()


def test_the_web_login_serves_the_command_center_and_a_gym_with_rows_only(gyms):
    """The web process as production runs it: DATABASE_URL is the web login, no provisioning login."""
    staff_password = "staff-password-1"
    gyms.staff.set_password(staff_password)
    gyms.staff.save()
    script = f"""
import django, json
django.setup()
from django.test import Client
out = {{}}
staff = Client(HTTP_HOST="admin.localhost")
login = {{"username": "staff", "password": {staff_password!r}, "next": "/admin/"}}
out["staff_login"] = staff.post("/admin/login/", login).status_code
out["registry"] = staff.get("/admin/affiliates/affiliate/").status_code
gym = Client(HTTP_HOST={host(gyms.a)!r})
out["gym_login"] = gym.post("/login/", {{"username": {gyms.owner_a.email!r}, "password": {PASSWORD!r}}}).status_code
out["members"] = gym.get("/members/").status_code
print(json.dumps(out))
"""
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "fitbuddy.settings_test",
        "DATABASE_URL": database_url(web=True),
        "PROVISIONING_DATABASE_URL": "",
        "REDIS_URL": settings.REDIS_URL,
    }
    ran = subprocess.run([sys.executable, "-c", script], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert ran.returncode == 0, ran.stderr[-3000:]
    assert json.loads(ran.stdout.strip().splitlines()[-1]) == {
        "staff_login": 302,
        "registry": 200,
        "gym_login": 302,
        "members": 200,
    }


def test_a_gym_role_cannot_reach_beyond_its_rows(gyms):
    with psycopg.connect(**affiliate_target(gyms.a).conninfo(), autocommit=True) as conn:
        for statement in (
            "CREATE ROLE fitbuddy_attacker",
            "CREATE DATABASE fitbuddy_attacker",
            "CREATE TABLE master.attacker (id int)",
            "ALTER TABLE master.member ADD COLUMN attacker int",
            "COPY (SELECT 1) TO PROGRAM 'id'",
        ):
            with pytest.raises(psycopg.Error):
                conn.execute(statement)


@pytest.fixture(params=["direct", "through PgBouncer"])
def path_to_gyms(request, settings):
    """Gym connections straight to PostgreSQL, or through PgBouncer (which words a refusal its own way)."""
    if request.param == "through PgBouncer":
        settings.DATABASE_POOLER = request.getfixturevalue("pooler")
    forget_all()
    # The gym pair's role names recur in this process: the last test's request for a repair is not this one's.
    backend_base._repairs_asked.clear()
    yield request.param
    forget_all()


@pytest.mark.worker
def test_a_gym_role_that_changes_its_own_password_is_repaired_by_the_worker_and_audited(gyms, worker, path_to_gyms):
    """PostgreSQL lets any role change its own password: whoever holds it could lock FitBuddy out of the gym."""
    owner = client_for(gyms.a, gyms.owner_a, raise_request_exception=False)
    with psycopg.connect(**affiliate_target(gyms.a).conninfo(), autocommit=True) as conn:
        conn.execute(f"ALTER ROLE {gyms.a.database_role} PASSWORD 'locked-out-by-someone'")
    forget_all()
    first = owner.get("/members/")
    assert first.status_code == 503
    assert first["Retry-After"]
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        forget_all()
        if owner.get("/members/").status_code == 200:
            break
        time.sleep(0.5)
    else:
        pytest.fail("the gym was not served again within 60 s")
    repair = StaffAudit.objects.filter(pk__gt=gyms.audit_from, action="role_repair", target=gyms.a.slug).get()
    assert (repair.outcome, repair.channel) == (StaffAudit.Outcome.SUCCEEDED, StaffAudit.Channel.TASK)


def test_the_pooler_lookup_reads_only_the_verifier_of_the_gym_whose_database_it_is_in(gyms):
    lookup = affiliate_target(gyms.a)
    with psycopg.connect(
        host=lookup.host, port=lookup.port, dbname=gyms.a.database_name, user=settings.POOLER_AUTH_USER,
        password=pooler_lookup_password(), autocommit=True,
    ) as conn:  # fmt: skip
        own = conn.execute("SELECT username FROM pgbouncer.get_auth(%s)", [gyms.a.database_role]).fetchall()
        other = conn.execute("SELECT username FROM pgbouncer.get_auth(%s)", [gyms.b.database_role]).fetchall()
        administrator = conn.execute(
            "SELECT username FROM pgbouncer.get_auth(%s)", [management_target().user]
        ).fetchall()
    assert (own, other, administrator) == ([(gyms.a.database_role,)], [], [])


def test_the_pooler_lookup_password_is_made_on_the_machine_and_kept_from_other_users():
    password = pooler_lookup_password()
    tracked = subprocess.run(["git", "grep", "-l", password], cwd=ROOT, capture_output=True, text=True)
    assert len(password) >= 32 and tracked.stdout == ""
    # The old default, once in the repository, is in no file any more.
    old = subprocess.run(["git", "grep", "-l", "pgbouncer-local-" + "lookup"], cwd=ROOT, capture_output=True, text=True)
    assert old.stdout == ""
    default = "/var/lib/fitbuddy/pgbouncer" if os.getuid() == 0 else ROOT / ".local" / "pgbouncer"
    folder = Path(os.environ.get("FITBUDDY_POOLER_DIR") or default)
    mode = stat.S_IMODE((folder / "lookup-password").stat().st_mode)
    assert mode == 0o600
