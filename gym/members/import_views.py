"""The member import page, and what both imports (members, past results) read from their posts.

An upload is carried from one step to the next inside the post itself (base64 in a hidden field,
checked again on every step), never in the session: sessions live in the management database, and
a gym's data never does.
"""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass
from typing import TYPE_CHECKING, cast

from django.contrib import messages
from django.http import HttpRequest, HttpResponse, QueryDict
from django.shortcuts import redirect, render

from gym.accounts.access import MANAGE, role_required
from gym.members.imports import FIELDS, ImportPreview, member_import_preview, members_import
from gym.members.tabular import AUTO, DATE_ORDERS, MAX_BYTES, MAX_COLUMNS, ImportRefused

if TYPE_CHECKING:
    from django.core.files.uploadedfile import UploadedFile

#: How many refused lines a message after a partial import names.
LINES_NAMED = 10


class Unreadable(Exception):
    """The post's carried file could not be read back (tampered with, or cut)."""


@dataclass
class Choices:
    """What the person chose on the mapping step."""

    data: bytes
    uploaded: bool  # a new file: its mapping is guessed, whatever the post says
    mapping: list[str] | None
    date_order: str
    partial: bool
    action: str  # "preview" or "import"


def import_choices(request: HttpRequest) -> Choices | None:
    """The file (uploaded now, or carried) and the choices of the post; None when it holds no file."""
    post: QueryDict = request.POST
    if "file" in request.FILES:
        # A key of FILES always has a file: the stubs allow an empty list that is never stored.
        upload = cast("UploadedFile[bytes]", request.FILES["file"])
        return Choices(upload.read(MAX_BYTES + 1), True, None, AUTO, False, "preview")
    payload = str(post.get("payload", ""))
    if not payload:
        return None
    try:
        data = base64.b64decode(payload, validate=True)
    except (binascii.Error, ValueError):
        raise Unreadable from None
    mapping = [str(post.get(f"column-{i}", "")) for i in range(MAX_COLUMNS) if f"column-{i}" in post] or None
    order = str(post.get("date_order", AUTO))
    return Choices(
        data=data,
        uploaded=False,
        mapping=mapping,
        date_order=order if order in dict(DATE_ORDERS) else AUTO,
        partial=post.get("partial") == "1",
        action="preview" if post.get("action") == "preview" else "import",
    )


def imported_message(what: str, preview: ImportPreview | object, counts: str) -> str:
    """What an import did, naming the lines it left out (their values were on the preview)."""
    refused = [row.line for row in getattr(preview, "refused", [])]
    if not refused:
        return f"Imported {what}: {counts}."
    lines = ", ".join(str(line) for line in refused[:LINES_NAMED]) + (" …" if len(refused) > LINES_NAMED else "")
    rows = f"{len(refused)} refused row{'s' if len(refused) != 1 else ''}"
    return f"Imported {what}: {counts}. {rows} left out (line {lines})."


def refused_message(preview: ImportPreview | object, partial: bool) -> str:
    """Why an import saved nothing."""
    if getattr(preview, "errors", None) or getattr(preview, "order_needed", False):
        return "Nothing was imported: finish the choices below first."
    if partial:
        return "Nothing was imported: no row can be imported. Check the rows below."
    return (
        "Nothing was imported: some rows are refused (or the data changed since the preview). Fix them in the "
        "file and upload it again, or choose “Import the good rows and report the bad ones”."
    )


@role_required(*MANAGE)
def member_import(request: HttpRequest) -> HttpResponse:
    """Upload a file, match its columns to members' fields, see what it would do row by row, then import."""
    context: dict[str, object] = {"preview": None, "error": "", "payload": "", "fields": FIELDS, "orders": DATE_ORDERS}
    if request.method == "POST":
        try:
            choices = import_choices(request)
            if choices is None:
                context["error"] = "Choose a CSV file to import."
            else:
                context.update(payload=base64.b64encode(choices.data).decode(), partial=choices.partial)
                data, mapping, order = choices.data, choices.mapping, choices.date_order
                if choices.action == "preview":
                    context["preview"] = member_import_preview(data=data, mapping=mapping, date_order=order)
                else:
                    preview = members_import(data=data, mapping=mapping, date_order=order, partial=choices.partial)
                    if preview.importable(partial=choices.partial):
                        counts = f"{preview.added} added, {preview.updated} updated, {preview.unchanged} unchanged"
                        messages.success(request, imported_message("members", preview, counts))
                        return redirect("members:list")
                    context.update(preview=preview, error=refused_message(preview, choices.partial))
        except ImportRefused as exc:
            context.update(error=f"{exc} Nothing was imported.", payload="")
        except Unreadable:
            context["error"] = "The preview could not be read back: upload the file again. Nothing was imported."
    return render(request, "members/member_import.html", context)
