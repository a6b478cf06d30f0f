"""The FitBuddy test harness: real PostgreSQL, the real Flyway, real Redis.

- The management test database is created by pytest-django (Django's migrate for the framework
  tables) and then migrated by the real Flyway with sql/affiliate_management.
- ``application_database`` gives a test its own application database, cloned from a template
  that the real Flyway migrated once per session (the clone keeps flyway_schema_history).
- ``fresh_database`` gives a test an empty database, for tests about Flyway itself.
"""

from __future__ import annotations

import datetime
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
import uuid
import zlib
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from types import SimpleNamespace

import psycopg
import pytest
from django.conf import settings
from django.db import connections
from django.db.backends.base.base import BaseDatabaseWrapper
from django.test import Client
from psycopg import sql

from affiliates.infra import credentials, databases, flyway
from affiliates.infra.targets import DatabaseTarget, server_admin_target
from affiliates.models import Affiliate, DatabaseServer, Domain, StaffAudit
from affiliates.operations import management_database
from affiliates.people import sessions
from affiliates.routing.context import affiliate_context
from fitbuddy.celery import app as celery_app
from gym.accounts.models import GymLogin
from gym.members.models import Member
from gym.workouts.models import ScalingLevel, ScoreType
from tests import lanes
from tests.factories import (
    TEST_PREFIX,
    WORKER_LETTER,
    ExerciseFactory,
    MemberFactory,
    WorkoutExerciseFactory,
    WorkoutFactory,
    affiliate_provisioned,
    login,
)

#: The application schema's version as shipped, and the version a test ships on top of it.
APP_VERSION = flyway.latest_version("application")
NEXT_APP_VERSION = str(int(APP_VERSION) + 1)


@pytest.fixture(autouse=True)
def _affiliate_aliases(request, django_db_blocker):
    """Let tests reach affiliate aliases, and start each test with none.

    Django's test case refuses connections to aliases a test did not declare; affiliate aliases are
    added at runtime (that is the design) for databases this suite's fixtures create and drop, so
    the guard is lifted for the test's duration and put back afterwards.
    """
    if request.node.get_closest_marker("django_db") is None:
        yield
        return
    request.getfixturevalue("_django_db_helper")  # the guard is in place once this has run
    patched = BaseDatabaseWrapper.ensure_connection
    BaseDatabaseWrapper.ensure_connection = django_db_blocker._real_ensure_connection
    yield
    BaseDatabaseWrapper.ensure_connection = patched
    from affiliates.routing.connections import forget_all

    forget_all()


@pytest.fixture(autouse=True)
def _markers_tell_the_truth(request, monkeypatch):
    """A test starts a worker, Chromium, Flyway's JVM or a server of its own only if its markers say so."""
    lanes.current = request.node
    if request.node.get_closest_marker("flyway") is None:
        monkeypatch.setattr(settings, "FLYWAY_COMMAND", lanes.REFUSE_FLYWAY)
        monkeypatch.setattr(settings, "FLYWAY_FLEET_COMMAND", lanes.REFUSE_FLYWAY_FLEET)
    if request.node.get_closest_marker("browser") is None:
        from playwright.sync_api import BrowserType

        def refuse(*args, **kwargs):
            lanes.require("browser")

        monkeypatch.setattr(BrowserType, "launch", refuse)
    yield
    lanes.current = None


def wait_for(condition, *, timeout: float = 60, what: str = "condition"):
    """Poll ``condition`` until it returns something truthy (work in another process), or fail."""
    deadline = time.monotonic() + timeout
    while not (value := condition()):
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        time.sleep(0.05)
    return value


def management_target() -> DatabaseTarget:
    return DatabaseTarget.from_django(connections["default"].settings_dict)


