"""Feature layer benchmark: bulk tx/s, the pandas baseline's tx/s, online latency, peak RSS.

    .venv/bin/python benchmarks/features_bench.py --sim small      # simulate, then measure
    .venv/bin/python benchmarks/features_bench.py --region DIR     # a region folder
    .venv/bin/python benchmarks/features_bench.py --rows 10000000  # synthetic stream

`--sim small|large` runs the regional simulator (`fundwall sim`) into a temporary folder;
`--rows` draws a synthetic stream instead: ~1 account per 12 transactions with skewed
activity, parties with 1–3 accounts at up to 30 banks, shared phones, devices and IPs mostly
tied to one payer, 10% of payees outside the region, withdrawals and deposits, 30 days.
Prints one JSON object with wall and CPU time (other work on the machine shows as the gap)
and the load average. The pandas baseline is `fundwall.bench.baseline`, as in `fundwall
bench`; this script adds the feature layer alone (no rules, no controls) and the online
feature state's latency per event. Goals: bulk ≥ 1,000,000 tx/s for the full catalogue;
online p50 in the tens of µs with no multi-ms pauses.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import resource
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pyarrow as pa

from fundwall.bench.baseline import measure_baseline
from fundwall.engine.features import (
    AccountDirectory,
    OnlineFeatureState,
    events_from_table,
    feature_names,
    iter_bulk,
    settle_gc,
)
from fundwall.region import read_table
from fundwall.sim.params import SIZES
from fundwall.sim.run import simulate

START_US = int(datetime(2024, 3, 3, 16, tzinfo=UTC).timestamp() * 1_000_000)
DAY_US = 86_400 * 1_000_000


def _strings(
    prefix: str, codes: np.ndarray, width: int, valid: np.ndarray | None = None
) -> pa.Array:
    """`prefix` + zero-padded code for each row, built through a dictionary (no Python loop
    over rows)."""
    values, inverse = np.unique(codes, return_inverse=True)
    dictionary = pa.array([f"{prefix}{v:0{width}d}" for v in values.tolist()], pa.string())
    mask = None if valid is None else ~valid
    indices = pa.array(inverse.astype(np.int32), mask=mask)
    return pa.DictionaryArray.from_arrays(indices, dictionary).cast(pa.string())


def synthetic_region(rows: int, seed: int = 7) -> tuple[pa.Table, AccountDirectory]:
    rng = np.random.default_rng(seed)
    n_acc = max(1_000, rows // 12)
    n_party = max(700, n_acc * 2 // 3)
    n_dev = max(800, n_acc * 3 // 4)
    n_ip = max(500, n_acc // 2)
    activity = rng.lognormal(0.0, 1.2, n_acc)
    activity /= activity.sum()

    ts = np.sort(rng.integers(START_US, START_US + 30 * DAY_US, rows))
    kind_draw = rng.random(rows)
    deposit = kind_draw < 0.04
    withdrawal = (kind_draw >= 0.04) & (kind_draw < 0.10)
    payer = rng.choice(n_acc, rows, p=activity)
    payee = rng.choice(n_acc, rows, p=activity)
    external = rng.random(rows) < 0.10
    payee_code = np.where(external, n_acc + rng.integers(0, n_acc // 4 + 1, rows), payee)
    channel_names = np.array(["mobile", "online", "atm", "counter", "pos"])
    channel = rng.choice(5, rows, p=[0.6, 0.2, 0.08, 0.07, 0.05])
    remote = channel <= 1
    device = np.where(rng.random(rows) < 0.85, payer % n_dev, rng.integers(0, n_dev, rows))
    ip = np.where(rng.random(rows) < 0.7, payer % n_ip, rng.integers(0, n_ip, rows))
    city = np.where(rng.random(rows) < 0.9, 0, rng.integers(1, 15, rows))
    bank_of = rng.integers(0, 30, n_acc + n_acc // 4 + 1)
    amount = np.maximum(1, rng.lognormal(10.0, 1.5, rows)).astype(np.int64)

    table = pa.table(
        {
            "tx_id": _strings("T", np.arange(rows), 10),
            "ts": pa.array(ts, pa.timestamp("us", tz="UTC")),
            "kind": pa.array(
                np.where(deposit, "deposit", np.where(withdrawal, "withdrawal", "transfer"))
            ),
            "payer_account": _strings("622135", payer, 10, ~deposit),
            "payee_account": _strings("622135", payee_code, 10, ~withdrawal),
            "payer_bank": _strings("", 301 + bank_of[payer], 3, ~deposit),
            "payee_bank": _strings("", 301 + bank_of[payee_code], 3, ~withdrawal),
            "amount_fen": pa.array(amount),
            "channel": pa.array(channel_names[channel]),
            "device_id": _strings("D", device, 8, remote),
            "ip": _strings("10.", ip, 8, remote),
            "city": _strings("C", city, 2),
            "purpose": pa.nulls(rows, pa.string()),
        }
    )
    party = rng.integers(0, n_party, n_acc)
    accounts = pa.table(
        {
            "account_no": _strings("622135", np.arange(n_acc), 10),
            "bank": _strings("", 301 + bank_of[:n_acc], 3),
            "party_id": _strings("P", party, 8),
            "account_class": pa.array(
                np.array(["I", "II", "III", "corporate"])[
                    rng.choice(4, n_acc, p=[0.6, 0.25, 0.1, 0.05])
                ]
            ),
            "opened_at": pa.array(
                START_US - rng.integers(0, 5 * 365 * DAY_US, n_acc), pa.timestamp("us", tz="UTC")
            ),
            "opening_balance_fen": pa.array(rng.lognormal(12.0, 2.0, n_acc).astype(np.int64)),
        }
    )
    birth_days = rng.integers(-365 * 30, 365 * 35, n_party).astype(np.int32)
    parties = pa.table(
        {
            "party_id": _strings("P", np.arange(n_party), 8),
            "phone_key": _strings("H", rng.integers(0, n_party * 9 // 10, n_party), 9),
            "birth_date": pa.array(birth_days, pa.date32()),
        }
    )
    return table, AccountDirectory.from_tables(accounts, parties)


def region_from_folder(folder: Path) -> tuple[pa.Table, AccountDirectory]:
    return read_table(folder, "transactions"), AccountDirectory.from_region(folder)


def bench_bulk(table: pa.Table, directory: AccountDirectory) -> dict[str, float]:
    """Every feature of every transaction, batches dropped as they come (as a replay would).

    A first call on a few rows loads the compiled kernels from numba's cache (a one-off cost
    of each process), timed apart."""
    started = time.perf_counter()
    sum(batch.num_rows for batch in iter_bulk(table.slice(0, 1000), directory))
    first_call = time.perf_counter() - started
    started, cpu = time.perf_counter(), time.process_time()
    rows = sum(batch.num_rows for batch in iter_bulk(table, directory))
    seconds, cpu_s = time.perf_counter() - started, time.process_time() - cpu
    return {
        "rows": rows,
        "seconds": round(seconds, 3),
        "cpu_seconds": round(cpu_s, 3),
        "tx_per_s": round(rows / seconds),
        "first_call_s": round(first_call, 2),
    }


def bench_online(
    table: pa.Table, directory: AccountDirectory, warm: int, timed: int
) -> dict[str, object]:
    events = events_from_table(table.slice(0, warm + timed))
    state = OnlineFeatureState(directory)
    for event in events[:warm]:
        state.apply(event)
    settle_gc()
    latencies = np.empty(len(events) - warm, dtype=np.int64)
    cpu = np.empty(len(events) - warm, dtype=np.int64)
    clock, thread_clock = time.perf_counter_ns, time.thread_time_ns
    for i, event in enumerate(events[warm:]):
        began, began_cpu = clock(), thread_clock()
        state.observe(event)
        cpu[i] = thread_clock() - began_cpu
        latencies[i] = clock() - began
    snapshot_started = time.perf_counter()
    snapshot = state.snapshot()
    snapshot_s = time.perf_counter() - snapshot_started
    restore_started = time.perf_counter()
    OnlineFeatureState.restore(snapshot, directory)
    restore_s = time.perf_counter() - restore_started
    us, cpu_us = latencies / 1000.0, cpu / 1000.0
    return {
        "warm_up_events": warm,
        "timed_events": int(latencies.size),
        "p50_us": round(float(np.percentile(us, 50)), 1),
        "p99_us": round(float(np.percentile(us, 99)), 1),
        "p999_us": round(float(np.percentile(us, 99.9)), 1),
        "max_us": round(float(us.max()), 1),
        "cpu_p50_us": round(float(np.percentile(cpu_us, 50)), 1),
        "cpu_p99_us": round(float(np.percentile(cpu_us, 99)), 1),
        "cpu_max_us": round(float(cpu_us.max()), 1),
        "snapshot_mb": round(len(snapshot) / 2**20, 1),
        "snapshot_s": round(snapshot_s, 3),
        "restore_s": round(restore_s, 3),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    source = parser.add_mutually_exclusive_group()
    source.add_argument("--rows", type=int, help="synthetic transactions")
    source.add_argument("--region", type=Path, help="a region folder")
    source.add_argument("--sim", choices=SIZES, help="simulate a region of this size first")
    parser.add_argument("--baseline-rows", type=int, default=200_000)
    parser.add_argument("--online-warm", type=int, default=200_000)
    parser.add_argument("--online-timed", type=int, default=50_000)
    args = parser.parse_args()

    made = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="fundwall-bench-") as scratch:
        if args.rows:
            table, directory = synthetic_region(args.rows)
            source = f"synthetic {args.rows}"
        elif args.region:
            table, directory = region_from_folder(args.region)
            source = str(args.region)
        else:
            size = args.sim or "small"
            simulate(size, 1, Path(scratch))
            table, directory = region_from_folder(Path(scratch))
            source = f"fundwall sim --size {size} --seed 1"
    setup_s = time.perf_counter() - made
    gc.collect()
    result = {
        "source": source,
        "transactions": table.num_rows,
        "accounts_in_directory": len(directory),
        "features": len(feature_names()),
        "setup_s": round(setup_s, 1),
        "load_average_before": [round(x, 2) for x in os.getloadavg()],
        "bulk": bench_bulk(table, directory),
        "baseline_pandas": measure_baseline(table, directory, args.baseline_rows),
        "online": bench_online(table, directory, args.online_warm, args.online_timed),
    }
    bulk_rate = result["bulk"]["tx_per_s"]  # type: ignore[index]
    base_rate = result["baseline_pandas"]["baseline_tx_per_s"]  # type: ignore[index]
    result["bulk_vs_baseline"] = round(bulk_rate / base_rate, 1)
    result["load_average_after"] = [round(x, 2) for x in os.getloadavg()]
    result["peak_rss_mb"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
