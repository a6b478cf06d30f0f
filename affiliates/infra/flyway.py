"""The one adapter between FitBuddy and the real Flyway command line.

Flyway runs as a program with ``-outputType=json``; its single JSON document is parsed and
returned. For many databases in one JVM, see :mod:`affiliates.infra.flyway_runner`.

Any failure raises :class:`FlywayError` carrying Flyway's own ``errorCode`` and
message, including the cases where Flyway exits 0 but reports ``success: false`` (a failed
migrate) or ``validationSuccessful: false`` (validate); docs/schema-changes.md lists the Flyway
behaviour this relies on.

The password travels in ``FLYWAY_PASSWORD`` (never on the command line, where ``ps`` shows it)
and never appears in an error or a log line.
"""

from __future__ import annotations

import json
import logging
import os
import re
import shlex
import subprocess
import time
import zlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.conf import settings

from affiliates.errors import ToolError
from affiliates.infra import seeds
from affiliates.infra.targets import DatabaseTarget

logger = logging.getLogger(__name__)

#: The two kinds of FitBuddy database, each with its own Flyway scripts under sql/ and seeds/.
KINDS = ("affiliate_management", "application")

#: Seeds are repeatable (R__) scripts applied only locally; a database seeded once must still
#: validate when later migrated without them.
IGNORE_MIGRATION_PATTERNS = "*:future,repeatable:missing"


class FlywayError(ToolError):
    """Flyway failed; ``error_code`` and ``flyway_message`` are Flyway's own."""

    def __init__(
        self,
        *,
        command: str,
        database: str,
        error_code: str,
        flyway_message: str,
        result: dict[str, Any] | None = None,
    ) -> None:
        self.command = command
        self.database = database
        self.error_code = error_code
        self.flyway_message = flyway_message.strip()
        self.result = result or {}
        super().__init__(f"Flyway {command} failed on database {database!r}: [{error_code}] {self.flyway_message}")


class FlywayNotFound(FlywayError):
    """The configured Flyway command does not exist or cannot run."""


@dataclass(frozen=True)
class MigrateResult:
    database: str
    initial_version: str | None
    target_version: str | None
    migrations_executed: int
    seconds: float
    raw: dict[str, Any]


def flyway_command() -> list[str]:
    return shlex.split(settings.FLYWAY_COMMAND)


def locations_for(kind: str, *, seed: bool, target: DatabaseTarget, environment: str | None = None) -> list[str]:
    """Flyway locations for a kind of database; seeds only through the guard."""
    if kind not in KINDS:
        raise ValueError(f"unknown database kind {kind!r}; expected one of {', '.join(KINDS)}")
    locations = [f"filesystem:{Path(settings.SQL_DIR) / kind}"]
    if seed:
        seeds.assert_seeding_allowed(target.host, environment=environment)
        locations.append(f"filesystem:{Path(settings.SEEDS_DIR) / kind}")
    return locations


def run(
    command: str,
    *,
    target: DatabaseTarget,
    locations: Sequence[str] = (),
    options: Iterable[str] = (),
    connect_retries: int | None = None,
) -> dict[str, Any]:
    """Run one Flyway command against one database and return its parsed JSON result."""
    retries = settings.FLYWAY_CONNECT_RETRIES if connect_retries is None else connect_retries
    args = [
        *flyway_command(),
        f"-url={target.jdbc_url}",
        f"-schemas={settings.FLYWAY_SCHEMA}",
        f"-connectRetries={retries}",
        "-connectRetriesInterval=10",
        f"-ignoreMigrationPatterns={IGNORE_MIGRATION_PATTERNS}",
        "-outputType=json",
        *([f"-locations={','.join(locations)}"] if locations else []),
        *options,
        command,
    ]
    env = {
        **os.environ,
        "FLYWAY_USER": target.user,
        "FLYWAY_PASSWORD": target.password,
    }
    # Never let a stray config file or environment override what this call says.
    for key in ("FLYWAY_URL", "FLYWAY_LOCATIONS", "FLYWAY_SCHEMAS", "FLYWAY_CONFIG_FILES"):
        env.pop(key, None)
    started = time.monotonic()
    try:
        completed = subprocess.run(
            args,
            env=env,
            capture_output=True,
            text=True,
            timeout=settings.FLYWAY_TIMEOUT_SECONDS,
            cwd=settings.BASE_DIR,
        )
    except FileNotFoundError as exc:
        raise FlywayNotFound(
            command=command,
            database=target.name,
            error_code="FLYWAY_NOT_FOUND",
            flyway_message=f"cannot run {args[0]!r} ({exc.strerror}); run 'make flyway' or set FLYWAY_COMMAND",
        ) from exc
    except subprocess.TimeoutExpired as exc:
        raise FlywayError(
            command=command,
            database=target.name,
            error_code="TIMEOUT",
            flyway_message=f"Flyway did not finish within {settings.FLYWAY_TIMEOUT_SECONDS} s",
        ) from exc
    elapsed = time.monotonic() - started
    logger.info("flyway %s on %s: exit %s in %.2fs", command, target, completed.returncode, elapsed)

    if completed.returncode == 127 and not completed.stdout.strip():
        raise FlywayNotFound(
            command=command,
            database=target.name,
            error_code="FLYWAY_NOT_FOUND",
            flyway_message=redact(completed.stderr.strip() or f"{args[0]!r} not found", target),
        )
    try:
        result = json.loads(completed.stdout)
    except json.JSONDecodeError:
        raise FlywayError(
            command=command,
            database=target.name,
            error_code="NO_JSON_OUTPUT",
            flyway_message=redact(
                f"exit {completed.returncode}; "
                + (completed.stderr.strip() or completed.stdout.strip() or "no output")[-2000:],
                target,
            ),
        ) from None
    if not isinstance(result, dict):
        raise FlywayError(
            command=command,
            database=target.name,
            error_code="NO_JSON_OUTPUT",
            flyway_message=f"unexpected output: {completed.stdout[:200]}",
        )
    _raise_for_failure(command, target, completed.returncode, result)
    result["_seconds"] = elapsed
    return result


