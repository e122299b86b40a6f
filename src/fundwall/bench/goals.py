"""The performance goals of the risk engine on a 2-core machine, and their verdicts.

A goal compares one figure of the benchmark's result with a target. Some goals hold for one
region size only (the memory goal is about `--size large`); on other sizes their verdict is
None, "not judged", rather than a pass that would mean nothing.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Final, Literal

GIB_IN_MB: Final = 1024


@dataclass(frozen=True, slots=True)
class Goal:
    """`key` of the result must be at least (`>=`), at most (`<=`) or under (`<`) `target`."""

    key: str
    op: Literal[">=", "<=", "<"]
    target: float
    unit: str
    label: str
    size: str | None = None
    """The region size the goal is about; None: every size."""

    def met(self, value: float) -> bool:
        if self.op == ">=":
            return value >= self.target
        return value <= self.target if self.op == "<=" else value < self.target

    def applies_to(self, size: str) -> bool:
        return self.size is None or self.size == size

    def describe(self) -> str:
        where = f" (--size {self.size})" if self.size is not None else ""
        target = f"{self.target:,.0f}" if float(self.target).is_integer() else f"{self.target:,}"
        return f"{self.op} {target} {self.unit}{where}"


GOALS: Final = (
    Goal("replay_tx_per_s", ">=", 1_000_000, "tx/s", "replay"),
    Goal("replay_vs_baseline", ">=", 100, "×", "replay ÷ pandas baseline"),
    Goal("online_p99_us", "<=", 500, "µs", "one decision in process, p99"),
    Goal("http_decisions_per_s", ">=", 2_500, "decisions/s", "single decisions over HTTP"),
    Goal("http_p99_ms", "<=", 25, "ms", "single decision over HTTP, p99"),
    Goal("batch_http_tx_per_s", ">=", 100_000, "tx/s", "batches over HTTP"),
    *(
        goal
        for store, name in (("sqlite", "SQLite"), ("postgresql", "PostgreSQL"))
        for goal in (
            Goal(
                f"durable_http_decisions_per_s_{store}",
                ">=",
                2_500,
                "decisions/s",
                f"single decisions over HTTP, logged in {name}",
            ),
            Goal(
                f"durable_http_p99_ms_{store}",
                "<=",
                25,
                "ms",
                f"single decision over HTTP, logged in {name}, p99",
            ),
            Goal(
                f"durable_http_vs_memory_{store}",
                ">=",
                0.8,
                "×",
                f"single decisions logged in {name} ÷ in memory, same run",
            ),
            Goal(
                f"durable_batch_http_vs_memory_{store}",
                ">=",
                0.8,
                "×",
                f"batches logged in {name} ÷ in memory, same run",
            ),
        )
    ),
    Goal("replay_peak_mb", "<=", 4 * GIB_IN_MB, "MB", "replay's peak memory", size="large"),
    Goal("rules_online_p99_us", "<=", 100, "µs", "default pack alone, one transaction, p99"),
    Goal("model_p99_us", "<=", 100, "µs", "the champion model's part of a decision, p99"),
    Goal("rules_bulk_tx_per_s", ">=", 1_000_000, "tx/s", "default pack alone, in bulk"),
    Goal("console_api_ratio", "<=", 1.5, "×", "API call with the console ÷ without"),
    Goal("ingest_rows_per_s", ">=", 10_000, "rows/s", "a Parquet upload read and validated"),
    Goal("trace_p99_ms", "<=", 50, "ms", "6-hop trace of a victim report, index built, p99"),
    Goal(
        "share_match_ids_per_s",
        ">=",
        1_000_000,
        "ids/s",
        "bulk match of hashed ids against the risk list, file to file",
    ),
    Goal(
        "screen_accounts_per_s",
        ">=",
        1_000_000,
        "accounts/s",
        "every screening check over the account base, the slowest",
    ),
    Goal("onboarding_p99_ms", "<=", 5, "ms", "one simplified-opening decision in process, p99"),
    Goal("startup_s", "<=", 0.3, "s", "`fundwall --help` in a fresh interpreter, median"),
    Goal("snapshot_s", "<=", 1, "s", "the engine's online state written", size="small"),
    Goal("restore_s", "<=", 1, "s", "the engine's online state read back", size="small"),
)


SOAK_GOALS: Final = (
    Goal("soak_memory_growth_pct", "<", 10, "%", "server memory growth after the warm-up"),
    Goal("soak_p99_ratio", "<=", 1.5, "×", "last interval's p99 ÷ first after the warm-up"),
)
"""The soak's goals (`fundwall bench --soak`, `fundwall.bench.soak`): memory flat, p99
steady."""


def verdicts(
    result: Mapping[str, object], size: str, goals: Sequence[Goal] = GOALS
) -> dict[str, dict[str, object]]:
    """Each goal's target and verdict for `result` (True met, False missed, None not judged
    on this size or not measured)."""
    judged: dict[str, dict[str, object]] = {}
    for goal in goals:
        value = result.get(goal.key)
        met: bool | None = None
        if goal.applies_to(size) and isinstance(value, int | float):
            met = goal.met(float(value))
        judged[goal.key] = {"goal": goal.describe(), "value": value, "met": met}
    return judged


def all_met(judged: Mapping[str, Mapping[str, object]]) -> bool:
    """True when no judged goal was missed."""
    return all(verdict["met"] is not False for verdict in judged.values())
