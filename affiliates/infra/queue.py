"""Putting work on the task queue by task name, failing fast and in one line when Redis cannot be reached.

Operations hand work to Celery by the task's registered name (the constants below), never by
importing ``affiliates.tasks``: tasks call operations, so an operation importing a task would close
an import circle.

Celery's own behaviour with Redis down is to retry for about 20 s (the result store's retry
policy) and end in a traceback. Settings (``QUEUE_CONNECT_TIMEOUT`` and the retry policies in
``fitbuddy/settings.py``) bound that to a few seconds; ``send`` turns whatever the broker or the
result store raised into ``QueueUnavailable``, naming the broker without its password.
Nothing that was registered before the send is undone: the reconciler (``reconcile.py``) queues
it again once the queue answers.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager

from celery import current_app
from django.conf import settings
from kombu.exceptions import OperationalError as KombuOperationalError
from kombu.utils.url import maybe_sanitize_url
from redis import Redis
from redis.exceptions import RedisError

from affiliates.errors import QueueUnavailable

#: The registered names of FitBuddy's tasks (queued messages and the beat schedule carry them: never rename).
PROVISION = "affiliates.tasks.affiliate_provision_task"
RESTORE = "affiliates.tasks.affiliate_restore_task"
MIGRATION_RUN = "affiliates.tasks.migration_run_task"
RECONCILE = "affiliates.tasks.reconcile_task"
ROLE_REPAIR = "affiliates.tasks.affiliate_role_repair_task"
MOVE = "affiliates.tasks.affiliate_move_task"
#: Each gym's load from every database server's statistics (a beat task; affiliates/operations/load.py).
LOAD_COLLECT = "affiliates.tasks.load_collect_task"
# Nightly backups, retention and the restore drill (affiliates/operations/nightly_backups.py, …).
BACKUP = "affiliates.tasks.affiliate_backup_task"
BACKUP_SCHEDULE = "affiliates.tasks.backup_schedule_task"
BACKUP_PRUNE = "affiliates.tasks.backup_prune_task"
BACKUP_DRILL = "affiliates.tasks.backup_drill_task"


def broker_display() -> str:
    """The broker's URL with any password masked."""
    return maybe_sanitize_url(settings.CELERY_BROKER_URL)


#: Celery's loggers that narrate each reconnect attempt; ``send`` reports the failure itself, once.
_CHATTY = ("celery.backends.redis", "celery.backends.asynchronous", "kombu.connection")


@contextmanager
def _quiet() -> Iterator[None]:
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


def send(task_name: str, *args: object, **kwargs: object) -> str:
    """Queue the task named ``task_name`` with these arguments; its id, or QueueUnavailable within a few seconds."""
    try:
        with _quiet():
            return current_app.send_task(task_name, args=args, kwargs=kwargs).id
    except (KombuOperationalError, RedisError, ConnectionError, RuntimeError) as exc:
        # RuntimeError: Celery's Redis result store gives up on reconnecting with one.
        raise QueueUnavailable(f"the task queue at {broker_display()} cannot be reached ({_reason(exc)})") from exc
