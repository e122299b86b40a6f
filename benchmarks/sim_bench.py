"""Simulator benchmark: wall time and peak memory of `fundwall sim --size large`.

    .venv/bin/python benchmarks/sim_bench.py                      # large, seed 1
    .venv/bin/python benchmarks/sim_bench.py --size small --seed 7

The simulation runs in a child process (`fundwall.bench.child.run_python`), so the peak
resident set size measured is the run's own. Prints one JSON object; exits 1 when a goal is
missed. Goals for `large` (about ten million transactions) on a 2-core machine: under 120 s
and 4 GiB.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
from datetime import UTC, datetime
from pathlib import Path

import pyarrow.parquet as pq

from fundwall.bench.child import run_python
from fundwall.sim.params import SIZES

GOAL_SECONDS = 120.0
GOAL_RSS_MIB = 4 * 1024
TIMEOUT_SECONDS = 1_800.0

_CHILD = (
    "import sys; from pathlib import Path; from fundwall.sim.run import simulate; "
    "simulate(sys.argv[1], int(sys.argv[2]), Path(sys.argv[3]))"
)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", default="large", choices=SIZES)
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
        run_python(_CHILD, "tiny", "1", str(Path(scratch) / "warm"), timeout=TIMEOUT_SECONDS)
        load_before = os.getloadavg()[0]
        run = run_python(_CHILD, args.size, str(args.seed), str(out), timeout=TIMEOUT_SECONDS)
        rows = pq.read_metadata(out / "transactions.parquet").num_rows
    large = args.size == "large"
    result = {
        "size": args.size,
        "seed": args.seed,
        "transactions": rows,
        "wall_seconds": round(run.seconds, 1),
        "peak_rss_mib": round(run.peak_rss_mb),
        "transactions_per_second": round(rows / run.seconds),
        "goal_seconds": GOAL_SECONDS if large else None,
        "goal_rss_mib": GOAL_RSS_MIB if large else None,
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "load_average_1m_before": round(load_before, 2),
        "load_average_1m_after": round(os.getloadavg()[0], 2),
    }
    print(json.dumps(result, indent=2))
    missed = large and (run.seconds > GOAL_SECONDS or run.peak_rss_mb > GOAL_RSS_MIB)
    return 1 if missed else 0


if __name__ == "__main__":
    sys.exit(main())
