"""Provisioning through Redis and a real Celery worker process, including workers killed mid-way."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
import threading

import pytest
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connections

from affiliates.models import Affiliate, AffiliateEvent
from affiliates.operations import provisioning
from affiliates.tasks import affiliate_provision_task
from tests.conftest import APP_VERSION, NEXT_APP_VERSION, affiliate_version, database_url, server_state, wait_for
from tests.factories import new_slug

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.worker]


def status_of(affiliate_id: int) -> str:
    return Affiliate.objects.values_list("status", flat=True).get(pk=affiliate_id)


def database_exists(admin_connection, name: str) -> bool:
    return admin_connection.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone() is not None


def test_provision_affiliate_command_waits_and_prints_each_step(worker):
    slug = new_slug()
    out = io.StringIO()

    call_command(
        "provision_affiliate", slug, "--name", "Iron Test", "--domain", f"{slug}.localhost", "--wait", stdout=out
    )

    text = out.getvalue()
    for step in ("create_role", "create_database", "migrate", "grant_privileges", "activate"):
        assert step in text
    assert f"{slug}: active" in text
    affiliate = Affiliate.objects.get(schema_name=slug)
    assert affiliate.status == Affiliate.Status.ACTIVE
    assert affiliate_version(affiliate.database_name) == APP_VERSION


def test_provision_affiliate_json_output(worker):
    slug = new_slug()
    out = io.StringIO()

    call_command(
        "provision_affiliate",
        slug,
        "--name",
        "Json Gym",
        "--domain",
        f"{slug}.localhost",
        "--wait",
        "--json",
        stdout=out,
    )

    report = json.loads(out.getvalue())
    assert report["status"] == "active" and report["database"] == f"fitbuddy_{slug}"
    assert [e["step"] for e in report["events"]][-1] == "activate"


def test_provision_affiliate_bad_input_exits_non_zero_and_creates_nothing(clean_registry, admin_connection):
    before = server_state(admin_connection)
    result = subprocess.run(
        [".venv/bin/python", "manage.py", "provision_affiliate", "Bad;Slug", "--name", "X", "--domain", "x.localhost"],
        capture_output=True,
        text=True,
        env={
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "fitbuddy.settings",
            "FITBUDDY_ENV": "test",
            "DATABASE_URL": database_url(),
        },
    )

    assert result.returncode == 1
    assert "Invalid slug 'Bad;Slug'" in result.stderr
    assert not Affiliate.objects.exists()
    assert server_state(admin_connection) == before


def test_the_same_slug_requested_twice_at_once_gives_one_affiliate_and_one_database(worker, admin_connection):
    slug = new_slug()
    outcomes: list[str] = []
    barrier = threading.Barrier(2)

    def attempt(domain: str) -> None:
        barrier.wait()
        try:
            provisioning.affiliate_request(slug=slug, name="Twice", domain=domain)
            outcomes.append("created")
        except ValidationError as exc:
            outcomes.append(" ".join(exc.messages))
        finally:
            connections.close_all()

    threads = [threading.Thread(target=attempt, args=(f"{slug}-{i}.localhost",)) for i in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert outcomes.count("created") == 1, outcomes
    assert any("already taken" in o for o in outcomes), outcomes
    affiliate = Affiliate.objects.get(schema_name=slug)
    wait_for(lambda: status_of(affiliate.pk) == "active", what="active")
    assert server_state(admin_connection) == ({affiliate.database_name}, {affiliate.database_role})


def test_the_task_enqueued_twice_provisions_once(worker_factory, admin_connection):
    worker_factory(), worker_factory()
    affiliate = provisioning.affiliate_request(
        slug=new_slug(), name="Double", domain=f"{new_slug()}.localhost", enqueue=False
    )

    results = [affiliate_provision_task.delay(affiliate.pk, "pytest") for _ in range(3)]
    outcomes = [r.get(timeout=60) for r in results]

    assert status_of(affiliate.pk) == "active"
    assert {o["status"] for o in outcomes} <= {"active", "busy"}
    assert server_state(admin_connection) == ({affiliate.database_name}, {affiliate.database_role})
    assert AffiliateEvent.objects.filter(affiliate=affiliate, step="create_database", outcome="succeeded").count() == 1


@pytest.mark.flyway
def test_worker_killed_after_the_database_exists_then_retry_converges(worker_factory, admin_connection, settings):
    settings.PROVISIONING_STRATEGY = "flyway"  # a Flyway run after CREATE DATABASE leaves time to kill the worker
    worker = worker_factory()
    affiliate = provisioning.affiliate_request(slug=new_slug(), name="Crash", domain=f"{new_slug()}.localhost")

    wait_for(lambda: database_exists(admin_connection, affiliate.database_name), what="the database", timeout=60)
    worker.kill()
    assert status_of(affiliate.pk) != "active"

    worker_factory()
    provisioning.affiliate_retry(affiliate_id=affiliate.pk, requested_by="pytest")
    wait_for(lambda: status_of(affiliate.pk) == "active", what="active after retry")

    assert affiliate_version(affiliate.database_name) == APP_VERSION
    assert server_state(admin_connection) == ({affiliate.database_name}, {affiliate.database_role})


@pytest.mark.flyway
def test_worker_killed_while_flyway_runs_then_retry_converges(worker_factory, admin_connection, settings):
    settings.PROVISIONING_STRATEGY = "flyway"
    worker = worker_factory()
    affiliate = provisioning.affiliate_request(slug=new_slug(), name="Crash", domain=f"{new_slug()}.localhost")

    def flyway_running() -> bool:
        ps = subprocess.run(["ps", "-ww", "-eo", "pid,args"], capture_output=True, text=True).stdout
        return any("org.flywaydb" in line and affiliate.database_name in line for line in ps.splitlines())

    wait_for(flyway_running, what="Flyway running for the affiliate", timeout=60)
    worker.kill()
    wait_for(lambda: not flyway_running(), what="Flyway to be gone", timeout=30)

    worker_factory()
    provisioning.affiliate_retry(affiliate_id=affiliate.pk, requested_by="pytest")
    wait_for(lambda: status_of(affiliate.pk) == "active", what="active after retry")

    assert affiliate_version(affiliate.database_name) == APP_VERSION
    assert server_state(admin_connection) == ({affiliate.database_name}, {affiliate.database_role})


@pytest.mark.flyway
def test_a_flyway_failure_through_the_worker_marks_failed_and_the_command_says_why(worker_factory, settings, tmp_path):
    import shutil
    from pathlib import Path

    broken = tmp_path / "sql"
    shutil.copytree(Path(settings.BASE_DIR) / "sql", broken)
    (broken / "application" / f"V{NEXT_APP_VERSION}__broken.sql").write_text("SELEC 1;\n")
    settings.SQL_DIR = broken
    settings.PROVISIONING_STRATEGY = "flyway"
    worker_factory()
    slug = new_slug()

    with pytest.raises(CommandError, match="provisioning failed: .*FAILED_VERSIONED_MIGRATION"):
        call_command(
            "provision_affiliate",
            slug,
            "--name",
            "Broken",
            "--domain",
            f"{slug}.localhost",
            "--wait",
            stdout=io.StringIO(),
        )

    affiliate = Affiliate.objects.get(schema_name=slug)
    assert affiliate.status == "failed" and "syntax error" in affiliate.status_detail
    assert affiliate_version(affiliate.database_name) == APP_VERSION


def test_a_message_a_killed_worker_took_does_not_outlive_its_test(clean_registry):
    """A SIGKILLed worker leaves the message it took among Redis's unacked; a later test's worker would
    get it back once it is 16 minutes old (a CI run hung on such a ghost). The worker fixture forgets it."""
    from kombu import Connection

    from tests.conftest import UNACKED_KEYS, broker_forget

    taker = (
        "import os, signal, sys\n"
        "from kombu import Connection\n"
        "with Connection(sys.argv[1]) as conn:\n"
        "    queue = conn.SimpleQueue('fitbuddy-test-ghost')\n"
        "    queue.get(timeout=10)\n"  # taken, never acknowledged
        "    os.kill(os.getpid(), signal.SIGKILL)\n"
    )
    with Connection(settings.REDIS_URL) as conn:
        conn.SimpleQueue("fitbuddy-test-ghost").put({"ghost": True})
        subprocess.run([sys.executable, "-c", taker, settings.REDIS_URL], timeout=60, check=False)
        client = conn.default_channel.client
        assert client.hlen(UNACKED_KEYS[0]) == 1, "the killed taker left its message unacknowledged"

        broker_forget()

        assert client.exists(*UNACKED_KEYS) == 0
