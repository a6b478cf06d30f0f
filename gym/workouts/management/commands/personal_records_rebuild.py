from typing import Any

from django.db import router, transaction

from affiliates.routing.command import AffiliateCommand
from gym.workouts.models import PersonalRecord
from gym.workouts.records import personal_records_rebuild


class Command(AffiliateCommand):
    help = (
        "Recompute every personal record of a gym from its results (after a bulk import or a "
        "correction): manage.py personal_records_rebuild --affiliate ironworks"
    )

    def handle(self, *args: Any, **options: Any) -> None:
        with transaction.atomic(using=router.db_for_write(PersonalRecord)):
            personal_records_rebuild()
            records = PersonalRecord.objects.count()
        self.stdout.write(self.style.SUCCESS(f"{options['affiliate']}: {records} personal records"))
