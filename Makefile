# FitBuddy — see README.md. Every target is safe to run again.
SHELL := /bin/bash
PY := .venv/bin/python
DOCKER_ENGINE := $(shell docker info >/dev/null 2>&1 && echo yes)

.PHONY: up system-packages venv flyway services start_local_database run test test-fast bench bench-quick lint stop aws_local

## One command: tools, services, both databases, the demo affiliate, web and worker.
up: system-packages start_local_database run

system-packages:
	tools/system-packages.sh

venv: .venv/.installed
.venv/.installed: requirements.txt
	test -d .venv || python3 -m venv .venv
	.venv/bin/pip install -q --disable-pip-version-check -r requirements.txt
	touch $@

flyway:
	tools/flyway/install.sh

services:
	tools/postgres.sh start
	tools/redis.sh start
	tools/pgbouncer.sh start || echo "warning: PgBouncer did not start; affiliate connections go straight to PostgreSQL"

## Create and migrate affiliate-mgt and fitbuddy-dev (with local seeds): Docker when an engine
## runs, else the local PostgreSQL and the installed Flyway.
start_local_database:
ifeq ($(DOCKER_ENGINE),yes)
	@# The pooler's lookup login gets a password made on this machine (compose refuses to start without one).
	@grep -qs '^POOLER_AUTH_PASSWORD=' .env || echo "POOLER_AUTH_PASSWORD=$$(head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n')" >> .env
	docker compose up -d --wait postgres redis
	docker compose run --rm flyway
else
	$(MAKE) venv flyway services
	$(PY) manage.py start_local_database
endif

run: venv
	tools/run.sh

## The whole test suite (starts PostgreSQL and Redis if they are not running), in TEST_PROCESSES
## processes at once (pytest-xdist; each with its own test database, Redis database and names).
TEST_PROCESSES ?= 2
test: venv flyway services
	$(PY) -m pytest -n $(TEST_PROCESSES) --dist loadgroup $(PYTEST_ARGS)

## The lane for the loop while coding: no Celery worker, no JVM, no browser, no extra PostgreSQL server
## (tests/lanes/), nor the page walks marked slow. The test databases are kept between runs (--reuse-db); Flyway runs only when a
## script changed.
FAST_LANE := not (worker or browser or flyway or cluster or slow)
test-fast: venv services
	$(PY) -m pytest -n $(TEST_PROCESSES) --dist loadgroup --reuse-db -m "$(FAST_LANE)" $(PYTEST_ARGS)

bench: venv flyway services
	$(PY) bench/run.py

## Every benchmark at tiny sizes: the same code paths and checks, in a few minutes (CI runs it).
bench-quick: venv flyway services
	$(PY) bench/run.py --quick

## What CI and the pre-commit hook check: ruff's lint rules and its formatting, the direction of
## imports (import-linter's contracts in pyproject.toml) and the types (mypy with Django's stubs).
lint: venv
	.venv/bin/ruff check .
	.venv/bin/ruff format --check .
	.venv/bin/lint-imports --no-cache
	.venv/bin/mypy

## moto's server (RDS, Secrets Manager, S3) and a second PostgreSQL server, for trying the AWS
## parts by hand (README, "Trying the AWS parts locally"); `tools/aws_local.sh stop` ends them.
aws_local: venv
	tools/aws_local.sh start

stop:
	tools/redis.sh stop
	tools/postgres.sh stop
