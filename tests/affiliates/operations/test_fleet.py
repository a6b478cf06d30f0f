"""Fleet migrations: migrate_affiliates with the real Flyway fleet runner, real PostgreSQL and Celery.

Each test works on a copy of sql/ (so a test can ship a V4) and a provisioning template of its
own (so a template migrated to V4 here never reaches another test).
"""

from __future__ import annotations

import io
import shutil
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import psycopg
import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.urls import reverse

from affiliates.errors import AffiliateBusy
from affiliates.infra import databases, flyway, locks
from affiliates.infra.targets import affiliate_target, on_database, server_admin_target
from affiliates.models import Affiliate, MigrationRun, MigrationRunAffiliate, StaffAudit
from affiliates.operations import fleet, lifecycle, provisioning
from tests.conftest import APP_VERSION, NEXT_APP_VERSION, wait_for
from tests.factories import affiliate_provisioned

pytestmark = pytest.mark.django_db(transaction=True)

V4 = """-- A new column on an existing table and a new table (expand only).
ALTER TABLE member ADD COLUMN nickname varchar(50);
CREATE TABLE member_note (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    member_id bigint NOT NULL REFERENCES member (id),
    note text NOT NULL
);
"""


@dataclass
class Fleet:
    sql: Path
    template: str
    affiliates: list[Affiliate] = field(default_factory=list)

    def gyms(self, count: int) -> list[Affiliate]:
        made = [affiliate_provisioned() for _ in range(count)]
        self.affiliates += made
        return made

    def ship(self, text: str = V4, name: str = f"V{NEXT_APP_VERSION}__member_nickname_and_notes.sql") -> None:
        (self.sql / "application" / name).write_text(text)


def version(affiliate: Affiliate) -> str | None:
    admin = server_admin_target(affiliate.database_server)
    return databases.schema_version(on_database(admin, affiliate.database_name))


def as_admin(affiliate: Affiliate, statement: str) -> list[tuple]:
    """Run one statement in the affiliate's database as the server's administrator."""
    admin = server_admin_target(affiliate.database_server)
    with psycopg.connect(**on_database(admin, affiliate.database_name).conninfo()) as conn:
        cursor = conn.execute(statement)
        return cursor.fetchall() if cursor.description else []


#: Someone added V4's column by hand: V4's ALTER fails on that database, and only there.
BREAK_V4 = "ALTER TABLE master.member ADD COLUMN nickname varchar(50)"
MEND_V4 = "ALTER TABLE master.member DROP COLUMN nickname"


def registry_version(affiliate: Affiliate) -> str:
    return Affiliate.objects.get(pk=affiliate.pk).schema_version


def advance_all(run: MigrationRun) -> str:
    """Advance a run in this process until it ends (the tests about the worker use the worker)."""
    status = "continued"
    while status == "continued":
        status = fleet.run_advance(run.pk)
    return status


def command(*args: str) -> tuple[int, str]:
    """``migrate_affiliates`` with its output; a test that follows a run gives up after 5 minutes, not an hour."""
    if "--timeout" not in args and ({"--wait", "--follow", "--resume"} & set(args)):
        args = (*args, "--timeout", "300")
    out = io.StringIO()
    try:
        call_command("migrate_affiliates", *args, stdout=out)
    except CommandError as exc:
        return exc.returncode, out.getvalue() + str(exc)
    return 0, out.getvalue()


@pytest.fixture
def fleet_sql(settings, tmp_path, admin_connection, clean_registry):
    sql = tmp_path / "sql"
    shutil.copytree(settings.SQL_DIR, sql)
    settings.SQL_DIR = sql
    settings.PROVISIONING_TEMPLATE_DATABASE = f"test_fleet_template_{uuid.uuid4().hex[:8]}"
    yield Fleet(sql=sql, template=settings.PROVISIONING_TEMPLATE_DATABASE)
    databases.database_drop(admin_connection, settings.PROVISIONING_TEMPLATE_DATABASE)


# --- the whole fleet, through the command and the worker ---


