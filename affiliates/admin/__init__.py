"""The command center: affiliates, their domains, memberships, database servers, provisioning,
fleet migrations and the staff audit trail.

Every dangerous operation needs its own permission (``affiliates/people/staff.py``): the admin offers an
action only to those who hold it (``@admin.action(permissions=…)``) and the action checks again
before it acts, so a forged POST changes nothing.
"""

from affiliates.admin import (  # noqa: F401  (registers each admin)
    affiliate,
    database_server,
    migration_run,
    records,
    staff_accounts,
)
