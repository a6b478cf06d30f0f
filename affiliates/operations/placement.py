"""Placement: which database server a new affiliate's database goes to.

A new affiliate is placed on the accepting database server with room (``max_affiliates`` still caps
the count) whose gyms weigh least, then the fewest gyms, the default server first among equals;
``server_name`` chooses one outright, and ``exclude`` is never chosen (the server a gym moves away
from). Without any registered server, on the management database's own (registered as ``local`` on
first use). When no server has room, placement refuses before anything is created.

**Weight.** A gym weighs

    PLACEMENT_WEIGHT_BASE
    + PLACEMENT_WEIGHT_PER_GB × its database's size in GB (10^9 bytes)
    + PLACEMENT_WEIGHT_PER_1K_XACTS_DAY × its transactions per day / 1,000

from its latest load reading (``affiliates/operations/load.py``); a gym never measured weighs the
base only, so without readings placement counts gyms as it always did. A server's weight is the sum
of its gyms' (every gym but archived ones), computed in the one query that counts them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, TypeAlias, TypedDict

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db.models import Count, F, FloatField, Q, QuerySet, Sum, Value
from django.db.models.functions import Coalesce

from affiliates.infra.targets import MANAGEMENT_LOGIN_REF, management_target
from affiliates.models import Affiliate, AffiliateLoad, DatabaseServer


class Load(TypedDict):
    """What :func:`servers_with_load` adds to each server: its gyms, and their weight."""

    load: int
    weight: float


if TYPE_CHECKING:  # django-stubs-ext is a lint requirement, not a runtime one
    from django_stubs_ext import WithAnnotations

    #: A server as :func:`servers_with_load` gives it.
    LoadedServer: TypeAlias = WithAnnotations[DatabaseServer, Load]


def _local_server() -> DatabaseServer:
    management = management_target()
    return DatabaseServer(
        name="local",
        kind=DatabaseServer.Kind.LOCAL,
        host=management.host,
        port=management.port,
        admin_secret_ref=MANAGEMENT_LOGIN_REF,
        is_default=True,
    )


def database_server_default(*, create: bool = True) -> DatabaseServer:
    """The server new affiliates are placed on: the registered default, else the management database's own.

    With ``create=False`` nothing is written: an unsaved ``local`` server stands in for the one
    that would be registered.
    """
    server = DatabaseServer.objects.filter(is_default=True, is_accepting=True).first()
    if server or not create:
        return server or _local_server()
    local = _local_server()
    server, _ = DatabaseServer.objects.get_or_create(
        name=local.name,
        defaults={
            "kind": local.kind,
            "host": local.host,
            "port": local.port,
            "admin_secret_ref": local.admin_secret_ref,
            "is_default": not DatabaseServer.objects.filter(is_default=True).exists(),
        },
    )
    return server


def weight_of(size_bytes: int | None, xacts_per_day: float | None) -> float:
    """A gym's weight from its size and transactions per day (None: not measured, counts nothing)."""
    base: float = settings.PLACEMENT_WEIGHT_BASE
    per_gb: float = settings.PLACEMENT_WEIGHT_PER_GB
    per_1k_xacts: float = settings.PLACEMENT_WEIGHT_PER_1K_XACTS_DAY
    return base + (size_bytes or 0) / 1e9 * per_gb + (xacts_per_day or 0) / 1000 * per_1k_xacts


def affiliate_weight(affiliate: Affiliate) -> float:
    """One gym's weight from its latest load reading (the base only when it was never measured)."""
    reading = AffiliateLoad.objects.filter(affiliate=affiliate).values_list("size_bytes", "xacts_per_day").first()
    return weight_of(*reading) if reading else weight_of(None, None)


def _weight_sum() -> Coalesce:
    """The SQL of :func:`weight_of` summed over a server's gyms (archived ones left out)."""
    per_gym = (
        Value(settings.PLACEMENT_WEIGHT_BASE)
        + Coalesce("affiliates__load__size_bytes", 0, output_field=FloatField())
        * Value(settings.PLACEMENT_WEIGHT_PER_GB / 1e9)
        + Coalesce("affiliates__load__xacts_per_day", 0.0, output_field=FloatField())
        * Value(settings.PLACEMENT_WEIGHT_PER_1K_XACTS_DAY / 1000)
    )
    gyms = Q(affiliates__isnull=False) & ~Q(affiliates__status=Affiliate.Status.ARCHIVED)
    return Coalesce(Sum(per_gym, filter=gyms, output_field=FloatField()), 0.0, output_field=FloatField())


def servers_with_load() -> QuerySet[LoadedServer]:
    """Servers with the number of affiliates they hold (every affiliate but archived ones) and their weight."""
    return DatabaseServer.objects.annotate(
        load=Count("affiliates", filter=~Q(affiliates__status=Affiliate.Status.ARCHIVED)),
        weight=_weight_sum(),
    )


def server_weights() -> dict[int, float]:
    """Each registered server's weight (the sum of its gyms'), by server id."""
    return dict(servers_with_load().values_list("pk", "weight"))


def database_server_choose(*, server_name: str | None = None, exclude: DatabaseServer | None = None) -> DatabaseServer:
    """The server a new affiliate goes to (unsaved ``local`` when none is registered); ValidationError when
    none can take it. ``exclude`` (the server a gym is moving away from) is never chosen."""
    if server_name:
        server = servers_with_load().filter(name=server_name).first()
        if server is None:
            names = ", ".join(DatabaseServer.objects.values_list("name", flat=True)) or "none registered"
            raise ValidationError(f"No database server {server_name!r} (servers: {names}).")
        if exclude is not None and server.pk == exclude.pk:
            raise ValidationError(f"{server.name} is the server the affiliate is leaving.")
        if not server.is_accepting:
            raise ValidationError(f"{server.name} is draining: it takes no new affiliates.")
        if server.max_affiliates is not None and server.load >= server.max_affiliates:
            raise ValidationError(f"{server.name} is full ({server.load} of {server.max_affiliates} affiliates).")
        return server
    if not DatabaseServer.objects.exists():
        return database_server_default(create=False)
    candidates = servers_with_load().filter(is_accepting=True)
    if exclude is not None:
        candidates = candidates.exclude(pk=exclude.pk)
    server = (
        candidates.filter(Q(max_affiliates__isnull=True) | Q(max_affiliates__gt=F("load")))
        .order_by("weight", "load", "-is_default", "name")
        .first()
    )
    if server is None:
        summary = ", ".join(
            f"{s.name}: {s.load}/{s.max_affiliates or '∞'}{'' if s.is_accepting else ' draining'}"
            f"{' leaving' if exclude is not None and s.pk == exclude.pk else ''} (weight {s.weight:.1f})"
            for s in servers_with_load().order_by("name")
        )
        raise ValidationError(f"No database server has room for a new affiliate ({summary}).")
    return server
