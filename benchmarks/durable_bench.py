"""The durable path in process: concurrent calls of `DecisionService.decide_durably` over a
store (SQLite or PostgreSQL) against the same calls' `decide` in memory, without HTTP.

    .venv/bin/python benchmarks/durable_bench.py --region DIR --store postgresql
    .venv/bin/python benchmarks/durable_bench.py --region DIR --store sqlite --batch 1000 --calls 2

The store is new and holds the region's reference data, as the HTTP benchmark's durable
servers do (`fundwall.bench.servers.prepare_store`; PostgreSQL: a temporary database on
`$FUNDWALL_BENCH_POSTGRES_URL`, else the local server). `--store memory` decides over the
region in memory, nothing logged: the baseline. The region's transactions are sent in time
order, each by its own member (single calls) or `--batch` at a time, by `--calls` concurrent
callers on one event loop (uvloop, as `fundwall serve` runs), first `--warm` of them, then
`--rows` timed. Prints one JSON object: decisions a second, the CPU of this process a
decision (a PostgreSQL server's own CPU is not in it), the calls' latency.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable, Sequence
from pathlib import Path

import uvloop

from fundwall import bootstrap
from fundwall.bench.durable import bench_database, postgres_server_url
from fundwall.bench.loadgen import region_records
from fundwall.bench.servers import prepare_store, store_environment
from fundwall.config import load_settings
from fundwall.domain.transactions import Transaction
from fundwall.engine.service import DecisionService
from fundwall.region import read_table

Call = tuple[str | None, list[Transaction]]
"""A call's member and its transactions."""


def calls_of(region: Path, count: int, batch: int) -> list[Call]:
    """The region's first `count` transactions as calls: one each, or `batch` at a time (each
    batch submitted by the member of its first transaction, unchecked: no admission)."""
    records = region_records(read_table(region, "transactions"), 0)
    sent: list[tuple[str | None, Transaction]] = []
    for number, (member, record) in enumerate(records):
        if number == count:
            break
        sent.append(
            (member, Transaction.from_mapping(json.loads(record.replace("{tx_id}", f"d{number}"))))
        )
    if not batch:
        return [(member, [tx]) for member, tx in sent]
    return [(None, [tx for _, tx in sent[at : at + batch]]) for at in range(0, len(sent), batch)]


async def drive(
    call: Callable[[Call], Awaitable[None]], calls: Sequence[Call], callers: int
) -> list[float]:
    """Run `calls` by `callers` concurrent callers; each call's latency in seconds."""
    waiting = iter(calls)
    latencies: list[float] = []

    async def caller() -> None:
        for one in waiting:
            started = time.perf_counter()
            await call(one)
            latencies.append(time.perf_counter() - started)

    await asyncio.gather(*(caller() for _ in range(callers)))
    return latencies


def caller_of(
    service: DecisionService, store: str, batch: int
) -> Callable[[Call], Awaitable[None]]:
    async def in_memory(one: Call) -> None:
        member, txs = one
        if batch:
            service.decide_batch(txs)
        else:
            service.decide(txs[0], member=member)

    async def durably(one: Call) -> None:
        member, txs = one
        await service.decide_durably(txs, member=member, batch=bool(batch))

    return in_memory if store == "memory" else durably


def measure(
    region: Path, store: str, rows: int, warm: int, batch: int, callers: int
) -> dict[str, object]:
    calls = calls_of(region, warm + rows, batch)
    per_call = batch or 1
    warm_calls, timed = calls[: warm // per_call], calls[warm // per_call :]
    kind = "sqlite" if store == "memory" else store
    with (
        tempfile.TemporaryDirectory() as folder,
        bench_database(kind, Path(folder), postgres_server_url()) as url,
    ):
        data = Path(folder)
        prepare_store(data, region, contents="reference", database_url=url)
        os.environ.update(store_environment(data, url))
        settings = load_settings(config_file=None, data_dir=data, database_url=url)
        with bootstrap.opened(settings) as platform:
            service = platform.decision_service(region=region if store == "memory" else None)
            call = caller_of(service, store, batch)

            async def run() -> dict[str, object]:
                await drive(call, warm_calls, callers)
                cpu, wall = time.process_time(), time.perf_counter()
                latencies = sorted(await drive(call, timed, callers))
                cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
                decided = sum(len(txs) for _, txs in timed)
                return {
                    "store": store,
                    "batch": batch,
                    "callers": callers,
                    "decisions": decided,
                    "decisions_per_s": round(decided / wall),
                    "cpu_us_per_decision": round(cpu / decided * 1e6, 1),
                    "p50_ms": round(latencies[len(latencies) // 2] * 1e3, 2),
                    "p99_ms": round(latencies[int(len(latencies) * 0.99)] * 1e3, 2),
                    "load_average_1m": round(os.getloadavg()[0], 2),
                }

            return uvloop.run(run())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--region", type=Path, required=True)
    parser.add_argument("--store", choices=("memory", "sqlite", "postgresql"), default="sqlite")
    parser.add_argument("--rows", type=int, default=10_000)
    parser.add_argument("--warm", type=int, default=2_000)
    parser.add_argument("--batch", type=int, default=0, help="transactions a call (0: single)")
    parser.add_argument("--calls", type=int, default=16, help="concurrent callers")
    args = parser.parse_args()
    result = measure(args.region, args.store, args.rows, args.warm, args.batch, args.calls)
    json.dump(result, sys.stdout, indent=1)
    print()


if __name__ == "__main__":
    main()
