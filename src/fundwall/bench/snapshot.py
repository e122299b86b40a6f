"""Snapshot and restore of the engine's online state, measured in a child process of its own.

The child folds the region's history (its first `rows` transactions, all by default, and the
logins up to them, in time order) into a `DecisionCore` over the region's directory and
control book, as a service restarting from its log would, then times `snapshot()` and
`restore()` `REPEATS` times each (each restore into a new core, as a start does) and reports
the fastest and the median, in wall time and in CPU time (which another process taking the
core hardly inflates), and the snapshot's size: the state's size the times scale with.
"""

from __future__ import annotations

import gc
import json
import os
import time
from pathlib import Path
from statistics import median
from typing import Final

from fundwall.bench.child import MIB, run_python

REPEATS: Final = 3
_CHILD: Final = (
    "import sys; from fundwall.bench.snapshot import child; child(sys.argv[1], int(sys.argv[2]))"
)


def child(folder: str, rows: int) -> None:
    """The child's work: print one JSON object of its figures (`rows` 0: every transaction)."""
    from fundwall.engine.core import DecisionCore
    from fundwall.engine.features import events_from_table
    from fundwall.engine.features.inputs import logins_from_table
    from fundwall.engine.service import DecisionService
    from fundwall.region import read_table

    region = Path(folder)
    core = DecisionService.from_region(region).core
    table = read_table(region, "transactions")
    events = events_from_table(table.slice(0, rows) if rows else table)
    logins = sorted(logins_from_table(read_table(region, "logins")), key=lambda each: each.ts)
    started = time.perf_counter()
    gc.disable()  # the fold is not measured; the collector would only slow it
    pending = 0
    for event in events:
        while pending < len(logins) and logins[pending].ts <= event.ts:
            core.observe_login(logins[pending])
            pending += 1
        core.fold(event, None)
    gc.enable()
    gc.collect()
    fold_s = time.perf_counter() - started

    load_before = os.getloadavg()[0]
    snapshots, snapshots_cpu, restores, restores_cpu = [], [], [], []
    for _ in range(REPEATS):
        began, began_cpu = time.perf_counter(), time.process_time()
        state = core.snapshot()
        snapshots.append(time.perf_counter() - began)
        snapshots_cpu.append(time.process_time() - began_cpu)
        fresh = DecisionCore(core.directory, core.book, core.policy, core.live)
        gc.collect()
        began, began_cpu = time.perf_counter(), time.process_time()
        fresh.restore(state)
        restores.append(time.perf_counter() - began)
        restores_cpu.append(time.process_time() - began_cpu)
        if fresh.snapshot() != state:
            raise RuntimeError("the restored state does not give the snapshot it came from")
        del fresh
    figures = {
        "transactions": len(events),
        "logins": core.features.logins,
        "fold_seconds": fold_s,
        "bytes": len(state),
        "snapshot_seconds": snapshots,
        "snapshot_cpu_seconds": snapshots_cpu,
        "restore_seconds": restores,
        "restore_cpu_seconds": restores_cpu,
        "load_average_1m": load_before,
    }
    print(json.dumps(figures))


def measure_snapshot(folder: Path, *, rows: int = 0, timeout: float) -> dict[str, object]:
    """Fold `folder` into a core in a child process, then time its snapshot and restore."""
    run = run_python(_CHILD, str(folder), str(rows), timeout=timeout)
    figures = json.loads(run.output.strip().splitlines()[-1])
    snapshots, restores = figures["snapshot_seconds"], figures["restore_seconds"]
    return {
        "snapshot_s": round(min(snapshots), 3),
        "restore_s": round(min(restores), 3),
        "snapshot_mb": round(int(figures["bytes"]) / MIB, 1),
        "snapshot_median_s": round(median(snapshots), 3),
        "restore_median_s": round(median(restores), 3),
        "snapshot_cpu_s": round(min(figures["snapshot_cpu_seconds"]), 3),
        "restore_cpu_s": round(min(figures["restore_cpu_seconds"]), 3),
        "snapshot_transactions": figures["transactions"],
        "snapshot_logins": figures["logins"],
        "snapshot_fold_seconds": round(float(figures["fold_seconds"]), 1),
        "snapshot_peak_mb": round(run.peak_rss_mb),
        "snapshot_load_average_1m": round(float(figures["load_average_1m"]), 2),
    }
