"""Backups of affiliate databases: ``pg_dump`` in custom format, checked before anything trusts them.

With ``FITBUDDY_BACKUP_BUCKET`` set, the dump streams straight into S3 (a multipart upload, key
``affiliates/<slug>/<UTC time>.dump``) while its SHA-256 is computed; the object is then checked:
its size, its SHA-256 read back, and ``pg_restore --list`` on it. A backup that fails any check is
deleted and raises :class:`BackupError`, so archive never drops a database on a bad backup.
Without a bucket, backups go to ``FITBUDDY_BACKUP_DIR``, written under a ``.partial`` name and
renamed only once they read back.

A backup holds every login's password hash and every member's personal data: each file this module
writes (a local backup, a copy fetched for a restore or a check) is mode 0600 in a folder only its
owner can enter, and every object it uploads is encrypted at rest by S3
(``BACKUP_S3_ENCRYPTION``: ``AES256`` or ``aws:kms`` with ``BACKUP_S3_KMS_KEY_ID``); the check after
the upload refuses an object S3 did not encrypt so.

``backup_fetch`` brings a backup (the newest of an affiliate, or a named one) to a local file
for ``pg_restore``, checking its SHA-256 against the one recorded with it.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any

from django.conf import settings

from affiliates.errors import BackupError
from affiliates.infra.targets import DatabaseTarget

#: A backup must contain the results table's data to count as a backup of a gym.
REQUIRED_ENTRY = "TABLE DATA {schema} participation"
PART_SIZE = 8 * 1024 * 1024
S3_PREFIX = "s3://"
#: A backup file: its owner reads and writes it, nobody else sees it. Its folder: its owner only.
FILE_MODE = 0o600
FOLDER_MODE = 0o700
#: The server-side encryptions S3 offers that FitBuddy accepts for backups.
S3_ENCRYPTIONS = ("AES256", "aws:kms", "aws:kms:dsse")


@dataclass(frozen=True)
class Backup:
    location: str  # s3://bucket/key, or a local path
    sha256: str
    size: int

    def __str__(self) -> str:
        return f"{self.location} (sha256 {self.sha256}, {self.size} bytes)"


def s3_client() -> Any:  # boto3 has no type hints
    import boto3

    return boto3.client("s3", region_name=settings.AWS_REGION)


def _dump_command(target: DatabaseTarget, *extra: str) -> list[str]:
    return [
        shutil.which("pg_dump") or "pg_dump",
        "--format=custom",
        "--no-owner",
        # The pooler's auth lookup belongs to the server (every database gets it from template1),
        # not to the gym's data: a restore finds it in place.
        "--exclude-schema=pgbouncer",
        *extra,
        *target.client_args(),
        target.name,
    ]


def restore_command(target: DatabaseTarget, *source: str) -> list[str]:
    """``pg_restore`` into ``target``'s existing database, as a whole or not at all: data and schema
    without the dump's owners and privileges (the target's administrator may be another login); the
    dump is ``source`` (a file), or standard input when none is given. Run it with ``target.client_env()``."""
    return [
        shutil.which("pg_restore") or "pg_restore",
        "--no-owner",
        "--no-privileges",
        "--exit-on-error",
        "--single-transaction",
        *target.client_args(),
        "--dbname",
        target.name,
        *source,
    ]


def _check_readable(path: Path, what: str) -> None:
    check = subprocess.run(["pg_restore", "--list", str(path)], capture_output=True, text=True)
    if check.returncode != 0 or REQUIRED_ENTRY.format(schema=settings.FLYWAY_SCHEMA) not in check.stdout:
        raise BackupError(f"the backup of {what} is unreadable: {check.stderr.strip() or 'no participation data'}")


def _private_file(path: Path) -> None:
    """Create ``path`` empty with mode 0600 (whatever the umask), for pg_dump to write into."""
    os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, FILE_MODE))
    os.chmod(path, FILE_MODE)  # the umask cannot widen it, but a filesystem's defaults might


def _private_folder(folder: Path) -> None:
    """Create ``folder`` (mode 0700) if it is missing; an existing one is left as its owner set it."""
    if not folder.exists():
        folder.mkdir(parents=True, mode=FOLDER_MODE)
        os.chmod(folder, FOLDER_MODE)


def upload_encryption() -> dict[str, str]:
    """The server-side encryption every backup upload asks S3 for (``ExtraArgs`` of the upload)."""
    encryption: str = settings.BACKUP_S3_ENCRYPTION
    if encryption not in S3_ENCRYPTIONS:
        raise BackupError(
            f"BACKUP_S3_ENCRYPTION is {encryption!r}; it must be one of {', '.join(S3_ENCRYPTIONS)}: "
            "backups are never stored in S3 unencrypted"
        )
    args = {"ServerSideEncryption": encryption}
    if encryption.startswith("aws:kms") and settings.BACKUP_S3_KMS_KEY_ID:
        args["SSEKMSKeyId"] = settings.BACKUP_S3_KMS_KEY_ID
    return args


def sha256_of(path: Path) -> str:
    """The SHA-256 of a local file (a backup as written, read back or fetched)."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(1024 * 1024):
            digest.update(chunk)
    return digest.hexdigest()


