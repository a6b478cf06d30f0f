"""The command center's "Gym load" page: the heaviest, the busiest and the fastest-growing gyms, and
each database server's balance, from the registry's load readings (``affiliates/operations/load.py``).

Every list is a top 20 read in index order from ``affiliate_load``; the balance is one grouped query
over the registered servers. Nothing here connects to a gym's database.
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.db.models import F, FloatField, Max, Q, QuerySet, Sum
from django.db.models.functions import Coalesce
from django.http import HttpRequest
from django.template.response import TemplateResponse

from affiliates.models import Affiliate, AffiliateLoad
from affiliates.operations import placement
from affiliates.operations.fleet_batches import WITH_DATABASE

#: How many gyms each list shows.
TOP = 20


def _readings() -> QuerySet[AffiliateLoad]:
    return AffiliateLoad.objects.select_related("affiliate", "affiliate__database_server").filter(
        affiliate__status__in=WITH_DATABASE
    )


def balance() -> list[dict[str, Any]]:
    """Each server's gyms, total size, activity and weight, and its share of the fleet's weight."""
    live = ~Q(affiliates__status=Affiliate.Status.ARCHIVED)
    servers = placement.servers_with_load().annotate(
        size=Sum("affiliates__load__size_bytes", filter=live),
        xacts=Coalesce(Sum("affiliates__load__xacts_per_day", filter=live), 0.0, output_field=FloatField()),
    )
    rows = [
        {
            "server": s,
            "gyms": s.load,
            "size": s.size or 0,
            "xacts": s.xacts,
            "weight": s.weight,
        }
        for s in servers.order_by("name")
    ]
    total = sum(row["weight"] for row in rows) or 1.0
    for row in rows:
        row["share"] = 100 * row["weight"] / total
    return rows


def load_context() -> dict[str, Any]:
    """What the page shows."""
    readings = _readings()
    return {
        "title": "Gym load",
        "top": TOP,
        "read_at": AffiliateLoad.objects.aggregate(at=Max("read_at"))["at"],
        "heaviest": readings.filter(size_bytes__isnull=False).order_by(F("size_bytes").desc(nulls_last=True))[:TOP],
        "busiest": readings.filter(xacts_per_day__isnull=False).order_by(F("xacts_per_day").desc(nulls_last=True))[
            :TOP
        ],
        "growing": readings.filter(growth_7d_bytes__isnull=False).order_by(F("growth_7d_bytes").desc(nulls_last=True))[
            :TOP
        ],
        "balance": balance(),
    }


def load_view(model_admin: admin.ModelAdmin[Affiliate], request: HttpRequest) -> TemplateResponse:
    """The page, for staff who may view affiliates (as the fleet overview)."""
    if not model_admin.has_view_permission(request):
        raise PermissionDenied
    context = {**model_admin.admin_site.each_context(request), "opts": model_admin.model._meta, **load_context()}
    return TemplateResponse(request, "admin/affiliates/load.html", context)
