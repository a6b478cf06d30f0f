"""Which affiliate a request's host routes to, the same in every process at once after a change.

:func:`affiliate_for_host` reads the routing stamp (one Redis ``GET``) and asks the registry's
cached lookup (``Affiliate.objects.for_host``) for an entry filled under that stamp; any routing
change anywhere writes a new stamp (:func:`routing_changed`, after its transaction commits), so
every process's next request reads the registry again.

When Redis cannot be read, the lookup's entries live ``ROUTING_FALLBACK_CACHE_SECONDS`` (1 s)
instead of ``AFFILIATE_CACHE_SECONDS``: routing is at most that stale, never stale for good.

:func:`connect_signals` hooks every save and delete of a domain or an affiliate (the command
center, commands, any code path through the ORM); lifecycle and provisioning change status with
``QuerySet.update`` and call :func:`routing_changed` themselves (``operations/events.py``).
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models.signals import post_delete, post_save

from affiliates.infra import routing_stamp
from affiliates.models import Affiliate, Domain


def affiliate_for_host(hostname: str) -> Affiliate | None:
    """The affiliate ``hostname`` routes to now (or None), as every process sees it."""
    stamp = routing_stamp.current()
    if stamp is None:  # Redis cannot say: a short lifetime bounds how stale routing can be
        return Affiliate.objects.for_host(hostname, stamp=None, lifetime=settings.ROUTING_FALLBACK_CACHE_SECONDS)
    return Affiliate.objects.for_host(hostname, stamp=stamp)


def _announce() -> None:
    Affiliate.objects.clear_host_cache()
    routing_stamp.bump()


def routing_changed(*, using: str = "default") -> None:
    """Routing changed (a domain, an affiliate's status or server): every process re-reads it.

    This process forgets at once; the new stamp is written when the change's transaction commits
    (at once outside a transaction), so no process can read the old rows under the new stamp.
    """
    Affiliate.objects.clear_host_cache()
    transaction.on_commit(_announce, using=using)


def _changed(sender: type[Any], *, using: str = "default", **kwargs: Any) -> None:
    routing_changed(using=using)


def connect_signals() -> None:
    """Every save or delete of a domain or an affiliate is a routing change (called once, from apps.py)."""
    for model in (Domain, Affiliate):
        post_save.connect(_changed, sender=model, dispatch_uid=f"routing-changed-save-{model.__name__}")
        post_delete.connect(_changed, sender=model, dispatch_uid=f"routing-changed-delete-{model.__name__}")