def pytest_configure(config):
    """In a pytest-xdist process (gw1, gw2, …): a Redis database and a provisioning template of its own.

    Settings were read before xdist named the process, so they are set here, in this process and in
    the environment every process a test starts inherits. (pytest-django already gives each process
    its own test database; ``tests.factories.WORKER_LETTER`` its own affiliate names.)
    """
    worker = int(getattr(config, "workerinput", {}).get("workerid", "gw0").removeprefix("gw") or 0)
    if not worker:
        return
    redis_url = f"redis://localhost:6379/{15 - worker}"
    template = f"test_fitbuddy_provisioning_template_{worker}"
    os.environ.update(REDIS_URL=redis_url, PROVISIONING_TEMPLATE_DATABASE=template)
    settings.REDIS_URL = settings.CELERY_BROKER_URL = settings.CELERY_RESULT_BACKEND = redis_url
    settings.CACHES = {**settings.CACHES, "default": {**settings.CACHES["default"], "LOCATION": redis_url}}
    settings.PROVISIONING_TEMPLATE_DATABASE = template
    celery_app.conf.update(broker_url=redis_url, result_backend=redis_url)


def pytest_collection_modifyitems(config, items):
    """The page walks (marked slow) first: spread over the test processes from the start, they do not
    leave one process working alone at the end."""
    items.sort(key=lambda item: item.get_closest_marker("slow") is None)


def pytest_report_header(config):
    return f"FITBUDDY_ENV={settings.FITBUDDY_ENV}, FLYWAY_COMMAND={settings.FLYWAY_COMMAND}"


def schema_current(target: DatabaseTarget, kind: str) -> bool:
    """Whether a database's Flyway history holds exactly the scripts on disk, version and checksum alike
    (then Flyway would find nothing to do, and its JVM need not start)."""
    try:
        with psycopg.connect(**target.conninfo(), connect_timeout=5) as conn:
            if conn.execute("SELECT to_regclass('master.flyway_schema_history')").fetchone()[0] is None:
                return False
            applied = conn.execute(
                "SELECT version, checksum FROM master.flyway_schema_history WHERE success AND version IS NOT NULL"
            ).fetchall()
    except psycopg.OperationalError:
        return False
    return sorted(applied, key=lambda row: flyway.version_key(row[0])) == flyway.script_checksums(kind)


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup, django_db_blocker):
    """pytest-django's test database, then Flyway's sql/affiliate_management on top (kept by --reuse-db:
    then Flyway runs only when a script changed)."""
    with django_db_blocker.unblock():
        if not schema_current(management_target(), "affiliate_management"):
            flyway.migrate(management_target(), kind="affiliate_management")
        # The web login's rights and the audit trail's owner, as every deploy sets them.
        management_database.logins_ensure()
    yield
    # The session-scoped live server's threads may still hold a connection: end them so that
    # pytest-django can drop the test database.
    with django_db_blocker.unblock():
        connections.close_all()
        target = management_target()
        with databases.admin_connect(target) as conn:
            conn.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s AND pid <> pg_backend_pid()",
                [target.name],
            )


@pytest.fixture(scope="session")
def admin_connection(django_db_setup, django_db_blocker):
    with django_db_blocker.unblock():
        with databases.admin_connect(management_target()) as conn:
            yield conn


def _unique_name(prefix: str) -> str:
    return f"{prefix}_{uuid.uuid4().hex[:12]}"


def _templates_for(conn: psycopg.Connection, prefix: str) -> list[str]:
    rows = conn.execute("SELECT datname FROM pg_database WHERE datname LIKE %s", [prefix.replace("_", r"\_") + "%"])
    return [row[0] for row in rows]


@pytest.fixture(scope="session")
def application_template(admin_connection):
    """An application database migrated by the real Flyway, named after the scripts it holds.

    It outlives the session: the next run (of this test process, ``WORKER_LETTER``) clones it
    without starting Flyway, until a script changes its name; templates of older scripts are dropped.
    """
    scripts = json.dumps(flyway.script_checksums("application")).encode()
    prefix = f"test_fitbuddy_template_{WORKER_LETTER}_"
    name = f"{prefix}{zlib.crc32(scripts):08x}"
    target = DatabaseTarget.from_django(connections["default"].settings_dict, name=name)
    for stale in _templates_for(admin_connection, prefix):
        if stale != name:
            databases.database_drop(admin_connection, stale)
    if not schema_current(target, "application"):
        databases.database_drop(admin_connection, name)
        databases.database_create(admin_connection, name)
        flyway.migrate(target, kind="application")
    return target


