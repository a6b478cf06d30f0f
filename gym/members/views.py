"""A gym's members: list with search and paging, create, edit, deactivate, CSV export (the import: ``import_views.py``).

A member's own page (records, results, progress) reads results, so it lives above them:
``gym/leaderboards/views.py``."""

from __future__ import annotations

import csv

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_http_methods

from gym.accounts.access import COACH, MANAGE, role_required
from gym.members.forms import MemberForm
from gym.members.models import Member
from gym.members.selectors import member_export_rows, member_search
from gym.members.services import member_active_set, member_save
from gym.params import text_param


def _gym_slug(request: HttpRequest) -> str:
    """The slug of the gym the request is for, from the affiliate AffiliateMiddleware puts on the request."""
    # HttpRequest does not declare the attribute, and the gym apps do not import the Affiliate model.
    slug: str = getattr(request, "affiliate").slug  # noqa: B009
    return slug


@role_required(*COACH)
def member_list(request: HttpRequest) -> HttpResponse:
    query = text_param(request.GET, "q")
    show = request.GET.get("show")
    members = member_search(query=query, include_inactive=show == "all")
    page = Paginator(members, 25).get_page(request.GET.get("page"))
    return render(request, "members/member_list.html", {"page": page, "query": query, "show": show})


@role_required(*MANAGE)
def member_create(request: HttpRequest) -> HttpResponse:
    form = MemberForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        member = member_save(fields=form.cleaned_data)
        messages.success(request, f"{member} added.")
        return redirect("members:list")
    return render(request, "members/member_form.html", {"form": form, "title": "New member"})


@role_required(*MANAGE)
def member_edit(request: HttpRequest, member_id: int) -> HttpResponse:
    member = get_object_or_404(Member, pk=member_id)
    form = MemberForm(request.POST or None, instance=member)
    if request.method == "POST" and form.is_valid():
        member_save(member=member, fields=form.cleaned_data)
        messages.success(request, f"{member} saved.")
        return redirect("members:detail", member_id=member.pk)
    return render(request, "members/member_form.html", {"form": form, "title": f"Edit {member}", "member": member})


@role_required(*MANAGE)
@require_http_methods(["GET", "POST"])
def member_deactivate(request: HttpRequest, member_id: int) -> HttpResponse:
    """GET: the confirmation page (what deactivating means); POST active=0 deactivates, active=1
    reactivates. Anything else changes nothing."""
    member = get_object_or_404(Member, pk=member_id)
    active = {"0": False, "1": True}.get(request.POST.get("active", "")) if request.method == "POST" else None
    if active is None:
        error = "Choose Deactivate or Reactivate." if request.method == "POST" else ""
        context = {"member": member, "error": error}
        return render(request, "members/member_deactivate.html", context, status=400 if error else 200)
    member_active_set(member=member, active=active, actor=request.user.get_username())
    messages.success(request, f"{member} {'reactivated' if member.is_active else 'deactivated'}.")
    return redirect("members:detail", member_id=member.pk)


@role_required(*MANAGE)
def member_export(request: HttpRequest) -> HttpResponse:
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{_gym_slug(request)}-members.csv"'
    response.write("\ufeff")  # a byte-order mark: spreadsheet programs then read the file as UTF-8
    # Every cell quoted: a spreadsheet splitting on ';' or a tab still reads each cell whole.
    csv.writer(response, quoting=csv.QUOTE_ALL).writerows(member_export_rows())
    return response
