"""Fleet migration runs and each affiliate's part in one (sql/affiliate_management V2)."""

from __future__ import annotations

from django.core.validators import MinValueValidator
from django.db import models
from django.db.models.functions import Now

from affiliates.models.registry import Affiliate
from affiliates.silos import management_model


@management_model
class MigrationRun(models.Model):
    """One fleet migration (or drift check) over many affiliate databases."""

    class Kind(models.TextChoices):
        MIGRATE = "migrate", "Migrate"
        CHECK = "check", "Drift check"

    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        RUNNING = "running", "Running"
        SUCCEEDED = "succeeded", "Succeeded"
        FAILED = "failed", "Failed"
        STOPPED = "stopped", "Stopped"

    class OnError(models.TextChoices):
        STOP = "stop", "Stop"
        CONTINUE = "continue", "Continue"

    kind = models.CharField(max_length=10, choices=Kind.choices)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    status_detail = models.TextField(blank=True, default="")
    target_version = models.CharField(max_length=50)
    started_by = models.CharField(max_length=150)
    canary = models.IntegerField(default=0, validators=[MinValueValidator(0)])
    wave_size = models.IntegerField(null=True, blank=True, validators=[MinValueValidator(1)])
    parallel = models.IntegerField(default=4, validators=[MinValueValidator(1)])
    on_error = models.CharField(max_length=10, choices=OnError.choices, default=OnError.STOP)
    created_at = models.DateTimeField(db_default=Now(), editable=False)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        managed = False
        db_table = "migration_run"
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} run {self.pk} to V{self.target_version}"

    @property
    def finished(self) -> bool:
        return self.status in (self.Status.SUCCEEDED, self.Status.FAILED, self.Status.STOPPED)


@management_model
class MigrationRunAffiliate(models.Model):
    """One affiliate's part in a run: from which version to which, how it ended, Flyway's error."""

    class Outcome(models.TextChoices):
        PENDING = "pending", "Pending"
        RUNNING = "running", "Running"
        SUCCEEDED = "succeeded", "Succeeded"
        FAILED = "failed", "Failed"
        SKIPPED = "skipped", "Skipped"
        BUSY = "busy", "Busy"

    class State(models.TextChoices):
        CURRENT = "current", "Current"
        BEHIND = "behind", "Behind"
        AHEAD = "ahead", "Ahead (a version the code does not know)"
        FAILED = "failed", "Failed migration in its history"
        CHECKSUM_MISMATCH = "checksum_mismatch", "Checksum mismatch"
        DRIFT = "drift", "Other drift"
        UNREACHABLE = "unreachable", "Unreachable"
        ERROR = "error", "Error"

    run = models.ForeignKey(MigrationRun, on_delete=models.CASCADE, related_name="items")
    affiliate = models.ForeignKey(Affiliate, on_delete=models.CASCADE, related_name="migration_items")
    wave = models.IntegerField(default=1, validators=[MinValueValidator(0)])
    outcome = models.CharField(max_length=10, choices=Outcome.choices, default=Outcome.PENDING)
    state = models.CharField(max_length=20, choices=State.choices, blank=True, default="")
    from_version = models.CharField(max_length=50, blank=True, default="")
    to_version = models.CharField(max_length=50, blank=True, default="")
    migrations_executed = models.IntegerField(default=0)
    duration_ms = models.IntegerField(null=True, blank=True)
    error_code = models.CharField(max_length=100, blank=True, default="")
    error_message = models.TextField(blank=True, default="")
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        managed = False
        db_table = "migration_run_affiliate"
        ordering = ["wave", "id"]
        constraints = [
            models.UniqueConstraint(fields=["run", "affiliate"], name="migration_run_affiliate_run_affiliate_key")
        ]

    def __str__(self) -> str:
        return f"run {self.run_id}: affiliate {self.affiliate_id} {self.outcome}"