@pytest.mark.flyway
@pytest.mark.worker
def test_migrate_brings_every_affiliate_and_the_template_to_the_new_version(fleet_sql, worker_factory):
    active = fleet_sql.gyms(3)
    suspended, archived = fleet_sql.gyms(2)
    lifecycle.affiliate_suspend(affiliate_id=suspended.pk)
    lifecycle.affiliate_archive(affiliate_id=archived.pk)
    fleet_sql.ship()
    worker_factory()

    code, out = command("--wait")

    assert code == 0, out
    assert "] 4/4 done, 0 failed" in out and "succeeded: 4 succeeded, 0 failed" in out
    for affiliate in [*active, suspended]:
        assert version(affiliate) == NEXT_APP_VERSION
        assert registry_version(affiliate) == NEXT_APP_VERSION
    run = MigrationRun.objects.get()
    assert run.status == "succeeded" and run.target_version == NEXT_APP_VERSION
    assert set(run.items.values_list("from_version", "to_version", "outcome")) == {
        (APP_VERSION, NEXT_APP_VERSION, "succeeded")
    }
    assert not run.items.filter(affiliate=archived).exists()
    admin = server_admin_target(active[0].database_server)
    assert databases.schema_version(on_database(admin, fleet_sql.template)) == NEXT_APP_VERSION

    # The affiliate's own role can use what V4 made (Flyway's tables get the default privileges).
    with psycopg.connect(**affiliate_target(active[0]).conninfo()) as conn:
        conn.execute("INSERT INTO member (first_name, last_name, email) VALUES ('Ada', 'Lovelace', 'ada@example.com')")
        conn.execute("INSERT INTO member_note (member_id, note) SELECT id, 'likes rowing' FROM member")
        assert conn.execute("SELECT count(*) FROM member_note").fetchone()[0] == 1

    # A gym provisioned after the run is cloned from the migrated template.
    newcomer = affiliate_provisioned()
    assert version(newcomer) == NEXT_APP_VERSION and registry_version(newcomer) == NEXT_APP_VERSION

    code, out = command("--check")
    assert code == 0, out
    assert "5 current" in out
    actions = set(StaffAudit.objects.values_list("action", "outcome"))
    assert {("migrate", "started"), ("migrate", "succeeded"), ("check", "started")} <= actions


@pytest.mark.cluster
@pytest.mark.flyway
@pytest.mark.worker
def test_every_registered_server_is_migrated_with_its_own_template(fleet_sql, request, worker_factory):
    here = fleet_sql.gyms(2)  # on the suite's own server (registered as "local")
    server, _restart = request.getfixturevalue("second_server")  # now the default: new gyms go there
    there = fleet_sql.gyms(2)
    assert {g.database_server_id for g in there} == {server.pk} != {g.database_server_id for g in here}
    fleet_sql.ship()
    worker_factory()

    code, out = command("--server", server.name, "--dry-run")
    assert code == 0 and all(g.slug in out for g in there) and not any(g.slug in out for g in here)

    code, out = command("--wait")

    assert code == 0, out
    assert [version(g) for g in [*here, *there]] == [NEXT_APP_VERSION] * 4
    for gym in (here[0], there[0]):
        admin = server_admin_target(gym.database_server)
        assert databases.schema_version(on_database(admin, fleet_sql.template)) == NEXT_APP_VERSION


@pytest.mark.flyway
@pytest.mark.worker
def test_without_wait_the_command_returns_the_run_id_and_follow_shows_its_end(fleet_sql, worker_factory):
    gyms = fleet_sql.gyms(2)
    fleet_sql.ship()

    code, out = command("--json")
    run = MigrationRun.objects.get()
    assert code == 0 and f'"run": {run.pk}' in out
    assert run.status == "pending"  # no worker yet: nothing happened, the run waits in the queue

    worker_factory()
    code, out = command("--follow", str(run.pk), "--json")
    assert code == 0, out
    assert '"status": "succeeded"' in out
    assert [version(g) for g in gyms] == [NEXT_APP_VERSION] * 2


