"""The registry's tables as the code names them (affiliates/models/, sql/affiliate_management)."""

from __future__ import annotations

import pytest
from django.db import connection

from affiliates.models import AffiliateEvent
from tests.factories import affiliate_requested

pytestmark = pytest.mark.django_db(transaction=True)


def test_the_previous_name_of_the_event_log_still_reads_and_writes_while_a_release_rolls_out(clean_registry):
    """V7 renamed provisioning_event to affiliate_event; processes of the previous release keep working
    through a view of the old name until they are replaced (expand, then contract)."""
    affiliate = affiliate_requested()
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO master.provisioning_event (affiliate_id, step, outcome)"
            " VALUES (%s, 'old_release', 'succeeded')",
            [affiliate.pk],
        )
        cursor.execute("SELECT count(*) FROM master.provisioning_event WHERE affiliate_id = %s", [affiliate.pk])
        seen_through_the_old_name = cursor.fetchone()[0]
    event = AffiliateEvent.objects.get(affiliate=affiliate, step="old_release")
    # The table's own defaults apply to a row written through the view.
    assert (event.error, event.detail, event.requested_by) == ("", "", "")
    assert event.created_at is not None
    assert seen_through_the_old_name == AffiliateEvent.objects.filter(affiliate=affiliate).count() >= 2
