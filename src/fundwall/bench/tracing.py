"""Tracing over the region's transfer index, measured in a child process of its own.

The child builds the index from the region folder without its last `extend_rows`
transactions (seconds; memory: the index's own arrays and objects, and the child's resident
memory before and after), then extends it with those, `EXTEND_BATCH` at a time, as the live
index takes what the engine decided since the last trace (seconds per 10,000). Then it traces
victim reports (evenly spread over the region's, at most `reports`) as the console's request
does it, over the index already built: `max_hops` 6 and the default rule, as of just after
the region's last transfer; each trace timed on its own (p50/p99 ms), in wall time and in the
thread's CPU time, which another process taking the core does not inflate (the machines are
shared). The other rules' p99 is there to compare.
"""

from __future__ import annotations

import gc
import json
import os
import time
from dataclasses import fields
from pathlib import Path
from typing import Final

from fundwall.bench.child import MIB, resident_mb, run_python

TRACE_HOPS: Final = 6
EXTEND_BATCH: Final = 1_000

_CHILD: Final = (
    "import sys; from fundwall.bench.tracing import child; "
    "child(sys.argv[1], int(sys.argv[2]), int(sys.argv[3]))"
)


def _quantile_ms(seconds: list[float], q: float) -> float:
    ordered = sorted(seconds)
    return round(ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000, 2)


def child(folder: str, reports: int, extend_rows: int) -> None:
    """The child's work: print one JSON object of its figures."""
    import pyarrow as pa

    from fundwall.tracing.index import Columns, TransferIndex, from_us
    from fundwall.tracing.model import DEFAULT_RULE, AttributionRule
    from fundwall.tracing.region import region_movements, report_starts
    from fundwall.tracing.trace import trace

    region = Path(folder)
    resident_before = resident_mb()
    started = time.perf_counter()
    directory, columns = region_movements(region)
    held_out = min(extend_rows, len(columns) // 2)
    kept = len(columns) - held_out
    parts = [getattr(columns, field.name) for field in fields(Columns)]
    # The later movements come as the live index gets them from the store: Python rows.
    later = [part.slice(kept).to_pylist() for part in parts]
    index = TransferIndex.of(directory, Columns(*(part.slice(0, kept) for part in parts)))
    del directory, columns, parts
    pa.default_memory_pool().release_unused()
    build_s = time.perf_counter() - started
    gc.collect()
    resident_built = resident_mb()

    started = time.perf_counter()
    for start in range(0, held_out, EXTEND_BATCH):
        index.extend(Columns(*(part[start : start + EXTEND_BATCH] for part in later)))
    extend_s = time.perf_counter() - started

    as_of = from_us(int(index.ts_us.values.max()) + 1)
    starts = report_starts(region)
    names = sorted(starts)
    step = max(1, len(names) // max(reports, 1))
    chosen = names[::step][:reports]
    timings: dict[str, list[float]] = {}
    cpu: list[float] = []
    load_before = os.getloadavg()[0]
    for rule in (DEFAULT_RULE, *(r for r in AttributionRule if r is not DEFAULT_RULE)):
        gc.collect()
        spent = timings[rule.value] = []
        for name in chosen:
            began, began_cpu = time.perf_counter(), time.thread_time()
            trace(index, starts[name], rule, as_of=as_of, max_hops=TRACE_HOPS)
            spent.append(time.perf_counter() - began)
            if rule is DEFAULT_RULE:
                cpu.append(time.thread_time() - began_cpu)
    figures = {
        "movements": len(index),
        "accounts": index.accounts,
        "build_seconds": build_s,
        "index_bytes": index.memory_bytes(),
        "resident_before_mb": resident_before,
        "resident_built_mb": resident_built,
        "extended": held_out,
        "extend_seconds": extend_s,
        "reports": len(chosen),
        "rule": DEFAULT_RULE.value,
        "timings": {
            rule: [_quantile_ms(s, 0.5), _quantile_ms(s, 0.99), _quantile_ms(s, 1.0)]
            for rule, s in timings.items()
        },
        "cpu_p99_ms": _quantile_ms(cpu, 0.99),
        "load_average_1m": load_before,
    }
    print(json.dumps(figures))


def measure_tracing(
    folder: Path, *, reports: int, extend_rows: int, timeout: float
) -> dict[str, object]:
    """Build, extend and trace over `folder`'s index in a child process; see the module."""
    run = run_python(_CHILD, str(folder), str(reports), str(extend_rows), timeout=timeout)
    figures = json.loads(run.output.strip().splitlines()[-1])
    timings = figures["timings"]
    p50, p99, slowest = timings[figures["rule"]]
    extended = int(figures["extended"])
    return {
        "trace_p50_ms": p50,
        "trace_p99_ms": p99,
        "trace_max_ms": slowest,
        "trace_cpu_p99_ms": figures["cpu_p99_ms"],
        "trace_rule": figures["rule"],
        "trace_hops": TRACE_HOPS,
        "trace_reports": figures["reports"],
        "trace_p99_ms_by_rule": {rule: quantiles[1] for rule, quantiles in timings.items()},
        "trace_index_movements": figures["movements"],
        "trace_index_build_seconds": round(float(figures["build_seconds"]), 2),
        "trace_index_mb": round(int(figures["index_bytes"]) / MIB),
        "trace_index_rss_mb": round(
            float(figures["resident_built_mb"]) - float(figures["resident_before_mb"])
        ),
        "trace_extend_seconds_per_10k": (
            round(float(figures["extend_seconds"]) * 10_000 / extended, 3) if extended else None
        ),
        "trace_extended": extended,
        "trace_peak_mb": round(run.peak_rss_mb),
        "trace_load_average_1m": round(float(figures["load_average_1m"]), 2),
    }
