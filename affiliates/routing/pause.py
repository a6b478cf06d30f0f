"""A gym's write pause, as the web process sees it: requests wait for it to end instead of failing.

A move (``operations/move.py``) sets the registry's ``write_pause_until`` and announces it through
the routing stamp; every process reads it with the gym's routing entry, so checking costs a
request nothing. A request that finds its gym paused polls the routing entry (one Redis ``GET``
each time; the registry is read again only when the stamp changes) until the pause ends — the
move's switch lifts it in the same transaction that points the gym at its new server — and then
goes on, to the new server. After ``MOVE_REQUEST_WAIT_SECONDS`` it gives up with a 503 asking the
client to try again.
"""

from __future__ import annotations

import time

from django.conf import settings
from django.utils import timezone

from affiliates.models import Affiliate
from affiliates.routing.hosts import affiliate_for_host

#: How often a waiting request looks again.
POLL_SECONDS = 0.02


def is_paused(affiliate: Affiliate) -> bool:
    """Whether the gym's writes are paused now (the deadline has not passed)."""
    until = affiliate.write_pause_until
    return until is not None and until > timezone.now()


def pause_wait(hostname: str, affiliate: Affiliate) -> Affiliate | None:
    """The gym once its pause ended (as routing now has it: maybe on another server), or None after
    ``MOVE_REQUEST_WAIT_SECONDS``."""
    deadline = time.monotonic() + settings.MOVE_REQUEST_WAIT_SECONDS
    current: Affiliate | None = affiliate
    while current is not None and is_paused(current):
        if time.monotonic() > deadline:
            return None
        time.sleep(POLL_SECONDS)
        current = affiliate_for_host(hostname)
    return current
