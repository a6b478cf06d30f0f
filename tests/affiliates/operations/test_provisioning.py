"""affiliates/operations/provisioning.py: the service itself, run in this process against real PostgreSQL and Flyway."""

from __future__ import annotations

import dataclasses
import io
import shutil
from pathlib import Path

import psycopg
import pytest
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.management import call_command
from psycopg import sql

from affiliates.infra import databases
from affiliates.infra.targets import affiliate_target, management_target, server_admin_target
from affiliates.models import Affiliate, AffiliateEvent, Domain, Membership
from affiliates.routing.context import affiliate_context
from gym.accounts.models import GymLogin
from tests.conftest import APP_VERSION, NEXT_APP_VERSION, affiliate_version, can_connect, server_state
from tests.factories import affiliate_provisioned, affiliate_requested, new_slug

pytestmark = pytest.mark.django_db(transaction=True)


# --- bad input: a clear message and nothing created -----------------------------------------

BAD_SLUGS = [
    "Ironworks",
    "iron works",
    "iron'works",
    'iron"works',
    "iron;works",
    "iron--works); DROP TABLE x;--",
    "irönworks",
    "ironworks\u200b",
    "1ronworks",
    "_ironworks",
    "iron-works",
    "",
    "a" * 55,
    "postgres",
    "template0",
    "template1",
    "affiliate-mgt",
    "fitbuddy-dev",
    "dev",
    "pg_catalog",
]


@pytest.mark.parametrize("slug", BAD_SLUGS)
def test_invalid_slugs_are_refused_and_nothing_is_created(slug, clean_registry, admin_connection):
    before = server_state(admin_connection)

    with pytest.raises(ValidationError) as caught:
        affiliate_requested(slug=slug, domain="fresh.localhost")

    assert "slug" in caught.value.message_dict
    assert not Affiliate.objects.exists() and not Domain.objects.exists()
    assert server_state(admin_connection) == before


@pytest.mark.parametrize(
    "domain",
    [
        "",
        "localhost",
        "http://gym.localhost",
        "gym.localhost:8000",
        "gym.localhost/path",
        "127.0.0.1",
        "gym..localhost",
        "-gym.localhost",
        "gym_1.localhost",
        "gym .localhost",
        "a" * 64 + ".localhost",
    ],
)
def test_invalid_domains_are_refused(domain, clean_registry):
    with pytest.raises(ValidationError) as caught:
        affiliate_requested(domain=domain)

    assert "domain" in caught.value.message_dict
    assert not Affiliate.objects.exists()


def test_a_taken_slug_or_domain_is_refused(clean_registry):
    first = affiliate_requested()

    with pytest.raises(ValidationError, match="already taken"):
        affiliate_requested(slug=first.slug, domain="other.localhost")
    with pytest.raises(ValidationError, match="already taken"):
        affiliate_requested(domain=first.domains.get().domain)
    assert Affiliate.objects.count() == 1


def test_a_database_that_belongs_to_no_affiliate_is_not_taken_over(clean_registry, admin_connection):
    slug = new_slug()
    databases.database_create(admin_connection, f"fitbuddy_{slug}")

    with pytest.raises(ValidationError, match="belongs to no affiliate"):
        affiliate_requested(slug=slug)
    assert not Affiliate.objects.exists()


def test_seeding_is_refused_outside_local_and_test(clean_registry, settings):
    settings.FITBUDDY_ENV = "production"

    with pytest.raises(ValidationError, match="refusing to apply local data seeds"):
        affiliate_requested(seed=True)
    assert not Affiliate.objects.exists()


# --- provisioning -------------------------------------------------------------------------


