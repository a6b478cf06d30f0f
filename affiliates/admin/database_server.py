"""Database servers in the command center: where gyms are placed, their load, draining and accepting."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.safestring import SafeString

from affiliates.admin.audited import AuditedAdmin
from affiliates.admin.common import CSS, badge, report, require
from affiliates.models import DatabaseServer, StaffAudit
from affiliates.operations import servers
from affiliates.operations.placement import servers_with_load

if TYPE_CHECKING:
    from affiliates.operations.placement import LoadedServer


@admin.register(DatabaseServer)
class DatabaseServerAdmin(AuditedAdmin[DatabaseServer]):
    """Editing a server (its host, its admin login reference) needs Administrators' change permission:
    FitBuddy sends credentials to that host. Adding and editing one are audited (``AuditedAdmin``)."""

    list_display = ["name", "kind", "host", "port", "pooler", "capacity", "accepting", "is_default"]
    list_filter = ["kind", "is_accepting"]
    actions = ["drain", "accept"]

    class Media:
        css = CSS

    def get_queryset(self, request: HttpRequest) -> QuerySet[LoadedServer]:
        return servers_with_load()

    @admin.display(description="affiliates", ordering="load")
    def capacity(self, obj: LoadedServer) -> str:
        return f"{obj.load} / {obj.max_affiliates or '∞'}"

    @admin.display(description="state", ordering="is_accepting")
    def accepting(self, obj: DatabaseServer) -> SafeString:
        if obj.is_accepting:
            return badge("accepting", "ok", strong=False)
        return badge("draining", "warn")

    def _accepting(self, request: HttpRequest, queryset: QuerySet[DatabaseServer], accepting: bool) -> None:
        require(request, "affiliates.change_databaseserver")
        done = servers.servers_accepting_set(
            names=list(queryset.values_list("name", flat=True)),
            accepting=accepting,
            actor=request.user.get_username(),
            channel=StaffAudit.Channel.ADMIN,
        )
        report(self, request, done, "accepting new affiliates" if accepting else "draining", [], noun="server")

    @admin.action(description="Drain selected servers (no new affiliates)", permissions=["change"])
    def drain(self, request: HttpRequest, queryset: QuerySet[DatabaseServer]) -> None:
        self._accepting(request, queryset, False)

    @admin.action(description="Let selected servers take new affiliates", permissions=["change"])
    def accept(self, request: HttpRequest, queryset: QuerySet[DatabaseServer]) -> None:
        self._accepting(request, queryset, True)
