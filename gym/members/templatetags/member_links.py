"""``{% member_link member %}``: a member's name, linked to their page for the roles that may open it
(owners, admins and coaches); everyone else (an athlete, a screen with no login) reads the name alone."""

from __future__ import annotations

from django import template
from django.http import HttpRequest
from django.urls import NoReverseMatch, reverse
from django.utils.html import conditional_escape, format_html
from django.utils.safestring import SafeString

from gym.accounts.access import COACH, role_of
from gym.members.models import Member

register = template.Library()


def may_open_members(request: object) -> bool:
    """Whether the request's login may open a member's page (members:detail)."""
    return isinstance(request, HttpRequest) and role_of(request) in COACH


@register.simple_tag(takes_context=True)
def member_link(context: template.Context, member: Member) -> SafeString:
    request = context.get("request")
    if not may_open_members(request):
        return conditional_escape(str(member))
    try:
        url = reverse("members:detail", args=[member.pk])
    except NoReverseMatch:  # a site without member pages
        return conditional_escape(str(member))
    return format_html('<a class="member" href="{}">{}</a>', url, member)
