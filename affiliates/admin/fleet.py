"""The fleet's schema versions in the command center: the version filters of the affiliate list
and the fleet overview page."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.db.models import Count, OuterRef, Q, QuerySet, Subquery
from django.http import HttpRequest

from affiliates.infra import flyway
from affiliates.models import Affiliate, DatabaseServer, MigrationRun, MigrationRunAffiliate
from affiliates.operations import fleet


def latest() -> str:
    return flyway.latest_version("application")


def behind_versions() -> list[str]:
    """Registry versions older than the latest (a handful of distinct values, read from the registry)."""
    newest = flyway.version_key(latest())
    versions = Affiliate.objects.filter(status__in=fleet.WITH_DATABASE).values_list("schema_version", flat=True)
    return [v for v in versions.order_by().distinct() if flyway.version_key(v) < newest]


def last_migration_outcome() -> Subquery:
    """Each affiliate's latest finished migrate row (an index read per affiliate, registry only)."""
    return Subquery(
        MigrationRunAffiliate.objects.filter(
            affiliate=OuterRef("pk"),
            run__kind=MigrationRun.Kind.MIGRATE,
            outcome__in=[MigrationRunAffiliate.Outcome.SUCCEEDED, MigrationRunAffiliate.Outcome.FAILED],
        )
        .order_by("-id")
        .values("outcome")[:1]
    )


class BehindFilter(admin.SimpleListFilter):
    title = "schema version"
    parameter_name = "version"

    def lookups(self, request: HttpRequest, model_admin: admin.ModelAdmin[Any]) -> list[tuple[str, str]]:
        return [("behind", "Behind latest"), ("latest", "At latest")]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Affiliate]) -> QuerySet[Affiliate]:
        if self.value() == "behind":
            return queryset.filter(status__in=fleet.WITH_DATABASE, schema_version__in=behind_versions())
        if self.value() == "latest":
            return queryset.filter(schema_version=latest())
        return queryset


class LastMigrationFilter(admin.SimpleListFilter):
    title = "last migration"
    parameter_name = "last_migration"

    def lookups(self, request: HttpRequest, model_admin: admin.ModelAdmin[Any]) -> list[tuple[str, str]]:
        return [("failed", "Last migration failed"), ("succeeded", "Last migration succeeded")]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Affiliate]) -> QuerySet[Affiliate]:
        if self.value() in ("failed", "succeeded"):
            # Annotating gives Any (Affiliate's base, django-tenants' TenantMixin, has no types): say what it is.
            last: QuerySet[Affiliate] = queryset.annotate(_last_migration=last_migration_outcome())
            return last.filter(_last_migration=self.value())
        return queryset


def overview_context() -> dict[str, Any]:
    """What the fleet overview shows: counts by status and version, servers, recent runs, failures."""
    current = latest()
    with_database = Affiliate.objects.filter(status__in=fleet.WITH_DATABASE)
    behind = behind_versions()
    return {
        "title": "Fleet overview",
        "latest": current,
        "by_status": Affiliate.objects.values("status").annotate(n=Count("id")).order_by("status"),
        "by_version": with_database.values("schema_version").annotate(n=Count("id")).order_by("schema_version"),
        "behind_versions": behind,
        "behind_count": with_database.filter(schema_version__in=behind).count(),
        "servers": DatabaseServer.objects.annotate(
            n=Count("affiliates", filter=Q(affiliates__status__in=fleet.WITH_DATABASE))
        ).order_by("name"),
        "runs": MigrationRun.objects.order_by("-created_at", "-id")[:10],
        "failed_provisioning": Affiliate.objects.filter(status=Affiliate.Status.FAILED).order_by("schema_name")[:50],
        "failed_migrations": with_database.annotate(_last=last_migration_outcome())
        .filter(_last=MigrationRunAffiliate.Outcome.FAILED)
        .order_by("schema_name")[:50],
    }
