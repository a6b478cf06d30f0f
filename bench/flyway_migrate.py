"""Time to bring a fresh application database to the latest version with Flyway, beside the
physical floor measured in the same run: CREATE DATABASE plus the same SQL through psql."""

from __future__ import annotations

import os
import statistics
import subprocess

from common import ROOT, drop, scratch_name, server_target, summary, timer

from affiliates.infra import databases, flyway

ROUNDS = int(os.environ.get("BENCH_ROUNDS", "5"))


def flyway_path() -> float:
    name = scratch_name("bench_flyway")
    target = server_target(name)
    try:
        with timer() as t:
            with databases.admin_connect(server_target()) as conn:
                databases.database_create(conn, name)
            flyway.migrate(target, kind="application")
        return t["seconds"]
    finally:
        drop(name)


def psql_floor() -> float:
    name = scratch_name("bench_psql")
    target = server_target(name)
    scripts = sorted((ROOT / "sql" / "application").glob("V*__*.sql"), key=lambda p: int(p.name[1:].split("__")[0]))
    try:
        with timer() as t:
            with databases.admin_connect(server_target()) as conn:
                databases.database_create(conn, name)
            args = [
                "psql",
                "-X",
                "-q",
                "-v",
                "ON_ERROR_STOP=1",
                *target.client_args(),
                "-d",
                name,
                "-c",
                "CREATE SCHEMA master",
                "-c",
                "SET search_path = master",
            ]
            for script in scripts:
                args += ["-f", str(script)]
            subprocess.run(args, env=target.client_env(), check=True, capture_output=True)
        return t["seconds"]
    finally:
        drop(name)


def main() -> None:
    flyway_path(), psql_floor()  # warm-up: JVM class data, PostgreSQL caches
    fly, floor = [], []
    for _ in range(ROUNDS):
        fly.append(flyway_path())
        floor.append(psql_floor())
    ratio = statistics.median(fly) / statistics.median(floor)
    print("== fresh application database to the latest version")
    print(f"  flyway (CREATE DATABASE + flyway migrate): {summary(fly)}")
    print(f"  floor  (CREATE DATABASE + psql, same SQL):  {summary(floor)}")
    print(f"  ratio flyway/floor: {ratio:.2f}x")


if __name__ == "__main__":
    main()
