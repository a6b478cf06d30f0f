"""What operating the fleet records: moves between servers (V13), each gym's load (V11), backups and
restore drills (V12)."""

from __future__ import annotations

from django.db import models
from django.db.models.functions import Now

from affiliates.models.registry import Affiliate, DatabaseServer
from affiliates.silos import management_model


@management_model
class AffiliateMove(models.Model):
    """A move of a gym's database to another server (operations/move.py), resumed from its state."""

    class Method(models.TextChoices):
        LOGICAL = "logical", "Logical replication"
        DUMP = "dump", "Dump and restore"

    class State(models.TextChoices):
        PENDING = "pending", "Pending"
        COPYING = "copying", "Copying"
        PAUSING = "pausing", "Write pause"
        SWITCHED = "switched", "Switched"
        DONE = "done", "Done"
        FAILED = "failed", "Failed"
        ROLLED_BACK = "rolled_back", "Rolled back"

    #: A move in one of these states is over; any other is resumed by the reconciler.
    FINISHED = (State.DONE, State.FAILED, State.ROLLED_BACK)

    affiliate = models.ForeignKey(Affiliate, on_delete=models.CASCADE, related_name="moves")
    source_server = models.ForeignKey(DatabaseServer, on_delete=models.PROTECT, related_name="+")
    destination_server = models.ForeignKey(DatabaseServer, on_delete=models.PROTECT, related_name="+")
    method = models.CharField(max_length=10, choices=Method.choices)
    state = models.CharField(max_length=20, choices=State.choices, default=State.PENDING)
    state_detail = models.TextField(blank=True, default="")
    requested_by = models.CharField(max_length=150, blank=True, default="")
    attempts = models.IntegerField(default=0)
    pause_ms = models.IntegerField("write pause (ms)", null=True, blank=True)
    tables_checked = models.IntegerField(null=True, blank=True)
    rows_checked = models.BigIntegerField(null=True, blank=True)
    created_at = models.DateTimeField(db_default=Now(), editable=False)
    updated_at = models.DateTimeField(db_default=Now(), editable=False)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        managed = False
        db_table = "affiliate_move"
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"move #{self.pk} of {self.affiliate_id}"

    @property
    def is_finished(self) -> bool:
        return self.state in self.FINISHED


@management_model
class AffiliateLoad(models.Model):
    """A gym's latest load, read from its server's statistics by the load collector."""

    affiliate = models.OneToOneField(Affiliate, primary_key=True, on_delete=models.CASCADE, related_name="load")
    size_bytes = models.BigIntegerField(null=True, blank=True)
    connections = models.IntegerField(default=0)
    xact_total = models.BigIntegerField("transactions (as last read)", default=0)
    rows_changed_total = models.BigIntegerField("rows changed (as last read)", default=0)
    stats_reset = models.DateTimeField(null=True, blank=True)
    xacts_per_day = models.FloatField("transactions/day", null=True, blank=True)
    rows_changed_per_day = models.FloatField("rows changed/day", null=True, blank=True)
    growth_7d_bytes = models.BigIntegerField("growth over 7 days (bytes)", null=True, blank=True)
    last_activity = models.DateTimeField(null=True, blank=True)
    read_at = models.DateTimeField(db_default=Now())

    class Meta:
        managed = False
        db_table = "affiliate_load"
        verbose_name = "gym load"

    def __str__(self) -> str:
        return f"load of {self.affiliate_id} at {self.read_at}"


@management_model
class AffiliateLoadDay(models.Model):
    """A gym's load on one day (UTC): its size, and the transactions and rows changed that day."""

    affiliate = models.ForeignKey(Affiliate, on_delete=models.CASCADE, related_name="load_days")
    day = models.DateField()
    size_bytes = models.BigIntegerField(null=True, blank=True)
    xacts = models.BigIntegerField(default=0)
    rows_changed = models.BigIntegerField(default=0)

    class Meta:
        managed = False
        db_table = "affiliate_load_day"
        ordering = ["affiliate", "day"]
        constraints = [
            models.UniqueConstraint(fields=["affiliate", "day"], name="affiliate_load_day_affiliate_day_key")
        ]

    def __str__(self) -> str:
        return f"load of {self.affiliate_id} on {self.day}"


@management_model
class AffiliateBackup(models.Model):
    """One backup of a gym (nightly, by hand, before an archive), taken or failed; pruned by retention."""

    class Kind(models.TextChoices):
        NIGHTLY = "nightly", "Nightly"
        MANUAL = "manual", "By hand"
        ARCHIVE = "archive", "Before archiving"

    class Outcome(models.TextChoices):
        SUCCEEDED = "succeeded", "Succeeded"
        FAILED = "failed", "Failed"

    class Tier(models.TextChoices):
        DAILY = "daily", "Daily"
        WEEKLY = "weekly", "Weekly"
        MONTHLY = "monthly", "Monthly"
        ARCHIVE = "archive", "Archive (kept)"

    affiliate = models.ForeignKey(Affiliate, on_delete=models.CASCADE, related_name="backups")
    kind = models.CharField(max_length=10, choices=Kind.choices)
    outcome = models.CharField(max_length=10, choices=Outcome.choices)
    tier = models.CharField(max_length=10, choices=Tier.choices, default=Tier.DAILY)
    location = models.TextField(blank=True, default="")
    sha256 = models.CharField("SHA-256", max_length=64, blank=True, default="")
    size_bytes = models.BigIntegerField("size (bytes)", null=True, blank=True)
    schema_version = models.CharField(max_length=50, blank=True, default="")
    error = models.TextField(blank=True, default="")
    requested_by = models.CharField(max_length=150, blank=True, default="")
    taken_at = models.DateTimeField(db_default=Now())
    pinned = models.BooleanField(default=False)
    pruned_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        managed = False
        db_table = "affiliate_backup"
        ordering = ["-taken_at", "-id"]

    def __str__(self) -> str:
        return f"{self.kind} backup #{self.pk} of affiliate {self.affiliate_id}: {self.outcome}"


@management_model
class BackupDrill(models.Model):
    """A restore drill: a gym's backup restored into a scratch database, checked, then dropped."""

    class Outcome(models.TextChoices):
        RUNNING = "running", "Running"
        SUCCEEDED = "succeeded", "Succeeded"
        FAILED = "failed", "Failed"

    affiliate = models.ForeignKey(Affiliate, on_delete=models.CASCADE, related_name="backup_drills")
    backup = models.ForeignKey(AffiliateBackup, null=True, blank=True, on_delete=models.SET_NULL, related_name="drills")
    outcome = models.CharField(max_length=10, choices=Outcome.choices, default=Outcome.RUNNING)
    server_name = models.CharField(max_length=100, blank=True, default="")
    scratch_database = models.CharField(max_length=63, blank=True, default="")
    schema_version = models.CharField(max_length=50, blank=True, default="")
    checks = models.TextField(blank=True, default="")
    table_rows = models.JSONField(null=True, blank=True)
    error = models.TextField(blank=True, default="")
    requested_by = models.CharField(max_length=150, blank=True, default="")
    started_at = models.DateTimeField(db_default=Now())
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        managed = False
        db_table = "backup_drill"
        ordering = ["-started_at", "-id"]

    def __str__(self) -> str:
        return f"restore drill #{self.pk} of affiliate {self.affiliate_id}: {self.outcome}"
