"""The whole benchmark over one region folder: the command line's start-up, replay, pandas
baseline, online, the engine state's snapshot and restore, the rule pack alone, the console's
cost to an API call, file validation, HTTP (in memory and durable over SQLite and PostgreSQL,
in turns), funds-chain tracing, account-base screening, the sharing hub (publishing, bulk
matching; it needs no region) and simplified opening.

`run_benchmark` returns one flat JSON-ready dict: the headline figures the goals judge, the
same run's baselines and ratios, the goals' verdicts, then the details of each measurement
and the machine's state (the machines are shared: the load average says how much of the two
cores the benchmark had).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from fundwall.bench.baseline import measure_baseline
from fundwall.bench.console import measure_console
from fundwall.bench.durable import STORES, measure_http
from fundwall.bench.goals import all_met, verdicts
from fundwall.bench.http import HttpLoad
from fundwall.bench.ingest import measure_ingest
from fundwall.bench.machine import load_average, machine, source_tree
from fundwall.bench.model import measure_model
from fundwall.bench.onboarding import measure_onboarding
from fundwall.bench.online import measure_online
from fundwall.bench.replay import measure_replay
from fundwall.bench.replicas import COUNTS, measure_replicas
from fundwall.bench.rules import measure_rules
from fundwall.bench.screening import measure_screening
from fundwall.bench.sharing import measure_sharing
from fundwall.bench.snapshot import measure_snapshot
from fundwall.bench.startup import RUNS, measure_startup
from fundwall.bench.tracing import measure_tracing
from fundwall.engine.features import AccountDirectory
from fundwall.region import read_table

Step = Callable[[str], None]

HEADLINE = (
    "replay_tx_per_s",
    "baseline_tx_per_s",
    "baseline_rows",
    "replay_vs_baseline",
    "online_p50_us",
    "online_p99_us",
    "http_decisions_per_s",
    "http_p99_ms",
    "batch_http_tx_per_s",
    *(
        f"{key}_{store}"
        for store in STORES
        for key in (
            "durable_http_decisions_per_s",
            "durable_http_p99_ms",
            "durable_http_vs_memory",
            "durable_batch_http_tx_per_s",
            "durable_batch_http_vs_memory",
        )
    ),
    "replay_peak_mb",
    "rules_online_p99_us",
    "model_p99_us",
    "rules_bulk_tx_per_s",
    "console_api_ratio",
    "ingest_rows_per_s",
    "trace_p99_ms",
    "share_match_ids_per_s",
    "share_match_baseline_ids_per_s",
    "share_match_vs_baseline",
    "share_publish_per_s",
    "share_index_mb",
    "screen_accounts_per_s",
    "screen_baseline_accounts_per_s",
    "screen_vs_baseline",
    "onboarding_p99_ms",
    "onboarding_vs_commit",
    "startup_s",
    "startup_mb",
    "startup_baseline_s",
    "snapshot_s",
    "restore_s",
    "snapshot_mb",
)
"""The figures the goals judge, with their baselines, first in the result in this order."""


@dataclass(frozen=True, slots=True)
class BenchOptions:
    """What to run and how much of it. Counts are capped by the region's size."""

    size: str
    """The size the region was simulated at (judges the size-specific goals)."""
    seed: int | None = None
    baseline_rows: int = 200_000
    online_warm_up: int = 200_000
    online_decisions: int = 20_000
    rules_rows: int = 200_000
    rules_online: int = 20_000
    model_rows: int = 300_000
    model_online: int = 20_000
    ingest_rows: int = 200_000
    console_calls: int = 200
    trace_reports: int = 2_000
    trace_extend_rows: int = 20_000
    share_entries: int = 2_500_000
    """Entries of the sharing hub's list (the seed's branch shared 2.5 million)."""
    share_identifiers: int = 1_000_000
    onboarding_decisions: int = 2_000
    startup_runs: int = RUNS
    snapshot_rows: int = 0
    """Transactions folded into the state that is snapshotted and restored; 0: all."""
    http: HttpLoad = field(default_factory=HttpLoad)
    shell_baseline: bool = True
    durable_stores: tuple[str, ...] = STORES
    """The stores `fundwall serve` is measured over (the durable path), beside in memory."""
    replica_counts: tuple[int, ...] = COUNTS
    """The counts of replicas over PostgreSQL and Redis loaded (`bench.replicas`)."""
    postgres_url: str | None = None
    """The PostgreSQL server to make the temporary database on (`bench.durable`)."""
    replay_timeout: float = 1_800.0