@pytest.mark.flyway
@pytest.mark.worker
def test_a_failing_script_fails_one_affiliate_which_keeps_serving_at_its_old_version(fleet_sql, worker_factory):
    good, broken, other = fleet_sql.gyms(3)
    as_admin(broken, BREAK_V4)
    fleet_sql.ship()
    worker_factory()

    code, out = command("--wait", "--on-error", "continue", "--parallel", "2")

    assert code == 1
    assert f"{broken.slug}: failed at V{APP_VERSION}" in out and "already exists" in out
    item = MigrationRunAffiliate.objects.get(affiliate=broken)
    assert item.outcome == "failed" and item.error_code and "nickname" in item.error_message
    assert version(broken) == APP_VERSION and registry_version(broken) == APP_VERSION
    # V4 rolled back there as a whole (DDL is transactional): the new table is not half-made.
    with psycopg.connect(**affiliate_target(broken).conninfo()) as conn:
        assert conn.execute("SELECT to_regclass('master.member_note')").fetchone()[0] is None
        assert conn.execute("SELECT count(*) FROM member").fetchone()[0] == 0  # still serving
    assert version(good) == NEXT_APP_VERSION and version(other) == NEXT_APP_VERSION
    assert MigrationRun.objects.get().status == "failed"


@pytest.mark.flyway
def test_on_error_stop_starts_no_new_database_and_resume_finishes_without_redoing(fleet_sql):
    broken, *rest = fleet_sql.gyms(4)
    as_admin(broken, BREAK_V4)
    fleet_sql.ship()
    run = fleet.run_create(
        "migrate",
        fleet.affiliates_select(),
        strategy=fleet.Strategy(parallel=1, on_error="stop"),
        started_by="pytest",
        channel="command",
        enqueue=False,
    )

    assert advance_all(run) == "stopped"

    outcomes = dict(run.items.values_list("affiliate_id", "outcome"))
    assert outcomes[broken.pk] == "failed"
    assert all(outcomes[g.pk] == "pending" for g in rest)  # one at a time, the first failed: none started
    assert all(version(g) == APP_VERSION for g in rest)

    as_admin(broken, MEND_V4)
    fleet.run_resume(run.pk, started_by="pytest", channel="command", enqueue=False)
    assert advance_all(run) == "succeeded"
    assert all(version(g) == NEXT_APP_VERSION for g in [broken, *rest])
    assert set(run.items.values_list("outcome", flat=True)) == {"succeeded"}


@pytest.mark.flyway
def test_canary_failure_stops_the_run_before_the_other_waves(fleet_sql):
    canary, *rest = fleet_sql.gyms(5)
    as_admin(canary, BREAK_V4)
    fleet_sql.ship()
    run = fleet.run_create(
        "migrate",
        fleet.affiliates_select(),
        strategy=fleet.Strategy(canary=1, wave_size=2, parallel=4, on_error="continue"),
        started_by="pytest",
        channel="command",
        enqueue=False,
    )
    assert list(run.items.order_by("affiliate_id").values_list("wave", flat=True)) == [0, 1, 1, 2, 2]

    assert advance_all(run) == "stopped"
    run.refresh_from_db()
    assert "canary failed" in run.status_detail
    assert all(version(g) == APP_VERSION for g in rest)  # on-error continue does not overrule a failed canary

    as_admin(canary, MEND_V4)
    fleet.run_resume(run.pk, started_by="pytest", channel="command", enqueue=False)
    assert advance_all(run) == "succeeded"
    assert all(version(g) == NEXT_APP_VERSION for g in [canary, *rest])


@pytest.mark.flyway
def test_waves_run_in_order_one_jvm_per_batch(fleet_sql):
    gyms = fleet_sql.gyms(5)
    fleet_sql.ship()
    run = fleet.run_create(
        "migrate",
        fleet.affiliates_select(),
        strategy=fleet.Strategy(canary=1, wave_size=2, parallel=2),
        started_by="pytest",
        channel="command",
        enqueue=False,
    )

    steps = []
    status = "continued"
    while status == "continued":
        status = fleet.run_advance(run.pk)
        steps.append(sorted(run.items.filter(outcome="succeeded").values_list("wave", flat=True)))
    assert status == "succeeded"
    assert steps == [[0], [0, 1, 1], [0, 1, 1, 2, 2]]
    assert all(version(g) == NEXT_APP_VERSION for g in gyms)


