"""Every unmanaged model matches the live, Flyway-migrated schema, and every table has a model."""

from __future__ import annotations

import psycopg
import pytest
from django.apps import apps
from django.db import connection

from affiliates.infra.targets import DatabaseTarget

pytestmark = pytest.mark.django_db

MANAGEMENT_APPS = {"affiliates"}
APPLICATION_APPS = {"accounts", "members", "workouts", "leaderboards", "classes"}
FLYWAY_TABLES = {"flyway_schema_history"}


def _normalise(type_name: str) -> str:
    if type_name == "time":  # Django's TimeField
        return "time without time zone"
    return (
        type_name.replace("varchar", "character varying")
        .replace("char(", "character(")
        .replace(", ", ",")
        .replace("serial", "integer")
    )


def _live_columns(target: DatabaseTarget) -> dict[str, dict[str, tuple[str, bool]]]:
    query = """
        SELECT c.relname, a.attname, format_type(a.atttypid, a.atttypmod), NOT a.attnotnull
          FROM pg_attribute a
          JOIN pg_class c ON c.oid = a.attrelid
          JOIN pg_namespace n ON n.oid = c.relnamespace
         WHERE n.nspname = 'master' AND c.relkind = 'r' AND a.attnum > 0 AND NOT a.attisdropped
    """
    tables: dict[str, dict[str, tuple[str, bool]]] = {}
    with psycopg.connect(**target.conninfo()) as conn:
        for table, column, type_name, nullable in conn.execute(query):
            tables.setdefault(table, {})[column] = (type_name, nullable)
    return tables


def _model_columns(model) -> dict[str, tuple[str, bool]]:
    columns = {}
    for field in model._meta.local_concrete_fields:
        columns[field.column] = (_normalise(field.db_type(connection)), field.null)
    return columns


def _models(app_labels):
    return [m for m in apps.get_models() if m._meta.app_label in app_labels and not m._meta.auto_created]


def _assert_match(target, app_labels):
    live = _live_columns(target)
    models = _models(app_labels)
    assert models, f"no models found for {app_labels}"
    problems = []
    for model in models:
        assert model._meta.managed is False, f"{model.__name__} must be unmanaged (Flyway owns the table)"
        table = model._meta.db_table
        if table not in live:
            problems.append(f"{model.__name__}: table master.{table} does not exist")
            continue
        expected = _model_columns(model)
        for column, (type_name, nullable) in expected.items():
            if column not in live[table]:
                problems.append(f"{table}.{column}: column missing in the database")
                continue
            live_type, live_nullable = live[table][column]
            if live_type != type_name:
                problems.append(f"{table}.{column}: model type {type_name} but database type {live_type}")
            if live_nullable != nullable:
                problems.append(f"{table}.{column}: model null={nullable} but database nullable={live_nullable}")
        for column in live[table].keys() - expected.keys():
            problems.append(f"{table}.{column}: column has no model field")
    modelled = {m._meta.db_table for m in models}
    for table in live.keys() - modelled - FLYWAY_TABLES:
        problems.append(f"master.{table}: table has no model")
    assert not problems, "schema and models drifted:\n" + "\n".join(problems)


def test_management_models_match_the_flyway_schema():
    _assert_match(DatabaseTarget.from_django(connection.settings_dict), MANAGEMENT_APPS)


def test_application_models_match_the_flyway_schema(application_database):
    _assert_match(application_database, APPLICATION_APPS)


def test_a_drift_is_detected(application_database):
    with psycopg.connect(**application_database.conninfo()) as conn:
        conn.execute("ALTER TABLE master.member ALTER COLUMN last_name DROP NOT NULL")
        conn.execute("ALTER TABLE master.member ADD COLUMN nickname text")

    with pytest.raises(AssertionError) as caught:
        _assert_match(application_database, APPLICATION_APPS)

    assert "member.last_name: model null=False but database nullable=True" in str(caught.value)
    assert "member.nickname: column has no model field" in str(caught.value)
