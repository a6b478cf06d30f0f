"""affiliates/infra/databases.py: DDL on databases and roles, safe to run again and side by side."""

from __future__ import annotations

import threading

import pytest

from affiliates.infra import databases
from tests.conftest import management_target

pytestmark = pytest.mark.django_db(transaction=True)


def test_lock_downs_of_one_database_side_by_side_all_succeed(fresh_database):
    """Two workers provisioning at once both close the management database to PUBLIC: PostgreSQL fails
    one of two simultaneous privilege changes on a database ("tuple concurrently updated")."""
    failures: list[BaseException] = []
    start = threading.Barrier(6)

    def lock_down() -> None:
        try:
            with databases.admin_connect(management_target()) as conn:
                start.wait()
                for _ in range(25):
                    databases.database_lock_down(conn, fresh_database.name, role=management_target().user)
        except BaseException as exc:  # reported below, with the others
            failures.append(exc)

    threads = [threading.Thread(target=lock_down) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not failures, failures
