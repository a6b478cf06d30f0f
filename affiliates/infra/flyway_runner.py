"""Flyway on many databases in one JVM: FitBuddy's fleet runner.

``tools/flyway/runner/FleetRunner.java`` runs Flyway's own Java API (the same version as the
command line) for every database it is given on standard input, on a bounded thread pool, and
answers one JSON line per database. :func:`run_many` feeds it and turns each line into a
:class:`RunnerResult`.
"""

from __future__ import annotations

import json
import logging
import shlex
import subprocess
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import IO, Any, NotRequired, TypedDict

from django.conf import settings

from affiliates.infra.flyway import (
    IGNORE_MIGRATION_PATTERNS,
    FlywayError,
    FlywayNotFound,
    locations_for,
    redact,
    script_checksums,
)
from affiliates.infra.targets import DatabaseTarget

logger = logging.getLogger(__name__)


# --- many databases, one JVM ---

COMMANDS = ("migrate", "check", "info")


@dataclass(frozen=True)
class RunnerResult:
    """What the fleet runner reported for one database.

    ``outcome`` is ``succeeded``, ``failed`` or ``not_started`` (an earlier failure stopped the
    run); ``state`` is the drift state for ``check``; ``error`` is the typed error of a failure.
    """

    id: str
    outcome: str
    version: str | None = None
    initial_version: str | None = None
    migrations_executed: int = 0
    state: str = ""
    pending_scripts: tuple[str, ...] = ()
    millis: int = 0
    error: FlywayError | None = None

    @property
    def ok(self) -> bool:
        return self.outcome == "succeeded"


class _Resolved(TypedDict):
    """One versioned script as the runner compares it with a schema history."""

    version: str
    checksum: int


class _Header(TypedDict):
    """The first line the fleet runner reads: what to run, where the scripts are, how."""

    command: str
    locations: list[str]
    schemas: list[str]
    threads: int
    stopOnError: bool
    connectRetries: int
    ignoreMigrationPatterns: list[str]
    resolved: list[_Resolved]


class _TargetLine(TypedDict):
    """One line per database after the header: where it is, its login, and whether it is expected current."""

    id: str
    url: str
    user: str
    password: str
    expectCurrent: NotRequired[bool]


def run_many(
    command: str,
    targets: Mapping[str, DatabaseTarget],
    *,
    kind: str,
    threads: int,
    expect_current: Iterable[str] = (),
    stop_on_error: bool = False,
    on_result: Callable[[RunnerResult], None] | None = None,
    connect_retries: int | None = None,
) -> dict[str, RunnerResult]:
    """Run ``migrate``, ``check`` or ``info`` on many databases in one JVM; one result per target id.

    ``on_result`` is called (from a reader thread, in completion order) as each database finishes.
    ``expect_current`` names targets the registry shows at the latest version: the runner first
    checks their schema history against the scripts' checksums with one query and runs Flyway only
    if anything differs. Failures of one database are results, not exceptions; only a runner that cannot start raises
    (:class:`FlywayNotFound`). Targets the runner never answered (it crashed) fail with
    ``RUNNER_EXIT``.
    """
    if command not in COMMANDS:
        raise ValueError(f"unknown fleet command {command!r}; expected one of {', '.join(COMMANDS)}")
    if not targets:
        return {}
    header = _header(
        command, targets, kind=kind, threads=threads, stop_on_error=stop_on_error, connect_retries=connect_retries
    )
    args = shlex.split(settings.FLYWAY_FLEET_COMMAND)
    process = _start(args, command=command, targets=targets)
    # All three are pipes (_start asks for them), never None: this only tells the type checker.
    stdin, stdout, stderr_pipe = process.stdin, process.stdout, process.stderr
    assert stdin is not None and stdout is not None and stderr_pipe is not None
    expected = set(expect_current)

    stderr: list[str] = []
    feeder = threading.Thread(target=_feed, args=(stdin, header, targets, expected), daemon=True)
    drainer = threading.Thread(target=lambda: stderr.append(stderr_pipe.read()), daemon=True)
    feeder.start()
    drainer.start()
    started = time.monotonic()
    results = _read_results(process, stdout, command, targets, stderr, on_result)
    returncode = process.wait()
    feeder.join()
    drainer.join()
    logger.info(
        "flyway fleet %s on %d databases: exit %s in %.2fs",
        command,
        len(targets),
        returncode,
        time.monotonic() - started,
    )
    if returncode == 127 and not results:
        raise FlywayNotFound(
            command=command,
            database=f"{len(targets)} databases",
            error_code="FLYWAY_NOT_FOUND",
            flyway_message=("".join(stderr).strip() or f"{args[0]!r} not found")[-2000:],
        )
    _fail_unanswered(results, command, targets, returncode, stderr, on_result)
    return results


def _header(
    command: str,
    targets: Mapping[str, DatabaseTarget],
    *,
    kind: str,
    threads: int,
    stop_on_error: bool,
    connect_retries: int | None,
) -> _Header:
    # Location and seed rules are the single-database ones (no seeds in fleet runs).
    locations = locations_for(kind, seed=False, target=next(iter(targets.values())))
    return {
        "command": command,
        "locations": locations,
        "schemas": [settings.FLYWAY_SCHEMA],
        "threads": max(1, threads),
        "stopOnError": stop_on_error,
        "connectRetries": settings.FLYWAY_CONNECT_RETRIES if connect_retries is None else connect_retries,
        "ignoreMigrationPatterns": IGNORE_MIGRATION_PATTERNS.split(","),
        # For the runner's quick answer on databases expected current (see FleetRunner.alreadyCurrent).
        "resolved": [{"version": v, "checksum": c} for v, c in script_checksums(kind)],
    }