def test_provisioning_reaches_active_with_an_event_per_step(clean_registry):
    affiliate = affiliate_provisioned(affiliate_requested(owner_email="Owner@Example.com"))

    assert affiliate.status == Affiliate.Status.ACTIVE
    assert affiliate.schema_version == APP_VERSION == affiliate_version(affiliate.database_name)
    assert affiliate.database_name == f"fitbuddy_{affiliate.slug}" == affiliate.database_role
    steps = list(AffiliateEvent.objects.filter(affiliate=affiliate).values_list("step", "outcome"))
    assert [s for s, _ in steps] == [
        "requested",
        "create_role",
        "create_database",
        "migrate",
        "grant_privileges",
        "owner_login",  # in the gym's own database
        "activate",
        "invite_owner",  # the owner has no password yet: a link to set one
    ]
    assert all(o in ("succeeded", "skipped") for _, o in steps)
    assert all(e.requested_by for e in AffiliateEvent.objects.filter(affiliate=affiliate))
    # The registry keeps the business contact; the owner's login is the gym's, without a password yet.
    assert affiliate.contact_email == "owner@example.com"
    assert not Membership.objects.filter(affiliate=affiliate).exists()
    assert not get_user_model().objects.filter(email__iexact="owner@example.com").exists()
    with affiliate_context(affiliate):
        owner = GymLogin.objects.get()
    assert (owner.email, owner.role, owner.has_usable_password()) == ("owner@example.com", "owner", False)


def test_provisioning_twice_changes_nothing(clean_registry, admin_connection):
    affiliate = affiliate_provisioned()
    again = affiliate_provisioned(affiliate)

    assert again.status == Affiliate.Status.ACTIVE
    dbs, roles = server_state(admin_connection)
    assert dbs == {affiliate.database_name} and roles == {affiliate.database_role}


@pytest.mark.flyway
def test_retry_after_a_crash_mid_way_converges(clean_registry, admin_connection):
    """Simulate what a killed worker leaves behind: role and empty database, status database_created."""
    affiliate = affiliate_requested()
    admin_connection.execute(sql.SQL("CREATE ROLE {} LOGIN").format(sql.Identifier(affiliate.database_role)))
    databases.database_create(admin_connection, affiliate.database_name)
    Affiliate.objects.filter(pk=affiliate.pk).update(status=Affiliate.Status.DATABASE_CREATED)

    affiliate = affiliate_provisioned(affiliate)

    assert affiliate.status == Affiliate.Status.ACTIVE
    assert affiliate_version(affiliate.database_name) == APP_VERSION  # the empty database was migrated by Flyway
    assert can_connect(affiliate_target(affiliate))  # the password was set on retry
    assert AffiliateEvent.objects.get(affiliate=affiliate, step="create_role").outcome == "skipped"


@pytest.mark.flyway
@pytest.mark.parametrize("strategy", ["template", "flyway"])
def test_both_strategies_give_the_same_schema(strategy, clean_registry, settings):
    settings.PROVISIONING_STRATEGY = strategy

    affiliate = affiliate_provisioned()

    assert affiliate.status == Affiliate.Status.ACTIVE
    assert affiliate_version(affiliate.database_name) == APP_VERSION


@pytest.mark.flyway
def test_a_flyway_failure_marks_failed_with_its_message_and_a_retry_recovers(clean_registry, settings, tmp_path):
    settings.PROVISIONING_STRATEGY = "flyway"
    broken = tmp_path / "sql"
    shutil.copytree(Path(settings.BASE_DIR) / "sql", broken)
    (broken / "application" / f"V{NEXT_APP_VERSION}__broken.sql").write_text(
        "ALTER TABLE no_such_table ADD COLUMN x int;\n"
    )
    settings.SQL_DIR = broken
    affiliate = affiliate_requested()

    with pytest.raises(Exception, match="no_such_table"):
        affiliate_provisioned(affiliate)

    affiliate.refresh_from_db()
    assert affiliate.status == Affiliate.Status.FAILED
    assert "FAILED_VERSIONED_MIGRATION" in affiliate.status_detail
    assert affiliate.database_name in affiliate.status_detail
    failed = AffiliateEvent.objects.get(affiliate=affiliate, outcome="failed")
    assert failed.step == "migrate" and "no_such_table" in failed.error
    assert affiliate_version(affiliate.database_name) == APP_VERSION  # consistent at the last good version

    (broken / "application" / f"V{NEXT_APP_VERSION}__broken.sql").write_text(
        "ALTER TABLE member ADD COLUMN nickname text;\n"
    )
    affiliate = affiliate_provisioned(affiliate)

    assert affiliate.status == Affiliate.Status.ACTIVE
    assert affiliate.schema_version == NEXT_APP_VERSION == affiliate_version(affiliate.database_name)


