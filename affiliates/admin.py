"""The command center: affiliates, their domains, memberships, database servers and provisioning."""

from __future__ import annotations

from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.db.models import Count
from django.utils.html import format_html, format_html_join

from . import lifecycle, provisioning
from .errors import ProvisioningError
from .forms import AffiliateRequestForm
from .models import Affiliate, DatabaseServer, Domain, Membership, ProvisioningEvent

STATUS_COLOURS = {
    Affiliate.Status.ACTIVE: "#1a7f37",
    Affiliate.Status.FAILED: "#cf222e",
    Affiliate.Status.SUSPENDED: "#9a6700",
    Affiliate.Status.ARCHIVED: "#57606a",
}


class DomainInline(admin.TabularInline):
    model = Domain
    extra = 0
    fields = ["domain", "is_primary"]


class MembershipInline(admin.TabularInline):
    model = Membership
    extra = 0
    fields = ["user", "role"]
    raw_id_fields = ["user"]


class ProvisioningEventInline(admin.TabularInline):
    model = ProvisioningEvent
    extra = 0
    can_delete = False
    fields = readonly_fields = ["created_at", "step", "outcome", "duration_ms", "error", "requested_by"]
    ordering = ["created_at", "id"]
    verbose_name_plural = "event log"

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


def _report(modeladmin, request, done: int, verb: str, failures: list[str]) -> None:
    if done:
        modeladmin.message_user(request, f"{done} affiliate{'s' if done != 1 else ''} {verb}.", messages.SUCCESS)
    for failure in failures:
        modeladmin.message_user(request, failure, messages.ERROR)


