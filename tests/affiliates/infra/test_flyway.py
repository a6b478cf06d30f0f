"""affiliates/infra/flyway.py against the real Flyway and PostgreSQL."""

from __future__ import annotations

import shutil
import stat
from pathlib import Path

import psycopg
import pytest
from django.conf import settings

from affiliates.infra import flyway
from affiliates.infra.flyway_runner import run_many
from affiliates.infra.targets import DatabaseTarget

pytestmark = pytest.mark.django_db


def _history(target: DatabaseTarget) -> list[tuple[str, bool]]:
    with psycopg.connect(**target.conninfo()) as conn:
        return conn.execute(
            "SELECT version, success FROM master.flyway_schema_history"
            " WHERE version IS NOT NULL ORDER BY installed_rank"
        ).fetchall()


def _tables(target: DatabaseTarget) -> set[str]:
    with psycopg.connect(**target.conninfo()) as conn:
        rows = conn.execute("SELECT tablename FROM pg_tables WHERE schemaname = 'master'").fetchall()
    return {r[0] for r in rows}


@pytest.fixture
def sql_copy(tmp_path, settings):
    """A copy of sql/ that a test may break, used by the wrapper instead of the real one."""
    copy = tmp_path / "sql"
    shutil.copytree(Path(settings.BASE_DIR) / "sql", copy)
    settings.SQL_DIR = copy
    return copy


@pytest.mark.flyway
def test_migrate_brings_an_empty_database_to_the_latest_version(fresh_database):
    result = flyway.migrate(fresh_database, kind="application")

    latest = flyway.latest_version("application")
    assert result.initial_version is None
    assert result.target_version == latest
    assert result.migrations_executed == len(list((Path(settings.SQL_DIR) / "application").glob("V*.sql")))
    assert {"member", "exercise", "workout", "workout_exercise", "participation", "personal_record"} <= _tables(
        fresh_database
    )
    assert all(success for _, success in _history(fresh_database))


@pytest.mark.flyway
def test_migrate_again_applies_nothing(application_database):
    result = flyway.migrate(application_database, kind="application")

    assert result.migrations_executed == 0
    assert result.target_version == flyway.latest_version("application")


@pytest.mark.flyway
def test_info_reports_version_and_states(application_database):
    info = flyway.info(application_database, kind="application")

    assert info["schemaVersion"] == flyway.latest_version("application")
    assert {m["state"] for m in info["migrations"]} == {"Success"}


@pytest.mark.flyway
def test_validate_passes_on_an_untouched_database(application_database):
    result = flyway.validate(application_database, kind="application")

    assert result["validationSuccessful"] is True


@pytest.mark.flyway
def test_broken_sql_raises_with_flyways_message_and_keeps_the_last_good_version(fresh_database, sql_copy):
    flyway.migrate(fresh_database, kind="application")
    good = _history(fresh_database)
    (sql_copy / "application" / "V900__broken.sql").write_text(
        "CREATE TABLE half_done (id int);\nSELEC oops FROM nowhere;\n"
    )

    with pytest.raises(flyway.FlywayError) as caught:
        flyway.migrate(fresh_database, kind="application")

    error = caught.value
    assert error.error_code == "FAILED_VERSIONED_MIGRATION"
    assert error.database == fresh_database.name
    assert "syntax error" in error.flyway_message
    assert fresh_database.name in str(error) and "V900__broken.sql" in str(error)
    # The failed script rolled back whole: no half-made table, no history row.
    assert _history(fresh_database) == good
    assert "half_done" not in _tables(fresh_database)


@pytest.mark.flyway
def test_an_edited_applied_script_is_a_checksum_mismatch(application_database, sql_copy):
    script = sql_copy / "application" / "V1__members_and_exercises.sql"
    script.write_text(script.read_text() + "\n-- edited after it shipped\nSELECT 1;\n")

    with pytest.raises(flyway.FlywayError) as by_validate:
        flyway.validate(application_database, kind="application")
    with pytest.raises(flyway.FlywayError) as by_migrate:
        flyway.migrate(application_database, kind="application")

    assert by_validate.value.error_code == "CHECKSUM_MISMATCH"
    assert "checksum" in by_validate.value.flyway_message.lower()
    assert by_migrate.value.error_code == "VALIDATE_ERROR"
    assert "checksum mismatch for migration version 1" in by_migrate.value.flyway_message.lower()
    assert _history(application_database)[-1][0] == flyway.latest_version("application")


