"""The affiliate registry in the management database (tables from sql/affiliate_management)."""

from __future__ import annotations

import threading
import time

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models.functions import Now
from django_tenants.models import DomainMixin, TenantMixin


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
    created_at = models.DateTimeField(db_default=Now(), editable=False)

    class Meta:
        managed = False
        db_table = "database_server"
        ordering = ["name"]

    def __str__(self) -> str:
        return f"{self.name} ({self.host}:{self.port})"


class AffiliateManager(models.Manager):
    """Affiliates, with the host lookup every request makes (cached per process, like Django's SITE_CACHE)."""

    _host_cache: dict[str, tuple[float, Affiliate | None]] = {}
    _host_cache_lock = threading.Lock()
    #: Enough for every host a process serves; beyond it the cache starts again rather than grow.
    HOST_CACHE_SIZE = 10_000

    def for_host(self, hostname: str) -> Affiliate | None:
        """The affiliate a host name routes to, or None; cached for AFFILIATE_CACHE_SECONDS."""
        now = time.monotonic()
        cached = self._host_cache.get(hostname)
        if cached and cached[0] > now:
            return cached[1]
        domain = Domain.objects.select_related("tenant", "tenant__database_server").filter(domain=hostname).first()
        affiliate = domain.tenant if domain else None
        with self._host_cache_lock:
            if len(self._host_cache) >= self.HOST_CACHE_SIZE:
                self._host_cache.clear()
            self._host_cache[hostname] = (now + settings.AFFILIATE_CACHE_SECONDS, affiliate)
        return affiliate

    def clear_host_cache(self) -> None:
        """Forget every cached host lookup of this process (after a status or domain change)."""
        with self._host_cache_lock:
            self._host_cache.clear()


class Affiliate(TenantMixin):
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
    created_at = models.DateTimeField(db_default=Now(), editable=False)
    updated_at = models.DateTimeField(auto_now=True)
    activated_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        managed = False
        db_table = "affiliate"
        ordering = ["schema_name"]

    def __str__(self) -> str:
        return f"{self.name} ({self.slug})"

    @property
    def slug(self) -> str:
        return self.schema_name


class Domain(DomainMixin):
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


class Membership(models.Model):
    """A login working in one affiliate, with a role."""

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


class ProvisioningEvent(models.Model):
    """One step of provisioning (or suspend, resume, archive) taken for an affiliate."""

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
    requested_by = models.CharField(max_length=150, blank=True, default="")
    created_at = models.DateTimeField(db_default=Now(), editable=False)

    class Meta:
        managed = False
        db_table = "provisioning_event"
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return f"{self.step}: {self.outcome}"
