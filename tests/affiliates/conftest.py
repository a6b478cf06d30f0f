"""Fixtures for provisioning tests: a clean registry, cleanup of affiliate databases and roles,
and a real Celery worker process on the test management database."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import psycopg
import pytest
from django.conf import settings
from django.db import connections

from affiliates import databases, flyway
from fitbuddy.celery import app as celery_app

TEST_PREFIX = "fitbuddy_t"


def new_slug() -> str:
    return f"t{uuid.uuid4().hex[:10]}"


def server_state(conn: psycopg.Connection) -> tuple[set[str], set[str]]:
    """Affiliate databases and roles made by tests that exist on the server now."""
    dbs = {r[0] for r in conn.execute("SELECT datname FROM pg_database WHERE datname LIKE %s", [f"{TEST_PREFIX}%"])}
    roles = {r[0] for r in conn.execute("SELECT rolname FROM pg_roles WHERE rolname LIKE %s", [f"{TEST_PREFIX}%"])}
    return dbs, roles


@pytest.fixture
def clean_registry(admin_connection):
    """Transactional tests commit registry rows: remove them, and every test database and role, afterwards."""
    yield
    dbs, roles = server_state(admin_connection)
    for name in dbs:
        databases.database_drop(admin_connection, name)
    for role in roles:
        admin_connection.execute(psycopg.sql.SQL("DROP ROLE IF EXISTS {}").format(psycopg.sql.Identifier(role)))
    with connections["default"].cursor() as cursor:
        cursor.execute("TRUNCATE master.affiliate, master.database_server CASCADE")


def database_url() -> str:
    """The test management database as a DATABASE_URL, for processes this test starts."""
    db = connections["default"].settings_dict
    host, port = db["HOST"] or "localhost", db["PORT"] or 5432
    return f"postgres://{db['USER']}:{db['PASSWORD']}@{host}:{port}/{db['NAME']}"


class Worker:
    """A real `celery worker` process on the test management database and the test Redis."""

    def __init__(self, extra_env: dict[str, str] | None = None):
        self.env = {
            **os.environ,
            "FITBUDDY_ENV": "test",
            "DATABASE_URL": database_url(),
            "REDIS_URL": settings.REDIS_URL,
            "PROVISIONING_TEMPLATE_DATABASE": settings.PROVISIONING_TEMPLATE_DATABASE,
            "PROVISIONING_STRATEGY": settings.PROVISIONING_STRATEGY,
            "FITBUDDY_SQL_DIR": str(settings.SQL_DIR),
            **(extra_env or {}),
        }
        self.process: subprocess.Popen | None = None
        self.log = Path(settings.BASE_DIR) / ".local" / f"test-worker-{uuid.uuid4().hex[:6]}.log"

    def start(self, timeout: float = 60) -> Worker:
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


@pytest.fixture
def worker_factory(clean_registry):
    celery_app.control.purge()
    started: list[Worker] = []

    def start(**extra_env) -> Worker:
        worker = Worker(extra_env).start()
        started.append(worker)
        return worker

    yield start
    for worker in started:
        worker.stop()
    celery_app.control.purge()


@pytest.fixture
def worker(worker_factory) -> Worker:
    return worker_factory()


def affiliate_version(name: str) -> str | None:
    target = flyway.DatabaseTarget.from_django(connections["default"].settings_dict, name=name)
    with psycopg.connect(**target.conninfo()) as conn:
        if conn.execute("SELECT to_regclass('master.flyway_schema_history')").fetchone()[0] is None:
            return None
        row = conn.execute(
            "SELECT max(version::int) FROM master.flyway_schema_history WHERE success AND version IS NOT NULL"
        ).fetchone()
        return str(row[0]) if row[0] is not None else None
