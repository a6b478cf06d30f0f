"""The command center's records: the affiliate event log, domains, and the append-only staff audit trail.

(A gym's logins are in its own database: the command center helps one through the affiliate's page.)"""

from __future__ import annotations

from django.contrib import admin
from django.http import HttpRequest

from affiliates.admin.audited import AuditedAdmin
from affiliates.admin.forms import DomainForm
from affiliates.models import AffiliateEvent, Domain, StaffAudit


@admin.register(AffiliateEvent)
class AffiliateEventAdmin(AuditedAdmin[AffiliateEvent]):
    list_display = ["created_at", "affiliate", "step", "outcome", "duration_ms", "requested_by", "short_error"]
    list_filter = ["outcome", "step"]
    search_fields = ["affiliate__schema_name", "error", "requested_by"]
    list_select_related = ["affiliate"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: AffiliateEvent | None = None) -> bool:
        return False

    @admin.display(description="error")
    def short_error(self, obj: AffiliateEvent) -> str:
        return (obj.error[:120] + "…") if len(obj.error) > 120 else obj.error


@admin.register(Domain)
class DomainAdmin(AuditedAdmin[Domain]):
    """Adding, renaming, moving to another affiliate or deleting a domain is audited with before and after."""

    form = DomainForm
    list_display = ["domain", "tenant", "is_primary"]
    search_fields = ["domain"]


@admin.register(StaffAudit)
class StaffAuditAdmin(AuditedAdmin[StaffAudit]):
    """Append-only: nobody adds, edits or deletes here (the database refuses the last two as well)."""

    list_display = ["created_at", "actor", "channel", "action", "target", "outcome", "short_detail"]
    list_filter = ["action", "channel", "outcome"]
    search_fields = ["actor", "target", "detail"]
    date_hierarchy = "created_at"
    readonly_fields = ["created_at", "actor", "channel", "action", "target", "outcome", "detail"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: StaffAudit | None = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: StaffAudit | None = None) -> bool:
        return False

    @admin.display(description="detail")
    def short_detail(self, obj: StaffAudit) -> str:
        return (obj.detail[:120] + "…") if len(obj.detail) > 120 else obj.detail
