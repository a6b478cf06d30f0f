"""Backups are private: local files mode 0600 (and their temporary copies), S3 objects encrypted at rest."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from affiliates.errors import BackupError
from affiliates.infra import backups
from affiliates.infra.targets import affiliate_target

pytestmark = pytest.mark.django_db(transaction=True)

BUCKET = "fitbuddy-test-backups-encrypted"


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_a_local_backup_is_mode_0600_in_a_private_folder_whatever_the_umask(gyms, settings, tmp_path):
    settings.BACKUP_BUCKET = ""
    settings.BACKUP_DIR = tmp_path / "backups"
    old = os.umask(0o000)  # the most open umask a service could run under
    try:
        backup = backups.backup_take(affiliate_target(gyms.a), label=gyms.a.slug)
    finally:
        os.umask(old)

    assert _mode(Path(backup.location)) == 0o600
    assert _mode(settings.BACKUP_DIR) == 0o700
    assert not list(settings.BACKUP_DIR.glob("*.partial"))


@pytest.mark.parametrize("encryption", ["AES256", "aws:kms"])
def test_a_backup_in_s3_is_encrypted_at_rest_and_its_fetched_copy_is_0600(gyms, aws, settings, tmp_path, encryption):
    settings.BACKUP_BUCKET = BUCKET
    settings.BACKUP_S3_ENCRYPTION = encryption
    s3 = backups.s3_client()
    s3.create_bucket(Bucket=BUCKET)

    backup = backups.backup_take(affiliate_target(gyms.a), label=gyms.a.slug)

    key = backup.location.removeprefix(f"s3://{BUCKET}/")
    assert s3.head_object(Bucket=BUCKET, Key=key)["ServerSideEncryption"] == encryption
    old = os.umask(0o000)
    try:
        copy = backups.backup_fetch(backup.location, tmp_path)
    finally:
        os.umask(old)
    assert _mode(copy) == 0o600


def test_an_unknown_encryption_setting_uploads_nothing(gyms, aws, settings):
    settings.BACKUP_BUCKET = BUCKET
    settings.BACKUP_S3_ENCRYPTION = "none"
    s3 = backups.s3_client()
    s3.create_bucket(Bucket=BUCKET)

    with pytest.raises(BackupError, match="never stored in S3 unencrypted"):
        backups.backup_take(affiliate_target(gyms.a), label=gyms.a.slug)

    assert s3.list_objects_v2(Bucket=BUCKET).get("KeyCount", 0) == 0


def test_the_system_check_refuses_an_unknown_encryption(settings):
    from affiliates.checks import check_backup_encryption

    settings.BACKUP_S3_ENCRYPTION = "AES128"
    assert [error.id for error in check_backup_encryption(None)] == ["affiliates.E009"]
