"""Backups of affiliate databases: ``pg_dump`` in custom format, checked with ``pg_restore --list``.

A backup is written under a ``.partial`` name and renamed only once it reads back, so a file
named ``<slug>-<UTC time>.dump`` in ``FITBUDDY_BACKUP_DIR`` is always a complete backup.
"""

from __future__ import annotations

import shutil
import subprocess
from datetime import UTC, datetime
from pathlib import Path

from django.conf import settings

from .errors import BackupError
from .flyway import DatabaseTarget

#: A backup must contain the results table's data to count as a backup of a gym.
REQUIRED_ENTRY = "TABLE DATA {schema} participation"


def backup_take(target: DatabaseTarget, *, label: str) -> Path:
    """Dump ``target`` (as its login) into the backup folder and check it reads back; the path of the backup."""
    folder = Path(settings.BACKUP_DIR)
    folder.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    path = folder / f"{label}-{stamp}.dump"
    partial = path.with_suffix(".dump.partial")
    completed = subprocess.run(
        [
            shutil.which("pg_dump") or "pg_dump",
            "--format=custom",
            "--no-owner",
            f"--file={partial}",
            *target.client_args(),
            target.name,
        ],
        env=target.client_env(),
        capture_output=True,
        text=True,
        timeout=3600,
    )
    if completed.returncode != 0:
        partial.unlink(missing_ok=True)
        raise BackupError(f"pg_dump of {target.name} failed: {completed.stderr.strip()}")
    # A backup that pg_restore cannot read is no backup: check before anything is dropped.
    check = subprocess.run(["pg_restore", "--list", str(partial)], capture_output=True, text=True)
    if check.returncode != 0 or REQUIRED_ENTRY.format(schema=settings.FLYWAY_SCHEMA) not in check.stdout:
        raise BackupError(f"the backup of {target.name} is unreadable: {check.stderr.strip()}")
    partial.rename(path)
    return path
