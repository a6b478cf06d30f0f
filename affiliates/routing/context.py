"""The current affiliate: one ContextVar, set and reset in one place (:func:`affiliate_context`).

The web middleware, management commands' ``--affiliate`` option, scripts
and tests all enter the same context manager; the database router reads it.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

from affiliates.models import Affiliate

_current: ContextVar[Affiliate | None] = ContextVar("fitbuddy_current_affiliate", default=None)


class NoCurrentAffiliate(RuntimeError):
    """Gym data was queried outside any affiliate's context; there is no database to send it to."""


def current_affiliate() -> Affiliate | None:
    return _current.get()


def require_current_affiliate() -> Affiliate:
    affiliate = _current.get()
    if affiliate is None:
        raise NoCurrentAffiliate(
            "gym data queried with no current affiliate; wrap the code in affiliate_context(...) "
            "(the web middleware and the --affiliate option of management commands do this for you)"
        )
    return affiliate


@contextmanager
def affiliate_context(affiliate: Affiliate | str | int) -> Iterator[Affiliate]:
    """Make ``affiliate`` (an instance, slug or id) current for the duration of the block."""
    if not isinstance(affiliate, Affiliate):
        lookup = {"pk": affiliate} if isinstance(affiliate, int) else {"schema_name": affiliate}
        affiliate = Affiliate.objects.select_related("database_server").get(**lookup)
    token = _current.set(affiliate)
    try:
        yield affiliate
    finally:
        _current.reset(token)
