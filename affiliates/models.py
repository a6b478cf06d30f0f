"""The affiliate registry in the management database (tables from sql/affiliate_management)."""

from __future__ import annotations

import re
import threading
import time
from typing import ClassVar

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models.functions import Now
from django_tenants.models import DomainMixin, TenantMixin

from affiliates.silos import management_model

POOLER_ADDRESS_RE = re.compile(r"^[A-Za-z0-9.:\[\]-]+:([0-9]{1,5})$")  # database_server_pooler_check


def validate_pooler_address(value: str) -> None:
    match = POOLER_ADDRESS_RE.match(value or "")
    if not match or not 1 <= int(match[1]) <= 65535:
        raise ValidationError(f"{value[:60]!r} is not HOST:PORT (e.g. pgbouncer.internal:6432).")


@management_model
class DatabaseServer(models.Model):
    """A PostgreSQL server (local, or an Aurora Serverless v2 cluster) that hosts affiliate databases."""

    class Kind(models.TextChoices):
        LOCAL = "local", "Local PostgreSQL"
        AURORA = "aurora", "Aurora Serverless v2"

    name = models.CharField(max_length=100, unique=True)
    kind = models.CharField(max_length=20, choices=Kind.choices, default=Kind.LOCAL)
    host = models.CharField(max_length=253)
    port = models.IntegerField(default=5432, validators=[MinValueValidator(1), MaxValueValidator(65535)])
    admin_secret_ref = models.CharField(max_length=255, blank=True, default="")
    is_default = models.BooleanField(default=False)
    is_accepting = models.BooleanField(default=True)
    max_affiliates = models.IntegerField(null=True, blank=True, validators=[MinValueValidator(1)])
    aws_cluster_id = models.CharField("Aurora cluster", max_length=63, blank=True, default="")
    aws_region = models.CharField("AWS region", max_length=30, blank=True, default="")
    endpoint = models.CharField("writer endpoint", max_length=253, blank=True, default="")
    pooler = models.TextField(
        blank=True,
        default="",
        validators=[validate_pooler_address],
        help_text="HOST:PORT of the pooler affiliate connections go through (PgBouncer, RDS Proxy); empty: direct",
    )
    created_at = models.DateTimeField(db_default=Now(), editable=False)

    class Meta:
        managed = False
        db_table = "database_server"
        ordering = ["name"]

    def __str__(self) -> str:
        return f"{self.name} ({self.host}:{self.port})"


class AffiliateManager(models.Manager["Affiliate"]):
    """Affiliates, with the host lookup every request makes (cached per process, like Django's SITE_CACHE).

    Each cached entry carries the routing stamp it was read under (``affiliates/infra/routing_stamp.py``,
    read by ``affiliates/routing/hosts.py``): an entry is served only to a caller holding the same
    stamp, and never longer than its lifetime, so a routing change recorded by any process is seen
    by the next lookup in every process.
    """

    _host_cache: dict[str, tuple[float, str | None, Affiliate | None]] = {}
    _host_cache_lock = threading.Lock()
    #: Enough for every host a process serves; beyond it the cache starts again rather than grow.
    HOST_CACHE_SIZE = 10_000

    def for_host(self, hostname: str, *, stamp: str | None = "", lifetime: float | None = None) -> Affiliate | None:
        """The affiliate a host name routes to, or None.

        Cached for ``lifetime`` seconds (AFFILIATE_CACHE_SECONDS unless given), and only for callers
        that pass the same ``stamp`` as the lookup that filled the entry.
        """
        now = time.monotonic()
        cached = self._host_cache.get(hostname)
        if cached and cached[0] > now and cached[1] == stamp:
            return cached[2]
        domain = Domain.objects.select_related("tenant", "tenant__database_server").filter(domain=hostname).first()
        affiliate = domain.tenant if domain else None
        ttl = settings.AFFILIATE_CACHE_SECONDS if lifetime is None else lifetime
        with self._host_cache_lock:
            if len(self._host_cache) >= self.HOST_CACHE_SIZE:
                self._host_cache.clear()
            self._host_cache[hostname] = (now + ttl, stamp, affiliate)
        return affiliate

    def clear_host_cache(self) -> None:
        """Forget every cached host lookup of this process (other processes: ``routing.hosts.routing_changed``)."""
        with self._host_cache_lock:
            self._host_cache.clear()


