"""The affiliate list and page: registering, provisioning, suspending, migrating, archiving and
restoring gyms, each as a bulk action that calls an operation and reports a count."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Protocol

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import QuerySet
from django.forms.models import BaseInlineFormSet
from django.http import Http404, HttpRequest, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import URLPattern, path, reverse
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString

from affiliates.admin import backups as backups_admin
from affiliates.admin import fleet as fleet_admin
from affiliates.admin import load as load_admin
from affiliates.admin.affiliate_inlines import AffiliateEventInline, AffiliateNoteInline, DomainInline
from affiliates.admin.audited import AuditedAdmin
from affiliates.admin.common import CSS, badge, report, require
from affiliates.admin.forms import AffiliateRequestForm, LoginHelpForm, RestoreServerForm
from affiliates.admin.moves import AffiliateMoveInline, move_to_server
from affiliates.errors import BackupError, OperationError, QueueUnavailable
from affiliates.infra import backups, flyway, queue
from affiliates.models import Affiliate, AffiliateNote, MigrationRun, StaffAudit
from affiliates.operations import fleet, gym_logins, gym_summary, lifecycle, placement, provisioning
from affiliates.operations.placement import servers_with_load
from affiliates.people import staff
from affiliates.routing import addresses

if TYPE_CHECKING:
    from django.contrib.admin.options import InlineModelAdmin, _FieldsetSpec

#: Per affiliate selected for a restore: the backup it comes back from (None: it cannot) and why not.
RestorePlan = list[tuple[Affiliate, str | None, str]]

STATUS_TONES: dict[str, str] = {
    Affiliate.Status.ACTIVE: "ok",
    Affiliate.Status.FAILED: "bad",
    Affiliate.Status.SUSPENDED: "warn",
    Affiliate.Status.ARCHIVED: "muted",
}


class _Service(Protocol):
    """A ``lifecycle`` operation on one affiliate, as the bulk actions call it."""

    def __call__(self, *, affiliate_id: int, requested_by: str, channel: str) -> Affiliate: ...


@admin.register(Affiliate)
class AffiliateAdmin(backups_admin.AffiliateBackupsMixin, AuditedAdmin[Affiliate]):
    """Every change on these pages, a domain inline included, is audited (``AuditedAdmin``)."""

    class Media:
        css = CSS

    def view_on_site(self, obj: Affiliate) -> str | None:
        """ "View on site" opens the gym's own site (its primary domain), not the command center."""
        try:
            return f"{addresses.gym_base_url(obj)}/"
        except addresses.NoGymAddress:
            return None

    @admin.display(description="Members, activity, size, backup")
    def gym_today(self, obj: Affiliate) -> str:
        """What support asks first when a gym calls, read from the gym's own database."""
        return gym_summary.summary_line(obj)

    list_display = [
        "slug_display",
        "name",
        "status_badge",
        "version_badge",
        "primary_domain",
        "database_name",
        "contact_email",
        "updated_at",
        "last_good_backup_badge",
    ]
    list_filter = [
        "status",
        fleet_admin.BehindFilter,
        fleet_admin.LastMigrationFilter,
        "database_server",
        "seed_requested",
        backups_admin.BackupStateFilter,
    ]
    search_fields = ["schema_name", "name", "domains__domain", "contact_email"]
    ordering = ["schema_name"]
    inlines = [DomainInline, AffiliateNoteInline, AffiliateMoveInline, AffiliateEventInline]
    readonly_fields = [
        "gym_today",
        "backups_section",
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
        (None, {"fields": ["schema_name", "name", "contact_email"]}),
        ("The gym today", {"fields": ["gym_today"]}),
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
        ("Backups", {"fields": ["backups_section"]}),
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
        move_to_server,
    ]

    # --- who may do what (affiliates/people/staff.py) ---

    def has_provision_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm(staff.PROVISION)

    def has_suspend_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm(staff.SUSPEND)

    def has_migrate_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm(staff.MIGRATE)

    def has_archive_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm(staff.ARCHIVE)

    def has_add_permission(self, request: HttpRequest) -> bool:
        # Adding an affiliate provisions it.
        return super().has_add_permission(request) and self.has_provision_permission(request)

    def get_urls(self) -> list[URLPattern]:
        return [
            path("fleet/", self.admin_site.admin_view(self.fleet_view), name="affiliates_fleet"),
            path("load/", self.admin_site.admin_view(self.load_view), name="affiliates_load"),
            path(
                "<int:affiliate_id>/login-help/",
                self.admin_site.admin_view(self.login_help_view),
                name="affiliates_login_help",
            ),
            *super().get_urls(),
        ]

    def get_queryset(self, request: HttpRequest) -> QuerySet[Affiliate]:
        # Annotating gives Any (Affiliate's base, django-tenants' TenantMixin, has no types): say what it is.
        affiliates: QuerySet[Affiliate] = super().get_queryset(request).prefetch_related("domains")
        return affiliates

    def has_delete_permission(self, request: HttpRequest, obj: Affiliate | None = None) -> bool:
        # Deleting the row would orphan the database and role: archive instead (backup, then drop).
        return False

    def get_readonly_fields(self, request: HttpRequest, obj: Affiliate | None = None) -> list[str]:
        # The slug names the database and role: fixed once registered.
        return self.readonly_fields + (["schema_name"] if obj else [])

    def get_form(
        self, request: HttpRequest, obj: Affiliate | None = None, change: bool = False, **kwargs: Any
    ) -> type[forms.ModelForm[Affiliate]]:
        if obj is None:
            kwargs["form"] = AffiliateRequestForm
            kwargs["fields"] = None
        return super().get_form(request, obj, change=change, **kwargs)

    def get_fieldsets(self, request: HttpRequest, obj: Affiliate | None = None) -> _FieldsetSpec:
        if obj is None:
            return [(None, {"fields": ["schema_name", "name", "domain", "owner_email", "seed", "server"]})]
        return super().get_fieldsets(request, obj)

    def get_inlines(self, request: HttpRequest, obj: Affiliate | None) -> list[type[InlineModelAdmin[Any, Any]]]:
        return self.inlines if obj else []

    def save_model(self, request: HttpRequest, obj: Affiliate, form: forms.ModelForm[Affiliate], change: bool) -> None:
        if change:
            super().save_model(request, obj, form, change)
            return
        require(request, staff.PROVISION)
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

        def enqueue() -> None:  # after the admin's transaction commits, so the worker finds the row
            try:
                provisioning.affiliate_enqueue(affiliate_id=created.pk, requested_by=request.user.get_username())
            except QueueUnavailable as exc:
                self.message_user(request, f"{created.slug} registered but not queued: {exc}.", messages.WARNING)
            else:
                self.message_user(request, f"{created.slug} queued for provisioning.", messages.SUCCESS)

        transaction.on_commit(enqueue)

    def save_related(
        self,
        request: HttpRequest,
        form: forms.ModelForm[Affiliate],
        formsets: list[BaseInlineFormSet[Any, Affiliate, Any]],
        change: bool,
    ) -> None:
        if change:
            super().save_related(request, form, formsets, change)

    def save_formset(
        self,
        request: HttpRequest,
        form: forms.ModelForm[Affiliate],
        formset: BaseInlineFormSet[Any, Affiliate, Any],
        change: bool,
    ) -> None:
        for row in formset.forms:  # a new staff note is signed by whoever writes it
            if isinstance(row.instance, AffiliateNote) and row.instance.pk is None:
                row.instance.author = request.user.get_username()
        super().save_formset(request, form, formset, change)

    @admin.display(description="slug", ordering="schema_name")
    def slug_display(self, obj: Affiliate) -> str:
        return obj.slug

    @admin.display(description="status", ordering="status")
    def status_badge(self, obj: Affiliate) -> SafeString:
        tone = STATUS_TONES.get(obj.status, "info")
        return badge(obj.get_status_display(), tone, title=obj.status_detail or obj.get_status_display())

    @admin.display(description="domain")
    def primary_domain(self, obj: Affiliate) -> str:
        return format_html_join(", ", "{}", ((d.domain,) for d in obj.domains.all() if d.is_primary)) or "—"

    @admin.display(description="schema", ordering="schema_version")
    def version_badge(self, obj: Affiliate) -> str:
        latest = fleet_admin.latest()
        if not obj.schema_version:
            return "—"
        if obj.status in fleet.WITH_DATABASE and flyway.version_key(obj.schema_version) < flyway.version_key(latest):
            behind = badge(f"behind V{latest}", "pill", title=f"latest is V{latest}", strong=False)
            return format_html("V{} {}", obj.schema_version, behind)
        if obj.schema_version == latest:
            return format_html("V{} {}", obj.schema_version, badge("latest", "ok", strong=False))
        return f"V{obj.schema_version}"

    @admin.action(description="Provision / retry selected affiliates", permissions=["provision"])
    def provision_or_retry(self, request: HttpRequest, queryset: QuerySet[Affiliate]) -> None:
        require(request, staff.PROVISION)
        done = 0
        failures: list[str] = []
        for affiliate in queryset:
            if affiliate.status == Affiliate.Status.ACTIVE:
                continue
            try:
                provisioning.affiliate_retry(
                    affiliate_id=affiliate.pk, requested_by=request.user.get_username(), channel="admin"
                )
                done += 1
            except OperationError as exc:
                failures.append(str(exc))
        report(self, request, done, "queued for provisioning", failures)

    def _apply(self, request: HttpRequest, queryset: QuerySet[Affiliate], service: _Service, verb: str) -> None:
        done = 0
        failures: list[str] = []
        for affiliate in queryset:
            try:
                service(affiliate_id=affiliate.pk, requested_by=request.user.get_username(), channel="admin")
                done += 1
            except (OperationError, ValidationError) as exc:
                failures.append(f"{affiliate.slug}: {exc}")
            except Exception as exc:  # a database error: report it, keep going with the others
                failures.append(f"{affiliate.slug}: {type(exc).__name__}: {exc}")
        report(self, request, done, verb, failures)

    @admin.action(description="Send the owners a link to set their password", permissions=["provision"])
    def send_password_links(self, request: HttpRequest, queryset: QuerySet[Affiliate]) -> None:
        require(request, staff.PROVISION)
        sent = 0
        failures: list[str] = []
        for affiliate in queryset:
            try:
                addresses = gym_logins.owner_links_send(affiliate, actor=request.user.get_username())
            except ValidationError as exc:
                failures.append(f"{affiliate.slug}: {' '.join(exc.messages)}")
                continue
            except Exception as exc:  # the mail server's or the gym database's answer, for staff to read
                failures.append(f"{affiliate.slug}: {type(exc).__name__}: {exc}")
                continue
            if not addresses:
                failures.append(f"{affiliate.slug}: no active owner login")
            sent += len(addresses)
        report(self, request, sent, "sent", failures, noun="password link")

    @admin.action(description="Suspend selected affiliates", permissions=["suspend"])
    def suspend(self, request: HttpRequest, queryset: QuerySet[Affiliate]) -> None:
        require(request, staff.SUSPEND)
        self._apply(request, queryset, lifecycle.affiliate_suspend, "suspended")

    @admin.action(description="Resume selected affiliates", permissions=["suspend"])
    def resume(self, request: HttpRequest, queryset: QuerySet[Affiliate]) -> None:
        require(request, staff.SUSPEND)
        self._apply(request, queryset, lifecycle.affiliate_resume, "resumed")

    def _run_start(self, request: HttpRequest, queryset: QuerySet[Affiliate], kind: str) -> HttpResponseRedirect | None:
        require(request, staff.MIGRATE)
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
    def migrate_to_latest(self, request: HttpRequest, queryset: QuerySet[Affiliate]) -> HttpResponseRedirect | None:
        return self._run_start(request, queryset, MigrationRun.Kind.MIGRATE)

    @admin.action(description="Check selected for drift", permissions=["migrate"])
    def check_for_drift(self, request: HttpRequest, queryset: QuerySet[Affiliate]) -> HttpResponseRedirect | None:
        return self._run_start(request, queryset, MigrationRun.Kind.CHECK)

    @admin.action(
        description="Archive selected affiliates (pg_dump backup, then drop database and role)", permissions=["archive"]
    )
    def archive(self, request: HttpRequest, queryset: QuerySet[Affiliate]) -> TemplateResponse | None:
        require(request, staff.ARCHIVE)
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
    def restore(self, request: HttpRequest, queryset: QuerySet[Affiliate]) -> TemplateResponse | None:
        require(request, staff.ARCHIVE)
        plan: RestorePlan = []
        for affiliate in queryset.select_related("database_server").order_by("schema_name"):
            if affiliate.status != Affiliate.Status.ARCHIVED:
                plan.append((affiliate, None, f"it is {affiliate.get_status_display().lower()}, not archived"))
                continue
            try:
                plan.append((affiliate, backups.backup_latest(affiliate.slug), ""))
            except BackupError as exc:
                plan.append((affiliate, None, str(exc)))
        chosen = RestoreServerForm(request.POST)
        server_name = chosen.cleaned_data["server"] if chosen.is_valid() else ""
        problem = chosen.problem()
        if request.POST.get("confirmed") == "yes" and not problem:
            try:
                placement.database_server_choose(server_name=server_name or None)
            except ValidationError as exc:
                problem = " ".join(exc.messages)
            else:
                self._restore_queue(request, plan, server_name or None)
                return None
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

    def _restore_queue(self, request: HttpRequest, plan: RestorePlan, server_name: str | None) -> None:
        done = 0
        failures: list[str] = []
        for affiliate, location, why_not in plan:
            if not location:
                failures.append(f"{affiliate.slug}: {why_not}")
                continue
            try:
                queue.send(
                    queue.RESTORE,
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
        report(self, request, done, "queued for restore", failures)
        return None

    # --- the fleet overview ---

    def login_help_view(self, request: HttpRequest, affiliate_id: int) -> TemplateResponse | HttpResponseRedirect:
        """Help one of the gym's logins: a link to set the password, or an unlock (Operators; audited)."""
        affiliate = self.get_object(request, str(affiliate_id))
        if affiliate is None:
            raise Http404("No such affiliate.")
        require(request, staff.PROVISION)
        form = LoginHelpForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            try:
                done = gym_logins.login_help(
                    affiliate,
                    email=form.cleaned_data["email"],
                    action=form.cleaned_data["action"],
                    actor=request.user.get_username(),
                )
            except ValidationError as exc:
                form.add_error(None, exc)
            except Exception as exc:  # the gym's database or the mail server: say so, change nothing else
                form.add_error(None, f"{type(exc).__name__}: {exc}")
            else:
                messages.success(request, done)
                return HttpResponseRedirect(reverse("admin:affiliates_affiliate_change", args=[affiliate.pk]))
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "original": affiliate,
            "form": form,
            "title": f"Help a login of {affiliate.name}",
        }
        return TemplateResponse(request, "admin/affiliates/affiliate/login_help.html", context)

    def fleet_view(self, request: HttpRequest) -> TemplateResponse:
        if not self.has_view_permission(request):
            raise PermissionDenied
        context = {**self.admin_site.each_context(request), "opts": self.model._meta, **fleet_admin.overview_context()}
        return TemplateResponse(request, "admin/affiliates/fleet.html", context)

    def load_view(self, request: HttpRequest) -> TemplateResponse:
        """The "Gym load" page (affiliates/admin/load.py)."""
        return load_admin.load_view(self, request)
