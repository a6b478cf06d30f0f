"""Past results from a CSV: upload, match the columns, preview, import (owners, admins, coaches)."""

from __future__ import annotations

import base64

from django.contrib import messages
from django.http import HttpRequest, HttpResponse, QueryDict
from django.shortcuts import redirect, render

from gym.accounts.access import COACH, role_required
from gym.members.import_views import Unreadable, import_choices, imported_message, refused_message
from gym.members.models import Member
from gym.members.tabular import DATE_ORDERS, ImportRefused
from gym.workouts.result_import_rules import FIELDS, NEW_TYPES
from gym.workouts.result_imports import ResultOptions, results_import, results_import_preview


def _options(post: QueryDict, mapping: list[str] | None, date_order: str) -> ResultOptions:
    """The choices besides the columns; a value that is not one of the page's is no choice."""
    athlete = post.get("athlete", "")
    new_type = post.get("new_type", "")
    return ResultOptions(
        mapping=mapping,
        date_order=date_order,
        athlete=int(athlete) if athlete.isascii() and athlete.isdigit() and len(athlete) < 10 else None,
        new_type=new_type if new_type in dict(NEW_TYPES) else "",
        pounds=post.get("pounds") == "1",
    )


@role_required(*COACH)
def results_import_view(request: HttpRequest) -> HttpResponse:
    """Upload a file of past results, match its columns, see what it would do row by row, then import."""
    context: dict[str, object] = {
        "preview": None,
        "error": "",
        "payload": "",
        "fields": FIELDS,
        "orders": DATE_ORDERS,
        "new_types": NEW_TYPES,
        "extra_choices": "workouts/_results_import_choices.html",
    }
    if request.method == "POST":
        try:
            choices = import_choices(request)
            if choices is None:
                context["error"] = "Choose a CSV file to import."
            else:
                options = _options(request.POST, choices.mapping, choices.date_order)
                context.update(
                    payload=base64.b64encode(choices.data).decode(), partial=choices.partial, options=options
                )
                context["members"] = Member.objects.order_by("last_name", "first_name", "id").only(
                    "first_name", "last_name", "email"
                )
                if choices.action == "preview":
                    context["preview"] = results_import_preview(data=choices.data, options=options)
                else:
                    who = request.user.get_username()
                    preview = results_import(
                        data=choices.data, options=options, partial=choices.partial, recorded_by=who
                    )
                    if preview.importable(partial=choices.partial):
                        created = len(preview.new_workouts)
                        counts = (
                            f"{preview.added} added, {preview.updated} updated, {preview.unchanged} unchanged; "
                            f"{created} past workout{'s' if created != 1 else ''} created"
                        )
                        messages.success(request, imported_message("results", preview, counts))
                        return redirect("workouts:results_import")
                    context.update(preview=preview, error=refused_message(preview, choices.partial))
        except ImportRefused as exc:
            context.update(error=f"{exc} Nothing was imported.", payload="")
        except Unreadable:
            context["error"] = "The preview could not be read back: upload the file again. Nothing was imported."
    return render(request, "workouts/results_import.html", context)
