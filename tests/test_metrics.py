"""/metrics: behind its token, on the command center's hosts only, and never a series per gym."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
import yaml
from django.conf import settings
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver
from prometheus_client.parser import text_string_to_metric_families

import affiliates.tasks  # noqa: F401  (registers every task with the app: the bound below lists them)
from affiliates.infra import queue
from affiliates.models import Affiliate, MigrationRun
from fitbuddy import metrics, metrics_collectors
from fitbuddy.celery import app as celery_app
from tests.conftest import client_for, host

ROOT = Path(settings.BASE_DIR)
TOKEN = "metrics-token-for-tests-0123456789abcdef"


def _patterns(urlconf: str) -> set[str]:
    """Every URL pattern of a URLconf, as ResolverMatch.route spells it."""
    found: set[str] = set()

    def walk(resolver: URLResolver, prefix: str) -> None:
        for entry in resolver.url_patterns:
            route = URLResolver._join_route(prefix, str(entry.pattern))  # Django's own joining
            if isinstance(entry, URLPattern):
                found.add(route or "/")
            else:
                walk(entry, route)

    walk(get_resolver(urlconf), "")
    return found


def scrape(client: Client | None = None) -> str:
    response = (client or Client(HTTP_HOST="admin.localhost")).get("/metrics", HTTP_AUTHORIZATION=f"Bearer {TOKEN}")
    assert response.status_code == 200, response.content[:500]
    assert response["Content-Type"].startswith("text/plain")
    assert "no-store" in response["Cache-Control"] or "no-cache" in response["Cache-Control"]
    return response.content.decode()


def samples(text: str) -> list:
    return [sample for family in text_string_to_metric_families(text) for sample in family.samples]


@pytest.fixture
def token(settings):
    settings.METRICS_TOKEN = TOKEN


@pytest.mark.django_db
def test_metrics_is_refused_without_the_token(settings):
    client = Client(HTTP_HOST="admin.localhost")
    settings.METRICS_TOKEN = ""
    assert client.get("/metrics").status_code == 404  # not configured: not there (DEBUG is off)
    settings.METRICS_TOKEN = TOKEN
    assert client.get("/metrics").status_code == 401
    assert client.get("/metrics", HTTP_AUTHORIZATION="Bearer wrong").status_code == 401
    assert client.get("/metrics", HTTP_AUTHORIZATION=f"Bearer {TOKEN}x").status_code == 401
    assert client.get("/metrics", HTTP_AUTHORIZATION=f"Basic {TOKEN}").status_code == 401
    refused = client.get("/metrics", HTTP_AUTHORIZATION="Bearer wrong")
    assert "fitbuddy_" not in refused.content.decode() and refused["WWW-Authenticate"].startswith("Bearer")
    answered = client.get("/metrics", HTTP_AUTHORIZATION=f"Bearer {TOKEN}")
    assert answered.status_code == 200 and "# TYPE fitbuddy_http_requests_total counter" in answered.content.decode()


@pytest.mark.django_db
def test_without_a_token_debug_answers_this_machine_only(settings):
    settings.METRICS_TOKEN, settings.DEBUG = "", True
    assert Client(HTTP_HOST="localhost", REMOTE_ADDR="127.0.0.1").get("/metrics").status_code == 200
    assert Client(HTTP_HOST="localhost", REMOTE_ADDR="10.0.0.7").get("/metrics").status_code == 404


@pytest.mark.django_db(transaction=True)
def test_a_gyms_host_has_no_metrics(gyms, token):
    response = client_for(gyms.a).get("/metrics", HTTP_AUTHORIZATION=f"Bearer {TOKEN}")
    assert response.status_code == 404
    assert "fitbuddy_http_requests" not in response.content.decode()


#: Label -> the values it may take: a short list fixed by the code, whatever the number of gyms.
ROUTES = _patterns("fitbuddy.urls") | _patterns("fitbuddy.urls_gym") | {"unmatched", "healthz", "readyz"}
BOUNDED = {
    "method": metrics.METHODS | {"other"},
    "route": ROUTES,
    "site": set(metrics.SITES),
    "status": {"1xx", "2xx", "3xx", "4xx", "5xx", "other"}
    | set(Affiliate.Status.values)
    | set(MigrationRun.Status.values),
    "kind": set(metrics.KINDS),
    "queue": set(metrics_collectors.queue_names()),
    "step": metrics_collectors.EVENT_STEPS | {"other"},
    "outcome": {"started", "succeeded", "skipped", "failed", "retried"},
    # Every task the code registers (a fixed set: the worker writes outcomes only for tasks it ran).
    "task": {name for name in celery_app.tasks if name.startswith("affiliates.tasks.")} | {"other"},
    # prometheus-client's own: histogram buckets, the interpreter, the garbage collector
    "le": None,
    "implementation": None,
    "major": None,
    "minor": None,
    "patchlevel": None,
    "version": None,
    "generation": None,
}


@pytest.mark.django_db(transaction=True)
def test_metrics_name_no_gym_and_every_label_is_bounded(gyms, token):
    from types import SimpleNamespace

    from fitbuddy import task_signals

    # Outcomes a worker counted earlier, for tasks added since the first list of them (CI ran them first).
    for name in (queue.MOVE, queue.LOAD_COLLECT, queue.BACKUP):
        task_signals._count(SimpleNamespace(name=name), "succeeded")
    for gym, user in ((gyms.a, gyms.owner_a), (gyms.b, gyms.owner_b)):
        client = client_for(gym, user)
        assert client.get("/").status_code == 200
        assert client.get(f"/members/{gyms.ann.pk}/").status_code in (200, 404)
        assert client.get("/no-such-page/").status_code == 404
        assert client.get("/", REQUEST_METHOD="BREW").status_code in (200, 405)
    Client(HTTP_HOST="nowhere.example").get("/")  # an unknown host: 404, unmatched
    Client().get("/healthz")

    text = scrape()
    for gym in (gyms.a, gyms.b):
        for name in (gym.slug, gym.database_name, gym.database_role, host(gym), gym.name):
            assert name not in text, f"/metrics names {name!r}"
    seen: dict[str, set[str]] = {}
    for sample in samples(text):
        for label, value in sample.labels.items():
            seen.setdefault(label, set()).add(value)
    unknown = set(seen) - set(BOUNDED)
    assert not unknown, f"labels without a declared bound: {unknown}"
    for label, values in seen.items():
        if BOUNDED[label] is not None:
            assert values <= BOUNDED[label], f"{label}: {values - BOUNDED[label]} is not in its bounded list"
    gym_pages = {
        s.labels["route"]: s.value
        for s in samples(text)
        if s.name == "fitbuddy_http_requests_total" and s.labels["site"] == "gym" and s.labels["status"] == "2xx"
    }
    assert gym_pages.get("/", 0) >= 2  # both gyms' dashboards, counted under one pattern
    assert {"other"} <= seen["method"]  # BREW
    assert "unmatched" in seen["route"]
    active = [s for s in samples(text) if s.name == "fitbuddy_affiliates" and s.labels["status"] == "active"]
    assert active and active[0].value == 2
    open_connections = {s.labels["kind"]: s.value for s in samples(text) if s.name == "fitbuddy_db_connections_open"}
    assert open_connections["management"] >= 1


@pytest.mark.django_db
def test_queue_depth_moves_when_a_task_is_queued_without_a_worker(token):
    celery_app.control.purge()

    def depth() -> float:
        found = [
            s.value
            for s in samples(scrape())
            if s.name == "fitbuddy_celery_queue_length" and s.labels["queue"] == celery_app.conf.task_default_queue
        ]
        assert len(found) == 1
        return found[0]

    try:
        before = depth()
        queue.send(queue.RECONCILE)
        queue.send(queue.RECONCILE)
        assert depth() == before + 2
    finally:
        celery_app.control.purge()
    assert depth() == 0


@pytest.mark.django_db
def test_task_outcomes_are_read_from_the_workers_hash_and_bounded(token):
    from redis import Redis

    redis = Redis.from_url(settings.CELERY_BROKER_URL)
    redis.delete(metrics_collectors.TASK_OUTCOMES_KEY)
    try:
        redis.hincrby(metrics_collectors.TASK_OUTCOMES_KEY, f"{queue.PROVISION}|succeeded", 3)
        redis.hincrby(metrics_collectors.TASK_OUTCOMES_KEY, "someone.elses.task|failed", 2)
        redis.hincrby(metrics_collectors.TASK_OUTCOMES_KEY, f"{queue.PROVISION}|exploded", 1)
        found = {
            (s.labels["task"], s.labels["outcome"]): s.value
            for s in samples(scrape())
            if s.name == "fitbuddy_celery_tasks_total"
        }
    finally:
        redis.delete(metrics_collectors.TASK_OUTCOMES_KEY)
    assert found == {(queue.PROVISION, "succeeded"): 3, ("other", "failed"): 2}


def test_the_dashboard_and_the_scrape_config_parse_and_name_real_metrics():
    dashboard = json.loads((ROOT / "deploy" / "grafana" / "fitbuddy-dashboard.json").read_text())
    exprs = [target["expr"] for panel in dashboard["panels"] for target in panel.get("targets", [])]
    assert len(exprs) >= 10
    exposed = {
        "fitbuddy_http_requests_total", "fitbuddy_http_request_duration_seconds_bucket",
        "fitbuddy_http_exceptions_total",
        "fitbuddy_db_connections_open", "fitbuddy_db_connection_errors_total", "fitbuddy_celery_queue_length",
        "fitbuddy_celery_unacked", "fitbuddy_celery_tasks_total", "fitbuddy_affiliates", "fitbuddy_migration_runs",
        "fitbuddy_affiliate_events_24h", "fitbuddy_backup_oldest_age_seconds", "fitbuddy_backup_overdue_affiliates",
        "fitbuddy_backup_missing_affiliates", "fitbuddy_backup_drill_last_failed", "fitbuddy_backup_drill_age_seconds",
        "fitbuddy_metrics_registry_scrape_failed",
        "fitbuddy_metrics_queue_scrape_failed",
    }  # fmt: skip
    named = {name for expr in exprs for name in re.findall(r"\bfitbuddy_[a-z0-9_]+", expr)}
    assert named and named <= exposed, named - exposed
    scrape_config = yaml.safe_load((ROOT / "deploy" / "prometheus" / "prometheus.yml").read_text())
    job = scrape_config["scrape_configs"][0]
    assert job["metrics_path"] == "/metrics" and job["authorization"]["type"] == "Bearer"
    assert "credentials_file" in job["authorization"]  # the token from a file, never in the config


@pytest.mark.django_db
def test_backup_ages_read_the_registrys_backups_and_drills(gyms):
    import datetime

    from django.utils import timezone

    from affiliates.models import Affiliate, AffiliateBackup, BackupDrill

    ages = metrics_collectors.backup_ages()
    assert (ages.overdue, ages.never, ages.oldest_seconds) == (0, 0, None)  # born today: not missing yet
    AffiliateBackup.objects.create(affiliate=gyms.a, kind="nightly", outcome="succeeded", location="x", sha256="a")
    Affiliate.objects.filter(pk=gyms.b.pk).update(activated_at=timezone.now() - datetime.timedelta(days=3))
    ages = metrics_collectors.backup_ages()
    assert (ages.overdue, ages.never) == (1, 1) and ages.oldest_seconds is not None and ages.oldest_seconds < 60
    AffiliateBackup.objects.filter(affiliate=gyms.a).update(taken_at=timezone.now() - datetime.timedelta(days=2))
    BackupDrill.objects.create(affiliate=gyms.a, outcome="failed", error="pg_restore failed")
    ages = metrics_collectors.backup_ages()
    assert (ages.overdue, ages.never, ages.drill_failed) == (2, 1, 1)
    assert ages.oldest_seconds > 86400 * 2 - 60
