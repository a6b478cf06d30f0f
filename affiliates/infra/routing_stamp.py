"""The routing stamp: one Redis key every web process reads per request and every routing change rewrites.

A process caches which affiliate a host routes to (``Affiliate.objects.for_host``), tagged with the
stamp it read before looking the host up. A change to routing (a domain added, renamed, moved or
deleted; an affiliate suspended, resumed, archived, restored or made active) writes a new random
stamp after its transaction commits, so the next request in every process sees a stamp its
cached entries do not carry and reads the registry again: one ``GET`` per request (~0.1 ms on
this machine), no listener thread, nothing to lose between a message and a reconnect.

Redis unreachable: :func:`current` answers None at once (and does not ask again for
``ROUTING_STAMP_RETRY_SECONDS``), and callers fall back to a short cache lifetime
(``ROUTING_FALLBACK_CACHE_SECONDS``); a reading process warns once per outage. A write that fails
is logged at debug level only (the command that made the change reports the outage in its own one
line, and the readers warn of it), and the caches' own lifetime (``AFFILIATE_CACHE_SECONDS``)
still bounds what another process serves. Routing is never stale for longer than that.
"""

from __future__ import annotations

import logging
import threading
import time
import uuid

from django.conf import settings
from redis import Redis
from redis.exceptions import RedisError

logger = logging.getLogger(__name__)

_lock = threading.Lock()
_clients: dict[str, Redis] = {}
_unavailable_until = 0.0
_outage = False  # this process has warned of the outage it is in


def key() -> str:
    """The stamp's Redis key (one per environment, like the cache's prefix)."""
    return f"fitbuddy-{settings.FITBUDDY_ENV}:routing-stamp"


def _client() -> Redis:
    url = settings.REDIS_URL
    client = _clients.get(url)
    if client is None:
        with _lock:
            client = _clients.get(url)
            if client is None:
                timeout = settings.ROUTING_STAMP_TIMEOUT
                client = Redis.from_url(url, socket_timeout=timeout, socket_connect_timeout=timeout)
                _clients[url] = client
    return client


def _failed(what: str, exc: Exception, *, warn: bool) -> None:
    global _unavailable_until, _outage
    _unavailable_until = time.monotonic() + settings.ROUTING_STAMP_RETRY_SECONDS
    level = logging.WARNING if warn and not _outage else logging.DEBUG
    _outage = _outage or warn
    logger.log(level, "routing stamp: %s failed (%s); host lookups fall back to a short cache lifetime", what, exc)


def _recovered() -> None:
    global _unavailable_until, _outage
    if _outage:
        logger.warning("routing stamp: Redis answers again")
    _unavailable_until, _outage = 0.0, False


def current() -> str | None:
    """The routing stamp now ("" before any change was recorded), or None when Redis cannot say."""
    if time.monotonic() < _unavailable_until:
        return None
    try:
        value = _client().get(key())
    except (RedisError, OSError) as exc:
        _failed("reading", exc, warn=True)
        return None
    if _outage:
        _recovered()
    if isinstance(value, bytes):
        return value.decode()
    return "" if value is None else str(value)


def bump() -> bool:
    """Record a routing change: a new random stamp (never one seen before, even after Redis lost the key)."""
    try:
        _client().set(key(), uuid.uuid4().hex)
    except (RedisError, OSError) as exc:
        _failed("recording a change", exc, warn=False)
        return False
    _recovered()
    return True
