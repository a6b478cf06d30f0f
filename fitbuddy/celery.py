"""The Celery application: configured from Django settings under the CELERY_ namespace."""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "fitbuddy.settings")

app = Celery("fitbuddy")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()

# The worker's log lines (JSON or text, with the task and its gym) and its task outcomes for /metrics.
import fitbuddy.task_signals  # noqa: E402,F401
