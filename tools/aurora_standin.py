"""Make a local PostgreSQL server stand in for an Aurora cluster's writer (moto runs no PostgreSQL).

Creates, on the stand-in, the master user that RDS (moto) keeps in the cluster's managed secret,
as Aurora does when it creates a cluster. Local only: it refuses any host but this machine.

    .venv/bin/python tools/aurora_standin.py CLUSTER_ID --port 5433
"""

from __future__ import annotations

import argparse
import json
import os
import sys

import boto3
import psycopg
from psycopg import sql


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("cluster_id")
    parser.add_argument("--port", type=int, default=5433)
    parser.add_argument(
        "--admin-url", default=os.environ.get("STANDIN_ADMIN_URL", "postgresql://fitbud:password1@localhost")
    )
    args = parser.parse_args()
    if not os.environ.get("AWS_ENDPOINT_URL", "").startswith(("http://127.0.0.1", "http://localhost")):
        print(
            "error: AWS_ENDPOINT_URL must point at moto on this machine; this tool never touches real AWS",
            file=sys.stderr,
        )
        return 2
    region = os.environ.get("AWS_DEFAULT_REGION", "us-east-1")
    cluster = boto3.client("rds", region_name=region).describe_db_clusters(DBClusterIdentifier=args.cluster_id)
    arn = cluster["DBClusters"][0]["MasterUserSecret"]["SecretArn"]
    master = json.loads(
        boto3.client("secretsmanager", region_name=region).get_secret_value(SecretId=arn)["SecretString"]
    )
    with psycopg.connect(args.admin_url, port=args.port, dbname="postgres", autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", [master["username"]]).fetchone()
        verb = "ALTER" if exists else "CREATE"
        conn.execute(
            sql.SQL("{} ROLE {} LOGIN CREATEDB CREATEROLE PASSWORD {}").format(
                sql.SQL(verb), sql.Identifier(master["username"]), sql.Literal(master["password"])
            )
        )
        conn.execute(sql.SQL("GRANT pg_signal_backend TO {}").format(sql.Identifier(master["username"])))
    print(f"{args.cluster_id}: master user {master['username']} ready on localhost:{args.port}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
