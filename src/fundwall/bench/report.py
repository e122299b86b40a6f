"""The benchmark's result as a readable table: each goal with its figure and verdict, the
same run's baselines and ratios, and when and under what load it ran."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from rich.console import Group
from rich.table import Table
from rich.text import Text

from fundwall.bench.goals import GOALS, SOAK_GOALS, Goal

_VERDICTS = {True: Text("met", "bold green"), False: Text("missed", "bold red")}
_NOT_JUDGED = Text("not judged", "dim")


def _figure(value: object) -> str:
    if isinstance(value, bool) or value is None:
        return str(value)
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, float):
        return f"{value:,.1f}" if abs(value) >= 100 else f"{value:,.3g}"
    return str(value)


def _goals(result: Mapping[str, object], goals: Sequence[Goal], title: str) -> Table:
    judged = result["goals"]
    assert isinstance(judged, Mapping)
    table = Table(title=title, title_justify="left")
    table.add_column("measure")
    table.add_column("figure", justify="right")
    table.add_column("goal")
    table.add_column("verdict")
    for goal in goals:
        verdict = judged[goal.key]
        table.add_row(
            f"{goal.label} ({goal.key})",
            _figure(verdict["value"]),
            goal.describe(),
            _VERDICTS.get(verdict["met"], _NOT_JUDGED),
        )
    return table


_CONTEXT = (
    ("baseline_tx_per_s", "pandas baseline, tx/s"),
    ("baseline_rows", "baseline rows (first of the region)"),
    ("baseline_agrees", "baseline equals the engine's features"),
    ("replay_tx_per_cpu_s", "replay, tx per CPU second"),
    ("baseline_tx_per_cpu_s", "pandas baseline, tx per CPU second"),
    ("replay_vs_baseline_cpu", "replay ÷ baseline, per CPU second"),
    ("replay_seconds", "replay wall seconds"),
    ("online_cpu_p99_us", "one decision in process, CPU p99 µs"),
    ("http_p50_ms", "single decision over HTTP, p50 ms"),
    ("http_server_cpu_us_per_decision", "server CPU µs per single decision"),
    ("batch_http_server_cpu_us_per_tx", "server CPU µs per batched transaction"),
    ("http_vs_shell", "single decisions/s ÷ same app without the engine"),
    ("batch_http_vs_shell", "batch tx/s ÷ same app without the engine"),
    ("durable_batch_http_tx_per_s_sqlite", "batch tx/s over HTTP, logged in SQLite"),
    ("durable_batch_http_tx_per_s_postgresql", "batch tx/s over HTTP, logged in PostgreSQL"),
    ("rules_online_p50_us", "default pack alone, one transaction, p50 µs"),
    ("api_call_alone_us", "API call in process without the console, µs"),
    ("api_call_with_console_us", "API call in process with the console, µs"),
    ("trace_p50_ms", "6-hop trace of a victim report, p50 ms"),
    ("trace_cpu_p99_ms", "6-hop trace of a victim report, CPU time p99 ms"),
    ("trace_reports", "victim reports traced (each rule)"),
    ("trace_index_build_seconds", "trace index built from the region, s"),
    ("trace_index_mb", "trace index in memory, MB"),
    ("trace_index_rss_mb", "trace index: resident memory growth while built, MB"),
    ("trace_extend_seconds_per_10k", "trace index extended, s per 10,000 movements"),
    ("screen_baseline_accounts_per_s", "screening, pandas baseline's slowest check, accounts/s"),
    ("screen_vs_baseline", "screening ÷ pandas baseline, all checks"),
    ("screen_base_seconds", "screening: the account base read from the region, s"),
    ("startup_cpu_s", "fundwall --help, CPU s (median)"),
    ("startup_mb", "fundwall --help, peak memory MB (median)"),
    ("startup_baseline_s", "python -c pass, s (median, same run)"),
    ("startup_baseline_mb", "python -c pass, peak memory MB"),
    ("snapshot_mb", "engine state snapshot, MB"),
    ("snapshot_transactions", "engine state: transactions folded"),
    ("snapshot_logins", "engine state: logins folded"),
    ("snapshot_cpu_s", "engine state written, CPU s"),
    ("restore_cpu_s", "engine state read back, CPU s"),
)


def _context(result: Mapping[str, object], rows: Sequence[tuple[str, str]]) -> Table:
    table = Table(show_header=False, box=None, padding=(0, 2))
    table.add_column(style="dim")
    table.add_column(justify="right")
    for key, label in rows:
        if key in result:
            table.add_row(label, _figure(result[key]))
    table.add_row("transactions in the region", _figure(result["transactions"]))
    table.add_row("date (UTC)", str(result["date"]))
    if "commit" in result:
        changed = " with files changed" if result.get("tree_changed") else ""
        table.add_row("source tree", f"commit {result['commit']}{changed}")
    before, after = result["load_average_before"], result["load_average_after"]
    assert isinstance(before, list) and isinstance(after, list)
    table.add_row("load average before / after", f"{before[0]:.2f} / {after[0]:.2f}")
    machine = result["machine"]
    assert isinstance(machine, Mapping)
    table.add_row("machine", f"{machine['cpus']} CPUs, {machine['cpu_model']}")
    return table


def _verdict(result: Mapping[str, object]) -> Text:
    return Text("every judged goal met" if result["goals_met"] else "some goals missed", "bold")


def render(result: Mapping[str, object]) -> Group:
    """The result of `run_benchmark` as rich renderables."""
    title = f"fundwall bench --size {result['size']}"
    return Group(_goals(result, GOALS, title), _context(result, _CONTEXT), _verdict(result))


_SOAK_CONTEXT = (
    ("server", "server"),
    ("soak_decisions", "decisions answered"),
    ("soak_warm_up_decisions", "warm-up: decisions (the recent-decision cache full)"),
    ("soak_warm_up_seconds", "warm-up: seconds"),
    ("soak_rss_idle_mb", "server memory before the load, MB"),
    ("soak_rss_warm_up_mb", "server memory at the end of the warm-up, MB"),
    ("soak_rss_end_mb", "server memory at the end, MB"),
    ("soak_rss_peak_mb", "server memory, highest sample, MB"),
    ("soak_growth_bytes_per_decision", "memory growth after the warm-up, bytes per decision"),
    ("soak_p99_first_ms", "p99 of the first interval after the warm-up, ms"),
    ("soak_p99_last_ms", "p99 of the last interval, ms"),
    ("soak_region_time_reached", "region time reached (shifted past the history)"),
)
_INTERVAL_COLUMNS = (
    ("end_seconds", "end, s"),
    ("decisions", "decisions"),
    ("p50_ms", "p50 ms"),
    ("p99_ms", "p99 ms"),
    ("rss_mb", "server RSS MB"),
    ("server_cpu_us_per_decision", "server CPU µs/decision"),
    ("load_average_1m", "load 1 min"),
)


def _intervals(result: Mapping[str, object]) -> Table:
    intervals = result["soak_intervals"]
    warm_up = result["soak_warm_up_seconds"]
    assert isinstance(intervals, list) and isinstance(warm_up, int | float)
    table = Table(title="per interval", title_justify="left")
    for _, label in _INTERVAL_COLUMNS:
        table.add_column(label, justify="right")
    table.add_column("")
    for interval in intervals:
        cells = [_figure(interval[key]) for key, _ in _INTERVAL_COLUMNS]
        table.add_row(*cells, "warm-up" if interval["end_seconds"] <= warm_up else "")
    return table


def render_soak(result: Mapping[str, object]) -> Group:
    """The result of `run_soak` as rich renderables."""
    title = f"fundwall bench --soak {result['soak_seconds']:,.0f} --size {result['size']}"
    return Group(
        _goals(result, SOAK_GOALS, title),
        _intervals(result),
        _context(result, _SOAK_CONTEXT),
        _verdict(result),
    )
