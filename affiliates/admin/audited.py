"""Every change a command-center page makes, in the staff audit trail: who, what, and before and after.

``AuditedAdmin`` is the base of every model admin that can change something (the registry's, and
Django's staff users and groups, registered again through it in ``staff_accounts.py``). It records:

- an addition or a change on the object's page, and in the list's editable columns, after its
  many-to-many fields are saved (``log_addition`` / ``log_change``, which Django calls in the same
  transaction as the save): the fields that changed, before and after; a page that saves without
  ``save_model`` (a user's password form) is recorded with Django's own change message;
- every object an inline adds, changes or deletes (``save_formset``): a domain on an affiliate's page;
- a deletion, one object or a bulk *delete selected* (``delete_model`` / ``delete_queryset``),
  in one transaction with the deletion.

Secrets are never written (``affiliates/audit/changes.py`` redacts them). The record is written in
the transaction of the change: if it cannot be written, the change is rolled back with it.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from django.contrib import admin
from django.contrib.admin.models import LogEntry
from django.db import models, router, transaction
from django.http import HttpRequest

from affiliates.audit import audit_record, changes
from affiliates.models import StaffAudit

if TYPE_CHECKING:
    from django import forms
    from django.db.models import QuerySet
    from django.forms.models import BaseInlineFormSet

_M = TypeVar("_M", bound=models.Model)

if TYPE_CHECKING:
    _ModelAdmin = admin.ModelAdmin
else:
    # Django's admin classes cannot be subscripted at run time: this one can (``AuditedAdmin[Affiliate]``).
    class _ModelAdmin(admin.ModelAdmin, Generic[_M]):
        pass


#: Where a page's before-snapshots wait, on the request, between ``save_model`` and ``log_change``.
_BEFORE = "_fitbuddy_audit_before"


def _target(obj: models.Model, pk: Any = None) -> str:
    return f"{obj._meta.model_name} #{obj.pk if pk is None else pk} {obj}"[:200]


def _key(obj: models.Model) -> tuple[str, str]:
    return (obj._meta.label_lower, str(obj.pk))


def _befores(request: HttpRequest) -> dict[tuple[str, str], changes.Snapshot | None]:
    found: dict[tuple[str, str], changes.Snapshot | None] | None = getattr(request, _BEFORE, None)
    if found is None:
        found = {}
        setattr(request, _BEFORE, found)
    return found


def record_change(
    request: HttpRequest, obj: models.Model, verb: str, *, pk: Any = None, detail: str = "", diff: Any = None
) -> StaffAudit:
    """One record of a change the command center made to ``obj`` (``verb``: add, change or delete)."""
    return audit_record(
        actor=request.user.get_username(),
        channel=StaffAudit.Channel.ADMIN,
        action=f"{obj._meta.model_name}.{verb}",
        target=_target(obj, pk),
        outcome=StaffAudit.Outcome.SUCCEEDED,
        detail=detail,
        changes=diff,
    )


class AuditedAdmin(_ModelAdmin[_M]):
    """A model admin whose every addition, change and deletion is in the staff audit trail."""

    def save_model(self, request: HttpRequest, obj: Any, form: forms.ModelForm[Any], change: bool) -> None:
        before = changes.snapshot_stored(type(obj), obj.pk) if change and obj.pk is not None else None
        super().save_model(request, obj, form, change)
        if change:
            _befores(request)[_key(obj)] = before

    def log_addition(self, request: HttpRequest, obj: Any, message: Any) -> Any:
        after = changes.snapshot_stored(type(obj), obj.pk) or changes.snapshot(obj)
        record_change(request, obj, "add", diff=changes.added(after))
        return super().log_addition(request, obj, message)

    def log_change(self, request: HttpRequest, obj: Any, message: Any) -> Any:
        befores = _befores(request)
        if _key(obj) in befores and (before := befores.pop(_key(obj))) is not None:
            after = changes.snapshot_stored(type(obj), obj.pk) or changes.snapshot(obj)
            record_change(request, obj, "change", diff=changes.diff(before, after))
        else:  # saved without save_model (a user's password form): Django's own words for what changed
            record_change(request, obj, "change", detail=self._message_text(message))
        return super().log_change(request, obj, message)

    def _message_text(self, message: Any) -> str:
        if not message:
            return "changed"
        text = message if isinstance(message, str) else json.dumps(message)
        return str(LogEntry(change_message=text).get_change_message())

    def save_formset(
        self,
        request: HttpRequest,
        form: forms.ModelForm[Any],
        formset: BaseInlineFormSet[Any, Any, Any],
        change: bool,
    ) -> None:
        # Each existing inline row as stored, by instance (a deleted instance's pk is None afterwards).
        stored: dict[int, tuple[Any, changes.Snapshot]] = {
            id(inline.instance): (
                inline.instance.pk,
                changes.snapshot_stored(type(inline.instance), inline.instance.pk) or {},
            )
            for inline in formset.initial_forms
            if inline.instance.pk is not None
        }
        super().save_formset(request, form, formset, change)
        for obj in formset.new_objects:
            record_change(request, obj, "add", diff=changes.added(changes.snapshot(obj)))
        for obj, _fields in formset.changed_objects:
            before = stored.get(id(obj), (None, {}))[1]
            record_change(request, obj, "change", diff=changes.diff(before, changes.snapshot(obj)))
        for obj in formset.deleted_objects:
            pk, before = stored.get(id(obj), (None, {}))
            record_change(request, obj, "delete", pk=pk, diff=changes.deleted(before))

    def delete_model(self, request: HttpRequest, obj: Any) -> None:
        pk, before = obj.pk, changes.snapshot_stored(type(obj), obj.pk) or changes.snapshot(obj)
        with transaction.atomic(using=router.db_for_write(type(obj))):
            super().delete_model(request, obj)
            record_change(request, obj, "delete", pk=pk, diff=changes.deleted(before))

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> None:
        doomed = [(obj, obj.pk, changes.snapshot(obj)) for obj in queryset]
        with transaction.atomic(using=router.db_for_write(queryset.model)):
            super().delete_queryset(request, queryset)
            for obj, pk, before in doomed:
                record_change(request, obj, "delete", pk=pk, detail="deleted in bulk", diff=changes.deleted(before))
