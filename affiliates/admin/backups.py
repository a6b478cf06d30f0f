"""Backups in the command center: each gym's last good backup on the affiliate list (flagged when late
or missing) and its filter, the gym's backups and last restore drill on its page, and the lists of
backups and drills (a failed drill stands out there)."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest
from django.template.loader import render_to_string
from django.utils.safestring import SafeString

from affiliates.admin.audited import AuditedAdmin
from affiliates.admin.common import CSS, badge
from affiliates.models import Affiliate, AffiliateBackup, BackupDrill
from affiliates.operations import backup_status

#: A backup state's tone on the list: missing is red, late amber.
STATE_TONES = {
    backup_status.OK: "ok",
    backup_status.LATE: "warn",
    backup_status.MISSING: "bad",
    backup_status.NONE_YET: "muted",
    backup_status.NOT_DUE: "muted",
}


class BackupStateFilter(admin.SimpleListFilter):
    title = "backup"
    parameter_name = "backup"

    def lookups(self, request: HttpRequest, model_admin: admin.ModelAdmin[Any]) -> list[tuple[str, str]]:
        return [
            (backup_status.LATE, "Late"),
            (backup_status.MISSING, "Missing"),
            (backup_status.OK, "OK"),
        ]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Affiliate]) -> QuerySet[Affiliate]:
        if self.value() in (backup_status.LATE, backup_status.MISSING, backup_status.OK):
            return backup_status.filter_state(queryset, str(self.value()))
        return queryset


class AffiliateBackupsMixin:
    """What the affiliate admin shows of backups: a list column and a section on the gym's page."""

    def get_queryset(self, request: HttpRequest) -> QuerySet[Affiliate]:
        affiliates: QuerySet[Affiliate] = super().get_queryset(request)  # type: ignore[misc]
        return backup_status.with_last_good_backup(affiliates)

    @admin.display(description="last good backup", ordering="last_good_backup")
    def last_good_backup_badge(self, obj: Affiliate) -> SafeString | str:
        last = getattr(obj, "last_good_backup", None)
        state = backup_status.state_of(obj, last)
        text = f"{last:%Y-%m-%d %H:%M}" if last else "none"
        if state in (backup_status.OK, backup_status.NOT_DUE):
            return text
        return badge(f"{text} · {state}", STATE_TONES[state], title=f"backup {state}")

    @admin.display(description="Backups and restore drill")
    def backups_section(self, obj: Affiliate) -> SafeString:
        """The gym's last 10 backups and its last restore drill."""
        return SafeString(
            render_to_string(
                "admin/affiliates/affiliate/backups_section.html",
                {
                    "backups": AffiliateBackup.objects.filter(affiliate=obj).order_by("-taken_at", "-id")[:10],
                    "drill": BackupDrill.objects.filter(affiliate=obj).order_by("-started_at", "-id").first(),
                },
            )
        )


class _ReadOnly:
    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(AffiliateBackup)
class AffiliateBackupAdmin(_ReadOnly, AuditedAdmin[AffiliateBackup]):
    """Every backup of every gym: read only (taken, pruned and recorded by the operations)."""

    class Media:
        css = CSS

    list_display = ["taken_at", "affiliate", "kind", "outcome_badge", "tier", "size_bytes", "pruned_at", "location"]
    list_filter = ["outcome", "kind", "tier"]
    search_fields = ["affiliate__schema_name", "location", "error"]
    list_select_related = ["affiliate"]
    date_hierarchy = "taken_at"

    @admin.display(description="outcome", ordering="outcome")
    def outcome_badge(self, obj: AffiliateBackup) -> SafeString:
        tone = "ok" if obj.outcome == AffiliateBackup.Outcome.SUCCEEDED else "bad"
        return badge(obj.get_outcome_display(), tone, title=obj.error or obj.get_outcome_display())


@admin.register(BackupDrill)
class BackupDrillAdmin(_ReadOnly, AuditedAdmin[BackupDrill]):
    """Every restore drill: which backup, where, what was checked, and how it ended."""

    class Media:
        css = CSS

    list_display = ["started_at", "affiliate", "outcome_badge", "server_name", "schema_version", "finished_at"]
    list_filter = ["outcome"]
    search_fields = ["affiliate__schema_name", "error"]
    list_select_related = ["affiliate"]

    @admin.display(description="outcome", ordering="outcome")
    def outcome_badge(self, obj: BackupDrill) -> SafeString:
        tones: dict[str, str] = {BackupDrill.Outcome.SUCCEEDED: "ok", BackupDrill.Outcome.FAILED: "bad"}
        tone = tones.get(obj.outcome, "info")
        return badge(obj.get_outcome_display(), tone, title=obj.error or obj.get_outcome_display())