def destination() -> str:
    """Where backups go: the S3 bucket's prefix, or the local folder."""
    if settings.BACKUP_BUCKET:
        return f"{S3_PREFIX}{settings.BACKUP_BUCKET}/affiliates/"
    return str(Path(settings.BACKUP_DIR).resolve())


def backup_take(target: DatabaseTarget, *, label: str, tags: dict[str, str] | None = None) -> Backup:
    """Dump ``target`` (as its login) to S3 or the backup folder and check it reads back.

    ``tags`` are put on the S3 object beside its SHA-256 (the retention tier the lifecycle rules read).
    """
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S.%fZ")  # two backups in one second stay two
    if settings.BACKUP_BUCKET:
        return _to_s3(target, key=f"affiliates/{label}/{stamp}.dump", tags=tags or {})
    folder = Path(settings.BACKUP_DIR)
    _private_folder(folder)
    path = folder / f"{label}-{stamp}.dump"
    partial = path.with_suffix(".dump.partial")
    _private_file(partial)
    completed = subprocess.run(
        _dump_command(target, f"--file={partial}"),
        env=target.client_env(),
        capture_output=True,
        text=True,
        timeout=3600,
    )
    if completed.returncode != 0:
        partial.unlink(missing_ok=True)
        raise BackupError(f"pg_dump of {target.name} failed: {completed.stderr.strip()}")
    # A backup that pg_restore cannot read is no backup: check before anything is dropped.
    _check_readable(partial, target.name)
    partial.rename(path)
    return Backup(str(path), sha256_of(path), path.stat().st_size)


class _Hashing:
    """A read-only stream that hashes and counts what passes through it."""

    def __init__(self, stream: IO[bytes]) -> None:
        self.stream = stream
        self.digest = hashlib.sha256()
        self.size = 0

    def read(self, size: int = -1) -> bytes:
        data = self.stream.read(size)
        self.digest.update(data)
        self.size += len(data)
        return data