@pytest.fixture(scope="session")
def provisioning_template(admin_connection, application_template):
    """The template provisioning clones (PROVISIONING_TEMPLATE_DATABASE), current before any test
    provisions, so that provisioning in a test never starts Flyway."""
    name = settings.PROVISIONING_TEMPLATE_DATABASE
    target = DatabaseTarget.from_django(connections["default"].settings_dict, name=name)
    if not schema_current(target, "application"):
        databases.database_drop(admin_connection, name)
        databases.database_create(admin_connection, name, template=application_template.name)
        databases.database_lock_down(admin_connection, name)
    return target


@pytest.fixture
def application_database(admin_connection, application_template):
    """This test's own application database at the latest Flyway version."""
    name = _unique_name("test_fitbuddy_app")
    databases.database_create(admin_connection, name, template=application_template.name)
    yield DatabaseTarget.from_django(connections["default"].settings_dict, name=name)
    databases.database_drop(admin_connection, name)


@pytest.fixture
def fresh_database(admin_connection):
    """An empty database of this test's own."""
    name = _unique_name("test_fitbuddy_fresh")
    databases.database_create(admin_connection, name)
    yield DatabaseTarget.from_django(connections["default"].settings_dict, name=name)
    databases.database_drop(admin_connection, name)


# --- provisioning: a clean registry, affiliate databases and roles, a real Celery worker ---


def server_state(conn: psycopg.Connection) -> tuple[set[str], set[str]]:
    """Affiliate databases and roles made by tests that exist on the server now."""
    dbs = {r[0] for r in conn.execute("SELECT datname FROM pg_database WHERE datname LIKE %s", [f"{TEST_PREFIX}%"])}
    roles = {r[0] for r in conn.execute("SELECT rolname FROM pg_roles WHERE rolname LIKE %s", [f"{TEST_PREFIX}%"])}
    return dbs, roles


@pytest.fixture
def clean_registry(admin_connection, provisioning_template):
    """Transactional tests commit registry rows: remove them, and every test database and role, afterwards."""
    yield
    dbs, roles = server_state(admin_connection)
    for name in dbs:
        databases.database_drop(admin_connection, name)
    for role in roles:
        admin_connection.execute(psycopg.sql.SQL("DROP ROLE IF EXISTS {}").format(psycopg.sql.Identifier(role)))
    with connections["default"].cursor() as cursor:
        cursor.execute("TRUNCATE master.affiliate, master.database_server, master.migration_run CASCADE")


def database_url(*, web: bool = False) -> str:
    """The test management database as a DATABASE_URL, for processes this test starts: as the owner
    login the suite runs as, or (``web``) as the web login, with rows only."""
    db = connections["default"].settings_dict
    host, port = db["HOST"] or "localhost", db["PORT"] or 5432
    user, password = (db["USER"], db["PASSWORD"])
    if web:
        user, password = settings.WEB_DATABASE_LOGIN, settings.WEB_DATABASE_PASSWORD
    return f"postgres://{user}:{password}@{host}:{port}/{db['NAME']}"


