"""Where a gym is reached, for links in mail sent outside a request (invitations at provisioning, links
staff send): GYM_BASE_URL (e.g. https://{domain}) with the gym's primary domain.

The gym's logins and their password links are the gym's own (``gym.accounts``); mail goes through
Django's e-mail backend (EMAIL_BACKEND: the console locally, SMTP in production).
"""

from __future__ import annotations

from django.conf import settings

from affiliates.models import Affiliate


def gym_base_url(affiliate: Affiliate) -> str:
    """The gym's address for links in mail: GYM_BASE_URL with its primary domain."""
    domain = affiliate.domains.order_by("-is_primary", "domain").values_list("domain", flat=True).first()
    template: str = settings.GYM_BASE_URL
    return template.format(domain=domain)