def _to_s3(target: DatabaseTarget, *, key: str, tags: dict[str, str]) -> Backup:
    from boto3.s3.transfer import TransferConfig
    from botocore.exceptions import BotoCoreError, ClientError

    bucket, s3 = settings.BACKUP_BUCKET, s3_client()
    encryption = upload_encryption()
    location = f"{S3_PREFIX}{bucket}/{key}"
    dump = subprocess.Popen(
        _dump_command(target), env=target.client_env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
    # Both are pipes (asked for above), never None: this only tells the type checker.
    assert dump.stdout is not None and dump.stderr is not None
    stream = _Hashing(dump.stdout)
    config = TransferConfig(multipart_threshold=PART_SIZE, multipart_chunksize=PART_SIZE, use_threads=False)
    try:
        s3.upload_fileobj(stream, bucket, key, Config=config, ExtraArgs=encryption)
    except (BotoCoreError, ClientError) as exc:
        dump.kill()
        dump.wait()
        raise BackupError(f"uploading the backup of {target.name} to {location} failed: {exc}") from exc
    stderr = dump.stderr.read().decode(errors="replace")
    if dump.wait() != 0:
        s3.delete_object(Bucket=bucket, Key=key)
        raise BackupError(f"pg_dump of {target.name} failed: {stderr.strip()}")
    backup = Backup(location, stream.digest.hexdigest(), stream.size)
    try:
        _verify_s3(s3, bucket, key, backup, target.name)
    except BackupError:
        s3.delete_object(Bucket=bucket, Key=key)
        raise
    tag_set = [{"Key": "sha256", "Value": backup.sha256}, *({"Key": k, "Value": v} for k, v in tags.items())]
    s3.put_object_tagging(Bucket=bucket, Key=key, Tagging={"TagSet": tag_set})
    return backup


def _verify_s3(s3: Any, bucket: str, key: str, backup: Backup, what: str) -> None:
    head = s3.head_object(Bucket=bucket, Key=key)
    wanted = settings.BACKUP_S3_ENCRYPTION
    if head.get("ServerSideEncryption") != wanted:
        raise BackupError(
            f"the backup of {what} in S3 is encrypted with {head.get('ServerSideEncryption') or 'nothing'}, "
            f"not {wanted} as BACKUP_S3_ENCRYPTION asks"
        )
    if head["ContentLength"] != backup.size:
        raise BackupError(f"the backup of {what} in S3 has {head['ContentLength']} bytes, {backup.size} were sent")
    with tempfile.TemporaryDirectory(prefix="fitbuddy-backup-") as folder:
        copy = Path(folder) / "check.dump"
        s3.download_file(bucket, key, str(copy))
        os.chmod(copy, FILE_MODE)
        if sha256_of(copy) != backup.sha256:
            raise BackupError(f"the backup of {what} read back from S3 differs from what was sent")
        _check_readable(copy, what)


def backup_latest(label: str) -> str:
    """The newest backup of an affiliate (its location), or BackupError."""
    if settings.BACKUP_BUCKET:
        pages = (
            s3_client()
            .get_paginator("list_objects_v2")
            .paginate(Bucket=settings.BACKUP_BUCKET, Prefix=f"affiliates/{label}/")
        )
        keys = [item["Key"] for page in pages for item in page.get("Contents", [])]
        if keys:
            return f"{S3_PREFIX}{settings.BACKUP_BUCKET}/{max(keys)}"
    else:
        paths = sorted(Path(settings.BACKUP_DIR).glob(f"{label}-*.dump"))
        if paths:
            return str(paths[-1])
    raise BackupError(f"no backup of {label} found")


def backup_fetch(location: str, folder: Path) -> Path:
    """A local copy of a backup (S3 objects are downloaded and their recorded SHA-256 checked)."""
    if not location.startswith(S3_PREFIX):
        path = Path(location)
        if not path.is_file():
            raise BackupError(f"no backup file {location}")
        return path
    from botocore.exceptions import BotoCoreError, ClientError

    bucket, _, key = location.removeprefix(S3_PREFIX).partition("/")
    s3 = s3_client()
    copy = folder / "restore.dump"
    try:
        s3.download_file(bucket, key, str(copy))
        os.chmod(copy, FILE_MODE)
        tags = {t["Key"]: t["Value"] for t in s3.get_object_tagging(Bucket=bucket, Key=key)["TagSet"]}
    except (BotoCoreError, ClientError) as exc:
        raise BackupError(f"cannot fetch {location}: {exc}") from exc
    if tags.get("sha256") and tags["sha256"] != sha256_of(copy):
        raise BackupError(f"{location} does not match the SHA-256 recorded when it was taken")
    return copy


# --- retention: files deleted, S3 tags and lifecycle rules (affiliates/operations/backup_retention.py) ---


def _s3_parts(location: str) -> tuple[str, str]:
    bucket, _, key = location.removeprefix(S3_PREFIX).partition("/")
    return bucket, key


def backup_delete(location: str) -> bool:
    """Delete one backup (a file, or an S3 object); True when something was there to delete."""
    if location.startswith(S3_PREFIX):
        bucket, key = _s3_parts(location)
        s3_client().delete_object(Bucket=bucket, Key=key)
        return True
    path = Path(location)
    if not path.is_file():
        return False
    path.unlink()
    return True


def s3_keys(bucket: str, prefix: str = "affiliates/") -> set[str]:
    """Every key under ``prefix`` in ``bucket`` (one listing, a thousand keys a page)."""
    pages = s3_client().get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix)
    return {item["Key"] for page in pages for item in page.get("Contents", [])}


def s3_location_key(location: str) -> tuple[str, str] | None:
    """(bucket, key) of an S3 backup's location, or None for a local file."""
    return _s3_parts(location) if location.startswith(S3_PREFIX) else None


def s3_tag_set(location: str, key: str, value: str) -> None:
    """Set one tag of a backup's S3 object, keeping its others (the SHA-256 above all)."""
    bucket, object_key = _s3_parts(location)
    s3 = s3_client()
    tags = {t["Key"]: t["Value"] for t in s3.get_object_tagging(Bucket=bucket, Key=object_key)["TagSet"]}
    tags[key] = value
    s3.put_object_tagging(
        Bucket=bucket, Key=object_key, Tagging={"TagSet": [{"Key": k, "Value": v} for k, v in tags.items()]}
    )


def lifecycle_put(bucket: str, rules: list[dict[str, Any]]) -> None:
    """Replace the bucket's lifecycle rules with ``rules``."""
    s3_client().put_bucket_lifecycle_configuration(Bucket=bucket, LifecycleConfiguration={"Rules": rules})


def lifecycle_get(bucket: str) -> list[dict[str, Any]]:
    """The bucket's lifecycle rules (none: an empty list)."""
    from botocore.exceptions import ClientError

    try:
        rules: list[dict[str, Any]] = s3_client().get_bucket_lifecycle_configuration(Bucket=bucket)["Rules"]
    except ClientError as exc:
        if exc.response.get("Error", {}).get("Code") == "NoSuchLifecycleConfiguration":
            return []
        raise
    return rules
