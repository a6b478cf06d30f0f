"""The registry itself: database servers, affiliates, their domains, staff notes, memberships and event log."""

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
