"""The whiteboard on the TV (no login: a link's token opens it) and the coaches' page of links."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET

from gym.accounts.access import COACH, role_required
from gym.leaderboards.whiteboard import class_under_way_filter, whiteboard_context
from gym.leaderboards.whiteboard_links import LABEL_MAX, link_check, link_create, link_revoke, links
from gym.params import id_param

#: Seconds between two refreshes of the TV page (JavaScript), and of its no-JavaScript fallback.
REFRESH_SECONDS = 12
FALLBACK_REFRESH_SECONDS = 30
#: What the TV's answers say to browsers and proxies: never cached, never sent on as a referrer.
_TV_HEADERS = {
    "Cache-Control": "no-store, private",
    "Referrer-Policy": "no-referrer",
    "X-Robots-Tag": "noindex, nofollow",
}


def _tv_response(request: HttpRequest, template: str, context: dict[str, object], status: int = 200) -> HttpResponse:
    response = render(request, template, context, status=status)
    for name, value in _TV_HEADERS.items():
        response[name] = value
    return response


def _checked(request: HttpRequest, token: str, template: str) -> HttpResponse | None:
    """The refusal for a revoked or unknown token (403, 404: no data), or None when it opens the board."""
    affiliate = getattr(request, "affiliate", None)
    if affiliate is None:
        raise Http404("No gym here.")
    check = link_check(affiliate_id=affiliate.pk, token=token)
    if check.status == "ok":
        return None
    status = 403 if check.status == "revoked" else 404
    return _tv_response(request, template, {"refused": check.status, "affiliate": affiliate}, status=status)


def _board_context(request: HttpRequest, token: str) -> dict[str, object]:
    now = timezone.now()
    return {
        "board": whiteboard_context(now, class_filter=class_under_way_filter(now)),
        "affiliate": request.affiliate,  # type: ignore[attr-defined]  # set by the routing middleware
        "board_url": reverse("whiteboard:tv_board", args=[token]),
        "refresh_ms": REFRESH_SECONDS * 1000,
        "fallback_refresh": FALLBACK_REFRESH_SECONDS,
    }


@require_GET
def tv(request: HttpRequest, token: str) -> HttpResponse:
    """The TV page: full screen, large type; it refreshes its board by itself."""
    refused = _checked(request, token, "leaderboards/whiteboard_refused.html")
    return refused or _tv_response(request, "leaderboards/whiteboard.html", _board_context(request, token))


@require_GET
def tv_board(request: HttpRequest, token: str) -> HttpResponse:
    """The TV page's board alone, which the page fetches every few seconds."""
    refused = _checked(request, token, "leaderboards/_whiteboard_refused.html")
    return refused or _tv_response(request, "leaderboards/_whiteboard_content.html", _board_context(request, token))


@role_required(*COACH)
def link_list(request: HttpRequest) -> HttpResponse:
    """The gym's whiteboard links: make one (its address shown once), revoke one."""
    new_url = ""
    label_error = ""
    if request.method == "POST":
        action = request.POST.get("action")
        if action == "revoke":
            return _revoke(request)
        if action == "create":
            try:
                link, token = link_create(
                    affiliate_id=request.affiliate.pk,  # type: ignore[attr-defined]  # the routing middleware's
                    label=request.POST.get("label", ""),
                    created_by=request.user.get_username(),
                )
            except ValidationError as exc:
                label_error = " ".join(exc.message_dict.get("label", exc.messages))
            else:
                new_url = request.build_absolute_uri(reverse("whiteboard:tv", args=[token]))
                messages.success(request, f"Link for {link.label} made: open it on the screen now.")
        else:
            messages.error(request, "Nothing changed.")
    context = {"links": links(), "new_url": new_url, "label_error": label_error, "label_max": LABEL_MAX}
    # The new link's address is in this answer only (it is never stored): nothing may keep a copy.
    status = 400 if label_error else 201 if new_url else 200  # 201: a link was made (its address, once)
    response = render(request, "leaderboards/whiteboard_links.html", context, status=status)
    response["Cache-Control"] = "no-store, private"
    return response


def _revoke(request: HttpRequest) -> HttpResponse:
    link_id = id_param(request.POST, "link")
    revoked = link_revoke(link_id=link_id, actor=request.user.get_username()) if link_id is not None else None
    if revoked is None:
        messages.error(request, "No such link, or it was already revoked: nothing changed.")
    else:
        messages.success(request, f"{revoked.label} revoked: its screen stops showing the whiteboard.")
    return redirect("whiteboard:links")
