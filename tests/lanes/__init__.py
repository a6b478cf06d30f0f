"""Test lanes: markers that tell the truth.

A test marked ``worker``, ``browser``, ``flyway`` or ``cluster`` starts a Celery worker process,
headless Chromium, Flyway's JVM or a PostgreSQL server of its own; ``make test-fast`` leaves those
tests out. Every run checks that the markers are true: a test that starts one of these without its
marker fails at that point with a message naming the marker. Flyway is refused by putting the
``refuse_flyway`` scripts in its place (in this process and in every process the test starts);
workers, Chromium and clusters ask :func:`require` before they start.
"""

from __future__ import annotations

from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
REFUSE_FLYWAY = str(HERE / "refuse_flyway")
REFUSE_FLYWAY_FLEET = str(HERE / "refuse_flyway_fleet")

#: What each marker says a test starts; ``make test-fast`` runs ``-m "not (…)"`` over these.
MARKERS = {
    "worker": "a Celery worker process",
    "browser": "headless Chromium",
    "flyway": "Flyway's JVM",
    "cluster": "a PostgreSQL server of its own",
}

#: The test running now (set by the autouse fixture in tests/conftest.py), or None between tests.
current: pytest.Item | None = None


def require(marker: str) -> None:
    """Fail the running test unless it carries ``marker`` (it is about to start what the marker names)."""
    if current is not None and current.get_closest_marker(marker) is None:
        pytest.fail(f"{current.nodeid} starts {MARKERS[marker]} but is not marked @pytest.mark.{marker}", pytrace=False)
