"""The command center: affiliates, their domains, memberships, database servers, provisioning,
fleet migrations and the staff audit trail.

Every dangerous operation needs its own permission (``affiliates/staff.py``): the admin offers an
action only to those who hold it (``@admin.action(permissions=…)``) and the action checks again
before it acts, so a forged POST changes nothing.
"""

from __future__ import annotations

from django.contrib import admin, messages
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Count, OuterRef, Q, Subquery
from django.http import HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html, format_html_join

from . import backups, fleet, flyway, lifecycle, passwords, placement, provisioning, queue, staff
from .audit import audit_record
from .errors import BackupError, ProvisioningError, QueueUnavailable
from .forms import AffiliateRequestForm, DomainForm
from .models import (
    Affiliate,
    DatabaseServer,
    Domain,
    Membership,
    MigrationRun,
    MigrationRunAffiliate,
    ProvisioningEvent,
    StaffAudit,
)
from .placement import servers_with_load

STATUS_COLOURS = {
    Affiliate.Status.ACTIVE: "#1a7f37",
    Affiliate.Status.FAILED: "#cf222e",
    Affiliate.Status.SUSPENDED: "#9a6700",
    Affiliate.Status.ARCHIVED: "#57606a",
}


class DomainInline(admin.TabularInline):
    model = Domain
    form = DomainForm
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
    fields = readonly_fields = ["created_at", "step", "outcome", "duration_ms", "detail", "error", "requested_by"]
    ordering = ["created_at", "id"]
    verbose_name_plural = "event log"

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


def _require(request, permission: str) -> None:
    """The check again, in the code that acts: an action offered or not, no permission, no change."""
    if not request.user.has_perm(permission):
        audit_record(
            actor=request.user.get_username(),
            channel=StaffAudit.Channel.ADMIN,
            action=permission.split(".")[1],
            outcome=StaffAudit.Outcome.REFUSED,
            detail="permission denied",
        )
        raise PermissionDenied(f"you need the {permission} permission")


def _latest() -> str:
    return flyway.latest_version("application")


def _behind_versions() -> list[str]:
    """Registry versions older than the latest (a handful of distinct values, read from the registry)."""
    latest = flyway.version_key(_latest())
    versions = Affiliate.objects.filter(status__in=fleet.WITH_DATABASE).values_list("schema_version", flat=True)
    return [v for v in versions.order_by().distinct() if flyway.version_key(v) < latest]


def _last_migration_outcome():
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

    def lookups(self, request, model_admin):
        return [("behind", "Behind latest"), ("latest", "At latest")]

    def queryset(self, request, queryset):
        if self.value() == "behind":
            return queryset.filter(status__in=fleet.WITH_DATABASE, schema_version__in=_behind_versions())
        if self.value() == "latest":
            return queryset.filter(schema_version=_latest())
        return queryset


class LastMigrationFilter(admin.SimpleListFilter):
    title = "last migration"
    parameter_name = "last_migration"

    def lookups(self, request, model_admin):
        return [("failed", "Last migration failed"), ("succeeded", "Last migration succeeded")]

    def queryset(self, request, queryset):
        if self.value() in ("failed", "succeeded"):
            return queryset.annotate(_last_migration=_last_migration_outcome()).filter(_last_migration=self.value())
        return queryset


def _report(modeladmin, request, done: int, verb: str, failures: list[str], noun: str = "affiliate") -> None:
    if done:
        modeladmin.message_user(request, f"{done} {noun}{'s' if done != 1 else ''} {verb}.", messages.SUCCESS)
    for failure in failures:
        modeladmin.message_user(request, failure, messages.ERROR)