@admin.register(Affiliate)
class AffiliateAdmin(admin.ModelAdmin):
    list_display = [
        "slug_display",
        "name",
        "status_badge",
        "schema_version",
        "primary_domain",
        "database_name",
        "member_logins",
        "updated_at",
    ]
    list_filter = ["status", "database_server", "seed_requested"]
    search_fields = ["schema_name", "name", "domains__domain"]
    ordering = ["schema_name"]
    inlines = [DomainInline, MembershipInline, ProvisioningEventInline]
    readonly_fields = [
        "status",
        "status_detail",
        "database_server",
        "database_name",
        "database_role",
        "secret_ref",
        "schema_version",
        "seed_requested",
        "created_at",
        "updated_at",
        "activated_at",
    ]
    fieldsets = [
        (None, {"fields": ["schema_name", "name"]}),
        ("Status", {"fields": ["status", "status_detail", "activated_at"]}),
        (
            "Database",
            {
                "fields": [
                    "database_server",
                    "database_name",
                    "database_role",
                    "secret_ref",
                    "schema_version",
                    "seed_requested",
                ]
            },
        ),
        ("History", {"fields": ["created_at", "updated_at"]}),
    ]
    actions = ["provision_or_retry", "suspend", "resume", "archive"]

    def get_queryset(self, request):
        return super().get_queryset(request).prefetch_related("domains").annotate(_logins=Count("memberships"))

    def has_delete_permission(self, request, obj=None):
        # Deleting the row would orphan the database and role: archive instead (backup, then drop).
        return False

    def get_readonly_fields(self, request, obj=None):
        # The slug names the database and role: fixed once registered.
        return self.readonly_fields + (["schema_name"] if obj else [])

    def get_form(self, request, obj=None, change=False, **kwargs):
        if obj is None:
            kwargs["form"] = AffiliateRequestForm
            kwargs["fields"] = None
        return super().get_form(request, obj, change=change, **kwargs)

    def get_fieldsets(self, request, obj=None):
        if obj is None:
            return [(None, {"fields": ["schema_name", "name", "domain", "owner_email", "seed"]})]
        return super().get_fieldsets(request, obj)

    def get_inlines(self, request, obj):
        return self.inlines if obj else []

    def save_model(self, request, obj, form, change):
        if change:
            super().save_model(request, obj, form, change)
            return
        # A new affiliate goes through the provisioning service: validated, registered, queued.
        created = provisioning.affiliate_request(
            slug=form.cleaned_data["schema_name"],
            name=form.cleaned_data["name"],
            domain=form.cleaned_data["domain"],
            owner_email=form.cleaned_data.get("owner_email") or None,
            seed=form.cleaned_data.get("seed", False),
            requested_by=request.user.get_username(),
        )
        obj.pk = created.pk
        obj._state.adding = False
        self.message_user(request, f"{created.slug} queued for provisioning.", messages.SUCCESS)

    def save_related(self, request, form, formsets, change):
        if change:
            super().save_related(request, form, formsets, change)

    @admin.display(description="slug", ordering="schema_name")
    def slug_display(self, obj):
        return obj.slug

    @admin.display(description="status", ordering="status")
    def status_badge(self, obj):
        colour = STATUS_COLOURS.get(obj.status, "#0969da")
        title = obj.status_detail or obj.get_status_display()
        return format_html('<strong style="color:{}" title="{}">{}</strong>', colour, title, obj.get_status_display())

    @admin.display(description="domain")
    def primary_domain(self, obj):
        return format_html_join(", ", "{}", ((d.domain,) for d in obj.domains.all() if d.is_primary)) or "—"

    @admin.display(description="logins", ordering="_logins")
    def member_logins(self, obj):
        return obj._logins

    @admin.action(description="Provision / retry selected affiliates")
    def provision_or_retry(self, request, queryset):
        done, failures = 0, []
        for affiliate in queryset:
            if affiliate.status == Affiliate.Status.ACTIVE:
                continue
            try:
                provisioning.affiliate_retry(affiliate_id=affiliate.pk, requested_by=request.user.get_username())
                done += 1
            except ProvisioningError as exc:
                failures.append(str(exc))
        _report(self, request, done, "queued for provisioning", failures)

    def _apply(self, request, queryset, service, verb):
        done, failures = 0, []
        for affiliate in queryset:
            try:
                service(affiliate_id=affiliate.pk, requested_by=request.user.get_username())
                done += 1
            except (ProvisioningError, ValidationError) as exc:
                failures.append(f"{affiliate.slug}: {exc}")
            except Exception as exc:  # a database error: report it, keep going with the others
                failures.append(f"{affiliate.slug}: {type(exc).__name__}: {exc}")
        _report(self, request, done, verb, failures)

    @admin.action(description="Suspend selected affiliates")
    def suspend(self, request, queryset):
        self._apply(request, queryset, lifecycle.affiliate_suspend, "suspended")

    @admin.action(description="Resume selected affiliates")
    def resume(self, request, queryset):
        self._apply(request, queryset, lifecycle.affiliate_resume, "resumed")

    @admin.action(description="Archive selected affiliates (pg_dump backup, then drop database and role)")
    def archive(self, request, queryset):
        self._apply(request, queryset, lifecycle.affiliate_archive, "archived")


@admin.register(DatabaseServer)
class DatabaseServerAdmin(admin.ModelAdmin):
    list_display = ["name", "kind", "host", "port", "is_default", "is_accepting", "affiliate_count"]
    list_filter = ["kind", "is_accepting"]

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(_affiliates=Count("affiliates"))

    @admin.display(description="affiliates", ordering="_affiliates")
    def affiliate_count(self, obj):
        return obj._affiliates


@admin.register(Membership)
class MembershipAdmin(admin.ModelAdmin):
    list_display = ["user", "affiliate", "role", "created_at"]
    list_filter = ["role"]
    search_fields = ["user__username", "user__email", "affiliate__schema_name", "affiliate__name"]
    raw_id_fields = ["user"]
    list_select_related = ["user", "affiliate"]


@admin.register(ProvisioningEvent)
class ProvisioningEventAdmin(admin.ModelAdmin):
    list_display = ["created_at", "affiliate", "step", "outcome", "duration_ms", "requested_by", "short_error"]
    list_filter = ["outcome", "step"]
    search_fields = ["affiliate__schema_name", "error", "requested_by"]
    list_select_related = ["affiliate"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    @admin.display(description="error")
    def short_error(self, obj):
        return (obj.error[:120] + "…") if len(obj.error) > 120 else obj.error


admin.site.register(Domain, list_display=["domain", "tenant", "is_primary"], search_fields=["domain"])