@pytest.mark.flyway
def test_a_large_wave_is_split_into_batches(fleet_sql, settings):
    gyms = fleet_sql.gyms(5)
    fleet_sql.ship()
    settings.FLEET_BATCH_SIZE = 2
    run = fleet.run_create("migrate", fleet.affiliates_select(), started_by="pytest", channel="command", enqueue=False)

    statuses = []
    while not statuses or statuses[-1] == "continued":
        statuses.append(fleet.run_advance(run.pk))

    assert statuses == ["continued", "continued", "succeeded"]
    assert all(version(g) == NEXT_APP_VERSION for g in gyms)


@pytest.mark.flyway
@pytest.mark.worker
def test_a_batch_cut_short_by_the_soft_time_limit_is_queued_again_and_converges(fleet_sql, worker_factory):
    from affiliates.tasks import migration_run_task

    gyms = fleet_sql.gyms(4)
    fleet_sql.ship(V4 + "SELECT pg_sleep(1);\n")  # a batch of four takes longer than the soft limit
    worker = worker_factory(CELERY_TASK_SOFT_TIME_LIMIT="3", CELERY_TASK_TIME_LIMIT="60")
    run = fleet.run_create(
        "migrate",
        fleet.affiliates_select(),
        strategy=fleet.Strategy(parallel=1),
        started_by="pytest",
        channel="command",
        enqueue=False,
    )
    # Celery stamps a task's limits when it is sent: the worker sends the later batches with its own.
    migration_run_task.apply_async((run.pk,), soft_time_limit=3, time_limit=60)

    code, out = command("--follow", str(run.pk))

    assert code == 0, out
    assert "Soft time limit (3" in worker.log.read_text()  # it did cut a batch short
    assert [version(g) for g in gyms] == [NEXT_APP_VERSION] * 4
    for gym in gyms:
        rows = as_admin(gym, "SELECT success FROM master.flyway_schema_history WHERE version = '4'")
        assert rows == [(True,)]  # applied once, whatever the interruptions


def test_waves_assign():
    assert fleet.waves_assign(5, fleet.Strategy()) == [1, 1, 1, 1, 1]
    assert fleet.waves_assign(5, fleet.Strategy(canary=2)) == [0, 0, 1, 1, 1]
    assert fleet.waves_assign(5, fleet.Strategy(canary=1, wave_size=3)) == [0, 1, 1, 1, 2]
    assert fleet.waves_assign(2, fleet.Strategy(canary=5)) == [0, 0]


# --- selection, dry run, bad input ---


@pytest.mark.flyway
def test_selection_by_slug_server_and_behind(fleet_sql):
    a, b, c = fleet_sql.gyms(3)
    fleet_sql.ship()
    Affiliate.objects.filter(pk=c.pk).update(schema_version=NEXT_APP_VERSION)

    assert [x.pk for x in fleet.affiliates_select(slugs=[b.slug, a.slug])] == [a.pk, b.pk]
    assert [x.pk for x in fleet.affiliates_select(behind=True)] == [a.pk, b.pk]
    assert len(fleet.affiliates_select(server=a.database_server.name)) == 3
    with pytest.raises(fleet.FleetError, match="no database server 'nowhere'"):
        fleet.affiliates_select(server="nowhere")
    with pytest.raises(fleet.FleetError, match="no affiliate 'ghost'"):
        fleet.affiliates_select(slugs=["ghost", a.slug])


