"""Replay and the pandas baseline in one run: the replay's rate, CPU time and peak memory
(`fundwall.bench.replay`, a child process) and the baseline's rate over the same region's
first rows (`fundwall.bench.baseline`), with their ratios.

    .venv/bin/python benchmarks/replay_bench.py --region DIR
    .venv/bin/python benchmarks/replay_bench.py --region DIR --no-baseline   # the large region

`fundwall bench` measures the same among everything else; this runs the replay part alone,
so that two trees can be run in turn (PYTHONPATH=<tree>/src). Prints one JSON object.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from fundwall.bench.baseline import measure_baseline
from fundwall.bench.machine import load_average
from fundwall.bench.replay import measure_replay
from fundwall.engine.features import AccountDirectory
from fundwall.region import read_table


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--region", type=Path, required=True)
    parser.add_argument("--baseline-rows", type=int, default=200_000)
    parser.add_argument("--no-baseline", action="store_true")
    parser.add_argument("--timeout", type=float, default=1_800.0)
    options = parser.parse_args()
    before = load_average()
    figures = measure_replay(options.region, timeout=options.timeout)
    if not options.no_baseline:
        table = read_table(options.region, "transactions")
        rows = min(options.baseline_rows, table.num_rows)
        directory = AccountDirectory.from_region(options.region)
        figures.update(measure_baseline(table, directory, rows))
        for suffix in ("", "_cpu"):
            rate = _number(figures, "replay_tx_per" + ("_cpu_s" if suffix else "_s"))
            baseline = _number(figures, "baseline_tx_per" + ("_cpu_s" if suffix else "_s"))
            figures["replay_vs_baseline" + suffix] = round(rate / baseline, 1)
    figures["load_average_before"], figures["load_average_after"] = before, load_average()
    print(json.dumps(figures, indent=1))


def _number(figures: dict[str, object], key: str) -> float:
    value = figures[key]
    assert isinstance(value, int | float)
    return float(value)


if __name__ == "__main__":
    main()
