"""`make bench`: run every benchmark in bench/ and print each one's figures and ratio.

``--quick`` (`make bench-quick`, run by CI) runs each at tiny sizes: the same code paths and the same
correctness checks in a few minutes, so a change that breaks a benchmark fails where it is made.
"""

import os
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
BENCHMARKS = [
    "flyway_migrate.py",
    "provisioning.py",
    "leaderboard.py",
    "fleet_migrate.py",
    "aws_placement.py",
    "results_sheet.py",
    "athlete.py",
    "load.py",
    "routing.py",
    "move.py",
    "metrics.py",
    "load_collect.py",
    # Booking and check-in of a class of 20, in a small gym and a large one.
    "classes.py",
    # A coach's programming: search, a day of parts, a week copied, in a short and a long history.
    "programming.py",
    # Where it breaks: thousands of gyms on two servers (a cluster of its own; BENCH_SCALE_*).
    "scale.py",
    # The whiteboard's refresh in a small and a large gym.
    "whiteboard.py",
]
#: The sizes of the quick run (each benchmark reads its own; the figures mean little at these sizes).
QUICK = {
    "BENCH_ROUNDS": "1",
    "BENCH_SHEET_ROUNDS": "1",
    "BENCH_LATENCY_ROUNDS": "2",
    "BENCH_FLEET": "8",
    "BENCH_FLEET_FIRST": "5",
    "BENCH_REQUESTS": "20",
    "BENCH_BOARD_RESULTS": "100",
    "BENCH_RANK_RESULTS": "500",
    "BENCH_ALLTIME_WORKOUTS": "10",
    "BENCH_ALLTIME_MEMBERS": "30",
    "BENCH_ALLTIME_ROUNDS": "3",
    "BENCH_FLEET_SIZE": "12",
    "BENCH_FLEET_FLOOR_SAMPLE": "4",
    "BENCH_FLEET_CLI_SAMPLE": "2",
    "BENCH_AWS_ROUNDS": "2",
    "BENCH_AWS_MEMBERS": "2000",
    "BENCH_LOAD_GYMS": "4",
    "BENCH_LOAD_CLIENTS": "4",
    "BENCH_LOAD_SECONDS": "6",
    "BENCH_FAULT_SECONDS": "9",
    "BENCH_ATHLETE_ROUNDS": "5",
    "BENCH_ATHLETE_MEMBERS": "300",
    "BENCH_ATHLETE_RESULTS": "3000",
    "BENCH_ROUTING_GYMS": "3",
    "BENCH_ROUTING_CLIENTS": "4",
    "BENCH_ROUTING_SECONDS": "2",
    "BENCH_MOVE_MB": "5",
    "BENCH_MOVE_CLIENTS": "2",
    "BENCH_MOVE_WARM_SECONDS": "1",
    "BENCH_METRICS_GYMS": "50",
    "BENCH_METRICS_ROUNDS": "20",
    "BENCH_LOAD_COLLECT_GYMS": "20",
    "BENCH_LOAD_COLLECT_ROUNDS": "2",
    # bench/classes.py
    "BENCH_CLASSES_ROUNDS": "1",
    "BENCH_CLASSES_MEMBERS": "500",
    "BENCH_CLASSES_WEEKS": "4",
    # bench/scale.py
    "BENCH_SCALE_GYMS": "20",
    "BENCH_SCALE_WORKER_SAMPLE": "12",
    "BENCH_SCALE_FLOOR_SAMPLE": "4",
    "BENCH_SCALE_TOUCH": "10",
    "BENCH_SCALE_IDLE_SECONDS": "3",
    "BENCH_SCALE_MOVE_MEMBERS": "2000",
    "BENCH_SCALE_MOVE_SECONDS": "3",
    "BENCH_SCALE_MOVE_CLIENTS": "2",
    # bench/whiteboard.py (the gym sizes: BENCH_ATHLETE_*)
    "BENCH_WHITEBOARD_ROUNDS": "5",
    # bench/programming.py
    "BENCH_PROGRAMMING_ROUNDS": "2",
    "BENCH_PROGRAMMING_DAYS": "300",
}


def main() -> int:
    quick = "--quick" in sys.argv[1:]
    env = {**os.environ, **(QUICK if quick else {})}
    failed = []
    for name in BENCHMARKS:
        print(f"\n### {name}{' (quick)' if quick else ''}", flush=True)
        started = time.monotonic()
        if subprocess.run([sys.executable, str(HERE / name)], cwd=HERE, env=env).returncode != 0:
            failed.append(name)
        print(f"### {name}: {time.monotonic() - started:.0f} s", flush=True)
    if failed:
        print(f"\nfailed: {', '.join(failed)}", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