@pytest.mark.flyway
def test_bad_input_gets_a_clear_message_and_changes_nothing(fleet_sql):
    (gym,) = fleet_sql.gyms(1)
    lifecycle.affiliate_archive(affiliate_id=gym.pk)

    for args, message in [
        (["--parallel", "0"], "--parallel must be at least 1"),
        (["--canary", "-1"], "--canary must be 0 or more"),
        (["--wave-size", "0"], "--wave-size must be at least 1"),
        (["--affiliate", gym.slug], f"{gym.slug} is archived"),
        (["--affiliate", "ghost"], "no affiliate 'ghost'"),
        (["--resume", "999999"], "no migration run 999999"),
        (["--follow", "999999"], "no migration run 999999"),
    ]:
        code, out = command(*args)
        assert code == 1 and message in out, (args, out)
    assert not MigrationRun.objects.exists()


@pytest.mark.flyway
def test_dry_run_shows_versions_and_scripts_and_changes_nothing(fleet_sql):
    a, b = fleet_sql.gyms(2)
    fleet_sql.ship()

    code, out = command("--dry-run", "--canary", "1")

    assert code == 0, out
    assert (
        f"{a.slug} (canary): V{APP_VERSION} → V{NEXT_APP_VERSION}: V{NEXT_APP_VERSION}__member_nickname_and_notes.sql"
        in out
    )
    assert f"{b.slug} (wave 1): V{APP_VERSION} → V{NEXT_APP_VERSION}" in out
    assert version(a) == APP_VERSION and version(b) == APP_VERSION
    assert not MigrationRun.objects.exists()


# --- drift ---


@pytest.mark.flyway
def test_check_reports_each_drift_state(fleet_sql, admin_connection, settings):
    settings.FLYWAY_CONNECT_RETRIES = 0  # a missing database does not come back: no point waiting
    current, behind, ahead, failed, mismatch, unreachable = fleet_sql.gyms(6)
    fleet_sql.ship()
    for gym in (current, ahead, failed, mismatch):
        flyway.migrate(on_database(server_admin_target(gym.database_server), gym.database_name), kind="application")

    insert = (
        "INSERT INTO master.flyway_schema_history (installed_rank, version, description, type, script, checksum,"
        " installed_by, execution_time, success) SELECT max(installed_rank) + 1, '{v}', 'x', 'SQL', 'V{v}__x.sql', 1,"
        " 'fitbud', 1, {ok} FROM master.flyway_schema_history"
    )
    beyond = str(int(NEXT_APP_VERSION) + 1)
    as_admin(ahead, insert.format(v=beyond, ok="true"))
    as_admin(failed, insert.format(v=beyond, ok="false"))
    as_admin(mismatch, "UPDATE master.flyway_schema_history SET checksum = checksum + 1 WHERE version = '1'")
    rename = psycopg.sql.SQL("ALTER DATABASE {} RENAME TO {}").format(
        psycopg.sql.Identifier(unreachable.database_name), psycopg.sql.Identifier(unreachable.database_name + "_x")
    )
    for attempt in range(5):
        # Another test process's pooler install may be visiting every database at this moment.
        admin_connection.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s", [unreachable.database_name]
        )
        try:
            admin_connection.execute(rename)
            break
        except psycopg.errors.ObjectInUse:
            if attempt == 4:
                raise
            time.sleep(0.2)
    try:
        run = fleet.run_create(
            "check", fleet.affiliates_select(), started_by="pytest", channel="command", enqueue=False
        )
        advance_all(run)
        states = {item.affiliate_id: item for item in run.items.all()}
        assert {gym.pk: states[gym.pk].state for gym in fleet_sql.affiliates} == {
            current.pk: "current",
            behind.pk: "behind",
            ahead.pk: "ahead",
            failed.pk: "failed",
            mismatch.pk: "checksum_mismatch",
            unreachable.pk: "unreachable",
        }
        assert states[mismatch.pk].error_code == "CHECKSUM_MISMATCH"
        assert states[unreachable.pk].error_code == "DB_CONNECTION"
        assert version(behind) == APP_VERSION  # a check changes nothing
    finally:
        admin_connection.execute(
            psycopg.sql.SQL("ALTER DATABASE {} RENAME TO {}").format(
                psycopg.sql.Identifier(unreachable.database_name + "_x"),
                psycopg.sql.Identifier(unreachable.database_name),
            )
        )


