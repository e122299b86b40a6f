"""Simulator benchmark: wall time and peak memory of `fundwall sim --size large`.

    .venv/bin/python benchmarks/sim_bench.py                      # large, seed 1
    .venv/bin/python benchmarks/sim_bench.py --size small --seed 7

The simulation runs in a child process, so the peak resident set size measured is the run's
own (not this script's). Prints one JSON object; exits 1 when a goal is missed. Goals for
`large` (about ten million transactions) on a 2-core machine: under 120 s and 4 GiB.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pyarrow.parquet as pq

GOAL_SECONDS = 120.0
GOAL_RSS_BYTES = 4 * 1024**3

_CHILD = """
import sys
from pathlib import Path
from fundwall.sim.run import simulate
simulate(sys.argv[1], int(sys.argv[2]), Path(sys.argv[3]))
"""


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", default="large", choices=("tiny", "small", "large"))
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument(
        "--out",
        type=Path,
        help="keep the region here (a temporary folder by default, removed afterwards)",
    )
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="fundwall-sim-bench-") as scratch:
        out = args.out or Path(scratch) / "region"
        # Compile (or load from cache) the numba settlement pass outside the timed run.
        subprocess.run(
            [sys.executable, "-c", _CHILD, "tiny", "1", str(Path(scratch) / "warm")], check=True
        )
        before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
        started = time.perf_counter()
        subprocess.run(
            [sys.executable, "-c", _CHILD, args.size, str(args.seed), str(out)], check=True
        )
        seconds = time.perf_counter() - started
        peak_kib = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
        rows = pq.read_metadata(out / "transactions.parquet").num_rows
    peak = max(peak_kib, before) * 1024
    result = {
        "size": args.size,
        "seed": args.seed,
        "transactions": rows,
        "wall_seconds": round(seconds, 1),
        "peak_rss_mib": round(peak / 1024**2),
        "transactions_per_second": round(rows / seconds),
        "goal_seconds": GOAL_SECONDS if args.size == "large" else None,
        "goal_rss_mib": GOAL_RSS_BYTES // 1024**2 if args.size == "large" else None,
    }
    print(json.dumps(result, indent=2))
    missed = args.size == "large" and (seconds > GOAL_SECONDS or peak > GOAL_RSS_BYTES)
    return 1 if missed else 0


if __name__ == "__main__":
    sys.exit(main())
