"""The pandas baseline: window features computed the way an analyst would, timed.

`fundwall.engine.features.baseline` computes a representative subset of the window features
with pandas groupby and time-based rolling windows. It runs on the first `rows` transactions
(pandas is far too slow for a whole large region), so the benchmark compares rates, not
totals; the same rows through the engine's bulk kernels must give the very same values.
"""

from __future__ import annotations

import time

import pyarrow as pa

from fundwall.engine.features import AccountDirectory, iter_bulk
from fundwall.engine.features.baseline import BASELINE_FEATURES, baseline_features


def measure_baseline(table: pa.Table, directory: AccountDirectory, rows: int) -> dict[str, object]:
    """Time the baseline on the first `rows` of `table`; check it against the kernels."""
    subset = table.slice(0, rows)
    started, cpu = time.perf_counter(), time.process_time()
    baseline = baseline_features(subset)
    seconds, cpu_s = time.perf_counter() - started, time.process_time() - cpu
    bulk = pa.Table.from_batches(iter_bulk(subset, directory)).select(list(BASELINE_FEATURES))
    return {
        "baseline_rows": subset.num_rows,
        "baseline_features": len(BASELINE_FEATURES),
        "baseline_seconds": round(seconds, 3),
        "baseline_cpu_seconds": round(cpu_s, 3),
        "baseline_tx_per_s": round(subset.num_rows / seconds),
        "baseline_tx_per_cpu_s": round(subset.num_rows / cpu_s),
        "baseline_agrees": baseline.equals(bulk),
    }
