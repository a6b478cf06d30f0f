"""Repository-wide pytest setup: tests run with FITBUDDY_ENV=test unless told otherwise."""

import os

os.environ.setdefault("FITBUDDY_ENV", "test")