# --- isolation at the database level --------------------------------------------------------


def test_each_affiliate_role_reaches_only_its_own_database(clean_registry, admin_connection, application_database):
    first, second = affiliate_provisioned(), affiliate_provisioned()
    first_target, second_target = affiliate_target(first), affiliate_target(second)
    management = management_target()

    assert can_connect(first_target) and can_connect(second_target)
    assert not can_connect(first_target.__class__(**{**first_target.__dict__, "name": second.database_name}))
    assert not can_connect(first_target.__class__(**{**first_target.__dict__, "name": management.name}))


def test_public_cannot_connect_to_an_affiliate_database(clean_registry, admin_connection):
    affiliate = affiliate_provisioned()
    outsider = f"fitbuddy_t_outsider_{affiliate.slug}"
    admin_connection.execute(sql.SQL("CREATE ROLE {} LOGIN PASSWORD 'outsider-pw'").format(sql.Identifier(outsider)))
    target = affiliate_target(affiliate)

    assert not can_connect(target.__class__(**{**target.__dict__, "user": outsider, "password": "outsider-pw"}))
    granted = admin_connection.execute(
        "SELECT has_database_privilege('public', %s, 'CONNECT')", [affiliate.database_name]
    ).fetchone()[0]
    assert granted is False


def test_the_affiliate_role_writes_rows_but_cannot_change_the_schema(clean_registry):
    affiliate = affiliate_provisioned()

    with psycopg.connect(**affiliate_target(affiliate).conninfo()) as conn:
        conn.execute("INSERT INTO member (first_name, email) VALUES ('Ann', 'ann@example.com')")
        assert conn.execute("SELECT count(*) FROM member").fetchone()[0] == 1
        conn.commit()
        for ddl in (
            "CREATE TABLE master.sneaky (id int)",
            "ALTER TABLE member ADD COLUMN x int",
            "DROP TABLE member",
            "CREATE TABLE public.sneaky (id int)",
            "DELETE FROM flyway_schema_history",
        ):
            with pytest.raises(psycopg.errors.InsufficientPrivilege):
                conn.execute(ddl)
            conn.rollback()


def _connects(target, dbname: str) -> bool:
    try:
        with psycopg.connect(**target.conninfo(dbname=dbname), connect_timeout=5):
            return True
    except psycopg.OperationalError as exc:
        assert "permission denied" in str(exc), exc
        return False


@pytest.mark.flyway
@pytest.mark.cluster
def test_affiliate_roles_cannot_reach_the_maintenance_databases(rds_like_server, clean_registry):
    """postgres and template1 are closed to PUBLIC by provisioning where the administrator owns them."""
    server, superuser = rds_like_server
    other = "somebody_else"
    with superuser() as conn:
        conn.execute(f"CREATE ROLE {other} LOGIN PASSWORD 'a-long-password-1'")
    gym = affiliate_provisioned(server_name=server.name)
    role = affiliate_target(gym)

    assert _connects(role, gym.database_name)  # its own database
    for name in ("postgres", "template1"):
        assert not _connects(role, name), name
    admin = server_admin_target(server)
    assert _connects(admin, "postgres") and _connects(admin, "template1")  # the administrator still can
    stranger = dataclasses.replace(role, user=other, password="a-long-password-1")
    assert not _connects(stranger, "postgres")  # nor any other login: PUBLIC lost CONNECT


@pytest.mark.flyway
@pytest.mark.cluster
def test_a_server_whose_maintenance_databases_the_login_does_not_own_is_reported(second_server, clean_registry):
    server, _restart = second_server
    err = io.StringIO()
    call_command(
        "database_server", "add", "notowner", "--host", "localhost", "--port", str(server.port),
        "--admin-secret", "env:DATABASE_URL", stdout=io.StringIO(), stderr=err,
    )  # fmt: skip
    assert "postgres, template1 on localhost" in err.getvalue() and "REVOKE CONNECT ON DATABASE" in err.getvalue()
