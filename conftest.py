"""Repository-wide pytest setup: tests run with FITBUDDY_ENV=test unless told otherwise."""

import os

os.environ.setdefault("FITBUDDY_ENV", "test")
# Tests use their own Redis database and template, away from a developer's running stack.
os.environ.setdefault("REDIS_URL", "redis://localhost:6379/15")
os.environ.setdefault("PROVISIONING_TEMPLATE_DATABASE", "test_fitbuddy_provisioning_template")
