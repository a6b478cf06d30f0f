from celery import shared_task

from affiliates.tasks import AffiliateTask

from .services import personal_records_rebuild


@shared_task(base=AffiliateTask, time_limit=600, acks_late=True)
def personal_records_rebuild_task() -> int:
    """Recompute every personal record of the current affiliate (call with affiliate_id=…)."""
    return personal_records_rebuild()
