# FitBuddy — see README.md. Every target is safe to run again.
SHELL := /bin/bash
PY := .venv/bin/python
DOCKER_ENGINE := $(shell docker info >/dev/null 2>&1 && echo yes)

.PHONY: up system-packages venv flyway services start_local_database run test bench lint stop aws_local

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
	docker compose up -d --wait postgres redis
	docker compose run --rm flyway
else
	$(MAKE) venv flyway services
	$(PY) manage.py start_local_database
endif

run: venv
	tools/run.sh

## The whole test suite (starts PostgreSQL and Redis if they are not running).
test: venv flyway services
	$(PY) -m pytest $(PYTEST_ARGS)

bench: venv flyway services
	$(PY) bench/run.py

## What CI and the pre-commit hook check: ruff's lint rules and its formatting.
lint: venv
	.venv/bin/ruff check .
	.venv/bin/ruff format --check .

## moto's server (RDS, Secrets Manager, S3) and a second PostgreSQL server, for trying the AWS
## parts by hand (README, "Trying the AWS parts locally"); `tools/aws_local.sh stop` ends them.
aws_local: venv
	tools/aws_local.sh start

stop:
	tools/redis.sh stop
	tools/postgres.sh stop
