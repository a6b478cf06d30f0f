"""The Celery worker's side of observability: its log lines and its task outcomes.

- Logging: the worker logs through Django's LOGGING (JSON or text, as the web process), not Celery's
  own set-up. For the duration of a task every line carries the task's id as ``request_id`` and, when
  the task has an ``affiliate_id`` argument, that gym's slug (looked up once, at the task's start).
- Outcomes: each task that succeeds, fails or is retried adds one to a field of a Redis hash
  (``fitbuddy.metrics_collectors.TASK_OUTCOMES_KEY``) on the broker's Redis; ``/metrics`` reads the hash.
  Counting never fails a task: with Redis unreachable the count is lost and the task goes on.

Connected by ``fitbuddy/celery.py``; the signals fire in worker processes only.
"""

from __future__ import annotations

import inspect
import logging
import logging.config
from contextvars import Token
from typing import Any

from celery import signals
from django.conf import settings
from redis import Redis
from redis.exceptions import RedisError

from fitbuddy import logs

log = logging.getLogger("fitbuddy.tasks")
_tokens: dict[str, tuple[Token[str | None], Token[str | None]]] = {}
_redis: list[Redis] = []


@signals.setup_logging.connect
def _logging(**kwargs: object) -> None:
    """Django's LOGGING for the worker and beat too (a receiver here makes Celery leave logging alone)."""
    logging.config.dictConfig(settings.LOGGING)


def _affiliate_id(task: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> int | None:
    try:
        bound = inspect.signature(task.run).bind_partial(*args, **kwargs)
    except (TypeError, ValueError):
        return None
    value = bound.arguments.get("affiliate_id")
    return value if isinstance(value, int) else None


def _slug(affiliate_id: int) -> str | None:
    from affiliates.models import Affiliate

    try:
        slug: str | None = Affiliate.objects.filter(pk=affiliate_id).values_list("schema_name", flat=True).first()
    except Exception:  # the registry unreachable: the task will say so itself
        return None
    return slug


@signals.task_prerun.connect
def _task_started(
    task_id: str, task: Any, args: tuple[Any, ...] = (), kwargs: dict[str, Any] | None = None, **_: object
) -> None:
    affiliate_id = _affiliate_id(task, args or (), kwargs or {})
    slug = _slug(affiliate_id) if affiliate_id is not None else None
    _tokens[task_id] = logs.context_enter(request_id=task_id, affiliate=slug)
    log.info("task %s started", task.name)


@signals.task_postrun.connect
def _task_ended(task_id: str, **_: object) -> None:
    tokens = _tokens.pop(task_id, None)
    if tokens is not None:
        logs.context_exit(tokens)


def _count(task: Any, outcome: str) -> None:
    from fitbuddy.metrics_collectors import TASK_OUTCOMES_KEY, bounded_task

    try:
        if not _redis:
            timeout = settings.QUEUE_CONNECT_TIMEOUT
            _redis.append(
                Redis.from_url(settings.CELERY_BROKER_URL, socket_connect_timeout=timeout, socket_timeout=timeout)
            )
        _redis[0].hincrby(TASK_OUTCOMES_KEY, f"{bounded_task(getattr(task, 'name', ''))}|{outcome}", 1)
    except RedisError as exc:
        log.warning("task outcome not counted (%s)", type(exc).__name__)


@signals.task_success.connect
def _succeeded(sender: Any = None, **_: object) -> None:
    _count(sender, "succeeded")


@signals.task_failure.connect
def _failed(sender: Any = None, **_: object) -> None:
    _count(sender, "failed")


@signals.task_retry.connect
def _retried(sender: Any = None, **_: object) -> None:
    _count(sender, "retried")
