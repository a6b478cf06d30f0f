"""affiliates/checks.py: settings that would fail silently are reported by Django's system checks."""

from __future__ import annotations

from django.core import checks

from affiliates import checks as affiliate_checks


def ids(messages) -> set[str]:
    return {m.id for m in messages}


def test_the_project_settings_pass_every_check():
    messages = checks.run_checks(tags=[checks.Tags.compatibility])
    assert not [m for m in messages if m.id.startswith("affiliates.")]


def test_a_misspelt_provisioning_strategy_is_an_error(settings):
    settings.PROVISIONING_STRATEGY = "templat"
    messages = affiliate_checks.check_provisioning_strategy(None)
    assert ids(messages) == {"affiliates.E001"}
    assert "'templat'" in messages[0].msg and "template, flyway" in messages[0].hint


def test_a_visibility_timeout_below_the_time_limit_is_an_error(settings):
    settings.CELERY_TASK_TIME_LIMIT = 900
    settings.CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": 600}
    assert ids(affiliate_checks.check_task_limits(None)) == {"affiliates.E003"}


def test_tasks_must_acknowledge_late_and_soft_limits_come_first(settings):
    settings.CELERY_TASK_ACKS_LATE = False
    settings.CELERY_TASK_SOFT_TIME_LIMIT = settings.CELERY_TASK_TIME_LIMIT
    assert ids(affiliate_checks.check_task_limits(None)) == {"affiliates.E002", "affiliates.E004"}


def test_connection_caps_below_one_are_errors(settings):
    settings.AFFILIATE_CONNECTIONS_PER_THREAD = 0
    assert ids(affiliate_checks.check_connection_limits(None)) == {"affiliates.E005"}
    settings.AFFILIATE_CONNECTIONS_PER_THREAD = 8
    settings.FLEET_CONNECTIONS_PER_SERVER = 0
    assert ids(affiliate_checks.check_connection_limits(None)) == {"affiliates.E005"}
    settings.FLEET_CONNECTIONS_PER_SERVER = 8
    settings.AFFILIATE_CREDENTIALS = "plaintext"
    assert ids(affiliate_checks.check_connection_limits(None)) == {"affiliates.E008"}


def test_a_missing_flyway_or_sql_folder_is_reported(settings, tmp_path):
    settings.FLYWAY_COMMAND = str(tmp_path / "no-flyway")
    settings.FLYWAY_FLEET_COMMAND = str(tmp_path / "no-fleet")
    settings.SQL_DIR = tmp_path
    assert ids(affiliate_checks.check_flyway(None)) == {"affiliates.W001", "affiliates.W003", "affiliates.E006"}


def test_the_installed_flyway_and_fleet_runner_pass(settings):
    assert ids(affiliate_checks.check_flyway(None)) == set()


def test_a_fleet_launcher_without_its_built_runner_is_reported(settings, tmp_path):
    (tmp_path / "runner").mkdir()
    launcher = tmp_path / "fleet"
    launcher.write_text("#!/bin/sh\n")
    launcher.chmod(0o755)
    settings.FLYWAY_FLEET_COMMAND = str(launcher)
    assert ids(affiliate_checks.check_flyway(None)) == {"affiliates.W003"}


def test_a_command_center_host_django_refuses_is_reported(settings):
    settings.ALLOWED_HOSTS = [".example.com"]
    settings.MANAGEMENT_HOSTS = ["admin.example.com", "admin.localhost"]
    messages = affiliate_checks.check_management_hosts(None)
    assert ids(messages) == {"affiliates.W002"} and "admin.localhost" in messages[0].msg
    settings.MANAGEMENT_HOSTS = []
    assert ids(affiliate_checks.check_management_hosts(None)) == {"affiliates.E007"}