class Worker:
    """A real `celery worker` process on the test management database and the test Redis."""

    def __init__(self, extra_env: dict[str, str] | None = None):
        self.env = {
            **os.environ,
            "FITBUDDY_ENV": "test",
            # As in production: the worker's own login is the web login (rows only); it administers
            # database servers with the provisioning login, which the web process is never given.
            "DATABASE_URL": database_url(web=True),
            "PROVISIONING_DATABASE_URL": database_url(),
            "REDIS_URL": settings.REDIS_URL,
            "PROVISIONING_TEMPLATE_DATABASE": settings.PROVISIONING_TEMPLATE_DATABASE,
            "PROVISIONING_STRATEGY": settings.PROVISIONING_STRATEGY,
            "FITBUDDY_SQL_DIR": str(settings.SQL_DIR),
            # What this test may start: a test not marked `flyway` gets the refusing stand-ins.
            "FLYWAY_COMMAND": settings.FLYWAY_COMMAND,
            "FLYWAY_FLEET_COMMAND": settings.FLYWAY_FLEET_COMMAND,
            **(extra_env or {}),
        }
        self.process: subprocess.Popen | None = None
        self.log = Path(settings.BASE_DIR) / ".local" / f"test-worker-{uuid.uuid4().hex[:6]}.log"

    def start(self, timeout: float = 60) -> Worker:
        lanes.require("worker")
        self.log.parent.mkdir(parents=True, exist_ok=True)
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "celery",
                "-A",
                "fitbuddy",
                "worker",
                "--pool=prefork",
                "--concurrency=1",
                "--without-gossip",
                "--without-mingle",
                "--without-heartbeat",
                "--loglevel=INFO",
                "-n",
                f"test-{uuid.uuid4().hex[:6]}@%h",
            ],
            cwd=settings.BASE_DIR,
            env=self.env,
            stdout=self.log.open("w"),
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        deadline = time.monotonic() + timeout
        while "ready." not in self.log.read_text():
            if self.process.poll() is not None:
                raise RuntimeError(f"celery worker exited at start:\n{self.log.read_text()[-3000:]}")
            if time.monotonic() > deadline:
                raise RuntimeError(f"celery worker not ready after {timeout} s:\n{self.log.read_text()[-3000:]}")
            time.sleep(0.1)
        return self

    def kill(self) -> None:
        """SIGKILL the worker and everything it started (its task child, a running Flyway JVM)."""
        if self.process and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=30)

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.kill()

    def pids(self) -> set[int]:
        """The worker's process group (main process, pool child and their children)."""
        out = subprocess.run(["ps", "-o", "pid=", "-g", str(self.process.pid)], capture_output=True, text=True)
        return {int(p) for p in out.stdout.split()}


#: Where Celery's Redis transport keeps the messages a worker took and has not acknowledged (the tasks ack
#: late): a message there goes back to the queue once it is ``visibility_timeout`` old (16 min).
UNACKED_KEYS = ("unacked", "unacked_index", "unacked_mutex")


def broker_forget() -> None:
    """Empty the test Redis's queues *and* the messages workers took and never acknowledged.

    ``purge()`` empties the queues only. A worker a test SIGKILLs leaves its message among the unacked, and
    16 minutes later a worker of a later test, in the same Redis database, restores and runs it: a fleet
    run of a test long gone, ahead of the one the later test waits for (a CI run hung so).
    """
    celery_app.control.purge()
    with celery_app.connection_for_write() as connection:
        connection.default_channel.client.delete(*UNACKED_KEYS)


@pytest.fixture
def worker_factory(clean_registry):
    broker_forget()
    started: list[Worker] = []

    def start(**extra_env) -> Worker:
        worker = Worker(extra_env).start()
        started.append(worker)
        return worker

    yield start
    for worker in started:
        worker.stop()
    broker_forget()


@pytest.fixture
def worker(worker_factory) -> Worker:
    return worker_factory()


def affiliate_version(name: str) -> str | None:
    target = DatabaseTarget.from_django(connections["default"].settings_dict, name=name)
    with psycopg.connect(**target.conninfo()) as conn:
        if conn.execute("SELECT to_regclass('master.flyway_schema_history')").fetchone()[0] is None:
            return None
        row = conn.execute(
            "SELECT max(version::int) FROM master.flyway_schema_history WHERE success AND version IS NOT NULL"
        ).fetchone()
        return str(row[0]) if row[0] is not None else None


# --- two provisioned affiliates with logins in each (routing, views, outsiders) ---


def host(affiliate) -> str:
    return affiliate.domains.get().domain


def client_for(affiliate, user=None, **client_options) -> Client:
    """A test client on the gym's host, logged in there (its session belongs to that gym only)."""
    client = Client(HTTP_HOST=host(affiliate), **client_options)
    if user:
        # A login outside any request: a gym login's backend reads its gym's database (the current one);
        # then the session is marked as this gym's.
        backend = "gym.accounts.backends.GymLoginBackend" if isinstance(user, GymLogin) else None
        with affiliate_context(affiliate.pk):  # as the registry has it now (its credentials may have changed)
            client.force_login(user, backend=backend)
        session = client.session
        session[sessions.SITE_KEY] = f"gym:{affiliate.pk}"
        session.save()
    return client


def can_connect(target) -> bool:
    try:
        with psycopg.connect(**target.conninfo(), connect_timeout=5):
            return True
    except psycopg.OperationalError:
        return False


