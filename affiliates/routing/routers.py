"""Sends every affiliate model to the current affiliate's database and everything else to ``default``.

Each model says where it lives (``affiliates/silos.py``). No current affiliate is an error, never a fallback.
Relations across databases are refused and Django migrations never run on affiliate databases
(Flyway owns their schema).
"""

from __future__ import annotations

from functools import cache
from typing import Any

from django.apps import apps
from django.db.models import Model

from affiliates.routing.connections import alias_for
from affiliates.routing.context import require_current_affiliate
from affiliates.silos import Silo, silo_of


@cache
def gym_app_labels() -> frozenset[str]:
    """The labels of the apps with affiliate models (read once the app registry is ready)."""
    return frozenset(
        config.label
        for config in apps.get_app_configs()
        if any(silo_of(model) == Silo.AFFILIATE for model in config.get_models())
    )


def is_gym_model(model: type[Model]) -> bool:
    """Whether the model lives in an affiliate's database (its silo mark says so)."""
    return silo_of(model) == Silo.AFFILIATE


class AffiliateRouter:
    def _route(self, model: type[Model], **hints: Any) -> str:
        if is_gym_model(model):
            return alias_for(require_current_affiliate())
        return "default"

    db_for_read = _route
    db_for_write = _route

    def allow_relation(self, obj1: Model, obj2: Model, **hints: Any) -> bool:
        gym1, gym2 = is_gym_model(type(obj1)), is_gym_model(type(obj2))
        if gym1 != gym2:
            return False  # a gym row never points at the management database, nor the reverse
        return obj1._state.db == obj2._state.db

    def allow_migrate(self, db: str, app_label: str, model_name: str | None = None, **hints: Any) -> bool:
        if app_label in gym_app_labels():
            return False  # Flyway owns the affiliate schema
        return db == "default"