# --- one hand on a database ---


@pytest.mark.flyway
def test_the_affiliate_lock_is_shared_with_provisioning_suspend_and_archive(fleet_sql, settings, admin_connection):
    held, free = fleet_sql.gyms(2)
    fleet_sql.ship()
    settings.FLEET_LOCK_WAIT_SECONDS = 1

    # Another operation (provisioning, archive, …) holds one gym: the run waits, then records it busy.
    with locks.affiliate_lock(held.pk) as acquired:
        assert acquired
        run = fleet.run_create(
            "migrate", fleet.affiliates_select(), started_by="pytest", channel="command", enqueue=False
        )
        assert advance_all(run) == "failed"
    outcomes = dict(run.items.values_list("affiliate_id", "outcome"))
    assert outcomes == {held.pk: "busy", free.pk: "succeeded"}
    assert version(held) == APP_VERSION and version(free) == NEXT_APP_VERSION

    fleet.run_resume(run.pk, started_by="pytest", channel="command", enqueue=False)
    assert advance_all(run) == "succeeded"
    assert version(held) == NEXT_APP_VERSION

    # A run holds its affiliates: provisioning, suspend and archive are refused meanwhile, and change nothing.
    with locks.affiliate_locks() as fleet_holds:
        assert fleet_holds.try_acquire([held.pk]) == {held.pk}
        with pytest.raises(AffiliateBusy):
            lifecycle.affiliate_archive(affiliate_id=held.pk)
        with pytest.raises(AffiliateBusy):
            lifecycle.affiliate_suspend(affiliate_id=held.pk)
        Affiliate.objects.filter(pk=held.pk).update(status="failed")
        with pytest.raises(AffiliateBusy):
            provisioning.affiliate_provision(affiliate_id=held.pk)
        Affiliate.objects.filter(pk=held.pk).update(status="active")
        # A second run at the same time does not migrate the held database either.
        second = fleet.run_create(
            "migrate", fleet.affiliates_select(slugs=[held.slug]), started_by="pytest", channel="command", enqueue=False
        )
        assert advance_all(second) == "failed"
        assert second.items.get().outcome == "busy"
    assert Affiliate.objects.get(pk=held.pk).status == "active"
    assert databases.database_exists(admin_connection, held.database_name)
    assert StaffAudit.objects.filter(action="archive", target=held.slug, outcome="failed").exists()


@pytest.mark.flyway
def test_an_affiliate_archived_after_the_run_began_is_skipped(fleet_sql):
    stays, goes = fleet_sql.gyms(2)
    fleet_sql.ship()
    run = fleet.run_create("migrate", fleet.affiliates_select(), started_by="pytest", channel="command", enqueue=False)
    lifecycle.affiliate_archive(affiliate_id=goes.pk)

    assert advance_all(run) == "succeeded"
    assert dict(run.items.values_list("affiliate_id", "outcome")) == {stays.pk: "succeeded", goes.pk: "skipped"}


# --- a worker killed in the middle ---


@pytest.mark.flyway
@pytest.mark.worker
def test_a_killed_worker_mid_run_converges_on_resume(fleet_sql, worker_factory):
    gyms = fleet_sql.gyms(6)
    # Slow enough to kill the worker part-way through (one database at a time).
    fleet_sql.ship(V4 + "SELECT pg_sleep(0.4);\n")
    worker = worker_factory()
    run = fleet.run_create(
        "migrate",
        fleet.affiliates_select(),
        strategy=fleet.Strategy(parallel=1),
        started_by="pytest",
        channel="command",
    )
    wait_for(lambda: run.items.filter(outcome="succeeded").count() >= 2, what="two affiliates migrated")
    worker.kill()

    run.refresh_from_db()
    assert run.status == "running"
    done_before = dict(run.items.filter(outcome="succeeded").values_list("affiliate_id", "finished_at"))
    assert 2 <= len(done_before) < 6

    worker_factory()
    code, out = command("--resume", str(run.pk), "--wait")

    assert code == 0, out
    assert all(version(g) == NEXT_APP_VERSION for g in gyms)
    assert all(registry_version(g) == NEXT_APP_VERSION for g in gyms)
    # Finished affiliates were not redone.
    after = dict(run.items.values_list("affiliate_id", "finished_at"))
    assert all(after[pk] == finished for pk, finished in done_before.items())
    for gym in gyms:
        assert as_admin(gym, "SELECT count(*) FROM master.flyway_schema_history WHERE version = '4'") == [(1,)]