@pytest.mark.flyway
def test_an_unreachable_database_is_a_connection_error_naming_it():
    target = DatabaseTarget(name="nowhere-db", host="127.0.0.1", port=1, user="fitbud", password="secret-pw")

    with pytest.raises(flyway.FlywayError) as caught:
        flyway.migrate(target, kind="application", connect_retries=0)

    assert caught.value.error_code == "DB_CONNECTION"
    assert "nowhere-db" in str(caught.value)
    assert "secret-pw" not in str(caught.value)


@pytest.mark.flyway
def test_a_wrong_password_is_reported_without_the_password(application_database):
    target = DatabaseTarget(
        name=application_database.name,
        host=application_database.host,
        port=application_database.port,
        user=application_database.user,
        password="definitely-wrong-pw",
    )

    with pytest.raises(flyway.FlywayError) as caught:
        flyway.info(target, kind="application", connect_retries=0)

    assert caught.value.error_code == "DB_CONNECTION"
    assert "password authentication failed" in caught.value.flyway_message
    assert "definitely-wrong-pw" not in str(caught.value)


def test_a_missing_flyway_is_a_clear_error(settings, application_database):
    settings.FLYWAY_COMMAND = "/nonexistent/bin/flyway"

    with pytest.raises(flyway.FlywayNotFound) as caught:
        flyway.info(application_database, kind="application")

    assert caught.value.error_code == "FLYWAY_NOT_FOUND"
    assert "/nonexistent/bin/flyway" in str(caught.value)


def test_a_failure_reported_with_exit_code_0_still_raises(settings, tmp_path, fresh_database, sql_copy):
    """Without flyway-reports, a failed migrate exits 0: the JSON's success:false must still raise."""
    launcher = tmp_path / "flyway-exit-0"
    launcher.write_text(f'#!/bin/sh\n"{Path(settings.BASE_DIR) / "tools/flyway/flyway"}" "$@"\nexit 0\n')
    launcher.chmod(launcher.stat().st_mode | stat.S_IEXEC)
    settings.FLYWAY_COMMAND = str(launcher)
    (sql_copy / "application" / "V900__broken.sql").write_text("SELECT * FROM no_such_table;\n")

    with pytest.raises(flyway.FlywayError) as caught:
        flyway.migrate(fresh_database, kind="application")

    assert caught.value.error_code == "FAILED_VERSIONED_MIGRATION"
    assert caught.value.result.get("success") is False
    assert 'relation "no_such_table" does not exist' in caught.value.flyway_message


def test_the_password_never_reaches_flyways_command_line(settings, tmp_path, application_database):
    record = tmp_path / "argv.txt"
    launcher = tmp_path / "flyway-recording"
    launcher.write_text(
        f'#!/bin/sh\nprintf "%s\\n" "$@" > "{record}"\nexec "{Path(settings.BASE_DIR) / "tools/flyway/flyway"}" "$@"\n'
    )
    launcher.chmod(launcher.stat().st_mode | stat.S_IEXEC)
    settings.FLYWAY_COMMAND = str(launcher)

    flyway.info(application_database, kind="application")

    argv = record.read_text()
    assert "-schemas=master" in argv and f"-url={application_database.jdbc_url}" in argv
    assert application_database.password and application_database.password not in argv


def test_an_unknown_kind_is_refused(application_database):
    with pytest.raises(ValueError, match="unknown database kind"):
        flyway.migrate(application_database, kind="nonsense")


# --- the fleet runner: many databases, one JVM ---


