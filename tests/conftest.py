"""The FitBuddy test harness: real PostgreSQL, the real Flyway, real Redis.

- The management test database is created by pytest-django (Django's migrate for the framework
  tables) and then migrated by the real Flyway with sql/affiliate_management.
- ``application_database`` gives a test its own application database, cloned from a template
  that the real Flyway migrated once per session (the clone keeps flyway_schema_history).
- ``fresh_database`` gives a test an empty database, for tests about Flyway itself.
"""

from __future__ import annotations

import uuid

import pytest
from django.conf import settings
from django.db import connections

from affiliates import databases, flyway


def management_target() -> flyway.DatabaseTarget:
    return flyway.DatabaseTarget.from_django(connections["default"].settings_dict)


def pytest_report_header(config):
    return f"FITBUDDY_ENV={settings.FITBUDDY_ENV}, FLYWAY_COMMAND={settings.FLYWAY_COMMAND}"


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup, django_db_blocker):
    """pytest-django's test database, then Flyway's sql/affiliate_management on top."""
    with django_db_blocker.unblock():
        flyway.migrate(management_target(), kind="affiliate_management")


@pytest.fixture(scope="session")
def admin_connection(django_db_setup, django_db_blocker):
    with django_db_blocker.unblock():
        with databases.admin_connect(management_target()) as conn:
            yield conn


def _unique_name(prefix: str) -> str:
    return f"{prefix}_{uuid.uuid4().hex[:12]}"


@pytest.fixture(scope="session")
def application_template(admin_connection):
    """An application database migrated once per session by the real Flyway."""
    name = _unique_name("test_fitbuddy_template")
    databases.database_create(admin_connection, name)
    target = flyway.DatabaseTarget.from_django(connections["default"].settings_dict, name=name)
    flyway.migrate(target, kind="application")
    yield target
    databases.database_drop(admin_connection, name)


@pytest.fixture
def application_database(admin_connection, application_template):
    """This test's own application database at the latest Flyway version."""
    name = _unique_name("test_fitbuddy_app")
    databases.database_create(admin_connection, name, template=application_template.name)
    yield flyway.DatabaseTarget.from_django(connections["default"].settings_dict, name=name)
    databases.database_drop(admin_connection, name)


@pytest.fixture
def fresh_database(admin_connection):
    """An empty database of this test's own."""
    name = _unique_name("test_fitbuddy_fresh")
    databases.database_create(admin_connection, name)
    yield flyway.DatabaseTarget.from_django(connections["default"].settings_dict, name=name)
    databases.database_drop(admin_connection, name)
