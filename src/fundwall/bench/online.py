"""Latency of one decision in process: `DecisionService.decide`, full default pack.

The service is the one `fundwall serve --region` runs. Its state is first warmed with the
region's first transactions (folded, not timed), so the windows hold a realistic history;
the next transactions are then decided one at a time, each timed on its own. Wall time is
what a caller waits; the thread's CPU time is steadier on a shared machine, where another
process may take the core in the middle of a decision.
"""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import numpy.typing as npt
import pyarrow as pa

from fundwall.bootstrap import region_service
from fundwall.domain.transactions import Transaction
from fundwall.engine.features import events_from_table, settle_gc


def _percentiles(prefix: str, ns: npt.NDArray[np.int64]) -> dict[str, float]:
    us = ns / 1000.0
    return {
        f"{prefix}_p50_us": round(float(np.percentile(us, 50)), 1),
        f"{prefix}_p99_us": round(float(np.percentile(us, 99)), 1),
        f"{prefix}_p999_us": round(float(np.percentile(us, 99.9)), 1),
        f"{prefix}_max_us": round(float(us.max()), 1),
    }


def measure_online(folder: Path, table: pa.Table, *, warm_up: int, timed: int) -> dict[str, object]:
    """Fold the first `warm_up` transactions of `table` (the region of `folder`), then time
    the decisions on the next `timed`."""
    service = region_service(folder)
    for event in events_from_table(table.slice(0, warm_up)):
        service.core.fold(event, None)
    rows = table.slice(warm_up, timed).to_pylist()
    transactions = [Transaction.from_mapping(row) for row in rows]
    wall = np.empty(len(transactions), dtype=np.int64)
    cpu = np.empty(len(transactions), dtype=np.int64)
    clock, thread_clock = time.perf_counter_ns, time.thread_time_ns
    settle_gc()
    for i, tx in enumerate(transactions):
        began, began_cpu = clock(), thread_clock()
        service.decide(tx)
        cpu[i] = thread_clock() - began_cpu
        wall[i] = clock() - began
    return {
        "online_warm_up": warm_up,
        "online_decisions": len(transactions),
        **_percentiles("online", wall),
        **_percentiles("online_cpu", cpu),
    }
