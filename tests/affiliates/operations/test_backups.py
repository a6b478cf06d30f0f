"""Backup to S3 (moto's server), archive, restore onto the other server: nothing lost."""

from __future__ import annotations

import io

import psycopg
import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import Client

from affiliates.infra import backups
from affiliates.infra.targets import on_database, server_admin_target
from affiliates.models import Affiliate, AffiliateEvent, StaffAudit
from affiliates.routing import connections
from tests.conftest import APP_VERSION, client_for, host, wait_for

pytestmark = pytest.mark.django_db(transaction=True)

BUCKET = "fitbuddy-test-backups"


def snapshot(affiliate: Affiliate) -> dict[str, tuple[int, str]]:
    """Every table's row count and a checksum of its rows, read as the server's administrator."""
    target = on_database(server_admin_target(affiliate.database_server), affiliate.database_name)
    with psycopg.connect(**target.conninfo()) as conn:
        tables = [r[0] for r in conn.execute("SELECT tablename FROM pg_tables WHERE schemaname = 'master' ORDER BY 1")]
        result = {}
        for table in tables:
            query = psycopg.sql.SQL(
                "SELECT count(*), coalesce(md5(string_agg(t::text, '|' ORDER BY t::text)), '') FROM master.{} t"
            ).format(psycopg.sql.Identifier(table))
            result[table] = tuple(conn.execute(query).fetchone())
    return result


def run(command: str, *args: str) -> str:
    out = io.StringIO()
    call_command(command, *args, stdout=out)
    return out.getvalue()


@pytest.mark.flyway
@pytest.mark.cluster
def test_backup_archive_to_s3_and_restore_onto_the_other_server_loses_nothing(gyms, aws, request, settings):
    settings.BACKUP_BUCKET = BUCKET
    s3 = backups.s3_client()
    s3.create_bucket(Bucket=BUCKET)
    gym = Affiliate.objects.select_related("database_server").get(pk=gyms.a.pk)
    before = snapshot(gym)
    assert before["member"][0] == 2 and before["workout"][0] >= 1

    out = run("backup_affiliate", gym.slug)
    assert "s3://" in out and "sha256" in out
    assert Affiliate.objects.get(pk=gym.pk).status == "active"  # a backup changes nothing

    with pytest.raises(CommandError, match="--yes"):
        run("archive_affiliate", gym.slug)
    run("archive_affiliate", gym.slug, "--yes")
    gym.refresh_from_db()
    assert gym.status == "archived"
    keys = [o["Key"] for o in s3.list_objects_v2(Bucket=BUCKET, Prefix=f"affiliates/{gym.slug}/")["Contents"]]
    assert len(keys) == 2 and all(k.endswith(".dump") for k in keys)
    event = AffiliateEvent.objects.filter(affiliate=gym, step="backup").latest("id")
    tags = {t["Key"]: t["Value"] for t in s3.get_object_tagging(Bucket=BUCKET, Key=max(keys))["TagSet"]}
    assert tags["sha256"] in event.detail and max(keys) in event.detail

    second, _restart = request.getfixturevalue("second_server")
    out = run("restore_affiliate", gym.slug, "--server", second.name)

    gym = Affiliate.objects.select_related("database_server").get(pk=gym.pk)
    assert gym.status == "active" and gym.database_server == second and gym.schema_version == APP_VERSION
    assert f"onto {second.name}" in out
    assert snapshot(gym) == before  # every table, every row
    connections.forget_all()
    Affiliate.objects.clear_host_cache()
    page = client_for(gym, gyms.owner_a).get("/members/")  # served from the second server now
    assert page.status_code == 200 and "Ann" in page.content.decode()
    assert StaffAudit.objects.filter(
        pk__gt=gyms.audit_from, action="restore", target=gym.slug, outcome="succeeded"
    ).exists()


def test_restore_refuses_what_it_cannot_do_and_changes_nothing(gyms, aws, settings, tmp_path):
    settings.BACKUP_BUCKET = ""
    settings.BACKUP_DIR = tmp_path
    with pytest.raises(CommandError, match="only an archived affiliate can be restored"):
        run("restore_affiliate", gyms.a.slug)
    run("archive_affiliate", gyms.b.slug, "--yes")
    with pytest.raises(CommandError, match="no backup file"):
        run("restore_affiliate", gyms.b.slug, "--backup", str(tmp_path / "nope.dump"))
    with pytest.raises(CommandError, match="No database server 'ghost'"):
        run("restore_affiliate", gyms.b.slug, "--server", "ghost")
    assert Affiliate.objects.get(pk=gyms.b.pk).status == "archived"

    run("restore_affiliate", gyms.b.slug)  # from the local folder, onto the placement's choice
    assert Affiliate.objects.get(pk=gyms.b.pk).status == "active"


