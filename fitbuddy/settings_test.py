"""Settings for the test suite: the ordinary settings with FITBUDDY_ENV=test defaults.

Only environment defaults are set here, so tests run the same code paths as everything else.
Tests use their own Redis database and provisioning template, away from a developer's stack.
"""

import os

os.environ.setdefault("FITBUDDY_ENV", "test")
# The live server answers each request on a new thread: persistent connections would outlive them.
os.environ.setdefault("DATABASE_CONN_MAX_AGE", "0")
# pytest-xdist runs the suite in several processes at once (gw0, gw1, …): each gets its own Redis
# database and provisioning template (pytest-django gives each its own test database).
_worker = int(os.environ.get("PYTEST_XDIST_WORKER", "gw0").removeprefix("gw") or 0)
os.environ.setdefault("REDIS_URL", f"redis://localhost:6379/{15 - _worker}")
os.environ.setdefault("PROVISIONING_TEMPLATE_DATABASE", f"test_fitbuddy_provisioning_template_{_worker}")

from fitbuddy.settings import *  # noqa: E402, F403

# Hashing a test user's password at production strength costs half a second each: not worth it here.
# The seeded demo logins keep their PBKDF2 hashes, which Django still verifies.
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.MD5PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
