"""The rows shown inside an affiliate's page: its domains, staff notes and event log."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django import forms
from django.contrib import admin
from django.http import HttpRequest

from affiliates.admin.forms import DomainForm
from affiliates.models import Affiliate, AffiliateEvent, AffiliateNote, Domain

if TYPE_CHECKING:
    # The stubs' admin classes take their models; Django's cannot be subscripted at run time.
    _DomainInline = admin.TabularInline[Domain, Affiliate]
    _NoteInline = admin.TabularInline[AffiliateNote, Affiliate]
    _EventInline = admin.TabularInline[AffiliateEvent, Affiliate]
    _NoteForm = forms.ModelForm[AffiliateNote]
else:
    _DomainInline = _NoteInline = _EventInline = admin.TabularInline
    _NoteForm = forms.ModelForm


class DomainInline(_DomainInline):
    model = Domain
    form = DomainForm
    extra = 0
    fields = ["domain", "is_primary"]


class NoteForm(_NoteForm):
    """A new note's text is written once; an existing note can only be closed or opened again."""

    class Meta:
        model = AffiliateNote
        fields = ["body", "is_open"]
        widgets = {"body": forms.Textarea(attrs={"rows": 2, "cols": 60})}

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if self.instance.pk is not None:
            self.fields["body"].disabled = True

    def clean_body(self) -> str:
        body: str = self.cleaned_data["body"].strip()
        if not body:
            raise forms.ValidationError("Write the note, or leave the row empty.")
        return body


class AffiliateNoteInline(_NoteInline):
    """Staff notes: added and closed here, never rewritten (a correction is a new note)."""

    model = AffiliateNote
    form = NoteForm
    extra = 1
    can_delete = False
    fields = ["created_at", "author", "body", "is_open"]
    readonly_fields = ["created_at", "author"]
    verbose_name_plural = "staff notes"


class AffiliateEventInline(_EventInline):
    model = AffiliateEvent
    extra = 0
    can_delete = False
    fields = readonly_fields = ("created_at", "step", "outcome", "duration_ms", "detail", "error", "requested_by")
    ordering = ["created_at", "id"]
    verbose_name_plural = "event log"

    def has_add_permission(self, request: HttpRequest, obj: Affiliate | None = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Affiliate | None = None) -> bool:
        return False
