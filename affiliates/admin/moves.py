"""Moving gyms to another server from the command center: the bulk action and the moves on a gym's page."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.contrib import admin
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.db.models import QuerySet
from django.http import HttpRequest
from django.template.response import TemplateResponse

from affiliates.admin.common import report, require
from affiliates.errors import QueueUnavailable
from affiliates.models import Affiliate, AffiliateMove, DatabaseServer
from affiliates.operations import move
from affiliates.operations.placement import servers_with_load
from affiliates.people import staff

if TYPE_CHECKING:
    _MoveInline = admin.TabularInline[AffiliateMove, Affiliate]
else:
    _MoveInline = admin.TabularInline

#: Per gym selected for a move: why it cannot move ("" when it can).
MovePlan = list[tuple[Affiliate, str]]


def _plan(queryset: QuerySet[Affiliate], destination: str) -> MovePlan:
    plan: MovePlan = []
    for affiliate in queryset.select_related("database_server").order_by("schema_name"):
        if affiliate.status != Affiliate.Status.ACTIVE:
            plan.append((affiliate, f"it is {affiliate.get_status_display().lower()}, not active"))
        elif destination and affiliate.database_server and affiliate.database_server.name == destination:
            plan.append((affiliate, f"it is on {destination} already"))
        elif move.open_move_of(affiliate.pk):
            plan.append((affiliate, "a move of it is under way"))
        else:
            plan.append((affiliate, ""))
    return plan


@admin.action(description="Move selected to another database server", permissions=["migrate"])
def move_to_server(
    modeladmin: admin.ModelAdmin[Affiliate], request: HttpRequest, queryset: QuerySet[Affiliate]
) -> TemplateResponse | None:
    """An intermediate page (which gyms, to which server), then one queued move per gym."""
    require(request, staff.MIGRATE)
    destination = str(request.POST.get("server", "")).strip()
    problem = ""
    if destination and not DatabaseServer.objects.filter(name=destination).exists():
        problem, destination = f"No database server {destination!r}.", ""
    plan = _plan(queryset, destination)
    if request.POST.get("confirmed") == "yes" and not problem:
        done, failures = 0, [f"{a.slug}: not moved: {why}" for a, why in plan if why]
        for affiliate, why in plan:
            if why:
                continue
            try:
                move.move_enqueue(
                    affiliate_id=affiliate.pk, server_name=destination or None, requested_by=request.user.get_username()
                )
            except QueueUnavailable as exc:
                failures.append(f"{affiliate.slug}: not queued: {exc}")
                continue
            done += 1
        report(modeladmin, request, done, "queued to move", failures)
        return None
    context = {
        **modeladmin.admin_site.each_context(request),
        "title": "Move gyms to another server?",
        "opts": modeladmin.model._meta,
        "plan": plan,
        "movable": sum(1 for _, why in plan if not why),
        "servers": servers_with_load().filter(is_accepting=True).order_by("name"),
        "server_name": destination,
        "problem": problem,
        "action_checkbox_name": ACTION_CHECKBOX_NAME,
        "action": "move_to_server",
    }
    return TemplateResponse(request, "admin/affiliates/affiliate/move_confirmation.html", context)


class AffiliateMoveInline(_MoveInline):
    """A gym's moves between servers, newest first (read-only: a move is started by the action)."""

    model = AffiliateMove
    fk_name = "affiliate"
    extra = 0
    max_num = 0
    can_delete = False
    fields = readonly_fields = (
        "created_at",
        "source_server",
        "destination_server",
        "method",
        "state",
        "pause_ms",
        "rows_checked",
        "state_detail",
        "requested_by",
    )
    verbose_name_plural = "moves between servers"

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