@admin.register(Affiliate)
class AffiliateAdmin(admin.ModelAdmin):
    list_display = [
        "slug_display",
        "name",
        "status_badge",
        "version_badge",
        "primary_domain",
        "database_name",
        "member_logins",
        "updated_at",
    ]
    list_filter = ["status", BehindFilter, LastMigrationFilter, "database_server", "seed_requested"]
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
    actions = [
        "provision_or_retry",
        "send_password_links",
        "suspend",
        "resume",
        "migrate_to_latest",
        "check_for_drift",
        "archive",
        "restore",
    ]

    # --- who may do what (affiliates/staff.py) ---

    def has_provision_permission(self, request):
        return request.user.has_perm(staff.PROVISION)

    def has_suspend_permission(self, request):
        return request.user.has_perm(staff.SUSPEND)

    def has_migrate_permission(self, request):
        return request.user.has_perm(staff.MIGRATE)

    def has_archive_permission(self, request):
        return request.user.has_perm(staff.ARCHIVE)

    def has_add_permission(self, request):
        # Adding an affiliate provisions it.
        return super().has_add_permission(request) and self.has_provision_permission(request)

    def get_urls(self):
        return [
            path("fleet/", self.admin_site.admin_view(self.fleet_view), name="affiliates_fleet"),
            *super().get_urls(),
        ]

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
            return [(None, {"fields": ["schema_name", "name", "domain", "owner_email", "seed", "server"]})]
        return super().get_fieldsets(request, obj)

    def get_inlines(self, request, obj):
        return self.inlines if obj else []

    def save_model(self, request, obj, form, change):
        if change:
            super().save_model(request, obj, form, change)
            return
        _require(request, staff.PROVISION)
        # A new affiliate goes through the provisioning service: validated, registered, queued.
        created = provisioning.affiliate_request(
            channel=StaffAudit.Channel.ADMIN,
            slug=form.cleaned_data["schema_name"],
            name=form.cleaned_data["name"],
            domain=form.cleaned_data["domain"],
            owner_email=form.cleaned_data.get("owner_email") or None,
            seed=form.cleaned_data.get("seed", False),
            server_name=form.cleaned_data["server"].name if form.cleaned_data.get("server") else None,
            requested_by=request.user.get_username(),
            enqueue=False,
        )
        obj.pk = created.pk
        obj._state.adding = False

        def enqueue():  # after the admin's transaction commits, so the worker finds the row
            try:
                provisioning.affiliate_enqueue(affiliate_id=created.pk, requested_by=request.user.get_username())
            except QueueUnavailable as exc:
                self.message_user(request, f"{created.slug} registered but not queued: {exc}.", messages.WARNING)
            else:
                self.message_user(request, f"{created.slug} queued for provisioning.", messages.SUCCESS)

        transaction.on_commit(enqueue)

    def save_related(self, request, form, formsets, change):
        if change:
            super().save_related(request, form, formsets, change)

    def save_formset(self, request, form, formset, change):
        super().save_formset(request, form, formset, change)
        if formset.model is Membership:
            for membership in formset.new_objects:
                _membership_audit(request, membership, "membership_grant")
            for membership, _changed in formset.changed_objects:
                _membership_audit(request, membership, "membership_change")
            for membership in formset.deleted_objects:
                _membership_audit(request, membership, "membership_revoke")

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

    @admin.display(description="schema", ordering="schema_version")
    def version_badge(self, obj):
        latest = _latest()
        if not obj.schema_version:
            return "—"
        if obj.status in fleet.WITH_DATABASE and flyway.version_key(obj.schema_version) < flyway.version_key(latest):
            return format_html(
                'V{} <span style="background:#9a6700;color:#fff;border-radius:3px;padding:0 4px" '
                'title="latest is V{}">behind V{}</span>',
                obj.schema_version,
                latest,
                latest,
            )
        if obj.schema_version == latest:
            return format_html('V{} <span style="color:#1a7f37">latest</span>', obj.schema_version)
        return f"V{obj.schema_version}"

    @admin.action(description="Provision / retry selected affiliates", permissions=["provision"])
    def provision_or_retry(self, request, queryset):
        _require(request, staff.PROVISION)
        done, failures = 0, []
        for affiliate in queryset:
            if affiliate.status == Affiliate.Status.ACTIVE:
                continue
            try:
                provisioning.affiliate_retry(
                    affiliate_id=affiliate.pk, requested_by=request.user.get_username(), channel="admin"
                )
                done += 1
            except ProvisioningError as exc:
                failures.append(str(exc))
        _report(self, request, done, "queued for provisioning", failures)

    def _apply(self, request, queryset, service, verb):
        done, failures = 0, []
        for affiliate in queryset:
            try:
                service(affiliate_id=affiliate.pk, requested_by=request.user.get_username(), channel="admin")
                done += 1
            except (ProvisioningError, ValidationError) as exc:
                failures.append(f"{affiliate.slug}: {exc}")
            except Exception as exc:  # a database error: report it, keep going with the others
                failures.append(f"{affiliate.slug}: {type(exc).__name__}: {exc}")
        _report(self, request, done, verb, failures)

    @admin.action(description="Send the owners a link to set their password", permissions=["provision"])
    def send_password_links(self, request, queryset):
        _require(request, staff.PROVISION)
        sent, failures = 0, []
        for affiliate in queryset.filter(status=Affiliate.Status.ACTIVE):
            owners = list(passwords.owners(affiliate))
            if not owners:
                failures.append(f"{affiliate.slug}: no owner with an e-mail address")
            for user in owners:
                try:
                    address = passwords.password_link_send(affiliate, user)
                except Exception as exc:  # the mail server's answer, for staff to read
                    failures.append(f"{affiliate.slug}: {user.email}: {type(exc).__name__}: {exc}")
                    continue
                sent += 1
                audit_record(
                    actor=request.user.get_username(),
                    channel=StaffAudit.Channel.ADMIN,
                    action="password_link",
                    target=affiliate.slug,
                    outcome=StaffAudit.Outcome.SUCCEEDED,
                    detail=f"to {address}",
                )
        left_out = queryset.exclude(status=Affiliate.Status.ACTIVE).count()
        if left_out:
            failures.append(f"{left_out} selected affiliate(s) not active: no link sent")
        _report(self, request, sent, "sent", failures, noun="password link")

    @admin.action(description="Suspend selected affiliates", permissions=["suspend"])
    def suspend(self, request, queryset):
        _require(request, staff.SUSPEND)
        self._apply(request, queryset, lifecycle.affiliate_suspend, "suspended")

    @admin.action(description="Resume selected affiliates", permissions=["suspend"])
    def resume(self, request, queryset):
        _require(request, staff.SUSPEND)
        self._apply(request, queryset, lifecycle.affiliate_resume, "resumed")

    def _run_start(self, request, queryset, kind):
        _require(request, staff.MIGRATE)
        with_database = list(queryset.filter(status__in=fleet.WITH_DATABASE).order_by("pk"))
        left_out = queryset.count() - len(with_database)
        if not with_database:
            self.message_user(request, "None of the selected affiliates has a database to work on.", messages.ERROR)
            return None
        note = f" ({left_out} without a database left out)" if left_out else ""
        run = fleet.run_create(
            kind, with_database, started_by=request.user.get_username(), channel=StaffAudit.Channel.ADMIN, enqueue=False
        )
        try:
            fleet.run_enqueue(run.pk)
        except QueueUnavailable as exc:
            self.message_user(request, f"{run} recorded but not started: {exc}.", messages.WARNING)
        else:
            self.message_user(request, f"{run} started for {len(with_database)} affiliates{note}.", messages.SUCCESS)
        return HttpResponseRedirect(reverse("admin:affiliates_migrationrun_change", args=[run.pk]))

    @admin.action(description="Migrate selected to latest", permissions=["migrate"])
    def migrate_to_latest(self, request, queryset):
        return self._run_start(request, queryset, MigrationRun.Kind.MIGRATE)

    @admin.action(description="Check selected for drift", permissions=["migrate"])
    def check_for_drift(self, request, queryset):
        return self._run_start(request, queryset, MigrationRun.Kind.CHECK)

    @admin.action(
        description="Archive selected affiliates (pg_dump backup, then drop database and role)", permissions=["archive"]
    )
    def archive(self, request, queryset):
        _require(request, staff.ARCHIVE)
        if request.POST.get("confirmed") != "yes":
            # An intermediate page: what will be dropped, and where the backups go.
            context = {
                **self.admin_site.each_context(request),
                "title": "Archive affiliates?",
                "opts": self.model._meta,
                "affiliates": queryset.select_related("database_server"),
                "backup_to": backups.destination(),
                "action_checkbox_name": ACTION_CHECKBOX_NAME,
                "action": "archive",
            }
            return TemplateResponse(request, "admin/affiliates/affiliate/archive_confirmation.html", context)
        self._apply(request, queryset, lifecycle.affiliate_archive, "archived")
        return None

    @admin.action(description="Restore selected archived affiliates from their newest backup", permissions=["archive"])
    def restore(self, request, queryset):
        _require(request, staff.ARCHIVE)
        plan = []  # (affiliate, backup location or None, why not)
        for affiliate in queryset.select_related("database_server").order_by("schema_name"):
            if affiliate.status != Affiliate.Status.ARCHIVED:
                plan.append((affiliate, None, f"it is {affiliate.get_status_display().lower()}, not archived"))
                continue
            try:
                plan.append((affiliate, backups.backup_latest(affiliate.slug), ""))
            except BackupError as exc:
                plan.append((affiliate, None, str(exc)))
        server_name = request.POST.get("server", "")
        problem = ""
        if request.POST.get("confirmed") == "yes":
            try:
                placement.database_server_choose(server_name=server_name or None)
            except ValidationError as exc:
                problem = " ".join(exc.messages)
            else:
                return self._restore_queue(request, plan, server_name or None)
        # An intermediate page: which backup each affiliate comes back from, and onto which server.
        context = {
            **self.admin_site.each_context(request),
            "title": "Restore affiliates?",
            "opts": self.model._meta,
            "plan": plan,
            "restorable": sum(1 for _, location, _ in plan if location),
            "servers": servers_with_load().filter(is_accepting=True).order_by("name"),
            "server_name": server_name,
            "problem": problem,
            "action_checkbox_name": ACTION_CHECKBOX_NAME,
            "action": "restore",
        }
        return TemplateResponse(request, "admin/affiliates/affiliate/restore_confirmation.html", context)

    def _restore_queue(self, request, plan, server_name: str | None):
        from .tasks import affiliate_restore_task

        done, failures = 0, []
        for affiliate, location, why_not in plan:
            if not location:
                failures.append(f"{affiliate.slug}: {why_not}")
                continue
            try:
                queue.send(
                    affiliate_restore_task,
                    affiliate.pk,
                    backup=location,
                    server_name=server_name,
                    requested_by=request.user.get_username(),
                )
            except QueueUnavailable as exc:
                failures.append(f"{affiliate.slug}: not queued: {exc}")
                continue
            Affiliate.objects.filter(pk=affiliate.pk).update(status_detail=f"restore queued from {location}")
            done += 1
        _report(self, request, done, "queued for restore", failures)
        return None

    # --- the fleet overview ---

    def fleet_view(self, request):
        if not self.has_view_permission(request):
            raise PermissionDenied
        latest = _latest()
        with_database = Affiliate.objects.filter(status__in=fleet.WITH_DATABASE)
        behind = _behind_versions()
        context = {
            **self.admin_site.each_context(request),
            "title": "Fleet overview",
            "opts": self.model._meta,
            "latest": latest,
            "by_status": Affiliate.objects.values("status").annotate(n=Count("id")).order_by("status"),
            "by_version": with_database.values("schema_version").annotate(n=Count("id")).order_by("schema_version"),
            "behind_versions": behind,
            "behind_count": with_database.filter(schema_version__in=behind).count(),
            "servers": DatabaseServer.objects.annotate(
                n=Count("affiliates", filter=Q(affiliates__status__in=fleet.WITH_DATABASE))
            ).order_by("name"),
            "runs": MigrationRun.objects.order_by("-created_at", "-id")[:10],
            "failed_provisioning": Affiliate.objects.filter(status=Affiliate.Status.FAILED).order_by("schema_name")[
                :50
            ],
            "failed_migrations": with_database.annotate(_last=_last_migration_outcome())
            .filter(_last=MigrationRunAffiliate.Outcome.FAILED)
            .order_by("schema_name")[:50],
        }
        return TemplateResponse(request, "admin/affiliates/fleet.html", context)


