"""Log lines as JSON with the request id and the gym, from the web process, the worker and gunicorn's workers."""

from __future__ import annotations

import io
import json
import logging
import socket
import subprocess
import sys
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from django.conf import settings
from django.test import Client
from prometheus_client.parser import text_string_to_metric_families

from affiliates.infra import queue
from fitbuddy import logs
from fitbuddy.metrics_collectors import TASK_OUTCOMES_KEY
from tests.conftest import Worker, client_for, wait_for

ROOT = Path(settings.BASE_DIR)


@pytest.fixture
def json_lines():
    """The lines logged meanwhile, through FitBuddy's JSON formatter and filters (as LOG_FORMAT=json configures)."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logs.JsonLines())
    handler.addFilter(logs.ContextFilter())
    handler.addFilter(logs.ScrubSecrets())
    root, access = logging.getLogger(), logging.getLogger("fitbuddy.access")
    level = access.level
    root.addHandler(handler)
    access.setLevel(logging.INFO)
    yield lambda: [json.loads(line) for line in stream.getvalue().splitlines()]
    root.removeHandler(handler)
    access.setLevel(level)


@pytest.mark.django_db(transaction=True)
def test_a_requests_log_line_is_json_with_its_gym_and_request_id(gyms, json_lines):
    response = client_for(gyms.a, gyms.owner_a).get("/", HTTP_X_REQUEST_ID="lb-trace-0001")
    assert response.status_code == 200 and response["X-Request-ID"] == "lb-trace-0001"
    other = client_for(gyms.b).get("/login/", HTTP_X_REQUEST_ID="not a valid id; DROP")
    assert other["X-Request-ID"] != "not a valid id; DROP" and len(other["X-Request-ID"]) == 32

    lines = [line for line in json_lines() if line["logger"] == "fitbuddy.access"]
    first = next(line for line in lines if line["request_id"] == "lb-trace-0001")
    assert first["affiliate"] == gyms.a.slug and first["level"] == "INFO" and first["time"].endswith("Z")
    assert first["message"].startswith("GET / 200")
    second = next(line for line in lines if line["request_id"] == other["X-Request-ID"])
    assert second["affiliate"] == gyms.b.slug
    command_center = Client(HTTP_HOST="admin.localhost").get("/admin/login/")
    line = next(line for line in json_lines() if line.get("request_id") == command_center["X-Request-ID"])
    assert line["affiliate"] is None


@pytest.mark.django_db
def test_a_line_logged_inside_a_gyms_context_names_it_and_never_a_password(gyms, json_lines):
    from affiliates.routing.context import affiliate_context

    with logs.log_context(request_id="cmd-00000001"), affiliate_context(gyms.a):
        logging.getLogger("fitbuddy.test").warning("connecting with password=hunter22 to postgres://u:pw123@h/db")
    line = json_lines()[-1]
    assert line["affiliate"] == gyms.a.slug and line["request_id"] == "cmd-00000001"
    assert "hunter22" not in line["message"] and "pw123" not in line["message"]


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_a_worker_tasks_log_lines_carry_its_gym_and_its_outcome_is_counted(gyms, worker_factory):
    from redis import Redis

    redis = Redis.from_url(settings.CELERY_BROKER_URL)
    redis.delete(TASK_OUTCOMES_KEY)
    worker = worker_factory(LOG_FORMAT="json")
    task_id = queue.send(queue.ROLE_REPAIR, gyms.a.pk)

    def task_lines() -> list[dict]:
        """The lines the task logged while it ran (the worker's main process only says it received it)."""
        lines = [json.loads(text) for text in worker.log.read_text().splitlines() if text.startswith("{")]
        found = [line for line in lines if line["request_id"] == task_id]
        return found if any("succeeded" in line["message"] for line in found) else []

    lines = wait_for(task_lines, timeout=60, what="the task's log lines")
    assert len(lines) >= 2 and any("started" in line["message"] for line in lines)
    assert all(line["affiliate"] == gyms.a.slug for line in lines), lines
    assert wait_for(lambda: redis.hget(TASK_OUTCOMES_KEY, f"{queue.ROLE_REPAIR}|succeeded"), what="the count") == b"1"
    redis.delete(TASK_OUTCOMES_KEY)


@pytest.mark.django_db(transaction=True)
def test_gunicorn_workers_metrics_are_added_up_and_its_lines_are_json(gyms, tmp_path):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    token = "gunicorn-metrics-token-0123456789"
    env = {**Worker().env, "METRICS_TOKEN": token, "LOG_FORMAT": "json", "PROMETHEUS_MULTIPROC_DIR": str(tmp_path)}
    log = tmp_path / "gunicorn.log"
    process = subprocess.Popen(
        [str(Path(sys.executable).parent / "gunicorn"), "fitbuddy.wsgi:application", "--bind", f"127.0.0.1:{port}",
         "--workers", "2", "--threads", "2"],
        cwd=ROOT, env=env, stdout=log.open("w"), stderr=subprocess.STDOUT,
    )  # fmt: skip

    def get(path: str, hostname: str, **headers: str) -> tuple[int, str]:
        request = urllib.request.Request(f"http://127.0.0.1:{port}{path}", headers={"Host": hostname, **headers})
        try:
            with urllib.request.urlopen(request, timeout=10) as response:
                return response.status, response.read().decode()
        except urllib.error.HTTPError as exc:
            return exc.code, exc.read().decode()
        except OSError:
            return 0, ""

    try:
        wait_for(lambda: get("/healthz", "10.0.0.1")[0] == 200, timeout=30, what="gunicorn to answer")
        for _ in range(40):
            assert get("/healthz", "10.0.0.1")[0] == 200
        status, text = get("/metrics", "localhost", Authorization=f"Bearer {token}")
        assert status == 200, text[:300]
        assert get("/metrics", gyms.a.domains.get().domain, Authorization=f"Bearer {token}")[0] == 404
    finally:
        process.terminate()
        process.wait(timeout=30)
    healthz = sum(
        sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
        if sample.name == "fitbuddy_http_requests_total" and sample.labels["route"] == "healthz"
    )
    assert healthz >= 41  # every worker's requests, whichever worker answered the scrape
    assert len({path.name.rsplit("_", 1)[-1] for path in tmp_path.glob("counter_*.db")}) == 2  # both workers counted
    lines = [line for line in log.read_text().splitlines() if line.strip()]
    assert lines and all(line.startswith("{") for line in lines), lines[:5]
    assert any(json.loads(line).get("logger") == "fitbuddy.access" for line in lines)
