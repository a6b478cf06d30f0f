"""Every log line is scrubbed of passwords, and log lines carry what attackers send (a 404's path): the
scrubbing must stay linear in the text, or a long path becomes a way to burn the web process's CPU."""

from __future__ import annotations

import subprocess
import sys

import pytest

from fitbuddy.error_reports import SUBSTITUTE, scrub

#: A megabyte of the shapes that made the patterns backtrack: one long word, keywords over and over,
#: a scheme without its "://" (built in the child process: as arguments they would not fit).
HOSTILE = '["Not Found: /" + "a" * 1_000_000, "pass" * 250_000, "x" * 500_000 + "://" + "a" * 500_000]'


def test_scrubbing_an_attackers_megabyte_does_not_hang_the_process():
    """Run in a process of its own and given 60 s (it takes well under a second): the patterns as
    they were needed about 16 s for 64 KB and hours for a megabyte."""
    code = (
        "import django, os; os.environ.setdefault('DJANGO_SETTINGS_MODULE', 'fitbuddy.settings'); django.setup()\n"
        "from fitbuddy.error_reports import scrub\n"
        f"for text in {HOSTILE}: scrub(text)\n"
        "print('done')"
    )
    try:
        finished = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    except subprocess.TimeoutExpired:
        pytest.fail("scrubbing 1 MB of hostile text did not finish in 60 s: a pattern backtracks")
    assert finished.stdout.strip() == "done", finished.stderr[-2000:]


@pytest.mark.parametrize(
    ("text", "kept"),
    [
        ("host=db password=s3cret user=x", "host=db password="),
        ("postgres://fitbud:hunter2@localhost/db", "postgres://fitbud:"),
        ('{"db_password": "abc"}', '{"db_password": '),
        ("PGPASSWORD='x y' psql", "PGPASSWORD="),
        ("api_key = K123 and more", "api_key = "),
    ],
)
def test_the_bounded_patterns_still_hide_every_password(text, kept):
    cleansed = scrub(text)
    assert kept in cleansed and SUBSTITUTE in cleansed
    assert not any(secret in cleansed for secret in ("s3cret", "hunter2", "abc", "x y", "K123"))