def _membership_audit(request, membership: Membership, action: str) -> None:
    audit_record(
        actor=request.user.get_username(),
        channel=StaffAudit.Channel.ADMIN,
        action=action,
        target=membership.affiliate.slug,
        outcome=StaffAudit.Outcome.SUCCEEDED,
        detail=f"{membership.user} as {membership.role}",
    )


@admin.register(DatabaseServer)
class DatabaseServerAdmin(admin.ModelAdmin):
    """Editing a server (its host, its admin login reference) needs Administrators' change permission:
    FitBuddy sends credentials to that host."""

    list_display = ["name", "kind", "host", "port", "pooler", "capacity", "accepting", "is_default"]
    list_filter = ["kind", "is_accepting"]
    actions = ["drain", "accept"]

    def get_queryset(self, request):
        return servers_with_load()

    @admin.display(description="affiliates", ordering="load")
    def capacity(self, obj):
        return f"{obj.load} / {obj.max_affiliates or '∞'}"

    @admin.display(description="state", ordering="is_accepting")
    def accepting(self, obj):
        if obj.is_accepting:
            return format_html('<span style="color:{}">{}</span>', "#1a7f37", "accepting")
        return format_html('<strong style="color:{}">{}</strong>', "#9a6700", "draining")

    def _accepting(self, request, queryset, accepting: bool):
        _require(request, "affiliates.change_databaseserver")
        names = list(queryset.values_list("name", flat=True))
        queryset.update(is_accepting=accepting)
        for name in names:
            audit_record(
                actor=request.user.get_username(),
                channel=StaffAudit.Channel.ADMIN,
                action="server_accept" if accepting else "server_drain",
                target=name,
                outcome=StaffAudit.Outcome.SUCCEEDED,
            )
        _report(self, request, len(names), "accepting new affiliates" if accepting else "draining", [], noun="server")

    @admin.action(description="Drain selected servers (no new affiliates)", permissions=["change"])
    def drain(self, request, queryset):
        self._accepting(request, queryset, False)

    @admin.action(description="Let selected servers take new affiliates", permissions=["change"])
    def accept(self, request, queryset):
        self._accepting(request, queryset, True)


