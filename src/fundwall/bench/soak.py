"""The soak (`fundwall bench --soak SECONDS`): single decisions over HTTP to `fundwall serve`
for a long time, to show that the server's memory stays flat and its p99 steady.

The server decides over a store of its own (SQLite, in a temporary data directory) into which
the whole region was loaded (`fundwall load`: accounts, and the transactions as history), as
deployed: it starts with the history folded, so its windows already hold 30 days and it has met
every entity of the region, and it logs every decision before answering. The load generator (a
process of its own, keep-alive connections, each member's transactions sent with its key)
sends the region's transactions again, in time order, each under a new id and with every
timestamp moved on by the region's length in whole days, pass after pass
(`loadgen.region_records`). So the engine's clock only moves forward, and stays in the past
of the service's (which caps it), its windows drop old events as in service, and the
entities stay the region's own: nothing the engine holds should grow.

Every interval (`--soak-interval`, a minute by default) the generator records the decisions
answered, their p50 and p99, the server's resident memory (VmRSS) and CPU time, and the load
average. The warm-up lasts one pass of the region (`warm_up_decisions`): its transactions
span the longest feature window, so by then every window has turned over once in region time,
the tracks hold their live events and the old ones they keep before dropping them, and the
service's cache of recent decisions (`engine.decide.RECENT`) is full; and at least one
interval. (A warm-up of the cache alone, 50,000 decisions, measured the windows still filling:
memory rose 15% over the rest of the first pass, then stayed flat.) Verdicts (`goals.SOAK_GOALS`):
the server's memory at the end less than 10% above its memory at the end of the warm-up, and
the last interval's p99 at most 1.5 times the p99 of the first interval after the warm-up
(each p99 is over a whole interval's decisions, so one slow moment does not decide it). Both
need two intervals after the warm-up, else they are not judged. The growth per decision after
the warm-up says what a longer run would add.
"""

from __future__ import annotations

import asyncio
import math
import os
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Final

import pyarrow as pa
import uvloop

from fundwall.bench.child import MIB
from fundwall.bench.goals import SOAK_GOALS, all_met, verdicts
from fundwall.bench.http import TRANSACTION_PATH
from fundwall.bench.loadgen import (
    BUILT_RATE,
    GRACE_SECONDS,
    Phase,
    Step,
    cpu_seconds,
    free_port,
    generator_process,
    keep_sending,
    pass_length,
    percentile_ms,
    receive,
)
from fundwall.bench.machine import load_average, machine, source_tree
from fundwall.bench.servers import engine_command, prepare_store, running, store_environment
from fundwall.region import read_table

CONNECTIONS: Final = 16


@dataclass(frozen=True, slots=True)
class SoakLoad:
    """How long to soak, cut into `intervals` of equal length, over `connections`."""

    seconds: float
    interval_seconds: float
    connections: int = CONNECTIONS

    @property
    def intervals(self) -> int:
        return max(1, round(self.seconds / self.interval_seconds))


@dataclass(frozen=True, slots=True)
class Interval:
    """What one interval of the soak measured; times in seconds since the soak began."""

    end_seconds: float
    decisions: int
    decided_so_far: int
    p50_ms: float | None
    p99_ms: float | None
    rss_mb: float
    server_cpu_us_per_decision: float | None
    load_average_1m: float


def warm_up_decisions(region_transactions: int, recent: int) -> int:
    """Decisions before the soak's figures count: one pass of the region (its longest window
    turned over once) and a full cache of recent decisions (see the module)."""
    return max(region_transactions, recent)


def judge(intervals: Sequence[Interval], warm_up_decisions: int) -> dict[str, object]:
    """The soak's figures from its intervals: the warm-up ends with the first interval by
    whose end `warm_up_decisions` were answered (the last if none); memory and p99 after it
    (see the module)."""
    last = len(intervals) - 1
    warm = next((i for i, x in enumerate(intervals) if x.decided_so_far >= warm_up_decisions), last)
    figures: dict[str, object] = {
        "soak_warm_up_seconds": intervals[warm].end_seconds,
        "soak_rss_warm_up_mb": intervals[warm].rss_mb,
        "soak_rss_end_mb": intervals[last].rss_mb,
        "soak_rss_peak_mb": max(interval.rss_mb for interval in intervals),
        "soak_p99_first_ms": None,
        "soak_p99_last_ms": intervals[last].p99_ms,
        "soak_memory_growth_pct": None,
        "soak_growth_bytes_per_decision": None,
        "soak_p99_ratio": None,
    }
    if last - warm < 2:
        return figures  # fewer than two intervals after the warm-up: nothing to judge
    grown_mb = intervals[last].rss_mb - intervals[warm].rss_mb
    figures["soak_memory_growth_pct"] = round(100 * grown_mb / intervals[warm].rss_mb, 1)
    decided = intervals[last].decided_so_far - intervals[warm].decided_so_far
    if decided:
        figures["soak_growth_bytes_per_decision"] = round(grown_mb * MIB / decided)
    first, final = intervals[warm + 1].p99_ms, intervals[last].p99_ms
    figures["soak_p99_first_ms"] = first
    if first is not None and final is not None:
        figures["soak_p99_ratio"] = round(final / first, 2)
    return figures


def rss_mb(pid: int) -> float:
    """A process's resident memory now, in MB."""
    with open(f"/proc/{pid}/status") as status:
        kib = next(int(line.split()[1]) for line in status if line.startswith("VmRSS:"))
    return round(kib * 1024 / MIB, 1)


