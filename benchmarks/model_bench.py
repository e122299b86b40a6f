"""The champion model's part of a decision, beside the rule pack's, in one run.

    .venv/bin/python benchmarks/model_bench.py --region /tmp/r7n      # a region folder

Trains a transactions model on the region's first 70% (`fundwall.bench.model.measure_model`),
then times its part of a decision (score on every vector, explanation where it acts) and, on
the same machine in the same run, the default pack alone on the same region
(`fundwall.bench.rules.measure_rules`): the ratio of their p99s is what the model adds to the
rules' cost. Prints one JSON object; exits 1 when `model_p99_us` misses its goal (≤ 100 µs).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from fundwall.bench.model import measure_model
from fundwall.bench.rules import measure_rules
from fundwall.engine.features import AccountDirectory
from fundwall.region import read_table

GOAL_P99_US = 100.0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--region", type=Path, required=True)
    parser.add_argument("--rows", type=int, default=300_000)
    parser.add_argument("--online", type=int, default=20_000)
    args = parser.parse_args()
    model = measure_model(args.region, rows=args.rows, online=args.online)
    table = read_table(args.region, "transactions")
    rules = measure_rules(
        table, AccountDirectory.from_region(args.region), rows=args.online, online=args.online
    )
    model_p99 = float(str(model["model_p99_us"]))
    rules_p99 = float(str(rules["rules_online_p99_us"]))
    result = {
        **model,
        "rules_online_p99_us": rules_p99,
        "model_vs_rules_p99": round(model_p99 / rules_p99, 2),
        "goal_model_p99_us": GOAL_P99_US,
    }
    print(json.dumps(result, indent=2))
    return 0 if model_p99 <= GOAL_P99_US else 1


if __name__ == "__main__":
    sys.exit(main())
