"""Resolves the affiliate from the request's host and makes it current for the whole request."""

from __future__ import annotations

import threading
import time

from django.conf import settings
from django.core.exceptions import DisallowedHost
from django.shortcuts import render
from django_tenants.middleware.main import TenantMainMiddleware

from .context import affiliate_context
from .models import Affiliate, Domain

GYM_URLCONF = "fitbuddy.urls_gym"
MANAGEMENT_URLCONF = "fitbuddy.urls"

_cache: dict[str, tuple[float, Affiliate | None]] = {}
_cache_lock = threading.Lock()


def affiliate_for_host(hostname: str) -> Affiliate | None:
    """The affiliate a host name routes to (cached for AFFILIATE_CACHE_SECONDS), or None."""
    now = time.monotonic()
    cached = _cache.get(hostname)
    if cached and cached[0] > now:
        return cached[1]
    try:
        affiliate = AffiliateMiddleware.get_tenant(None, Domain, hostname)
    except Domain.DoesNotExist:
        affiliate = None
    with _cache_lock:
        if len(_cache) > 10_000:
            _cache.clear()
        _cache[hostname] = (now + settings.AFFILIATE_CACHE_SECONDS, affiliate)
    return affiliate


def clear_cache() -> None:
    with _cache_lock:
        _cache.clear()


class AffiliateMiddleware(TenantMainMiddleware):
    """django-tenants' host resolution, with FitBuddy's database-per-affiliate routing.

    The command center's hosts (MANAGEMENT_HOSTS) get the admin URLs and no affiliate; any other
    host must belong to an affiliate, else 404. A suspended or archived affiliate gets a page
    saying so; one still being provisioned, a page saying that.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def get_tenant(self, domain_model, hostname):
        domain = domain_model.objects.select_related("tenant", "tenant__database_server").get(domain=hostname)
        return domain.tenant

    def __call__(self, request):
        try:
            hostname = self.hostname_from_request(request)
        except DisallowedHost:
            return render(request, "affiliates/unknown_host.html", {"hostname": ""}, status=404)
        request.affiliate = None
        if hostname in settings.MANAGEMENT_HOSTS:
            request.urlconf = MANAGEMENT_URLCONF
            return self.get_response(request)
        affiliate = affiliate_for_host(hostname)
        if affiliate is None:
            return render(request, "affiliates/unknown_host.html", {"hostname": hostname}, status=404)
        if affiliate.status != Affiliate.Status.ACTIVE:
            return render(request, "affiliates/unavailable.html", {"affiliate": affiliate}, status=503)
        request.affiliate = affiliate
        request.urlconf = GYM_URLCONF
        with affiliate_context(affiliate):
            return self.get_response(request)