def _number(figures: dict[str, object], key: str) -> float:
    value = figures[key]
    if not isinstance(value, int | float):
        raise TypeError(f"{key} is not a number: {value!r}")
    return float(value)


def run_benchmark(
    region: Path, options: BenchOptions, step: Step | None = None
) -> dict[str, object]:
    """Measure everything over the region folder `region`; see the module docstring."""
    tell = step or (lambda _name: None)
    started = datetime.now(UTC)
    load_before = load_average()
    table = read_table(region, "transactions")
    rows = table.num_rows

    tell("start-up: fundwall --help and python -c pass (child processes)")
    startup = measure_startup(options.startup_runs)
    tell("replay (child process)")
    replay = measure_replay(region, timeout=options.replay_timeout)
    tell("tracing: the index built and extended, victim reports traced (child process)")
    tracing = measure_tracing(
        region,
        reports=options.trace_reports,
        extend_rows=options.trace_extend_rows,
        timeout=options.replay_timeout,
    )
    tell("account-base screening: every check over the accounts (child process)")
    screening = measure_screening(region, timeout=options.replay_timeout)
    tell("sharing hub: publishing, the index, bulk matching (child process)")
    sharing = measure_sharing(
        entries=options.share_entries,
        identifiers=options.share_identifiers,
        timeout=options.replay_timeout,
    )
    tell("simplified opening: the region's people apply one at a time (child process)")
    onboarding = measure_onboarding(
        region, decisions=options.onboarding_decisions, timeout=options.replay_timeout
    )
    tell("the engine state: folded, snapshotted and restored (child process)")
    snapshot = measure_snapshot(region, rows=options.snapshot_rows, timeout=options.replay_timeout)
    tell("pandas baseline")
    directory = AccountDirectory.from_region(region)
    baseline = measure_baseline(table, directory, min(options.baseline_rows, rows))
    tell("online decisions")
    warm_up = min(options.online_warm_up, rows // 2)
    online = measure_online(
        region, table, warm_up=warm_up, timed=min(options.online_decisions, rows - warm_up)
    )
    tell("the rule pack alone, the console's cost to an API call, file validation")
    rules = measure_rules(
        table, directory, rows=min(options.rules_rows, rows), online=options.rules_online
    )
    tell("the model's part of a decision (trained on the region first)")
    model = measure_model(region, rows=options.model_rows, online=options.model_online)
    console = measure_console(options.console_calls)
    ingest = measure_ingest(min(options.ingest_rows, rows))
    del table, directory
    over = "".join(f", over {store}" for store in options.durable_stores)
    shell = "; then the shell baseline" if options.shell_baseline else ""
    tell(f"HTTP: fundwall serve in memory{over}, in turns{shell}")
    http = measure_http(
        region,
        options.http,
        options.durable_stores,
        shell_baseline=options.shell_baseline,
        postgres_url=options.postgres_url,
    )
    if options.replica_counts:
        counts = ", ".join(map(str, options.replica_counts))
        tell(f"HTTP, replicas over PostgreSQL and Redis: {counts}")
        http.update(
            measure_replicas(
                region, options.http, http, options.replica_counts, options.postgres_url
            )
        )

    figures: dict[str, object] = {
        **replay,
        **baseline,
        **online,
        **rules,
        **model,
        **console,
        **ingest,
    }
    figures.update(http)
    figures.update(tracing)
    figures.update(screening)
    figures.update(sharing)
    figures.update(onboarding)
    figures.update(startup)
    figures.update(snapshot)
    ratio = _number(replay, "replay_tx_per_s") / _number(baseline, "baseline_tx_per_s")
    figures["replay_vs_baseline"] = round(ratio, 1)
    # CPU time hardly counts the waits that other work on the machine causes; the replay's
    # counts both its feature threads, so this ratio is per core and conservative.
    per_cpu = _number(replay, "replay_tx_per_cpu_s") / _number(baseline, "baseline_tx_per_cpu_s")
    figures["replay_vs_baseline_cpu"] = round(per_cpu, 1)
    judged = verdicts(figures, options.size)
    result: dict[str, object] = {
        "size": options.size,
        "seed": options.seed,
        "region": str(region),
        "transactions": rows,
        "date": started.isoformat(timespec="seconds"),
    }
    result.update({key: figures[key] for key in HEADLINE})
    result["goals"] = judged
    result["goals_met"] = all_met(judged)
    result.update({key: value for key, value in figures.items() if key not in result})
    result["machine"] = machine()
    result.update(source_tree())
    result["load_average_before"] = load_before
    result["load_average_after"] = load_average()
    result["seconds"] = round((datetime.now(UTC) - started).total_seconds(), 1)
    return result
