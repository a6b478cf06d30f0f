"""A gym's members: list with search and paging, create, edit, deactivate, CSV export, records."""

from __future__ import annotations

import csv

from django.contrib import messages
from django.core.paginator import Paginator
from django.db.models import Q
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from affiliates.access import COACH, MANAGE, role_required
from gym.workouts.scores import format_result, format_score

from .forms import MemberForm
from .models import Member

FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


def csv_safe(value) -> str:
    """A cell a spreadsheet shows as text, never runs as a formula (OWASP CSV injection)."""
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(FORMULA_PREFIXES) else text


@role_required(*COACH)
def member_list(request):
    query = request.GET.get("q", "").strip()
    members = Member.objects.all()
    if query:
        members = members.filter(
            Q(first_name__icontains=query) | Q(last_name__icontains=query) | Q(email__icontains=query)
        )
    if request.GET.get("show") != "all":
        members = members.filter(is_active=True)
    page = Paginator(members, 25).get_page(request.GET.get("page"))
    return render(request, "members/member_list.html", {"page": page, "query": query, "show": request.GET.get("show")})


@role_required(*MANAGE)
def member_create(request):
    form = MemberForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        member = form.save()
        messages.success(request, f"{member} added.")
        return redirect("members:list")
    return render(request, "members/member_form.html", {"form": form, "title": "New member"})


@role_required(*MANAGE)
def member_edit(request, member_id: int):
    member = get_object_or_404(Member, pk=member_id)
    form = MemberForm(request.POST or None, instance=member)
    if request.method == "POST" and form.is_valid():
        form.save()
        messages.success(request, f"{member} saved.")
        return redirect("members:detail", member_id=member.pk)
    return render(request, "members/member_form.html", {"form": form, "title": f"Edit {member}", "member": member})


@require_POST
@role_required(*MANAGE)
def member_deactivate(request, member_id: int):
    member = get_object_or_404(Member, pk=member_id)
    member.is_active = request.POST.get("active") == "1"
    member.save(update_fields=["is_active", "updated_at"])
    messages.success(request, f"{member} {'reactivated' if member.is_active else 'deactivated'}.")
    return redirect("members:detail", member_id=member.pk)


@role_required(*COACH)
def member_detail(request, member_id: int):
    member = get_object_or_404(Member, pk=member_id)
    records = [
        (record, format_score(record.value, record.exercise.unit))
        for record in member.personal_records.select_related("exercise").order_by("exercise__name")
    ]
    results = member.participations.select_related("workout").order_by("-performed_on")[:20]
    rows = [(p, format_result(p, p.workout)) for p in results]
    return render(request, "members/member_detail.html", {"member": member, "records": records, "results": rows})


@role_required(*MANAGE)
def member_export(request):
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{request.affiliate.slug}-members.csv"'
    writer = csv.writer(response)
    writer.writerow(["first_name", "last_name", "email", "gender", "birth_date", "joined_on", "active"])
    for m in Member.objects.order_by("last_name", "first_name", "id").iterator():
        writer.writerow(
            [
                csv_safe(v)
                for v in (
                    m.first_name,
                    m.last_name,
                    m.email,
                    m.gender,
                    m.birth_date,
                    m.joined_on,
                    "yes" if m.is_active else "no",
                )
            ]
        )
    return response
