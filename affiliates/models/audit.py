"""The staff audit trail and the head of its hash chain (sql/affiliate_management V2, V9)."""

from __future__ import annotations

from django.db import models
from django.db.models.functions import Now

from affiliates.silos import management_model


@management_model
class StaffAudit(models.Model):
    """One staff operation (append-only: the database refuses UPDATE, DELETE and TRUNCATE; each row is
    chained to the one before it by a SHA-256 the database computes)."""

    class Channel(models.TextChoices):
        ADMIN = "admin", "Command center"
        COMMAND = "command", "Command line"
        TASK = "task", "Task"

    class Outcome(models.TextChoices):
        STARTED = "started", "Started"
        SUCCEEDED = "succeeded", "Succeeded"
        FAILED = "failed", "Failed"
        REFUSED = "refused", "Refused"

    created_at = models.DateTimeField(db_default=Now(), editable=False)
    actor = models.CharField(max_length=150)
    channel = models.CharField(max_length=10, choices=Channel.choices)
    action = models.CharField(max_length=40)
    target = models.CharField(max_length=200, blank=True, default="")
    outcome = models.CharField(max_length=10, choices=Outcome.choices)
    detail = models.TextField(blank=True, default="")
    #: Before and after of a command-center change: ``{"before": {…}, "after": {…}}`` (secrets redacted).
    changes = models.JSONField(null=True, blank=True)
    # The hash chain (sql/affiliate_management/V9__audit_chain.sql): set by the database's trigger on
    # INSERT, whatever the client sends; ``manage.py audit_verify`` checks it.
    chain_seq = models.BigIntegerField(db_default=0, editable=False)
    prev_hash = models.CharField(max_length=64, db_default="", editable=False)
    row_hash = models.CharField(max_length=64, db_default="", editable=False)

    class Meta:
        managed = False
        db_table = "staff_audit"
        ordering = ["-created_at", "-id"]
        verbose_name = "staff audit record"

    def __str__(self) -> str:
        return f"{self.actor} {self.action} {self.target}: {self.outcome}"


@management_model
class StaffAuditChainHead(models.Model):
    """The audit chain's head: the last row's place and hash (one row, moved only by the chain trigger)."""

    id = models.BooleanField(primary_key=True, default=True)
    chain_seq = models.BigIntegerField()
    row_hash = models.CharField(max_length=64)
    updated_at = models.DateTimeField(db_default=Now())

    class Meta:
        managed = False
        db_table = "staff_audit_chain_head"
        verbose_name = "staff audit chain head"

    def __str__(self) -> str:
        return f"audit chain head #{self.chain_seq} {self.row_hash[:12]}"
