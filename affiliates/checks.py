"""System checks for settings that would otherwise fail silently (run by every manage.py command)."""

from __future__ import annotations

import shlex
import shutil
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from django.apps import AppConfig
from django.conf import settings
from django.core.checks import CheckMessage, Error, Tags, Warning, register
from django.http.request import validate_host

from affiliates.operations.affiliate_database import SchemaSource


@register(Tags.compatibility)
def check_provisioning_strategy(app_configs: Sequence[AppConfig] | None, **kwargs: Any) -> list[CheckMessage]:
    if settings.PROVISIONING_STRATEGY not in SchemaSource.ALL:
        return [
            Error(
                f"PROVISIONING_STRATEGY is {settings.PROVISIONING_STRATEGY!r}.",
                hint=f"Use one of: {', '.join(SchemaSource.ALL)}.",
                id="affiliates.E001",
            )
        ]
    return []


@register(Tags.compatibility)
def check_task_limits(app_configs: Sequence[AppConfig] | None, **kwargs: Any) -> list[CheckMessage]:
    """Redis hands an unacknowledged task to another worker after its visibility timeout: it must
    outlast the longest a task may run, or a provisioning still under way runs twice."""
    errors: list[CheckMessage] = []
    hard, soft = settings.CELERY_TASK_TIME_LIMIT, settings.CELERY_TASK_SOFT_TIME_LIMIT
    visibility = settings.CELERY_BROKER_TRANSPORT_OPTIONS.get("visibility_timeout", 3600)
    if not settings.CELERY_TASK_ACKS_LATE:
        errors.append(
            Error(
                "CELERY_TASK_ACKS_LATE is off: a worker killed mid-provisioning would lose the task.",
                hint="Set CELERY_TASK_ACKS_LATE = True.",
                id="affiliates.E002",
            )
        )
    if not hard or visibility <= hard:
        errors.append(
            Error(
                f"The Redis visibility timeout ({visibility} s) does not outlast CELERY_TASK_TIME_LIMIT ({hard} s).",
                hint="Set a time limit, and a visibility_timeout in CELERY_BROKER_TRANSPORT_OPTIONS above it.",
                id="affiliates.E003",
            )
        )
    if hard and soft and soft >= hard:
        errors.append(
            Error(
                f"CELERY_TASK_SOFT_TIME_LIMIT ({soft} s) is not below CELERY_TASK_TIME_LIMIT ({hard} s).",
                hint="The soft limit lets a task record its failure before the hard limit kills it.",
                id="affiliates.E004",
            )
        )
    return errors


@register(Tags.compatibility)
def check_connection_limits(app_configs: Sequence[AppConfig] | None, **kwargs: Any) -> list[CheckMessage]:
    errors: list[CheckMessage] = []
    if settings.AFFILIATE_CREDENTIALS not in ("derived", "secretsmanager"):
        errors.append(
            Error(
                f"AFFILIATE_CREDENTIALS is {settings.AFFILIATE_CREDENTIALS!r}.",
                hint="Use 'derived' (local, test) or 'secretsmanager' (production).",
                id="affiliates.E008",
            )
        )
    for name in (
        "AFFILIATE_CONNECTIONS_PER_THREAD",
        "AFFILIATE_POOLED_CONNECTIONS_PER_THREAD",
        "AFFILIATE_ROLE_CONNECTION_LIMIT",
        "FLEET_CONNECTIONS_PER_SERVER",
    ):
        if getattr(settings, name) < 1:
            errors.append(Error(f"{name} must be at least 1.", id="affiliates.E005"))
    return errors


def _fleet_runner_built(launcher: str) -> bool:
    """The project's launcher needs its compiled runner beside it; another launcher is trusted."""
    path = Path(launcher)
    if path.name != "fleet" or not (path.parent / "runner").is_dir():
        return True
    return any((path.parent / "dist" / "runner").glob(".built-*"))


@register(Tags.compatibility)
def check_flyway(app_configs: Sequence[AppConfig] | None, **kwargs: Any) -> list[CheckMessage]:
    errors: list[CheckMessage] = []
    command = shlex.split(settings.FLYWAY_COMMAND or "")
    if not command or shutil.which(command[0]) is None:
        errors.append(
            Warning(
                f"FLYWAY_COMMAND {settings.FLYWAY_COMMAND!r} is not an executable: provisioning and "
                "start_local_database will fail.",
                hint="Run `make flyway`, or set FLYWAY_COMMAND to your Flyway installation.",
                id="affiliates.W001",
            )
        )
    fleet = shlex.split(settings.FLYWAY_FLEET_COMMAND or "")
    if not fleet or shutil.which(fleet[0]) is None or not _fleet_runner_built(fleet[0]):
        errors.append(
            Warning(
                f"FLYWAY_FLEET_COMMAND {settings.FLYWAY_FLEET_COMMAND!r} cannot run: migrate_affiliates "
                "and the command center's migrate and drift-check actions will fail.",
                hint="Run `make flyway` (it builds the fleet runner), or set FLYWAY_FLEET_COMMAND.",
                id="affiliates.W003",
            )
        )
    for kind in ("affiliate_management", "application"):
        if not any((Path(settings.SQL_DIR) / kind).glob("V*__*.sql")):
            errors.append(
                Error(
                    f"No Flyway scripts in {Path(settings.SQL_DIR) / kind}.",
                    hint="Check FITBUDDY_SQL_DIR.",
                    id="affiliates.E006",
                )
            )
    return errors


@register(Tags.compatibility)
def check_management_hosts(app_configs: Sequence[AppConfig] | None, **kwargs: Any) -> list[CheckMessage]:
    """A command-center host Django refuses answers 400 to everyone, with no hint why."""
    if not settings.MANAGEMENT_HOSTS:
        return [Error("MANAGEMENT_HOSTS is empty: the command center is unreachable.", id="affiliates.E007")]
    refused = [host for host in settings.MANAGEMENT_HOSTS if not validate_host(host, settings.ALLOWED_HOSTS)]
    if refused:
        return [
            Warning(
                f"MANAGEMENT_HOSTS {', '.join(refused)} not allowed by ALLOWED_HOSTS: Django refuses their requests.",
                hint="Add them to DJANGO_ALLOWED_HOSTS.",
                id="affiliates.W002",
            )
        ]
    return []


@register(Tags.compatibility)
def check_backup_encryption(app_configs: Sequence[AppConfig] | None, **kwargs: Any) -> list[CheckMessage]:
    from affiliates.infra.backups import S3_ENCRYPTIONS

    if settings.BACKUP_S3_ENCRYPTION not in S3_ENCRYPTIONS:
        return [
            Error(
                f"BACKUP_S3_ENCRYPTION is {settings.BACKUP_S3_ENCRYPTION!r}: backups would not be uploaded.",
                hint=f"Use one of: {', '.join(S3_ENCRYPTIONS)}.",
                id="affiliates.E009",
            )
        ]
    return []
