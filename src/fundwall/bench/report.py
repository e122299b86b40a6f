"""The benchmark's result as a readable table: each goal with its figure and verdict, the
same run's baselines and ratios, and when and under what load it ran."""

from __future__ import annotations

from collections.abc import Mapping

from rich.console import Group
from rich.table import Table
from rich.text import Text

from fundwall.bench.goals import GOALS

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


def _goals(result: Mapping[str, object]) -> Table:
    judged = result["goals"]
    assert isinstance(judged, Mapping)
    table = Table(title=f"fundwall bench --size {result['size']}", title_justify="left")
    table.add_column("measure")
    table.add_column("figure", justify="right")
    table.add_column("goal")
    table.add_column("verdict")
    for goal in GOALS:
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
)


def _context(result: Mapping[str, object]) -> Table:
    table = Table(show_header=False, box=None, padding=(0, 2))
    table.add_column(style="dim")
    table.add_column(justify="right")
    for key, label in _CONTEXT:
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


def render(result: Mapping[str, object]) -> Group:
    """The result of `run_benchmark` as rich renderables."""
    verdict = "every judged goal met" if result["goals_met"] else "some goals missed"
    return Group(_goals(result), _context(result), Text(verdict, style="bold"))