@admin.register(Membership)
class MembershipAdmin(admin.ModelAdmin):
    list_display = ["user", "affiliate", "role", "created_at"]
    list_filter = ["role"]
    search_fields = ["user__username", "user__email", "affiliate__schema_name", "affiliate__name"]
    raw_id_fields = ["user"]
    list_select_related = ["user", "affiliate"]

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        _membership_audit(request, obj, "membership_change" if change else "membership_grant")

    def delete_model(self, request, obj):
        super().delete_model(request, obj)
        _membership_audit(request, obj, "membership_revoke")

    def delete_queryset(self, request, queryset):
        revoked = list(queryset.select_related("affiliate", "user"))
        super().delete_queryset(request, queryset)
        for membership in revoked:
            _membership_audit(request, membership, "membership_revoke")


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


admin.site.register(Domain, form=DomainForm, list_display=["domain", "tenant", "is_primary"], search_fields=["domain"])


# --- fleet migrations ---

RUN_COLOURS = {
    MigrationRun.Status.SUCCEEDED: "#1a7f37",
    MigrationRun.Status.FAILED: "#cf222e",
    MigrationRun.Status.STOPPED: "#9a6700",
    MigrationRun.Status.RUNNING: "#0969da",
}


@admin.register(MigrationRun)
class MigrationRunAdmin(admin.ModelAdmin):
    """Runs are started from the affiliate list or ``manage.py migrate_affiliates``; here they are followed."""

    list_display = ["__str__", "kind", "status_badge", "progress", "started_by", "created_at", "finished_at"]
    list_filter = ["kind", "status"]
    search_fields = ["started_by", "status_detail"]
    actions = ["retry_failed"]
    fields = readonly_fields = [
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
    ]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False  # the record of what was done to the fleet stays

    def has_migrate_permission(self, request):
        return request.user.has_perm(staff.MIGRATE)

    def change_view(self, request, object_id, form_url="", extra_context=None):
        run = self.get_object(request, object_id)
        extra_context = {**(extra_context or {}), "refresh_seconds": 2 if run and not run.finished else None}
        return super().change_view(request, object_id, form_url, extra_context)

    @admin.display(description="status", ordering="status")
    def status_badge(self, obj):
        colour = RUN_COLOURS.get(obj.status, "#57606a")
        return format_html('<strong style="color:{}">{}</strong>', colour, obj.get_status_display())

    @admin.display(description="progress")
    def progress(self, obj):
        p = fleet.run_progress(obj)
        url = reverse("admin:affiliates_migrationrunaffiliate_changelist") + f"?run__id__exact={obj.pk}"
        return format_html(
            '<a href="{}">{} / {} done</a>: {} succeeded, <span style="color:#cf222e">{} failed</span>, '
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
    def strategy(self, obj):
        return fleet.strategy_describe(obj)

    @admin.display(description="needs attention (first 200)")
    def problems(self, obj):
        items = (
            obj.items.select_related("affiliate")
            .exclude(outcome=MigrationRunAffiliate.Outcome.SUCCEEDED, state__in=["", "current"])
            .order_by("wave", "affiliate__schema_name")[:200]
        )
        rows = [
            (
                item.affiliate.slug,
                item.get_outcome_display(),
                item.get_state_display() if item.state else "",
                item.from_version or "?",
                item.to_version or "?",
                item.error_code,
                item.error_message,
            )
            for item in items
        ]
        if not rows:
            return "nothing"
        body = format_html_join(
            "",
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>V{} → V{}</td><td>{}</td>"
            "<td><pre style='white-space:pre-wrap'>{}</pre></td></tr>",
            rows,
        )
        return format_html(
            "<table><tr><th>affiliate</th><th>outcome</th><th>state</th><th>version</th><th>Flyway error</th>"
            "<th>message</th></tr>{}</table>",
            body,
        )

    @admin.action(description="Retry the failed ones (resume the run)", permissions=["migrate"])
    def retry_failed(self, request, queryset):
        _require(request, staff.MIGRATE)
        done, failures = 0, []
        for run in queryset:
            try:
                fleet.run_resume(run.pk, started_by=request.user.get_username(), channel=StaffAudit.Channel.ADMIN)
                done += 1
            except fleet.FleetError as exc:
                failures.append(str(exc))
        _report(self, request, done, "resumed", failures, noun="run")


@admin.register(MigrationRunAffiliate)
class MigrationRunAffiliateAdmin(admin.ModelAdmin):
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

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(StaffAudit)
class StaffAuditAdmin(admin.ModelAdmin):
    """Append-only: nobody adds, edits or deletes here (the database refuses the last two as well)."""

    list_display = ["created_at", "actor", "channel", "action", "target", "outcome", "short_detail"]
    list_filter = ["action", "channel", "outcome"]
    search_fields = ["actor", "target", "detail"]
    date_hierarchy = "created_at"
    readonly_fields = ["created_at", "actor", "channel", "action", "target", "outcome", "detail"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.display(description="detail")
    def short_detail(self, obj):
        return (obj.detail[:120] + "…") if len(obj.detail) > 120 else obj.detail
