"""Where a gym is reached, for every link FitBuddy mails (password links, invitations, "forgot
password"): GYM_BASE_URL (e.g. ``https://{domain}``; scheme and port are configuration) with the gym's
primary domain from the registry.

Never the request's Host header: a visitor chooses that (a forged port, or another name the load
balancer lets through), and a link built from it would carry a login's one-time token to the
visitor's server.
"""

from __future__ import annotations

from django.conf import settings

from affiliates.models import Affiliate


class NoGymAddress(Exception):
    """The gym has no domain in the registry to build a link on."""


def gym_base_url(affiliate: Affiliate) -> str:
    """The gym's address for links in mail: GYM_BASE_URL with its primary domain (no trailing slash)."""
    domain = affiliate.domains.order_by("-is_primary", "domain").values_list("domain", flat=True).first()
    if not domain:
        raise NoGymAddress(f"{affiliate} has no domain in the registry: add one before mailing links")
    template: str = settings.GYM_BASE_URL
    return template.format(domain=domain).rstrip("/")
