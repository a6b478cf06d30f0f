"""`make bench`: run every benchmark in bench/ and print each one's figures and ratio."""

import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
BENCHMARKS = [
    "flyway_migrate.py",
    "provisioning.py",
    "leaderboard.py",
    "fleet_migrate.py",
    "aws_placement.py",
    "results_sheet.py",
    "load.py",
]

failed = 0
for name in BENCHMARKS:
    print(f"\n### {name}", flush=True)
    failed += subprocess.run([sys.executable, str(HERE / name)], cwd=HERE).returncode != 0
sys.exit(1 if failed else 0)
