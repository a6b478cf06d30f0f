"""Resolves the request's host: the command center, a gym (made current for the request), or nothing."""

from __future__ import annotations

from collections.abc import Callable

from django.conf import settings
from django.core.exceptions import DisallowedHost
from django.http import HttpRequest
from django.http.response import HttpResponseBase
from django.shortcuts import render
from django_tenants.middleware.main import TenantMainMiddleware

from affiliates.models import Affiliate
from affiliates.routing.context import affiliate_context
from affiliates.routing.hosts import affiliate_for_host
from affiliates.routing.pause import is_paused, pause_wait

GYM_URLCONF = "fitbuddy.urls_gym"
MANAGEMENT_URLCONF = "fitbuddy.urls"


class AffiliateRequest(HttpRequest):
    """A request as :class:`AffiliateMiddleware` hands it on, for type checking: Django's own request
    with ``affiliate`` set (None on the command center's hosts)."""

    affiliate: Affiliate | None


class AffiliateMiddleware(TenantMainMiddleware):  # type: ignore[misc]  # django-tenants has no type hints
    """django-tenants' host parsing, with FitBuddy's database-per-affiliate routing.

    The command center's hosts (MANAGEMENT_HOSTS) get the admin URLs and no affiliate; any other
    host must belong to an affiliate, else 404. An affiliate that is not active (being
    provisioned, failed, suspended, archived) gets a 503 page saying so.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponseBase]) -> None:
        self.get_response = get_response

    def __call__(self, request: AffiliateRequest) -> HttpResponseBase:
        try:
            hostname = self.hostname_from_request(request)
        except DisallowedHost:
            return render(request, "affiliates/unknown_host.html", {"hostname": ""}, status=404)
        request.affiliate = None
        if hostname in settings.MANAGEMENT_HOSTS:
            request.urlconf = MANAGEMENT_URLCONF
            return self.get_response(request)
        affiliate = affiliate_for_host(hostname)
        if affiliate is not None and is_paused(affiliate):  # moving to another server: wait for the switch
            waited = pause_wait(hostname, affiliate)
            if waited is None and is_paused(affiliate):
                return self._moving(request, affiliate)
            affiliate = waited
        if affiliate is None:
            return render(request, "affiliates/unknown_host.html", {"hostname": hostname}, status=404)
        if affiliate.status != Affiliate.Status.ACTIVE:
            return render(request, "affiliates/unavailable.html", {"affiliate": affiliate}, status=503)
        request.affiliate = affiliate
        request.urlconf = GYM_URLCONF
        with affiliate_context(affiliate):
            response = self.get_response(request)
        if response.status_code == 500:
            # Suspended or archived while this request ran: its database refused it (ended sessions,
            # a login now refused, the pooler's connections killed). The page says why, not "error".
            return self._stopped_meanwhile(request, affiliate) or response
        return response

    @staticmethod
    def _moving(request: AffiliateRequest, affiliate: Affiliate) -> HttpResponseBase:
        response = render(request, "affiliates/moving.html", {"affiliate": affiliate}, status=503)
        response["Retry-After"] = "2"
        return response

    @staticmethod
    def _stopped_meanwhile(request: AffiliateRequest, affiliate: Affiliate) -> HttpResponseBase | None:
        """The 503 page when the gym stopped serving while its request ran (a 500 from its ended sessions).

        Trusts only the registry, read again now (never the cache, never the error's text): a 500 of
        a gym that is still active stays a 500.
        """
        now = Affiliate.objects.filter(pk=affiliate.pk).first()
        if now is not None and now.status == Affiliate.Status.ACTIVE:
            return None
        Affiliate.objects.clear_host_cache()
        if now is None:  # removed from the registry meanwhile
            return render(request, "affiliates/unknown_host.html", {"hostname": request.get_host()}, status=404)
        return render(request, "affiliates/unavailable.html", {"affiliate": now}, status=503)
