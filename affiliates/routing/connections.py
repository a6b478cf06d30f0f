"""Database aliases for affiliates, added at runtime, with the number of open connections bounded.

Each affiliate gets the alias ``affiliate_<id>``, built on first use from a deep copy of
``default``'s (fully defaulted) settings with the affiliate's own database, server, role and
password (``affiliate_target``). Django's connections are per thread; each thread keeps at most
``AFFILIATE_CONNECTIONS_PER_THREAD`` affiliate connections open and closes the least recently
used beyond that, so a process serving any number of affiliates holds a bounded number of
PostgreSQL connections. Through a pooler (``DATABASE_POOLER``, a server's ``pooler``) the cap is
``AFFILIATE_POOLED_CONNECTIONS_PER_THREAD``: those connections are the pooler's clients, and
the pooler bounds what reaches PostgreSQL. The process keeps at most ``AFFILIATE_ALIASES_PER_PROCESS``
aliases registered (least recently used dropped first): Django walks them all at every request's start
and end, so nothing in a request grows with the number of gyms a process has served.
"""

from __future__ import annotations

import copy
import threading
from collections import OrderedDict
from typing import Any

from asgiref.local import Local
from django.conf import settings
from django.db import connections

from affiliates.infra import credentials
from affiliates.infra.targets import affiliate_target, pooler_for, tls_for
from affiliates.models import Affiliate
from affiliates.routing.backend.base import SECRET_REF

_lock = threading.Lock()
_recent = Local()  # per thread, like Django's connections: alias -> None, most recent last
#: The aliases registered in this process, most recently used last (at most AFFILIATE_ALIASES_PER_PROCESS).
_registered: OrderedDict[str, None] = OrderedDict()
#: Marks an alias whose connections go through a pooler (they have a cap of their own).
POOLED = "FITBUDDY_POOLED"
#: The server an alias's settings point at: a gym moved to another server gets new settings.
SERVER = "FITBUDDY_SERVER"


def alias_name(affiliate: Affiliate) -> str:
    return f"affiliate_{affiliate.pk}"


def _settings_for(affiliate: Affiliate) -> dict[str, Any]:
    config = copy.deepcopy(connections["default"].settings_dict)
    target = affiliate_target(affiliate)
    config.update(
        ENGINE="affiliates.routing.backend",  # Django's PostgreSQL backend, retrying a rotated password once
        NAME=target.name,
        HOST=target.host,
        PORT=target.port,
        USER=target.user,
        PASSWORD=target.password,
        CONN_MAX_AGE=settings.AFFILIATE_CONN_MAX_AGE,
        ATOMIC_REQUESTS=False,
    )
    config[SECRET_REF] = affiliate.secret_ref or credentials.DERIVED_SECRET_REF
    config["OPTIONS"] = {
        **config.get("OPTIONS", {}),
        "options": f"-c search_path={settings.FLYWAY_SCHEMA}",
        **target.tls_params(),
    }
    pooler = pooler_for(affiliate.database_server) if affiliate.database_server else None
    if pooler:
        # Through a transaction pooler (PgBouncer, RDS Proxy): consecutive transactions may run on
        # different server connections. So no server-side cursors (Django's rule for poolers), no
        # prepared statements (psycopg's), and no session settings in the startup packet: the
        # role's search_path is set in its database by provisioning.
        config.update(HOST=pooler[0], PORT=pooler[1], DISABLE_SERVER_SIDE_CURSORS=True)
        config[POOLED] = True
        config["OPTIONS"] = {
            **{k: v for k, v in config["OPTIONS"].items() if k != "options" and k not in target.tls_params()},
            "prepare_threshold": None,
            **tls_for(pooler[0]),
        }
    config["TEST"] = {**config.get("TEST", {}), "MIRROR": None, "NAME": affiliate.database_name}
    config[SERVER] = affiliate.database_server_id
    return config


def _aliases_change(added: dict[str, dict[str, Any]] | None = None, removed: frozenset[str] = frozenset()) -> None:
    """Add and remove aliases copy-on-write (with ``_lock`` held).

    Other threads iterate ``connections.settings`` while this one registers a gym: Django's
    ``close_old_connections`` after every request and ``connections.close_all()`` walk it. A dict
    changed in place under such a walk raises "dictionary changed size during iteration" (it did,
    in bench/scale.py, with threads provisioning thousands of gyms); a new dict leaves every walk
    under way on the one it started with.
    """
    aliases = {alias: config for alias, config in connections.settings.items() if alias not in removed}
    aliases.update(added or {})
    connections.settings = aliases