#: The tables of a gym pair's registry rows, in the order they are put back (referenced rows first).
PAIR_TABLES = ("database_server", "affiliate", "affiliate_domain")


@dataclass
class GymPair:
    """Two affiliates provisioned once per test process. Every test that asks for ``gyms`` gets them
    back as provisioning left them, in a fraction of a provisioning's time: their registry rows put
    back, and their databases made again by provisioning's own steps (role, a clone of the template
    with its grants)."""

    ids: tuple[int, int]
    rows: dict[str, list[dict]]


def _pair_restore(pair: GymPair, admin: psycopg.Connection) -> None:
    with connections["default"].cursor() as cursor:
        for table in PAIR_TABLES:
            for row in pair.rows[table]:
                columns = sql.SQL(", ").join(map(sql.Identifier, row))
                values = sql.SQL(", ").join(map(sql.Literal, row.values()))
                cursor.execute(
                    sql.SQL("INSERT INTO master.{} ({}) OVERRIDING SYSTEM VALUE VALUES ({})")
                    .format(sql.Identifier(table), columns, values)
                    .as_string(cursor.connection)
                )
    from affiliates.operations import affiliate_database
    from affiliates.routing.connections import forget_all

    forget_all()
    for affiliate in Affiliate.objects.select_related("database_server").filter(pk__in=pair.ids):
        server = server_admin_target(affiliate.database_server)
        databases.database_drop(admin, affiliate.database_name)
        # A test may have suspended the gym (NOLOGIN), rotated its password or archived it (role dropped).
        affiliate_database.affiliate_role_ensure(server, affiliate)
        databases.role_login_set(admin, affiliate.database_role, login=True)
        affiliate_database.affiliate_database_ensure(server, affiliate)
        affiliate_database.affiliate_privileges_ensure(server, affiliate)


@pytest.fixture(scope="session")
def _gym_pair(admin_connection, provisioning_template, django_db_blocker):
    with django_db_blocker.unblock():
        pair_ids = []
        for name in ("Gym A", "Gym B"):
            slug = f"p{WORKER_LETTER}{name[-1].lower()}{uuid.uuid4().hex[:6]}"
            pair_ids.append(affiliate_provisioned(slug=slug, name=name).pk)
        affiliates = list(Affiliate.objects.filter(pk__in=pair_ids).order_by("pk"))
        rows = {}
        with connections["default"].cursor() as cursor:
            for table, where, ids in (
                ("database_server", "id", [a.database_server_id for a in affiliates][:1]),
                ("affiliate", "id", pair_ids),
                ("affiliate_domain", Domain._meta.get_field("tenant").column, pair_ids),
            ):
                cursor.execute(f"SELECT * FROM master.{table} WHERE {where} = ANY(%s) ORDER BY id", [ids])
                names = [c.name for c in cursor.description]
                rows[table] = [dict(zip(names, values, strict=True)) for values in cursor.fetchall()]
            cursor.execute("TRUNCATE master.affiliate, master.database_server, master.migration_run CASCADE")
        pair = GymPair(tuple(pair_ids), rows)
    yield pair
    with django_db_blocker.unblock():
        connections.close_all()
        for affiliate in affiliates:
            databases.database_drop(admin_connection, affiliate.database_name)
            admin_connection.execute(sql.SQL("DROP ROLE IF EXISTS {}").format(sql.Identifier(affiliate.database_role)))


