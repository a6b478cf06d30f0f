"""A gym's members: list with search and paging, create, edit, deactivate, CSV export and import.

A member's own page (records, results, progress) reads results, so it lives above them:
``gym/leaderboards/views.py``."""

from __future__ import annotations

import base64
import binascii
import csv

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from affiliates.people.access import COACH, MANAGE, role_required
from gym.members.forms import MemberForm
from gym.members.imports import MAX_BYTES, ImportRefused, member_import_preview, members_import
from gym.members.models import Member
from gym.members.selectors import member_export_rows, member_search
from gym.members.services import member_active_set, member_save
from gym.params import text_param


@role_required(*COACH)
def member_list(request):
    query = text_param(request.GET, "q")
    show = request.GET.get("show")
    members = member_search(query=query, include_inactive=show == "all")
    page = Paginator(members, 25).get_page(request.GET.get("page"))
    return render(request, "members/member_list.html", {"page": page, "query": query, "show": show})


@role_required(*MANAGE)
def member_create(request):
    form = MemberForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        member = member_save(fields=form.cleaned_data)
        messages.success(request, f"{member} added.")
        return redirect("members:list")
    return render(request, "members/member_form.html", {"form": form, "title": "New member"})


@role_required(*MANAGE)
def member_edit(request, member_id: int):
    member = get_object_or_404(Member, pk=member_id)
    form = MemberForm(request.POST or None, instance=member)
    if request.method == "POST" and form.is_valid():
        member_save(member=member, fields=form.cleaned_data)
        messages.success(request, f"{member} saved.")
        return redirect("members:detail", member_id=member.pk)
    return render(request, "members/member_form.html", {"form": form, "title": f"Edit {member}", "member": member})


@role_required(*MANAGE)
@require_POST
def member_deactivate(request, member_id: int):
    member = get_object_or_404(Member, pk=member_id)
    member_active_set(member=member, active=request.POST.get("active") == "1")
    messages.success(request, f"{member} {'reactivated' if member.is_active else 'deactivated'}.")
    return redirect("members:detail", member_id=member.pk)


@role_required(*MANAGE)
def member_export(request):
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{request.affiliate.slug}-members.csv"'
    response.write("\ufeff")  # a byte-order mark: spreadsheet programs then read the file as UTF-8
    csv.writer(response).writerows(member_export_rows())
    return response


@role_required(*MANAGE)
def member_import(request):
    """Upload a CSV (the export's format), see what it would do row by row, then import it all or nothing."""
    context = {"preview": None, "error": "", "payload": ""}
    if request.method == "POST":
        try:
            if "file" in request.FILES:
                data = request.FILES["file"].read(MAX_BYTES + 1)  # one byte more: too large is said so
                preview = member_import_preview(data=data)
                context.update(preview=preview, payload=base64.b64encode(data).decode() if preview.ok else "")
            elif request.POST.get("payload"):
                data = base64.b64decode(request.POST["payload"], validate=True)
                preview = members_import(data=data)
                if preview.ok:
                    added, updated = preview.count("add"), preview.count("update")
                    messages.success(
                        request,
                        f"Imported: {added} added, {updated} updated, {preview.count('unchanged')} unchanged.",
                    )
                    return redirect("members:list")
                context.update(preview=preview)
                context["error"] = "The members changed since the preview: nothing was imported. Check the rows below."
            else:
                context["error"] = "Choose a CSV file to import."
        except ImportRefused as exc:
            context["error"] = f"{exc} Nothing was imported."
        except (binascii.Error, ValueError):
            context["error"] = "The preview could not be read back: upload the file again. Nothing was imported."
    return render(request, "members/member_import.html", context)