def _start(args: list[str], *, command: str, targets: Mapping[str, DatabaseTarget]) -> subprocess.Popen[str]:
    """Start the fleet runner with its three standard streams as pipes; FlywayNotFound if it cannot run."""
    try:
        return subprocess.Popen(
            args,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            cwd=settings.BASE_DIR,
        )
    except OSError as exc:
        raise FlywayNotFound(
            command=command,
            database=f"{len(targets)} databases",
            error_code="FLYWAY_NOT_FOUND",
            flyway_message=f"cannot run {args[0]!r} ({exc.strerror}); run 'make flyway' or set FLYWAY_FLEET_COMMAND",
        ) from exc


def _feed(stdin: IO[str], header: _Header, targets: Mapping[str, DatabaseTarget], expected: set[str]) -> None:
    """Write the header and one line per target to the runner (on a thread of its own), then close its input."""
    try:
        stdin.write(json.dumps(header) + "\n")
        for key, target in targets.items():
            line: _TargetLine = {"id": key, "url": target.jdbc_url, "user": target.user, "password": target.password}
            if key in expected:
                line["expectCurrent"] = True
            stdin.write(json.dumps(line) + "\n")
        stdin.close()
    except BrokenPipeError:
        pass  # the runner died; its exit status tells


def _read_results(
    process: subprocess.Popen[str],
    stdout: IO[str],
    command: str,
    targets: Mapping[str, DatabaseTarget],
    stderr: list[str],
    on_result: Callable[[RunnerResult], None] | None,
) -> dict[str, RunnerResult]:
    """The results the runner answers, by target id, as it answers them (``on_result`` is told each)."""
    results: dict[str, RunnerResult] = {}
    try:
        for line in stdout:
            result = _line_result(command, targets, line, stderr)
            if result is None:
                continue
            results[result.id] = result
            if on_result:
                on_result(result)
    except BaseException:
        # Interrupted (a task's soft time limit, a signal): end the JVM. Scripts under way roll
        # back with their connections (PostgreSQL DDL is transactional); the caller sees which
        # databases were answered through on_result.
        process.kill()
        process.wait()
        raise
    return results


def _line_result(
    command: str, targets: Mapping[str, DatabaseTarget], line: str, stderr: list[str]
) -> RunnerResult | None:
    """One line of the runner's output as a result; None for a line that is not one of the targets' results."""
    if not line.strip():
        return None
    try:
        raw = json.loads(line)
    except json.JSONDecodeError:
        stderr.append(line)  # not a result (a JVM message): kept for the error report
        return None
    if not isinstance(raw, dict):
        return None
    key: Any = raw.get("id")  # arbitrary JSON; a key no target has (None included) finds none
    target = targets.get(key)
    if target is None:
        return None
    return _result(command, target, raw)


def _fail_unanswered(
    results: dict[str, RunnerResult],
    command: str,
    targets: Mapping[str, DatabaseTarget],
    returncode: int,
    stderr: list[str],
    on_result: Callable[[RunnerResult], None] | None,
) -> None:
    """Add a ``RUNNER_EXIT`` failure for every target the runner never answered (``on_result`` is told each)."""
    for key, target in targets.items():
        if key not in results:
            error = FlywayError(
                command=command,
                database=target.name,
                error_code="RUNNER_EXIT",
                flyway_message=redact(
                    f"the fleet runner exited ({returncode}) before answering: "
                    + ("".join(stderr).strip() or "no output")[-1000:],
                    target,
                ),
            )
            results[key] = RunnerResult(id=key, outcome="failed", error=error)
            if on_result:
                on_result(results[key])


def _result(command: str, target: DatabaseTarget, raw: dict[str, Any]) -> RunnerResult:
    error = None
    if raw.get("outcome") == "failed":
        error = FlywayError(
            command=command,
            database=target.name,
            error_code=raw.get("errorCode") or "FAULT",
            flyway_message=redact(raw.get("message") or "Flyway reported failure without a message", target),
            result=raw,
        )
    elif raw.get("errorCode"):  # check: drift is a result, with Flyway's validation error attached
        error = FlywayError(
            command=command,
            database=target.name,
            error_code=raw["errorCode"],
            flyway_message=redact(raw.get("message") or "", target),
            result=raw,
        )
    state = raw.get("state") or ""
    if command == "check" and raw.get("outcome") == "failed":
        state = "unreachable" if raw.get("errorCode") == "DB_CONNECTION" else "error"
    return RunnerResult(
        id=raw["id"],
        outcome=raw.get("outcome") or "failed",
        version=raw.get("version"),
        initial_version=raw.get("initialVersion"),
        migrations_executed=int(raw.get("migrationsExecuted") or 0),
        state=state,
        pending_scripts=tuple(raw.get("pendingScripts") or ()),
        millis=int(raw.get("millis") or 0),
        error=error,
    )