@pytest.fixture
def gyms(clean_registry, _gym_pair, admin_connection):
    """Gym A (owner, admin, coach; Ann and Al; Fran and a squat 1RM) and gym B (owner; Bob), plus staff."""
    Affiliate.objects.clear_host_cache()
    _pair_restore(_gym_pair, admin_connection)
    a, b = (Affiliate.objects.select_related("database_server").get(pk=pk) for pk in _gym_pair.ids)
    ns = SimpleNamespace(a=a, b=b)
    # The audit trail is append-only and the pair's slugs are the same in every test of this process:
    # a test reads the rows after this one.
    ns.audit_from = StaffAudit.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
    ns.owner_a = login("owner_a", a, GymLogin.Role.OWNER)
    ns.admin_a = login("admin_a", a, GymLogin.Role.ADMIN)
    ns.coach_a = login("coach_a", a, GymLogin.Role.COACH)
    ns.owner_b = login("owner_b", b, GymLogin.Role.OWNER)
    ns.staff = login("staff", is_staff=True, is_superuser=True)
    with affiliate_context(a):
        ns.ann = MemberFactory(first_name="Ann", last_name="A", email="ann@a.test", gender=Member.Gender.FEMALE)
        ns.al = MemberFactory(first_name="Al", last_name="A", email="al@a.test", gender=Member.Gender.MALE)
        ns.fran_a = WorkoutFactory(
            name="Fran",
            score_type=ScoreType.TIME,
            time_cap_seconds=600,
            reps_per_round=90,
            scaling_levels=[ScalingLevel.RX, ScalingLevel.SCALED],
            scheduled_on=datetime.date(2026, 1, 5),
        )
        ns.squat_a = WorkoutFactory(name="Squat 1RM", score_type=ScoreType.LOAD, scheduled_on=datetime.date(2026, 1, 6))
        ns.squat = ExerciseFactory(name="Back Squat")
        WorkoutExerciseFactory(workout=ns.squat_a, exercise=ns.squat, position=1)
    with affiliate_context(b):
        ns.bob = MemberFactory(first_name="Bob", last_name="B", email="bob@b.test", gender=Member.Gender.MALE)
        ns.secret_b = WorkoutFactory(name="B Secret WOD")
    yield ns
    Affiliate.objects.clear_host_cache()


# --- a second PostgreSQL server (a second registered database server) ---


def _bindir() -> Path:
    for candidate in sorted(Path("/usr/lib/postgresql").glob("*/bin"), reverse=True):
        if (candidate / "initdb").exists():
            return candidate
    found = shutil.which("initdb")
    assert found, "PostgreSQL server binaries (initdb) are needed"
    return Path(found).parent


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def _cluster(*, tls: bool = False, hba_first: str = "", logical: bool = False):
    """A throwaway PostgreSQL server with the suite's admin login; yields (port, folder, pg_ctl command).

    ``logical``: ``wal_level = logical``, and the admin login a superuser (as RDS's ``rds_superuser``
    may create subscriptions): the pair of servers a gym moves between by logical replication."""
    lanes.require("cluster")
    bindir, port = _bindir(), _free_port()
    folder = Path(tempfile.mkdtemp(prefix="fitbuddy-pg2-"))  # under /tmp, reachable by any user
    data = folder / "data"
    as_owner: list[str] = []
    if os.geteuid() == 0:  # initdb refuses root: the cluster belongs to the postgres system user
        as_owner = ["runuser", "-u", "postgres", "--"]
        os.chmod(folder, 0o777)
    admin = connections["default"].settings_dict
    subprocess.run(
        [*as_owner, str(bindir / "initdb"), "-D", str(data), "-U", "postgres", "--auth-local=trust",
         "--auth-host=scram-sha-256", "-E", "UTF8", "--locale=C.UTF-8"],
        check=True,
        capture_output=True,
    )  # fmt: skip
    conf = f"port = {port}\nlisten_addresses = 'localhost'\nunix_socket_directories = '{data}'\nfsync = off\n"
    if logical:
        conf += "wal_level = logical\n"
    if tls:
        subprocess.run(
            ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", "/CN=localhost",
             "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1",
             "-keyout", str(folder / "server.key"), "-out", str(folder / "server.crt")],
            check=True,
            capture_output=True,
        )  # fmt: skip
        if as_owner:
            shutil.chown(folder / "server.key", "postgres", "postgres")
        os.chmod(folder / "server.key", 0o600)
        conf += f"ssl = on\nssl_cert_file = '{folder / 'server.crt'}'\nssl_key_file = '{folder / 'server.key'}'\n"
    with open(data / "postgresql.conf", "a") as handle:
        handle.write(conf)
    if hba_first:
        hba = data / "pg_hba.conf"
        hba.write_text(hba_first + "\n" + hba.read_text())
    ctl = [*as_owner, str(bindir / "pg_ctl"), "-D", str(data), "-l", str(data / "server.log"), "-w", "-t", "60"]
    subprocess.run([*ctl, "start"], check=True, capture_output=True)
    try:
        with psycopg.connect(host=str(data), port=port, user="postgres", dbname="postgres", autocommit=True) as conn:
            conn.execute(
                sql.SQL("CREATE ROLE {} LOGIN CREATEDB CREATEROLE {} PASSWORD {}").format(
                    sql.Identifier(admin["USER"]),
                    sql.SQL("SUPERUSER" if logical else ""),
                    sql.Literal(admin["PASSWORD"]),
                )
            )
            conn.execute(sql.SQL("GRANT pg_signal_backend TO {}").format(sql.Identifier(admin["USER"])))
        yield port, folder, ctl
    finally:
        subprocess.run([*ctl, "-m", "immediate", "stop"], capture_output=True)
        shutil.rmtree(folder, ignore_errors=True)