@pytest.mark.flyway
def test_fleet_migrates_many_databases_in_one_jvm_and_reports_each(admin_connection, application_database):
    from affiliates.infra import databases

    names = [f"test_fitbuddy_fleet_{i}_{application_database.name[-6:]}" for i in range(3)]
    for name in names:
        databases.database_create(admin_connection, name)
    try:
        targets = {name: DatabaseTarget(**{**application_database.__dict__, "name": name}) for name in names}
        targets["already"] = application_database
        seen = []

        results = run_many("migrate", targets, kind="application", threads=2, on_result=seen.append)

        assert set(results) == set(targets) and len(seen) == 4
        latest = flyway.latest_version("application")
        for name in names:
            assert (
                results[name].ok
                and results[name].version == latest
                and results[name].migrations_executed == int(latest)
            )
            assert _history(targets[name])[-1] == (latest, True)
        assert results["already"].ok and results["already"].migrations_executed == 0

        checked = run_many("check", targets, kind="application", threads=2)
        assert {r.state for r in checked.values()} == {"current"}
        info = run_many("info", {"one": targets[names[0]]}, kind="application", threads=1)
        assert info["one"].version == latest and info["one"].pending_scripts == ()
    finally:
        for name in names:
            databases.database_drop(admin_connection, name)


@pytest.mark.flyway
def test_fleet_failures_are_results_with_flyways_code_and_no_password(application_database):
    wrong = DatabaseTarget(**{**application_database.__dict__, "password": "not-the-password-42"})

    results = run_many("migrate", {"wrong": wrong}, kind="application", threads=1, connect_retries=0)

    error = results["wrong"].error
    assert not results["wrong"].ok and error.error_code == "DB_CONNECTION"
    assert "not-the-password-42" not in str(error)


def test_fleet_passwords_travel_on_stdin_never_the_command_line(settings, tmp_path, application_database):
    record = tmp_path / "argv.txt"
    launcher = tmp_path / "fleet-recording"
    launcher.write_text(
        f'#!/bin/sh\nprintf "%s\\n" "$@" > "{record}"\nexec "{Path(settings.BASE_DIR) / "tools/flyway/fleet"}" "$@"\n'
    )
    launcher.chmod(launcher.stat().st_mode | stat.S_IEXEC)
    settings.FLYWAY_FLEET_COMMAND = str(launcher)

    results = run_many("info", {"a": application_database}, kind="application", threads=1)

    assert results["a"].ok
    assert application_database.password and application_database.password not in record.read_text()


def test_a_missing_or_dying_fleet_runner_is_a_clear_error(settings, application_database):
    settings.FLYWAY_FLEET_COMMAND = "/nonexistent/fleet"
    with pytest.raises(flyway.FlywayNotFound, match="make flyway"):
        run_many("migrate", {"a": application_database}, kind="application", threads=1)

    settings.FLYWAY_FLEET_COMMAND = "false"  # starts, answers nothing, exits 1
    results = run_many("migrate", {"a": application_database}, kind="application", threads=1)
    assert results["a"].error.error_code == "RUNNER_EXIT"
    with pytest.raises(ValueError, match="unknown fleet command"):
        run_many("clean", {"a": application_database}, kind="application", threads=1)


def test_script_checksums_are_the_ones_flyway_records(application_database, sql_copy):
    with psycopg.connect(**application_database.conninfo()) as conn:
        recorded = conn.execute(
            "SELECT version, checksum FROM master.flyway_schema_history"
            " WHERE version IS NOT NULL ORDER BY installed_rank"
        ).fetchall()
    assert flyway.script_checksums("application") == recorded
    # Line endings and a byte-order mark do not change Flyway's checksum.
    script = next((sql_copy / "application").glob("V1__*.sql"))
    before = flyway.script_checksum(script)
    script.write_bytes(b"\xef\xbb\xbf" + script.read_bytes().replace(b"\n", b"\r\n"))
    assert flyway.script_checksum(script) == before


@pytest.mark.flyway
def test_the_quick_answer_never_hides_drift(application_database):
    """A database the registry calls current is answered with one query only if its history agrees."""
    current = run_many("migrate", {"a": application_database}, kind="application", threads=1, expect_current=["a"])
    assert current["a"].ok and current["a"].migrations_executed == 0

    with psycopg.connect(**application_database.conninfo()) as conn:
        conn.execute("UPDATE master.flyway_schema_history SET checksum = checksum + 1 WHERE version = '2'")
    drifted = run_many("migrate", {"a": application_database}, kind="application", threads=1, expect_current=["a"])

    assert not drifted["a"].ok  # Flyway's own migrate ran, and its validation refused
    assert "checksum" in drifted["a"].error.flyway_message.lower()