@management_model
class Affiliate(TenantMixin):  # type: ignore[misc]  # django-tenants has no type hints
    """A gym FitBuddy serves, with its own application database."""

    class Status(models.TextChoices):
        REQUESTED = "requested", "Requested"
        DATABASE_CREATED = "database_created", "Database created"
        MIGRATED = "migrated", "Migrated"
        SEEDED = "seeded", "Seeded"
        ACTIVE = "active", "Active"
        FAILED = "failed", "Failed"
        SUSPENDED = "suspended", "Suspended"
        ARCHIVED = "archived", "Archived"

    # The database is created and migrated by provisioning (Flyway), never by django-tenants.
    auto_create_schema = False
    auto_drop_schema = False

    objects = AffiliateManager()
    # What Django's Model declares, unseen by the type checker behind django-tenants' untyped base:
    # relations to Affiliate (a server's ``affiliates``) take their manager from it.
    _default_manager: ClassVar[AffiliateManager]

    # TenantMixin's schema_name is FitBuddy's affiliate slug: stored in column `slug`.
    schema_name = models.CharField("slug", max_length=63, unique=True, db_column="slug")
    name = models.CharField(max_length=200)
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.REQUESTED)
    status_detail = models.TextField(blank=True, default="")
    database_server = models.ForeignKey(
        DatabaseServer, null=True, blank=True, on_delete=models.PROTECT, related_name="affiliates"
    )
    database_name = models.CharField(max_length=63, unique=True, null=True, blank=True)
    database_role = models.CharField(max_length=63, unique=True, null=True, blank=True)
    secret_ref = models.CharField(max_length=255, blank=True, default="")
    schema_version = models.CharField(max_length=50, blank=True, default="")
    seed_requested = models.BooleanField(default=False)
    # The business contact (billing, calls; the first owner's invitation). The gym's logins are in its database.
    contact_email = models.EmailField("contact e-mail", max_length=254, blank=True, default="")
    created_at = models.DateTimeField(db_default=Now(), editable=False)
    updated_at = models.DateTimeField(auto_now=True)
    activated_at = models.DateTimeField(null=True, blank=True)
    # While a move's last catch-up runs, the gym's requests wait until this time (operations/move.py).
    write_pause_until = models.DateTimeField(null=True, blank=True, editable=False)

    class Meta:
        managed = False
        db_table = "affiliate"
        ordering = ["schema_name"]
        # The dangerous operations, each its own permission (groups: see affiliates/people/staff.py).
        permissions = [
            ("provision_affiliate", "Can provision affiliates and retry failed provisioning"),
            ("suspend_affiliate", "Can suspend and resume affiliates"),
            ("migrate_affiliate", "Can migrate affiliate databases and check them for drift"),
            ("archive_affiliate", "Can archive affiliates (backs up, then drops the database)"),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.slug})"

    def clean(self) -> None:
        super().clean()
        # Stored as the database's check wants it: trimmed, lower-case (a form's "Boss@Gym.com" too).
        self.contact_email = (self.contact_email or "").strip().lower()

    @property
    def slug(self) -> str:
        return self.schema_name


@management_model
class Domain(DomainMixin):  # type: ignore[misc]  # django-tenants has no type hints
    """A host name that routes to an affiliate (e.g. ``ironworks.localhost``)."""

    tenant = models.ForeignKey(
        Affiliate,
        db_column="affiliate_id",
        related_name="domains",
        on_delete=models.CASCADE,
        verbose_name="affiliate",
    )

    class Meta:
        managed = False
        db_table = "affiliate_domain"
        ordering = ["domain"]


@management_model
class AffiliateNote(models.Model):
    """A staff note on a gym: what support learned, and whether something is still open."""

    affiliate = models.ForeignKey(Affiliate, on_delete=models.CASCADE, related_name="notes")
    author = models.CharField(max_length=150, editable=False)
    body = models.TextField("note", max_length=4000)
    is_open = models.BooleanField("open", default=False, help_text="Something still to do for this gym.")
    created_at = models.DateTimeField(db_default=Now(), editable=False)

    class Meta:
        managed = False
        db_table = "affiliate_note"
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"note #{self.pk} on {self.affiliate_id}"


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
class Membership(models.Model):
    """Before gym logins moved into each gym's own database: a Django user working in one affiliate.

    Read only by ``manage.py gym_logins_upgrade``, which moves each into its gym and deletes it.
    """

    class Role(models.TextChoices):
        OWNER = "owner", "Owner"
        ADMIN = "admin", "Admin"
        COACH = "coach", "Coach"

    affiliate = models.ForeignKey(Affiliate, on_delete=models.CASCADE, related_name="memberships")
    # auth_user is Django's (schema public, created after Flyway): no database-level constraint.
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        related_name="affiliate_memberships",
    )
    role = models.CharField(max_length=10, choices=Role.choices)
    created_at = models.DateTimeField(db_default=Now(), editable=False)

    class Meta:
        managed = False
        db_table = "affiliate_membership"
        constraints = [
            models.UniqueConstraint(fields=["affiliate", "user"], name="affiliate_membership_affiliate_user_key")
        ]

    def __str__(self) -> str:
        return f"{self.user} — {self.get_role_display()} at {self.affiliate.slug}"


@management_model
class AffiliateEvent(models.Model):
    """One step of an operation on an affiliate (provision, suspend, resume, archive, backup, restore)."""

    class Outcome(models.TextChoices):
        STARTED = "started", "Started"
        SUCCEEDED = "succeeded", "Succeeded"
        SKIPPED = "skipped", "Skipped"
        FAILED = "failed", "Failed"

    affiliate = models.ForeignKey(Affiliate, on_delete=models.CASCADE, related_name="events")
    step = models.CharField(max_length=40)
    outcome = models.CharField(max_length=10, choices=Outcome.choices)
    duration_ms = models.IntegerField(null=True, blank=True)
    error = models.TextField(blank=True, default="")
    detail = models.TextField(blank=True, default="")
    requested_by = models.CharField(max_length=150, blank=True, default="")
    created_at = models.DateTimeField(db_default=Now(), editable=False)

    class Meta:
        managed = False
        db_table = "affiliate_event"
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return f"{self.step}: {self.outcome}"


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


# --- each gym's load (sql/affiliate_management/V11__affiliate_load.sql; affiliates/operations/load.py) ---


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


# --- backups: every backup of a gym and every restore drill (sql/affiliate_management/V12) ---


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