def _raise_for_failure(command: str, target: DatabaseTarget, returncode: int, result: dict[str, Any]) -> None:
    error = result.get("error")
    if error or result.get("success") is False or returncode != 0:
        error = error or {}
        raise FlywayError(
            command=command,
            database=target.name,
            error_code=error.get("errorCode") or ("FAILED" if returncode == 0 else f"EXIT_{returncode}"),
            flyway_message=redact(error.get("message") or "Flyway reported failure without a message", target),
            result=result,
        )
    if result.get("validationSuccessful") is False:
        invalid = result.get("invalidMigrations") or []
        codes = sorted({(m.get("errorDetails") or {}).get("errorCode", "VALIDATION") for m in invalid})
        messages = [(m.get("errorDetails") or {}).get("errorMessage", "") for m in invalid] or [
            result.get("errorDetails") or "validation failed"
        ]
        raise FlywayError(
            command=command,
            database=target.name,
            error_code=",".join(codes) or "VALIDATION",
            flyway_message=redact("; ".join(str(m) for m in messages if m), target),
            result=result,
        )


def redact(text: str, target: DatabaseTarget) -> str:
    return text.replace(target.password, "********") if target.password else text


def migrate(
    target: DatabaseTarget,
    *,
    kind: str,
    seed: bool = False,
    connect_retries: int | None = None,
    environment: str | None = None,
) -> MigrateResult:
    """Bring a database to the latest version of its kind's scripts (and seeds, if allowed)."""
    locations = locations_for(kind, seed=seed, target=target, environment=environment)
    options = [f"-placeholders.{key}={value}" for key, value in seed_placeholders().items()] if seed else []
    result = run("migrate", target=target, locations=locations, options=options, connect_retries=connect_retries)
    return MigrateResult(
        database=target.name,
        initial_version=result.get("initialSchemaVersion"),
        target_version=result.get("targetSchemaVersion") or result.get("initialSchemaVersion"),
        migrations_executed=int(result.get("migrationsExecuted") or 0),
        seconds=result["_seconds"],
        raw=result,
    )


def seed_placeholders() -> dict[str, str]:
    """Values the seeds refer to as ${name}: the local default affiliate's database."""
    return {"local_application_database": settings.LOCAL_APPLICATION_DATABASE}


def info(target: DatabaseTarget, *, kind: str, connect_retries: int | None = None) -> dict[str, Any]:
    """Flyway ``info``: ``schemaVersion`` and each migration's ``state``."""
    return run(
        "info", target=target, locations=locations_for(kind, seed=False, target=target), connect_retries=connect_retries
    )


def validate(target: DatabaseTarget, *, kind: str, connect_retries: int | None = None) -> dict[str, Any]:
    """Flyway ``validate``; raises on drift (checksum mismatch, missing or unapplied scripts)."""
    return run(
        "validate",
        target=target,
        locations=locations_for(kind, seed=False, target=target),
        connect_retries=connect_retries,
    )


_latest_cache: dict[tuple[str, int], str] = {}


def latest_version(kind: str) -> str:
    """The highest script version of a kind on disk (what a fully migrated database reports).

    Cached per directory and modification time: a new script changes the directory's mtime.
    """
    directory = Path(settings.SQL_DIR) / kind
    try:
        key = (str(directory), directory.stat().st_mtime_ns)
    except FileNotFoundError:
        raise ValueError(f"no Flyway scripts in {directory}") from None
    if key not in _latest_cache:
        versions = [path.name[1:].split("__", 1)[0] for path in directory.glob("V*__*.sql")]
        if not versions:
            raise ValueError(f"no Flyway scripts in {directory}")
        _latest_cache[key] = max(versions, key=version_key)
    return _latest_cache[key]


def version_key(version: str | None) -> tuple[int, ...]:
    """A Flyway version as numbers, for comparing (``""``/None sorts first; ``1.0`` equals ``1``)."""
    if not version:
        return ()
    parts = [int(p) for p in version.replace("_", ".").split(".")]
    while parts and parts[-1] == 0:
        parts.pop()
    return tuple(parts)


def script_checksum(path: Path) -> int:
    """Flyway's checksum of a versioned script: CRC32 over its lines (UTF-8, no line breaks, no BOM)."""
    text = path.read_bytes().decode("utf-8").removeprefix("\ufeff")
    lines = re.split(r"\r\n|\r|\n", text)
    if lines and lines[-1] == "":
        lines.pop()  # a final line break ends the last line; it does not start another
    crc = 0
    for line in lines:
        crc = zlib.crc32(line.encode("utf-8"), crc)
    return crc - (1 << 32) if crc >= 1 << 31 else crc  # Java's signed int, as the history table stores it


def script_checksums(kind: str) -> list[tuple[str, int]]:
    """(version, checksum) of each versioned script of a kind, in version order."""
    directory = Path(settings.SQL_DIR) / kind
    scripts = [(path.name[1:].split("__", 1)[0], path) for path in directory.glob("V*__*.sql")]
    return [(version, script_checksum(path)) for version, path in sorted(scripts, key=lambda s: version_key(s[0]))]