class _Sampler:
    """Closes each interval: takes the decisions' latencies so far and samples the server."""

    def __init__(self, phase: Phase, server_pid: int) -> None:
        self.phase = phase
        self.server_pid = server_pid
        self.decided = 0
        self.cpu = cpu_seconds(server_pid)

    def close(self, end_seconds: float) -> Interval:
        latencies, self.phase.latencies_ns = self.phase.latencies_ns, []
        cpu = cpu_seconds(self.server_pid)
        spent, self.cpu = cpu - self.cpu, cpu
        self.decided += len(latencies)

        def share(of: float) -> float | None:
            return round(percentile_ms(latencies, of), 2) if latencies else None

        cpu_per_decision = round(spent / len(latencies) * 1e6, 1) if latencies else None
        return Interval(
            end_seconds=round(end_seconds, 1),
            decisions=len(latencies),
            decided_so_far=self.decided,
            p50_ms=share(0.50),
            p99_ms=share(0.99),
            rss_mb=rss_mb(self.server_pid),
            server_cpu_us_per_decision=cpu_per_decision,
            load_average_1m=round(os.getloadavg()[0], 2),
        )


async def _soak(port: int, step: Step, server_pid: int, load: SoakLoad) -> list[Interval]:
    phase = Phase()
    requests = step.requests()
    sampler = _Sampler(phase, server_pid)
    length = load.seconds / load.intervals
    started = time.perf_counter()
    intervals: list[Interval] = []

    async def sample() -> None:
        for k in range(1, load.intervals + 1):
            await asyncio.sleep(max(0.0, started + k * length - time.perf_counter()))
            intervals.append(sampler.close(time.perf_counter() - started))

    deadline = started + load.seconds
    await asyncio.gather(
        sample(),
        *(keep_sending(port, step, requests, deadline, phase) for _ in range(load.connections)),
    )
    return intervals


def _generator(port: int, step: Step, server_pid: int, load: SoakLoad, out: Connection) -> None:
    """The soak's load generator process: requests are built as they are sent (a soak is
    too long to build them ahead), intervals sent back at the end."""
    out.send("ready")
    out.send(uvloop.run(_soak(port, step, server_pid, load)))


def region_time(table: pa.Table, sent: int) -> datetime:
    """The timestamp the `sent`-th transaction of the soak carries (counting from 0, the
    region's history itself)."""
    passes, position = divmod(sent, int(table.num_rows))
    ts = table["ts"][position].as_py()
    assert isinstance(ts, datetime)
    return ts + pass_length(table) * passes


def measure_soak(
    region: Path, load: SoakLoad, tell: Callable[[str], None] = lambda _: None
) -> dict[str, object]:
    """Soak `fundwall serve` over a store holding the whole region: the intervals and the
    figures `judge` makes of them."""
    from fundwall.engine.service import RECENT

    table = read_table(region, "transactions").select(["ts"])
    with tempfile.TemporaryDirectory(prefix="fundwall-bench-soak-") as scratch:
        data_dir = Path(scratch)
        tell("store: the whole region and an API key per member")
        keys = prepare_store(data_dir, region, contents="whole")
        port = free_port()
        step = Step(
            TRANSACTION_PATH,
            1,
            load.connections,
            load.seconds,
            math.ceil(load.seconds * BUILT_RATE),
            "k",
            region,
            keys,
            first=table.num_rows,  # after the history: the second pass
        )
        command = engine_command(port, None)
        environment = store_environment(data_dir)
        tell("fundwall serve: folding the region's history")
        with (
            tempfile.TemporaryFile(prefix="fundwall-bench-server-") as log,
            running([command], [port], [environment], [log]) as (server,),
        ):
            idle_mb = rss_mb(server.pid)
            started = datetime.now(UTC)
            tell(f"soak: {load.seconds:,.0f} s in {load.intervals} intervals")
            with generator_process(_generator, port, step, server.pid, load) as receiver:
                receive(receiver, GRACE_SECONDS)
                intervals = receive(receiver, load.seconds + GRACE_SECONDS)
    if not isinstance(intervals, list) or not intervals:
        raise RuntimeError(f"the load generator answered {intervals!r}")
    warm_up = warm_up_decisions(table.num_rows, RECENT)
    figures = judge(intervals, warm_up)
    reached = region_time(table, table.num_rows + intervals[-1].decided_so_far)
    if reached >= started:
        # The service caps the engine's time at its clock: from there on the windows keep
        # every event, and memory grows for a reason no deployment meets.
        figures.update(soak_memory_growth_pct=None, soak_p99_ratio=None)
    return {
        "soak_seconds": load.seconds,
        "soak_interval_seconds": round(load.seconds / load.intervals, 1),
        "soak_connections": load.connections,
        "soak_decisions": sum(interval.decisions for interval in intervals),
        "soak_rss_idle_mb": idle_mb,
        "soak_warm_up_decisions": warm_up,
        "soak_region_time_reached": reached.isoformat(timespec="seconds"),
        "soak_region_time_capped": reached >= started,
        **figures,
        "soak_intervals": [asdict(interval) for interval in intervals],
    }


def run_soak(
    region: Path,
    load: SoakLoad,
    *,
    size: str,
    seed: int | None,
    tell: Callable[[str], None] = lambda _: None,
) -> dict[str, object]:
    """The soak with its verdicts, the date, the machine and its load: one JSON-ready dict."""
    started = datetime.now(UTC)
    load_before = load_average()
    figures = measure_soak(region, load, tell)
    judged = verdicts(figures, size, SOAK_GOALS)
    return {
        "size": size,
        "seed": seed,
        "region": str(region),
        "transactions": read_table(region, "transactions").num_rows,
        "date": started.isoformat(timespec="seconds"),
        "server": "fundwall serve over a SQLite store holding the whole region",
        "goals": judged,
        "goals_met": all_met(judged),
        **figures,
        "machine": machine(),
        **source_tree(),
        "load_average_before": load_before,
        "load_average_after": load_average(),
    }
