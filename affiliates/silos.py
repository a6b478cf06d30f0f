"""Which database a model lives in, said by the model itself.

FitBuddy has two kinds of database: the one management database (the registry, staff, their audit
trail) and one application database per affiliate (a gym's own data). Every FitBuddy model carries
a mark, :func:`management_model` or :func:`affiliate_model`; the router reads it to send a query to
``default`` or to the current affiliate's database, and ``tests/test_architecture.py`` fails on an
unmarked FitBuddy model or on a relation between the two kinds. Django's own models (auth, sessions,
admin, contenttypes) and installed libraries' live in the management database.
"""

from __future__ import annotations

import enum
from typing import Any, TypeVar

#: The packages whose models must carry a mark.
OWN_PACKAGES = ("affiliates", "gym")

M = TypeVar("M", bound=type)


class Silo(enum.StrEnum):
    MANAGEMENT = "management"
    AFFILIATE = "affiliate"


class UnmarkedModel(LookupError):
    """A FitBuddy model without a silo mark: nobody said which database it lives in."""


def _mark(silo: Silo) -> Any:
    def decorate(model: M) -> M:
        model.fitbuddy_silo = silo  # type: ignore[attr-defined]
        return model

    return decorate


#: Lives in the management database (``default``).
management_model = _mark(Silo.MANAGEMENT)
#: Lives in each affiliate's own application database (the current affiliate's, per request or task).
affiliate_model = _mark(Silo.AFFILIATE)


def silo_of(model: type) -> Silo:
    """The database a model lives in; UnmarkedModel for a FitBuddy model nobody marked."""
    silo: Silo | None = getattr(model, "fitbuddy_silo", None)
    if silo is not None:
        return silo
    if model.__module__.split(".", 1)[0] in OWN_PACKAGES:
        raise UnmarkedModel(
            f"{model.__module__}.{model.__qualname__} says neither @management_model nor @affiliate_model"
        )
    return Silo.MANAGEMENT
