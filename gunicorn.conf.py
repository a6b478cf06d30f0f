"""gunicorn's settings for FitBuddy's web process (gunicorn reads ./gunicorn.conf.py by itself).

Prometheus' multiprocess mode: gunicorn's worker processes each keep their metrics in files under
PROMETHEUS_MULTIPROC_DIR, and /metrics adds them up, so a scrape sees the whole instance whichever
worker answers it. The folder is set here before any worker starts (a fresh one per server unless
the environment names one), emptied when the server starts, and a worker that exits is marked dead
so its gauges stop counting (docs/observability.md).

With LOG_FORMAT=json (production), gunicorn's own lines are JSON too; requests are logged by
FitBuddy's middleware (fitbuddy.access, with the request id and the gym), not by gunicorn.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path
from typing import Any

_made_here = not os.environ.get("PROMETHEUS_MULTIPROC_DIR")
if _made_here:
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = tempfile.mkdtemp(prefix="fitbuddy-prometheus-")
_metrics_dir = Path(os.environ["PROMETHEUS_MULTIPROC_DIR"])


def on_starting(server: Any) -> None:
    """Start from empty files: values left by an earlier server would be added to this one's."""
    _metrics_dir.mkdir(parents=True, exist_ok=True)
    for stale in _metrics_dir.glob("*.db"):
        stale.unlink()


def on_exit(server: Any) -> None:
    """A folder made for this server goes with it."""
    if _made_here:
        shutil.rmtree(_metrics_dir, ignore_errors=True)


def child_exit(server: Any, worker: Any) -> None:
    """A worker that exits (restarted, killed) no longer counts in live gauges (open connections)."""
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(worker.pid)


_production = os.environ.get("FITBUDDY_ENV") == "production"
if os.environ.get("LOG_FORMAT", "json" if _production else "text") == "json":
    logconfig_dict = {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {
            "json": {
                "()": "pythonjsonlogger.json.JsonFormatter",
                "fmt": "%(asctime)s %(levelname)s %(name)s %(message)s",
                "rename_fields": {"asctime": "time", "levelname": "level", "name": "logger"},
                "static_fields": {"request_id": None, "affiliate": None},
            }
        },
        "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "json"}},
        "loggers": {
            "gunicorn.error": {"handlers": ["console"], "level": "INFO", "propagate": False},
            "gunicorn.access": {"handlers": ["console"], "level": "INFO", "propagate": False},
        },
    }
