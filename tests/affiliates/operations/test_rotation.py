"""Rotated credentials never lock a gym out, and an archived gym never comes back empty."""

from __future__ import annotations

import io

import pytest
from django.core.management import call_command

from affiliates.errors import OperationError
from affiliates.infra import credentials
from affiliates.models import Affiliate
from affiliates.operations import lifecycle, provisioning
from affiliates.routing import connections
from tests.conftest import client_for
from tests.factories import affiliate_provisioned

pytestmark = pytest.mark.django_db(transaction=True)


def test_a_rotated_secret_key_still_serves_every_gym_then_rekey_retires_the_old_key(gyms, settings):
    old_key = settings.SECRET_KEY
    settings.SECRET_KEY = "a-brand-new-secret-key-" + "x" * 40
    settings.SECRET_KEY_FALLBACKS = [old_key]
    connections.forget_all()  # a process started after the deploy: new key, roles still on the old one

    page = client_for(gyms.a, gyms.owner_a).get("/members/")
    assert page.status_code == 200 and "Ann" in page.content.decode()

    out = io.StringIO()
    call_command("rekey_affiliate_roles", stdout=out)
    assert f"{gyms.a.slug}: re-keyed" in out.getvalue() and f"{gyms.b.slug}: re-keyed" in out.getvalue()
    settings.SECRET_KEY_FALLBACKS = []
    connections.forget_all()
    assert client_for(gyms.b, gyms.owner_b).get("/members/").status_code == 200  # the new key alone now


def test_without_the_old_key_a_rotation_is_refused_at_login_not_silently(gyms, settings):
    settings.SECRET_KEY = "another-new-secret-key-" + "y" * 40
    settings.SECRET_KEY_FALLBACKS = []
    connections.forget_all()

    with pytest.raises(Exception, match="password authentication failed"):
        client_for(gyms.a, gyms.owner_a).get("/members/")
    settings.SECRET_KEY_FALLBACKS = []


def test_the_alternatives_are_the_fallback_derivations_or_the_secret_fetched_again(settings):
    settings.SECRET_KEY_FALLBACKS = ["k1", "k2"]
    alternatives = credentials.role_password_alternatives("fitbuddy_x", secret_ref=credentials.DERIVED_SECRET_REF)
    assert alternatives == [credentials._derive("fitbuddy_x", "k1"), credentials._derive("fitbuddy_x", "k2")]
    assert credentials.role_password_alternatives("fitbuddy_x", secret_ref="env:FB_UNSET_SECRET") == []


def test_an_archived_gym_is_never_provisioned_again(clean_registry, settings, tmp_path):
    settings.BACKUP_DIR = tmp_path
    gym = affiliate_provisioned()
    lifecycle.affiliate_archive(affiliate_id=gym.pk)

    # A provisioning task queued before the archive (or a retry) arrives afterwards: refused.
    with pytest.raises(OperationError, match="archived"):
        provisioning.affiliate_provision(affiliate_id=gym.pk)
    with pytest.raises(OperationError, match="archived"):
        provisioning.affiliate_retry(affiliate_id=gym.pk)
    gym.refresh_from_db()
    assert gym.status == Affiliate.Status.ARCHIVED
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT 1 FROM pg_database WHERE datname = %s", [gym.database_name])
        assert cursor.fetchone() is None  # no empty database came back


def test_a_role_password_rotated_in_secrets_manager_is_fetched_again_on_a_refused_login(gyms, aws, admin_connection):
    """The web process holds the old password; its next login is refused, fetches the secret once more, and works."""
    import json

    from affiliates.infra import databases

    role = gyms.a.database_role
    secret = aws.secrets.create_secret(
        Name=f"fitbuddy/affiliates/{gyms.a.slug}", SecretString=json.dumps({"username": role, "password": "first-pw-1"})
    )
    databases.role_password_set(admin_connection, role, password_verifier=credentials.scram_verifier("first-pw-1"))
    Affiliate.objects.filter(pk=gyms.a.pk).update(secret_ref=f"aws-secretsmanager:{secret['ARN']}")
    Affiliate.objects.clear_host_cache()
    connections.forget_all()
    client = client_for(gyms.a, gyms.owner_a)
    assert client.get("/members/").status_code == 200  # connected with the first password

    # Rotation: a new password in the secret and on the role; this process still holds the first one.
    aws.secrets.put_secret_value(
        SecretId=secret["ARN"], SecretString=json.dumps({"username": role, "password": "second-pw-2"})
    )
    databases.role_password_set(admin_connection, role, password_verifier=credentials.scram_verifier("second-pw-2"))
    from django.db import connections as django_connections

    for alias in [a for a in django_connections.settings if a.startswith("affiliate_")]:
        django_connections[alias].close()  # the next request opens a new connection with what it holds

    assert client.get("/members/").status_code == 200


def test_in_production_each_role_gets_its_own_secret_and_rotation_keeps_the_gym_up(aws, settings, clean_registry):
    """AFFILIATE_CREDENTIALS=secretsmanager: a random password per role, referenced by ARN, rotated live."""
    import json

    from gym.accounts.models import GymLogin
    from tests.factories import login

    settings.AFFILIATE_CREDENTIALS = "secretsmanager"
    gym = affiliate_provisioned()
    owner = login("owner_sm", gym, GymLogin.Role.OWNER)

    assert gym.secret_ref.startswith("aws-secretsmanager:arn:aws:secretsmanager:")
    arn = gym.secret_ref.removeprefix("aws-secretsmanager:")
    first = json.loads(aws.secrets.get_secret_value(SecretId=arn)["SecretString"])
    assert first["username"] == gym.database_role and len(first["password"]) >= 32
    assert credentials.role_secret_ensure(gym.database_role) == gym.secret_ref  # made once, found again
    client = client_for(gym, owner)
    assert client.get("/members/").status_code == 200

    out = io.StringIO()
    call_command("rotate_affiliate_credentials", gym.slug, stdout=out)

    assert f"{gym.slug}: rotated" in out.getvalue()
    second = json.loads(aws.secrets.get_secret_value(SecretId=arn)["SecretString"])
    assert second["password"] != first["password"]
    from django.db import connections as django_connections

    for alias in [a for a in django_connections.settings if a.startswith("affiliate_")]:
        django_connections[alias].close()  # this process still holds the old password
    assert client.get("/members/").status_code == 200  # refused once, fetched again, served
    with pytest.raises(Exception, match="not both|name the affiliates"):
        call_command("rotate_affiliate_credentials")