def _register(name: str, port: int) -> DatabaseServer:
    DatabaseServer.objects.update(is_default=False)
    return DatabaseServer.objects.create(
        name=name, host="localhost", port=port, is_default=True, admin_secret_ref="env:DATABASE_URL"
    )


@pytest.fixture
def second_server():
    """A PostgreSQL server of this test's own (registered as the default "second"), and a restart."""
    with _cluster() as (port, _folder, ctl):
        server = _register("second", port)
        yield server, (lambda: subprocess.run([*ctl, "-m", "fast", "restart"], check=True, capture_output=True))


@pytest.fixture
def logical_servers():
    """Two PostgreSQL servers of this test's own that can replicate logically: "alpha" (the default, where
    new gyms go) and "beta"."""
    with _cluster(logical=True) as (port_a, _a, _ctl_a), _cluster(logical=True) as (port_b, _b, _ctl_b):
        beta = _register("beta", port_b)
        alpha = _register("alpha", port_a)
        yield alpha, beta


@pytest.fixture
def rds_like_server():
    """A server where the administrator login owns ``postgres`` and ``template1`` (as RDS's master
    user does), registered as the default "rdslike"; yields (server, superuser connect)."""
    with _cluster() as (port, folder, _ctl):

        def superuser(dbname: str = "postgres"):
            return psycopg.connect(
                host=str(folder / "data"), port=port, user="postgres", dbname=dbname, autocommit=True
            )

        admin = connections["default"].settings_dict["USER"]
        with superuser() as conn:
            for name in ("postgres", "template1"):
                conn.execute(
                    sql.SQL("ALTER DATABASE {} OWNER TO {}").format(sql.Identifier(name), sql.Identifier(admin))
                )
        yield _register("rdslike", port), superuser


@pytest.fixture
def tls_server():
    """A PostgreSQL server that speaks TLS (a self-signed certificate for localhost), registered as "secure";
    the login ``cleartext_user`` is asked for a cleartext password there."""
    hba = "host all cleartext_user 127.0.0.1/32 password\nhost all cleartext_user ::1/128 password"
    with _cluster(tls=True, hba_first=hba) as (port, folder, _ctl):
        yield SimpleNamespace(server=_register("secure", port), ca=folder / "server.crt", folder=folder)


# --- AWS: moto's server, a real HTTP endpoint on this machine ---


