"""Settings for the test suite: the ordinary settings with FITBUDDY_ENV=test defaults.

Only environment defaults are set here, so tests run the same code paths as everything else.
Tests use their own Redis database and provisioning template, away from a developer's stack.
"""

import os

os.environ.setdefault("FITBUDDY_ENV", "test")
# The live server answers each request on a new thread: persistent connections would outlive them.
os.environ.setdefault("DATABASE_CONN_MAX_AGE", "0")
# pytest-xdist's processes (gw0, gw1, …) each take their own Redis database and provisioning template
# (tests/conftest.py, pytest_configure); these are the first process's.
os.environ.setdefault("REDIS_URL", "redis://localhost:6379/15")
os.environ.setdefault("PROVISIONING_TEMPLATE_DATABASE", "test_fitbuddy_provisioning_template_0")

from fitbuddy.settings import *  # noqa: E402, F403

# Hashing a test user's password at production strength costs half a second each: not worth it here.
# The seeded demo logins keep their PBKDF2 hashes, which Django still verifies.
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.MD5PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
