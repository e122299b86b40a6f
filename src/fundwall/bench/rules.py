"""The default rule pack alone, in process: one transaction at a time, and whole columns.

The feature vectors are the region's own: the bulk features of its first transactions, as
replay computes them. In bulk, `RulePack.evaluate_bulk` takes every row at once, best of
three runs. Online, each row's vector is evaluated as the decision core evaluates it
(`evaluate_vector`, which the core's bound evaluator calls), each call timed on its own; most
rows fire nothing, so the p99 is the cost of the rows that fire rules.
"""

from __future__ import annotations

import time

import numpy as np
import pyarrow as pa

from fundwall.engine.features import AccountDirectory, iter_bulk, settle_gc
from fundwall.engine.rules import default_pack

_BULK_RUNS = 3
_WARM_UP = 1_000


def measure_rules(
    table: pa.Table, directory: AccountDirectory, *, rows: int, online: int
) -> dict[str, object]:
    """Evaluate the default pack over the features of the first `rows` of `table`: all of
    them in bulk, and the first `online` one by one."""
    pack = default_pack()
    features = pa.Table.from_batches(iter_bulk(table.slice(0, rows), directory))
    columns = {name: features.column(name).to_numpy() for name in pack.feature_names}
    bulk_seconds = []
    for _ in range(_BULK_RUNS):
        started = time.perf_counter()
        pack.evaluate_bulk(columns)
        bulk_seconds.append(time.perf_counter() - started)

    matrix = np.column_stack([columns[name][: min(online, rows)] for name in pack.feature_names])
    vectors: list[list[float]] = matrix.astype(np.float64).tolist()
    for vector in vectors[:_WARM_UP]:
        pack.evaluate_vector(vector)
    ns = np.empty(len(vectors), dtype=np.int64)
    clock = time.perf_counter_ns
    settle_gc()
    for i, vector in enumerate(vectors):
        began = clock()
        pack.evaluate_vector(vector)
        ns[i] = clock() - began
    us = ns / 1000.0
    return {
        "rules_rows": features.num_rows,
        "rules_bulk_seconds": round(min(bulk_seconds), 4),
        "rules_bulk_tx_per_s": round(features.num_rows / min(bulk_seconds)),
        "rules_online_decisions": len(vectors),
        "rules_online_mean_us": round(float(us.mean()), 2),
        "rules_online_p50_us": round(float(np.percentile(us, 50)), 2),
        "rules_online_p99_us": round(float(np.percentile(us, 99)), 2),
        "rules_online_max_us": round(float(us.max()), 1),
    }
