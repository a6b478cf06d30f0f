"""Aurora Serverless v2 (PostgreSQL) clusters through boto3: describe one, or create it with its writer.

FitBuddy never sees the master password: clusters are created with ``ManageMasterUserPassword``,
so RDS keeps the password in a Secrets Manager secret whose ARN the registry records (the server's
``admin_secret_ref``); ``credentials.login_resolve`` reads it when a connection is made.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from django.conf import settings

if TYPE_CHECKING:
    from botocore.exceptions import ClientError

ENGINE = "aurora-postgresql"
WRITER_CLASS = "db.serverless"


class AuroraError(Exception):
    """The cluster cannot be described or created; the message says what AWS answered."""


@dataclass(frozen=True)
class Cluster:
    cluster_id: str
    region: str
    endpoint: str
    port: int
    secret_arn: str
    status: str


def rds_client(region: str | None = None) -> Any:  # boto3 has no type hints
    import boto3

    return boto3.client("rds", region_name=region or settings.AWS_REGION)


def cluster_describe(cluster_id: str, *, region: str | None = None) -> Cluster:
    """The cluster's writer endpoint and managed master secret; AuroraError if it is not usable."""
    from botocore.exceptions import BotoCoreError, ClientError

    region = region or settings.AWS_REGION
    try:
        found = rds_client(region).describe_db_clusters(DBClusterIdentifier=cluster_id)["DBClusters"]
    except ClientError as exc:
        raise AuroraError(f"Aurora cluster {cluster_id!r} in {region}: {_code(exc)}") from None
    except BotoCoreError as exc:
        raise AuroraError(f"RDS in {region} unreachable ({type(exc).__name__})") from None
    cluster = found[0]
    if cluster.get("Engine") != ENGINE:
        raise AuroraError(f"{cluster_id} runs {cluster.get('Engine')!r}, not {ENGINE}")
    secret = (cluster.get("MasterUserSecret") or {}).get("SecretArn")
    if not secret:
        raise AuroraError(
            f"{cluster_id} has no RDS-managed master secret; modify it with ManageMasterUserPassword=True "
            "(FitBuddy never stores a database password)"
        )
    return Cluster(cluster_id, region, cluster["Endpoint"], int(cluster.get("Port") or 5432), secret, cluster["Status"])


def cluster_create(
    cluster_id: str,
    *,
    region: str | None = None,
    min_acu: float = 0.5,
    max_acu: float = 16,
    master_username: str = "fitbuddy_admin",
    wait_seconds: int = 1800,
    progress: Callable[[str], None] = lambda message: None,
) -> Cluster:
    """Create the cluster and its serverless writer if missing (safe to run again), wait until both are available."""
    from botocore.exceptions import BotoCoreError, ClientError, WaiterError

    region = region or settings.AWS_REGION
    rds = rds_client(region)
    writer = f"{cluster_id}-writer"
    try:
        if not _exists(rds.describe_db_clusters, DBClusterIdentifier=cluster_id):
            progress(f"creating Aurora cluster {cluster_id} ({min_acu}–{max_acu} ACU) in {region}")
            rds.create_db_cluster(
                DBClusterIdentifier=cluster_id,
                Engine=ENGINE,
                MasterUsername=master_username,
                ManageMasterUserPassword=True,
                ServerlessV2ScalingConfiguration={"MinCapacity": min_acu, "MaxCapacity": max_acu},
                StorageEncrypted=True,
                Tags=[{"Key": "fitbuddy", "Value": "affiliate-databases"}],
            )
        if not _exists(rds.describe_db_instances, DBInstanceIdentifier=writer):
            progress(f"creating its writer {writer} ({WRITER_CLASS})")
            rds.create_db_instance(
                DBInstanceIdentifier=writer,
                DBClusterIdentifier=cluster_id,
                Engine=ENGINE,
                DBInstanceClass=WRITER_CLASS,
            )
        progress("waiting until the cluster and its writer are available")
        delay = 15 if wait_seconds >= 60 else 1
        attempts = {"Delay": delay, "MaxAttempts": max(1, wait_seconds // delay)}
        rds.get_waiter("db_cluster_available").wait(DBClusterIdentifier=cluster_id, WaiterConfig=attempts)
        rds.get_waiter("db_instance_available").wait(DBInstanceIdentifier=writer, WaiterConfig=attempts)
    except ClientError as exc:
        raise AuroraError(f"creating {cluster_id} in {region}: {_code(exc)}") from None
    except WaiterError as exc:
        raise AuroraError(f"{cluster_id} did not become available: {exc}") from None
    except BotoCoreError as exc:
        raise AuroraError(f"RDS in {region} unreachable ({type(exc).__name__})") from None
    return cluster_describe(cluster_id, region=region)


def _exists(describe: Callable[..., object], **identifier: str) -> bool:
    from botocore.exceptions import ClientError

    try:
        describe(**identifier)
    except ClientError as exc:
        if exc.response.get("Error", {}).get("Code", "").endswith(("NotFoundFault", "NotFound")):
            return False
        raise
    return True


def _code(exc: ClientError) -> str:
    error = exc.response.get("Error", {})
    return f"{error.get('Code', 'error')}: {error.get('Message', '')}".strip(": ")
