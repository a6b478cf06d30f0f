"""Shared helpers for FitBuddy's benchmarks: Django set-up, timing, a scratch database."""

from __future__ import annotations

import os
import statistics
import sys
import time
import uuid
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "fitbuddy.settings")
os.environ.setdefault("FITBUDDY_ENV", "test")

import django  # noqa: E402

django.setup()

from django.db import connections  # noqa: E402

from affiliates.infra import databases  # noqa: E402
from affiliates.infra.targets import DatabaseTarget  # noqa: E402


def server_target(name: str = "postgres") -> DatabaseTarget:
    return DatabaseTarget.from_django(connections["default"].settings_dict, name=name)


@contextmanager
def timer():
    started = time.perf_counter()
    result = {}
    yield result
    result["seconds"] = time.perf_counter() - started


def scratch_name(prefix: str = "bench") -> str:
    return f"{prefix}_{uuid.uuid4().hex[:10]}"


def drop(name: str) -> None:
    with databases.admin_connect(server_target()) as conn:
        databases.database_drop(conn, name)


def summary(samples: list[float]) -> str:
    ms = [s * 1000 for s in samples]
    return f"median {statistics.median(ms):.0f} ms (min {min(ms):.0f}, max {max(ms):.0f}, n={len(ms)})"