# --- the command center ---


@pytest.fixture
def superuser_client(client):
    from django.contrib.auth import get_user_model

    client.force_login(get_user_model().objects.create_superuser("chief", "chief@fitbuddy.localhost", "a-long-pw-1"))
    return client


@pytest.mark.flyway
@pytest.mark.worker
def test_admin_action_starts_a_run_and_its_page_follows_it(fleet_sql, worker_factory, superuser_client):
    gyms = fleet_sql.gyms(2)
    fleet_sql.ship()
    worker_factory()

    response = superuser_client.post(
        reverse("admin:affiliates_affiliate_changelist"),
        {"action": "migrate_to_latest", "_selected_action": [g.pk for g in gyms]},
    )
    run = MigrationRun.objects.get()
    assert response.status_code == 302 and response["Location"].endswith(f"/migrationrun/{run.pk}/change/")
    wait_for(lambda: MigrationRun.objects.get(pk=run.pk).finished, what="the run to finish")

    page = superuser_client.get(response["Location"]).content.decode()
    assert "Succeeded" in page and "2 / 2 done" in page and 'http-equiv="refresh"' not in page
    listing = superuser_client.get(reverse("admin:affiliates_affiliate_changelist")).content.decode()
    assert f"behind V{NEXT_APP_VERSION}" not in listing and listing.count(f"V{NEXT_APP_VERSION}") >= 2
    assert StaffAudit.objects.filter(actor="chief", channel="admin", action="migrate", outcome="started").exists()


@pytest.mark.flyway
def test_admin_shows_who_is_behind_and_whose_migration_failed(fleet_sql, superuser_client):
    good, broken, untouched = fleet_sql.gyms(3)
    as_admin(broken, BREAK_V4)
    fleet_sql.ship()
    run = fleet.run_create(
        "migrate",
        fleet.affiliates_select(slugs=[good.slug, broken.slug]),
        strategy=fleet.Strategy(on_error="continue"),
        started_by="pytest",
        channel="command",
        enqueue=False,
    )
    advance_all(run)
    changelist = reverse("admin:affiliates_affiliate_changelist")

    behind = superuser_client.get(changelist + "?version=behind").content.decode()
    assert broken.slug in behind and untouched.slug in behind and good.slug not in behind
    assert f"behind V{NEXT_APP_VERSION}" in behind
    failed = superuser_client.get(changelist + "?last_migration=failed").content.decode()
    assert broken.slug in failed and good.slug not in failed and untouched.slug not in failed

    overview = superuser_client.get(reverse("admin:affiliates_fleet")).content.decode()
    assert f"2 affiliates behind V{NEXT_APP_VERSION}" in overview
    assert "1 whose last migration failed" in overview and broken.slug in overview
    assert f"Migrate run {run.pk} to V{NEXT_APP_VERSION}" in overview

    page = superuser_client.get(reverse("admin:affiliates_migrationrun_change", args=[run.pk])).content.decode()
    assert "FAILED_VERSIONED_MIGRATION" in page and "already exists" in page

    as_admin(broken, MEND_V4)
    response = superuser_client.post(
        reverse("admin:affiliates_migrationrun_changelist"),
        {"action": "retry_failed", "_selected_action": [run.pk]},
        follow=True,
    )
    assert "1 run resumed." in response.content.decode()
    assert advance_all(run) == "succeeded"
    assert version(broken) == NEXT_APP_VERSION
    failed = superuser_client.get(changelist + "?last_migration=failed").content.decode()
    assert broken.slug not in failed
