"""Fleet migration runs in the command center: followed live, their problems listed, failures retried."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.html import format_html
from django.utils.safestring import SafeString

from affiliates.admin.audited import AuditedAdmin
from affiliates.admin.common import CSS, badge, report, require
from affiliates.models import MigrationRun, MigrationRunAffiliate, StaffAudit
from affiliates.operations import fleet
from affiliates.people import staff

RUN_TONES: dict[str, str] = {
    MigrationRun.Status.SUCCEEDED: "ok",
    MigrationRun.Status.FAILED: "bad",
    MigrationRun.Status.STOPPED: "warn",
    MigrationRun.Status.RUNNING: "info",
}


@admin.register(MigrationRun)
class MigrationRunAdmin(AuditedAdmin[MigrationRun]):
    """Runs are started from the affiliate list or ``manage.py migrate_affiliates``; here they are followed."""

    list_display = ["__str__", "kind", "status_badge", "progress", "started_by", "created_at", "finished_at"]
    list_filter = ["kind", "status"]
    search_fields = ["started_by", "status_detail"]
    actions = ["retry_failed"]

    class Media:
        css = CSS

    fields = readonly_fields = (
        "kind",
        "status_badge",
        "status_detail",
        "target_version",
        "progress",
        "strategy",
        "started_by",
        "created_at",
        "started_at",
        "finished_at",
        "problems",
    )

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: MigrationRun | None = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: MigrationRun | None = None) -> bool:
        return False  # the record of what was done to the fleet stays

    def has_migrate_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm(staff.MIGRATE)

    def change_view(
        self, request: HttpRequest, object_id: str, form_url: str = "", extra_context: dict[str, Any] | None = None
    ) -> HttpResponse:
        run = self.get_object(request, object_id)
        extra_context = {**(extra_context or {}), "refresh_seconds": 2 if run and not run.finished else None}
        return super().change_view(request, object_id, form_url, extra_context)

    @admin.display(description="status", ordering="status")
    def status_badge(self, obj: MigrationRun) -> SafeString:
        return badge(obj.get_status_display(), RUN_TONES.get(obj.status, "muted"))

    @admin.display(description="progress")
    def progress(self, obj: MigrationRun) -> SafeString:
        p = fleet.run_progress(obj)
        url = reverse("admin:affiliates_migrationrunaffiliate_changelist") + f"?run__id__exact={obj.pk}"
        return format_html(
            '<a href="{}">{} / {} done</a>: {} succeeded, <span class="fb-bad">{} failed</span>, '
            "{} skipped, {} busy, {} pending",
            url,
            p.done,
            p.total,
            p.succeeded,
            p.failed,
            p.skipped,
            p.busy,
            p.pending,
        )

    @admin.display(description="strategy")
    def strategy(self, obj: MigrationRun) -> str:
        return fleet.strategy_describe(obj)

    @admin.display(description="needs attention (first 200)")
    def problems(self, obj: MigrationRun) -> str:
        items = (
            obj.items.select_related("affiliate")
            .exclude(outcome=MigrationRunAffiliate.Outcome.SUCCEEDED, state__in=["", "current"])
            .order_by("wave", "affiliate__schema_name")[:200]
        )
        if not items:
            return "nothing"
        return render_to_string("admin/affiliates/migrationrun/problems.html", {"items": items})

    @admin.action(description="Retry the failed ones (resume the run)", permissions=["migrate"])
    def retry_failed(self, request: HttpRequest, queryset: QuerySet[MigrationRun]) -> None:
        require(request, staff.MIGRATE)
        done = 0
        failures: list[str] = []
        for run in queryset:
            try:
                fleet.run_resume(run.pk, started_by=request.user.get_username(), channel=StaffAudit.Channel.ADMIN)
                done += 1
            except fleet.FleetError as exc:
                failures.append(str(exc))
        report(self, request, done, "resumed", failures, noun="run")


@admin.register(MigrationRunAffiliate)
class MigrationRunAffiliateAdmin(AuditedAdmin[MigrationRunAffiliate]):
    list_display = [
        "run",
        "affiliate",
        "wave",
        "outcome",
        "state",
        "from_version",
        "to_version",
        "duration_ms",
        "error_code",
    ]
    list_filter = ["outcome", "state", "run__kind"]
    search_fields = ["affiliate__schema_name", "error_code", "error_message"]
    list_select_related = ["run", "affiliate"]
    readonly_fields = [f.name for f in MigrationRunAffiliate._meta.fields]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: MigrationRunAffiliate | None = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: MigrationRunAffiliate | None = None) -> bool:
        return False
