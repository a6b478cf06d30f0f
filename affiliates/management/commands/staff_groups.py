from typing import Any

from django.core.management.base import BaseCommand

from affiliates.people import staff


class Command(BaseCommand):
    help = "Create the command center's staff groups (Support, Operators, Administrators) or restore their permissions."

    def handle(self, *args: Any, **options: Any) -> None:
        for name, count in staff.groups_ensure().items():
            self.stdout.write(f"{name}: {count} permissions")
