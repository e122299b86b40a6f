"""Replicas over PostgreSQL and Redis against one server holding the whole state over
PostgreSQL, in one run: the HTTP figures of each and the shared state's rebuild time
(`fundwall.bench.replicas`, `fundwall.bench.durable`; docs/scale.md).

    .venv/bin/python benchmarks/replicas_bench.py --region DIR
    .venv/bin/python benchmarks/replicas_bench.py --region DIR --seconds 6 --replicas 1,2,3

`fundwall bench` measures the same among everything else; this runs the HTTP part alone.
PostgreSQL from $FUNDWALL_BENCH_POSTGRES_URL (default the local server), Redis from
$FUNDWALL_BENCH_REDIS_URL (default redis://127.0.0.1:6379/0). Prints one JSON object.
"""

from __future__ import annotations

import argparse
import json
from dataclasses import replace
from pathlib import Path

from fundwall.bench.durable import measure_durable
from fundwall.bench.http import HttpLoad
from fundwall.bench.machine import load_average
from fundwall.bench.replicas import measure_replicas


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--region", type=Path, required=True)
    parser.add_argument("--seconds", type=float, default=6.0)
    parser.add_argument("--replicas", default="1,2,3")
    options = parser.parse_args()
    load = replace(HttpLoad(), seconds=options.seconds, warm_up_seconds=2.0)
    counts = tuple(int(count) for count in options.replicas.split(","))
    before = load_average()
    figures = measure_durable(options.region, load, {}, stores=("postgresql",))
    figures.update(measure_replicas(options.region, load, figures, counts))
    figures["load_average_before"], figures["load_average_after"] = before, load_average()
    print(json.dumps(figures, indent=1))


if __name__ == "__main__":
    main()
