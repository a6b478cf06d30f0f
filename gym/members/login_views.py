"""The gym's logins, managed by its owners and admins: invite, change a role, send a link, remove."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from affiliates.routing.addresses import gym_base_url
from gym.accounts.access import MANAGE, gym_login_of, role_required
from gym.accounts.models import GymLogin
from gym.accounts.services import Gym, login_link_resend, login_remove
from gym.members.forms import InviteForm, RoleForm
from gym.members.logins import login_invite, login_role_set


def gym_of(request: HttpRequest) -> Gym:
    """The request's gym, for mail: its name, and its configured address (never the request's Host)."""
    affiliate = getattr(request, "affiliate")  # noqa: B009  # set by the routing middleware
    return Gym(name=affiliate.name, base_url=gym_base_url(affiliate))


def _errors(request: HttpRequest, exc: ValidationError) -> None:
    for message in exc.messages:
        messages.error(request, message)


@role_required(*MANAGE)
def login_list(request: HttpRequest) -> HttpResponse:
    form = InviteForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            login = login_invite(
                email=data["email"],
                role=data["role"],
                name=data["name"],
                member=data["member"],
                gym=gym_of(request),
                by=gym_login_of(request),
            )
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            messages.success(request, f"Invitation sent to {login.email}: the link sets a password, once.")
            return redirect("people:list")
    logins = GymLogin.objects.select_related("member").order_by("role", "email")
    return render(
        request,
        "members/login_list.html",
        {"logins": logins, "form": form, "roles": GymLogin.Role.choices, "me": gym_login_of(request)},
    )


@role_required(*MANAGE)
@require_POST
def login_role(request: HttpRequest, login_id: int) -> HttpResponse:
    login = get_object_or_404(GymLogin, pk=login_id)
    form = RoleForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Choose one of the roles in the list.")
        return redirect("people:list")
    try:
        login_role_set(login, form.cleaned_data["role"], by=gym_login_of(request))
    except ValidationError as exc:
        _errors(request, exc)
    else:
        messages.success(request, f"{login.email} is now {login.get_role_display().lower()}.")
    return redirect("people:list")


@role_required(*MANAGE)
@require_POST
def login_resend(request: HttpRequest, login_id: int) -> HttpResponse:
    login = get_object_or_404(GymLogin, pk=login_id)
    try:
        address = login_link_resend(login, gym=gym_of(request))
    except ValidationError as exc:
        _errors(request, exc)
    else:
        messages.success(request, f"A new link was sent to {address}.")
    return redirect("people:list")


@role_required(*MANAGE)
def login_remove_confirm(request: HttpRequest, login_id: int) -> HttpResponse:
    """GET: what removing the login means; POST: remove it."""
    login = get_object_or_404(GymLogin, pk=login_id)
    if request.method == "POST":
        try:
            login_remove(login, by=gym_login_of(request))
        except ValidationError as exc:
            _errors(request, exc)
        else:
            messages.success(request, f"The login of {login.email} is removed; their member record and results stay.")
        return redirect("people:list")
    return render(request, "members/login_remove.html", {"login": login})
