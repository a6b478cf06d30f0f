"""Sends every gym app model to the current affiliate's database and everything else to ``default``.

The gym apps are those in ``TENANT_APPS``. No current affiliate is an error, never a fallback.
Relations across databases are refused and Django migrations never run on affiliate databases
(Flyway owns their schema).
"""

from __future__ import annotations

from functools import cache

from django.apps import apps
from django.conf import settings

from .connections import alias_for
from .context import require_current_affiliate


@cache
def gym_app_labels() -> frozenset[str]:
    """The app labels of ``TENANT_APPS`` (read once the app registry is ready)."""
    return frozenset(config.label for config in apps.get_app_configs() if config.name in settings.TENANT_APPS)


def is_gym_model(model) -> bool:
    return model._meta.app_label in gym_app_labels()


class AffiliateRouter:
    def _route(self, model, **hints):
        if is_gym_model(model):
            return alias_for(require_current_affiliate())
        return "default"

    db_for_read = _route
    db_for_write = _route

    def allow_relation(self, obj1, obj2, **hints):
        gym1, gym2 = is_gym_model(type(obj1)), is_gym_model(type(obj2))
        if gym1 != gym2:
            return False  # a gym row never points at the management database, nor the reverse
        return obj1._state.db == obj2._state.db

    def allow_migrate(self, db, app_label, model_name=None, **hints):
        if app_label in gym_app_labels():
            return False  # Flyway owns the affiliate schema
        return db == "default"
