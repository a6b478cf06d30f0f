"""Putting work on the task queue, failing fast and in one line when Redis cannot be reached.

Celery's own behaviour with Redis down is to retry for about 20 s (the result store's retry
policy) and end in a traceback. Settings (``QUEUE_CONNECT_TIMEOUT`` and the retry policies in
``fitbuddy/settings.py``) bound that to a few seconds; ``send`` turns whatever the broker or the
result store raised into ``QueueUnavailable``, naming the broker without its password.
Nothing that was registered before the send is undone: the reconciler (``reconcile.py``) queues
it again once the queue answers.
"""

from __future__ import annotations

import logging
from contextlib import contextmanager

from django.conf import settings
from kombu.exceptions import OperationalError as KombuOperationalError
from kombu.utils.url import maybe_sanitize_url
from redis import Redis
from redis.exceptions import RedisError

from .errors import QueueUnavailable


def broker_display() -> str:
    """The broker's URL with any password masked."""
    return maybe_sanitize_url(settings.CELERY_BROKER_URL)


#: Celery's loggers that narrate each reconnect attempt; ``send`` reports the failure itself, once.
_CHATTY = ("celery.backends.redis", "celery.backends.asynchronous", "kombu.connection")


@contextmanager
def _quiet():
    loggers = [logging.getLogger(name) for name in _CHATTY]
    before = [logger.disabled for logger in loggers]
    for logger in loggers:
        logger.disabled = True
    try:
        yield
    finally:
        for logger, disabled in zip(loggers, before, strict=True):
            logger.disabled = disabled


def _reason(exc: Exception) -> str:
    """Why the broker cannot be reached, in Redis' own words (Celery's message names its own retry loop)."""
    try:
        Redis.from_url(settings.CELERY_BROKER_URL, socket_connect_timeout=settings.QUEUE_CONNECT_TIMEOUT).ping()
    except RedisError as probe:
        return " ".join(str(probe).split())[:200]
    return " ".join(str(exc).split())[:200] or type(exc).__name__


def send(task, *args, **kwargs) -> str:
    """Queue ``task(*args, **kwargs)``; its id, or QueueUnavailable within a few seconds."""
    try:
        with _quiet():
            return task.apply_async(args=args, kwargs=kwargs).id
    except (KombuOperationalError, RedisError, ConnectionError, RuntimeError) as exc:
        # RuntimeError: Celery's Redis result store gives up on reconnecting with one.
        raise QueueUnavailable(f"the task queue at {broker_display()} cannot be reached ({_reason(exc)})") from exc
