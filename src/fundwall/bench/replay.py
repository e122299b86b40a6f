"""Replay throughput and peak memory, measured in a child process of its own.

The child reads the region (its transactions as replay reads a region folder,
`read_history`; the account directory, the control book), replays its first rows once so that
numba's compiled kernels are loaded from their cache (a one-off cost of each process, reported
apart), then replays the whole history with the default pack as `fundwall replay` does,
keeping the decisions in memory instead of writing them. The rate counts the replay alone, not
the reading; the peak memory is the child's whole life.
"""

from __future__ import annotations

import gc
import json
import os
import time
from pathlib import Path
from typing import Final

from fundwall.bench.child import run_python

WARM_UP_ROWS: Final = 2_000

_CHILD: Final = "import sys; from fundwall.bench.replay import child; child(sys.argv[1])"


def child(folder: str) -> None:
    """The child's work: print one JSON object of rows and seconds."""
    from fundwall.engine.controls.book import region_book
    from fundwall.engine.features import AccountDirectory
    from fundwall.engine.replay import read_history, replay

    region = Path(folder)
    started = time.perf_counter()
    table = read_history(region)
    directory = AccountDirectory.from_region(region)
    # The replay books into its control book, so the warm-up gets one of its own.
    book, warm_book = region_book(region), region_book(region)
    load_s = time.perf_counter() - started

    started = time.perf_counter()
    replay(table.slice(0, WARM_UP_ROWS), directory=directory, book=warm_book)
    first_call_s = time.perf_counter() - started

    gc.collect()
    load_before = os.getloadavg()[0]
    started, cpu = time.perf_counter(), time.process_time()
    decisions = replay(table, directory=directory, book=book)
    seconds, cpu_s = time.perf_counter() - started, time.process_time() - cpu
    figures = {
        "rows": decisions.num_rows,
        "seconds": seconds,
        "cpu_seconds": cpu_s,
        "load_seconds": load_s,
        "first_call_seconds": first_call_s,
        "load_average_1m": load_before,
    }
    print(json.dumps(figures))


def measure_replay(folder: Path, *, timeout: float) -> dict[str, object]:
    """Replay `folder` in a child process; its rate, times and peak memory."""
    run = run_python(_CHILD, str(folder), timeout=timeout)
    figures = json.loads(run.output.strip().splitlines()[-1])
    rows, seconds, cpu_s = (
        int(figures["rows"]),
        float(figures["seconds"]),
        float(figures["cpu_seconds"]),
    )
    return {
        "replay_rows": rows,
        "replay_seconds": round(seconds, 3),
        "replay_tx_per_s": round(rows / seconds),
        "replay_cpu_seconds": round(cpu_s, 3),
        "replay_tx_per_cpu_s": round(rows / cpu_s),
        "replay_read_seconds": round(float(figures["load_seconds"]), 3),
        "replay_first_call_seconds": round(float(figures["first_call_seconds"]), 2),
        "replay_process_seconds": round(run.seconds, 1),
        "replay_peak_mb": round(run.peak_rss_mb),
        "replay_load_average_1m": round(float(figures["load_average_1m"]), 2),
    }
