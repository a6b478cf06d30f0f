"""Celery tasks of the affiliate registry. Tasks take ids and re-fetch inside."""

from __future__ import annotations

import psycopg
from celery import Task, shared_task
from django.db import OperationalError as DjangoOperationalError

from . import flyway, provisioning
from .context import affiliate_context


class TransientProvisioningError(Exception):
    """A failure worth retrying with backoff (database unreachable, restarted, …)."""


@shared_task(
    bind=True,
    acks_late=True,
    reject_on_worker_lost=True,
    autoretry_for=(TransientProvisioningError,),
    retry_backoff=1,
    retry_backoff_max=30,
    retry_jitter=False,
    max_retries=6,
    time_limit=900,
    soft_time_limit=840,
)
def affiliate_provision_task(self, affiliate_id: int, requested_by: str = "") -> dict:
    """Provision one affiliate to ``active``; safe to run twice, and after a crash at any step."""
    try:
        affiliate = provisioning.affiliate_provision(affiliate_id=affiliate_id, requested_by=requested_by)
    except provisioning.ProvisioningBusy:
        # Another worker holds this affiliate's lock and will finish the job.
        return {"affiliate_id": affiliate_id, "status": "busy"}
    except (psycopg.OperationalError, DjangoOperationalError) as exc:
        raise TransientProvisioningError(str(exc)) from exc
    except flyway.FlywayError as exc:
        if exc.error_code == "DB_CONNECTION":
            raise TransientProvisioningError(str(exc)) from exc
        raise
    return {"affiliate_id": affiliate_id, "status": affiliate.status}


class AffiliateTask(Task):
    """Base for tasks on one affiliate's data: call with ``affiliate_id=…``; the task body runs in
    that affiliate's context, so the router sends gym models to its database."""

    def __call__(self, *args, affiliate_id: int, **kwargs):
        with affiliate_context(affiliate_id):
            return super().__call__(*args, **kwargs)