@pytest.fixture(scope="session")
def moto_server_url():
    """moto in server mode for the session (RDS, Secrets Manager, S3 answer on 127.0.0.1)."""
    port = _free_port()
    log = Path(settings.BASE_DIR) / ".local" / f"moto-{port}.log"
    log.parent.mkdir(parents=True, exist_ok=True)
    process = subprocess.Popen(
        [str(Path(sys.executable).parent / "moto_server"), "-H", "127.0.0.1", "-p", str(port)],
        stdout=log.open("w"),
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    url = f"http://127.0.0.1:{port}"

    def answering() -> bool:
        if process.poll() is not None:
            raise RuntimeError(f"moto_server exited at start:\n{log.read_text()[-2000:]}")
        try:
            with urllib.request.urlopen(f"{url}/moto-api/", timeout=1):
                return True
        except OSError:
            return False

    wait_for(answering, timeout=30, what="moto_server to answer")
    yield url
    process.terminate()
    process.wait(timeout=10)


@pytest.fixture
def aws(moto_server_url, monkeypatch):
    """boto3 (in this process and in workers started after this) pointed at a freshly reset moto."""
    monkeypatch.setenv("AWS_ENDPOINT_URL", moto_server_url)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    urllib.request.urlopen(urllib.request.Request(f"{moto_server_url}/moto-api/reset", method="POST"), timeout=5)

    credentials.cache_clear()
    yield SimpleNamespace(url=moto_server_url, secrets=credentials.secrets_manager())
    credentials.cache_clear()


# --- a Redis of the test's own (started and stopped by tools/redis.sh, as locally) ---


class OwnRedis:
    """A Redis on a free port and a folder of its own, through tools/redis.sh (append-only file on)."""

    def __init__(self, folder: Path):
        self.port = _free_port()
        self.url = f"redis://localhost:{self.port}/0"
        self.env = {**os.environ, "FITBUDDY_REDIS_PORT": str(self.port), "FITBUDDY_REDIS_DIR": str(folder)}

    def _script(self, action: str) -> None:
        subprocess.run(
            [str(Path(settings.BASE_DIR) / "tools" / "redis.sh"), action], env=self.env, check=True, capture_output=True
        )

    def start(self) -> OwnRedis:
        self._script("start")
        return self

    def stop(self) -> None:
        self._script("stop")
        wait_for(lambda: not self.answering(), what="redis to stop")

    def answering(self) -> bool:
        ping = subprocess.run(["redis-cli", "-p", str(self.port), "ping"], capture_output=True, text=True)
        return "PONG" in ping.stdout


@pytest.fixture
def own_redis(tmp_path):
    redis = OwnRedis(tmp_path / "redis")
    yield redis
    redis.stop()


def manage(*args: str, env: dict[str, str], timeout: float = 120) -> subprocess.CompletedProcess:
    """Run ``manage.py`` in a process of its own, on the test management database."""
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=settings.BASE_DIR,
        env={**Worker().env, **env},
        capture_output=True,
        text=True,
        timeout=timeout,
    )


@contextmanager
def celery_beat(**extra_env: str):
    """A real `celery beat` process (its schedule file in a temporary folder)."""
    lanes.require("worker")
    with tempfile.TemporaryDirectory() as folder:
        log = Path(folder) / "beat.log"
        process = subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "fitbuddy", "beat", "--loglevel=INFO",
             "--schedule", str(Path(folder) / "schedule")],
            cwd=settings.BASE_DIR,
            env={**Worker(extra_env).env},
            stdout=log.open("w"),
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )  # fmt: skip
        try:
            yield process
        finally:
            os.killpg(process.pid, signal.SIGTERM)
            process.wait(timeout=30)


# --- PgBouncer in front of the test PostgreSQL (tools/pgbouncer.sh, as locally) ---


@pytest.fixture(scope="session")
def pooler() -> str:
    """PgBouncer (transaction pooling, auth_query) on localhost; its HOST:PORT."""
    port = os.environ.get("FITBUDDY_POOLER_PORT", "6432")
    started = subprocess.run(
        [str(Path(settings.BASE_DIR) / "tools" / "pgbouncer.sh"), "start"], capture_output=True, text=True
    )
    assert started.returncode == 0, f"tools/pgbouncer.sh start: exit {started.returncode}\n{started.stderr[-3000:]}"
    return f"127.0.0.1:{port}"


def pooler_lookup_password() -> str:
    """The pooler's lookup login's password, generated by tools/pgbouncer.sh on its first start."""
    script = Path(settings.BASE_DIR) / "tools" / "pgbouncer.sh"
    printed = subprocess.run([str(script), "password"], capture_output=True, text=True, check=True)
    return printed.stdout.strip()


def pooler_show(what: str) -> list[dict]:
    """A PgBouncer admin console listing (SHOW POOLS, SHOW CLIENTS, …) as the lookup login."""
    port = int(os.environ.get("FITBUDDY_POOLER_PORT", "6432"))
    with psycopg.connect(
        host="127.0.0.1", port=port, dbname="pgbouncer", user="pgbouncer_auth",
        password=pooler_lookup_password(), autocommit=True, prepare_threshold=None,
    ) as conn:  # fmt: skip
        cursor = conn.execute(f"SHOW {what}")
        names = [c.name for c in cursor.description]
        return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]
