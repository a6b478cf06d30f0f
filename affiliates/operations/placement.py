"""Placement: which database server a new affiliate's database goes to.

A new affiliate is placed on the accepting database server with room (``max_affiliates``) and the
fewest affiliates, the default server first among equals; ``server_name`` chooses one outright.
Without any registered server, on the management database's own (registered as ``local`` on
first use). When no server has room, placement refuses before anything is created.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, TypeAlias, TypedDict

from django.core.exceptions import ValidationError
from django.db.models import Count, F, Q, QuerySet

from affiliates.infra.targets import MANAGEMENT_LOGIN_REF, management_target
from affiliates.models import Affiliate, DatabaseServer


class Load(TypedDict):
    """What :func:`servers_with_load` adds to each server."""

    load: int


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


def servers_with_load() -> QuerySet[LoadedServer]:
    """Servers with the number of affiliates they hold (every affiliate but archived ones)."""
    return DatabaseServer.objects.annotate(
        load=Count("affiliates", filter=~Q(affiliates__status=Affiliate.Status.ARCHIVED))
    )


def database_server_choose(*, server_name: str | None = None, exclude: DatabaseServer | None = None) -> DatabaseServer:
    """The server a new affiliate goes to (unsaved ``local`` when none is registered); ValidationError when
    none can take it. ``exclude``: never this server (the one a gym moves away from)."""
    if exclude is not None and server_name == exclude.name:
        raise ValidationError(f"{server_name} is the server the affiliate is on.")
    if server_name:
        server = servers_with_load().filter(name=server_name).first()
        if server is None:
            names = ", ".join(DatabaseServer.objects.values_list("name", flat=True)) or "none registered"
            raise ValidationError(f"No database server {server_name!r} (servers: {names}).")
        if not server.is_accepting:
            raise ValidationError(f"{server.name} is draining: it takes no new affiliates.")
        if server.max_affiliates is not None and server.load >= server.max_affiliates:
            raise ValidationError(f"{server.name} is full ({server.load} of {server.max_affiliates} affiliates).")
        return server
    if not DatabaseServer.objects.exists():
        return database_server_default(create=False)
    candidates = servers_with_load() if exclude is None else servers_with_load().exclude(pk=exclude.pk)
    server = (
        candidates.filter(is_accepting=True)
        .filter(Q(max_affiliates__isnull=True) | Q(max_affiliates__gt=F("load")))
        .order_by("load", "-is_default", "name")
        .first()
    )
    if server is None:
        summary = ", ".join(
            f"{s.name}: {s.load}/{s.max_affiliates or '∞'}{'' if s.is_accepting else ' draining'}"
            for s in servers_with_load().order_by("name")
        )
        raise ValidationError(f"No database server has room for a new affiliate ({summary}).")
    return server
