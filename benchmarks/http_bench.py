"""HTTP benchmark alone: single decisions and batches against `fundwall serve --region` and
`fundwall serve` over a SQLite and a PostgreSQL store (the durable path, as deployed), loaded
in turns, then the same app over a trivial decision service (what the HTTP shell costs
without the engine).

    .venv/bin/python benchmarks/http_bench.py --region var/demo/region-small-seed7
    .venv/bin/python benchmarks/http_bench.py --sim tiny --seconds 2 --durable-stores sqlite

The measurement is `fundwall.bench.http` and `fundwall.bench.durable` (the HTTP part of
`fundwall bench`): servers and the load generator in processes of their own, loopback only,
each phase bounded in time and count. PostgreSQL is the server of $FUNDWALL_BENCH_POSTGRES_URL
(default 127.0.0.1:5432, user postgres), in a temporary database created and dropped here.
Prints one JSON object.
"""

from __future__ import annotations

import argparse
import json
import tempfile
from pathlib import Path

from fundwall.bench.durable import STORES, measure_http
from fundwall.bench.http import HttpLoad
from fundwall.sim.params import SIZES
from fundwall.sim.run import simulate


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument("--region", type=Path, help="a region folder")
    source.add_argument("--sim", choices=SIZES, help="simulate a region of this size first")
    defaults = HttpLoad()
    parser.add_argument("--seconds", type=float, default=defaults.seconds)
    parser.add_argument("--connections", type=int, default=defaults.connections)
    parser.add_argument("--batch-size", type=int, default=defaults.batch_size)
    parser.add_argument("--no-shell-baseline", action="store_true")
    parser.add_argument(
        "--durable-stores",
        default=",".join(STORES),
        help="comma-separated stores to measure the durable path on ('' for none)",
    )
    args = parser.parse_args()
    stores = [store for store in args.durable_stores.split(",") if store]
    load = HttpLoad(seconds=args.seconds, connections=args.connections, batch_size=args.batch_size)
    with tempfile.TemporaryDirectory(prefix="fundwall-http-bench-") as scratch:
        region = args.region
        if region is None:
            region = Path(scratch) / "region"
            simulate(args.sim, 7, region)
        result = measure_http(region, load, stores, shell_baseline=not args.no_shell_baseline)
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