def test_a_backup_that_does_not_read_back_is_deleted_and_nothing_is_dropped(gyms, aws, settings, admin_connection):
    settings.BACKUP_BUCKET = BUCKET
    backups.s3_client().create_bucket(Bucket=BUCKET)
    gym = gyms.b
    # A database without the results table is no gym backup: the check refuses it.
    with psycopg.connect(**on_database(server_admin_target(gym.database_server), gym.database_name).conninfo()) as c:
        c.execute("DROP TABLE master.participation CASCADE")

    with pytest.raises(CommandError, match="unreadable"):
        run("archive_affiliate", gym.slug, "--yes")

    assert Affiliate.objects.get(pk=gym.pk).status == "active"
    assert backups.s3_client().list_objects_v2(Bucket=BUCKET).get("KeyCount", 0) == 0
    row = admin_connection.execute("SELECT 1 FROM pg_database WHERE datname = %s", [gym.database_name]).fetchone()
    assert row is not None


@pytest.mark.flyway
@pytest.mark.cluster
def test_restore_onto_a_server_whose_administrator_is_another_login(
    request, clean_registry, settings, tmp_path, monkeypatch
):
    """The dump names its server's administrator (default privileges); the target server may not know it."""
    from psycopg import sql

    from affiliates.models import DatabaseServer
    from gym.accounts.models import GymLogin
    from tests.factories import PASSWORD, affiliate_provisioned, login

    settings.BACKUP_BUCKET = ""
    settings.BACKUP_DIR = tmp_path
    local = DatabaseServer.objects.create(
        name="local", host="localhost", port=5432, admin_secret_ref="env:DATABASE_URL"
    )
    second, _restart = request.getfixturevalue("second_server")
    with psycopg.connect(**server_admin_target(second).conninfo(), autocommit=True) as conn:
        conn.execute(
            sql.SQL("CREATE ROLE fleet_admin LOGIN CREATEDB CREATEROLE PASSWORD {}").format(sql.Literal("fa-pw-1"))
        )
        conn.execute("GRANT pg_signal_backend TO fleet_admin")
    monkeypatch.setenv("FB_FLEET_ADMIN", f"postgres://fleet_admin:fa-pw-1@localhost:{second.port}/postgres")
    second.admin_secret_ref = "env:FB_FLEET_ADMIN"
    second.save(update_fields=["admin_secret_ref"])
    gym = affiliate_provisioned(server_name="second")
    login("restored_owner", gym, GymLogin.Role.OWNER)  # in the gym's own database
    before = snapshot(gym)

    run("archive_affiliate", gym.slug, "--yes")
    run("restore_affiliate", gym.slug, "--server", local.name)

    gym = Affiliate.objects.select_related("database_server").get(pk=gym.pk)
    assert gym.status == "active" and gym.database_server == local
    assert snapshot(gym) == before
    connections.forget_all()
    Affiliate.objects.clear_host_cache()
    # The login came back with the gym's data, and logs in with its password.
    client = Client(HTTP_HOST=host(gym))
    response = client.post("/login/", {"username": "restored_owner@gym.test", "password": PASSWORD})
    assert response.status_code == 302 and client.get("/members/").status_code == 200


@pytest.mark.flyway
@pytest.mark.cluster
@pytest.mark.worker
def test_staff_restore_an_archived_gym_from_the_command_center(gyms, aws, request, settings, client, worker_factory):
    from django.urls import reverse

    settings.BACKUP_BUCKET = BUCKET
    backups.s3_client().create_bucket(Bucket=BUCKET)
    gym = Affiliate.objects.select_related("database_server").get(pk=gyms.a.pk)
    before = snapshot(gym)
    run("archive_affiliate", gym.slug, "--yes")
    location = backups.backup_latest(gym.slug)
    second, _restart = request.getfixturevalue("second_server")
    worker_factory(FITBUDDY_BACKUP_BUCKET=BUCKET)
    client.force_login(gyms.staff)
    url = reverse("admin:affiliates_affiliate_changelist")
    selected = {"action": "restore", "_selected_action": [gym.pk, gyms.b.pk]}

    # First a page: which backup each comes back from, what cannot be restored and why, the servers.
    page = client.post(url, selected).content.decode()
    assert "Restore affiliates?" in page and location in page
    assert "not restored:</strong> it is active, not archived" in page
    assert f'<option value="{second.name}"' in page and "Yes, restore 1 affiliate" in page
    assert Affiliate.objects.get(pk=gym.pk).status == "archived"

    # A server that cannot take it is refused on the same page, and nothing is queued.
    page = client.post(url, {**selected, "confirmed": "yes", "server": "ghost"}).content.decode()
    assert "No database server &#x27;ghost&#x27;" in page
    assert Affiliate.objects.get(pk=gym.pk).status_detail.startswith("backup:")

    response = client.post(url, {**selected, "confirmed": "yes", "server": second.name}, follow=True)
    text = response.content.decode()
    assert "1 affiliate queued for restore." in text and f"{gyms.b.slug[1:]}: it is active, not archived" in text
    wait_for(lambda: Affiliate.objects.get(pk=gym.pk).status == "active", what="the restore task")

    gym = Affiliate.objects.select_related("database_server").get(pk=gym.pk)
    assert gym.database_server == second and gym.status_detail == f"restored from {location}"
    assert snapshot(gym) == before
    audit = StaffAudit.objects.filter(pk__gt=gyms.audit_from).get(action="restore", target=gym.slug)
    assert (audit.actor, audit.channel, audit.outcome) == (gyms.staff.username, "admin", "succeeded")
    assert Affiliate.objects.get(pk=gyms.b.pk).status == "active"  # the other one was left alone
