"""The engine's batch path in process: CPU per transaction of `DecisionCore.decide` one by one
and of `decide_many` in batches, and of the batch's parts, over a region's transactions.

    .venv/bin/python benchmarks/batch_bench.py --region DIR
    .venv/bin/python benchmarks/batch_bench.py --region DIR --warm 200000 --rows 20000

The core (`DecisionService.from_region`, the default pack) first folds `--warm` transactions
in batches of 10,000 (so tracks and accounts hold a region's history), then decides `--rows`
transactions one by one and the next `--rows` in batches of `--batch-size`, twice each,
alternating; last, one more `--rows` in batches with the parts timed (the features, their
window aggregates, the hard controls, the packs). Besides, what the batch route does around
the engine, per transaction: reading a JSON array body of `--batch-size` records as the load
generator sends it into transactions (`read_json_array`, `transactions_of`), and answering
(`as_submitted`, `to_dict`, orjson) the decisions `decide_many` made. Times are CPU time of
this process
(`time.process_time`), so other work on a shared machine shows less than in wall time; it
still slows caches and clocks, so compare figures of one run. Prints one JSON object.
"""

from __future__ import annotations

import argparse
import json
import os
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import orjson
import pyarrow as pa

from fundwall.api.service import as_submitted
from fundwall.bench.loadgen import region_records
from fundwall.domain.transactions import Transaction
from fundwall.engine import core as core_module
from fundwall.engine.features import TxEvent, events_from_table, settle_gc
from fundwall.engine.features import online as online_module
from fundwall.engine.service import DecisionService
from fundwall.ingest.batches import read_json_array, transactions_of
from fundwall.region import read_table


def _cpu_us(run: Callable[[], object], count: int) -> float:
    started = time.process_time()
    run()
    return round((time.process_time() - started) / count * 1e6, 1)


@contextmanager
def _timed(owner: Any, name: str, spent: dict[str, float], key: str) -> Iterator[None]:
    """Add the CPU time of every call of `owner.name` to spent[key] meanwhile (nothing when
    the tree measured has no such part: an older tree, for a before-and-after)."""
    real = getattr(owner, name, None)
    if real is None:
        yield
        return
    spent[key] = 0.0

    def timed(*args: Any, **kwargs: Any) -> Any:
        started = time.process_time()
        try:
            return real(*args, **kwargs)
        finally:
            spent[key] += time.process_time() - started

    setattr(owner, name, timed)
    try:
        yield
    finally:
        setattr(owner, name, real)


def _route(table: pa.Table, service: DecisionService, first: int, size: int) -> dict[str, float]:
    """CPU per transaction of the batch route's reading and answering, over ten bodies of
    `size` records of one member each (from the `first` transaction on)."""
    records = region_records(table, first)
    waiting: dict[str, list[str]] = {}
    bodies: list[bytes] = []
    while len(bodies) < 10:
        member, record = next(records)
        if member is None:
            continue
        queue = waiting.setdefault(member, [])
        queue.append(record.replace("{tx_id}", f"route-{first}-{len(bodies)}-{len(queue)}"))
        if len(queue) == size:
            bodies.append(("[" + ",".join(waiting.pop(member)) + "]").encode())
    read = [_read(body) for body in bodies]
    decided = [[outcome.decision for outcome in service.core.decide_many(txs)] for txs in read]

    def answer() -> None:
        for txs, decisions in zip(read, decided, strict=True):
            pairs = zip(decisions, txs, strict=True)
            orjson.dumps([as_submitted(d, tx, service).to_dict() for d, tx in pairs])

    count = len(bodies) * size
    return {
        "read_body": _cpu_us(lambda: [_read(body) for body in bodies], count),
        "answer": _cpu_us(answer, count),
    }


def _read(body: bytes) -> list[Transaction]:
    table = read_json_array(body)
    assert table is not None, "the load generator's body is a good JSON array"
    return transactions_of(table)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--region", type=Path, required=True)
    parser.add_argument("--warm", type=int, default=200_000)
    parser.add_argument("--rows", type=int, default=10_000)
    parser.add_argument("--batch-size", type=int, default=1000)
    args = parser.parse_args()
    rows, size = args.rows, args.batch_size
    table = read_table(args.region, "transactions").sort_by("ts")
    events = events_from_table(table.slice(0, args.warm + 5 * rows))
    service = DecisionService.from_region(args.region)
    core = service.core
    for start in range(0, args.warm, 10_000):
        core.decide_many(events[start : min(start + 10_000, args.warm)])
    settle_gc()
    parts = [events[args.warm + k * rows : args.warm + (k + 1) * rows] for k in range(5)]

    def batches(part: list[TxEvent]) -> Callable[[], None]:
        def run() -> None:
            for start in range(0, len(part), size):
                core.decide_many(part[start : start + size])

        return run

    def one_by_one(part: list[TxEvent]) -> Callable[[], None]:
        return lambda: [core.decide(event) for event in part]

    figures: dict[str, Any] = {"decide_cpu_us": [], "decide_many_cpu_us": []}
    for k in (0, 2):
        figures["decide_cpu_us"].append(_cpu_us(one_by_one(parts[k]), rows))
        figures["decide_many_cpu_us"].append(_cpu_us(batches(parts[k + 1]), rows))
    spent: dict[str, float] = {}
    with (
        # The features' batch entry point: `observe_batch`, or `observe_many` in older trees.
        _timed(core.features, "observe_many", spent, "features"),
        _timed(core.features, "observe_batch", spent, "features"),
        _timed(online_module, "aggregates_of_batch", spent, "window_aggregates"),
        _timed(core.controls, "check", spent, "controls_check"),
        _timed(core.controls, "settle", spent, "controls_settle"),
        # The controls' compiled pass over a batch (`check_many`, the hits of the few
        # transactions with some included); older trees check and settle each transaction.
        _timed(core.controls, "check_many", spent, "controls_batch"),
        _timed(core_module, "_evaluations", spent, "packs"),
    ):
        total = _cpu_us(batches(parts[4]), rows)
    figures["decide_many_parts_cpu_us"] = {
        "total": total,
        **{key: round(value / rows * 1e6, 1) for key, value in spent.items()},
    }
    figures["route_cpu_us"] = _route(table, service, args.warm + 5 * rows, size)
    figures.update(batch_size=size, warm=args.warm, rows=rows, load=os.getloadavg()[0])
    print(json.dumps(figures, indent=2))


if __name__ == "__main__":
    main()