def alias_for(affiliate: Affiliate) -> str:
    """The alias of an affiliate's database, registered on first use."""
    alias = alias_name(affiliate)
    with _lock:
        known = connections.settings.get(alias)
        if known is None or known.get(SERVER) != affiliate.database_server_id:
            _aliases_change({alias: _settings_for(affiliate)}, removed=_least_used_beyond_cap(alias))
        _registered[alias] = None
        _registered.move_to_end(alias)
    _moved_away(alias, affiliate)
    _touch(alias)
    return alias


def _least_used_beyond_cap(adding: str) -> frozenset[str]:
    """The aliases to unregister so that this process holds at most AFFILIATE_ALIASES_PER_PROCESS (with ``_lock``).

    Django walks every registered alias at each request's start and end (``reset_queries``,
    ``close_old_connections``): with an alias for every gym a process ever served, a request grew
    slower with the number of gyms (12 ms a request at 3,000 in bench/scale.py). A thread still
    holding a connection of an unregistered alias keeps it until its own cap closes it
    (:func:`_touch`), or reuses it when the gym comes back.
    """
    beyond = len(_registered) + (adding not in _registered) - settings.AFFILIATE_ALIASES_PER_PROCESS
    removed: list[str] = []
    for alias in _registered:
        if len(removed) >= beyond:
            break
        if alias != adding:
            removed.append(alias)
    for alias in removed:
        del _registered[alias]
    return frozenset(removed)


def _moved_away(alias: str, affiliate: Affiliate) -> None:
    """Close this thread's connection to a server the gym has left (moved), so the next query goes to its new one."""
    open_wrapper = getattr(connections._connections, alias, None)  # type: ignore[attr-defined]  # private, no stubs
    if open_wrapper is not None and open_wrapper.settings_dict.get(SERVER) != affiliate.database_server_id:
        open_wrapper.close()
        delattr(connections._connections, alias)  # type: ignore[attr-defined]


def _touch(alias: str) -> None:
    # Connections straight to PostgreSQL and connections to a pooler are capped separately.
    pooled = bool(connections.settings[alias].get(POOLED))
    kind = "pooled" if pooled else "aliases"
    recent: OrderedDict[str, None] | None = getattr(_recent, kind, None)
    if recent is None:
        recent = OrderedDict()
        setattr(_recent, kind, recent)
    recent[alias] = None
    recent.move_to_end(alias)
    cap = settings.AFFILIATE_POOLED_CONNECTIONS_PER_THREAD if pooled else settings.AFFILIATE_CONNECTIONS_PER_THREAD
    while len(recent) > cap:
        oldest, _ = recent.popitem(last=False)
        connection = getattr(connections._connections, oldest, None)  # type: ignore[attr-defined]  # private
        if connection is None:  # never opened in this thread (and maybe unregistered since)
            continue
        if not connection.in_atomic_block:
            connection.close()
        else:  # in use by an open transaction: keep it, try again next time
            recent[oldest] = None
            recent.move_to_end(oldest, last=False)
            break


def forget(affiliate: Affiliate) -> None:
    """Close and drop an affiliate's alias (after suspend/archive, or when its settings change)."""
    alias = alias_name(affiliate)
    with _lock:
        if alias in connections.settings:
            connections[alias].close()
            _aliases_change(removed=frozenset([alias]))
        _registered.pop(alias, None)
    for kind in ("aliases", "pooled"):
        recent = getattr(_recent, kind, None)
        if recent:
            recent.pop(alias, None)


def open_affiliate_connections() -> int:
    """Affiliate connections open in this thread."""
    return sum(
        1
        for alias in connections.settings
        if alias.startswith("affiliate_") and connections[alias].connection is not None
    )


def forget_all() -> None:
    """Close and drop every affiliate alias of this process (tests; a configuration reload)."""
    with _lock:
        aliases = frozenset(a for a in connections.settings if a.startswith("affiliate_"))
        for alias in aliases:
            connections[alias].close()
            try:
                # Django's per-thread store of open connections: private, so not in the stubs.
                delattr(connections._connections, alias)  # type: ignore[attr-defined]
            except AttributeError:
                pass
        _aliases_change(removed=aliases)
        _registered.clear()
    for kind in ("aliases", "pooled"):
        recent = getattr(_recent, kind, None)
        if recent:
            recent.clear()
