"""The tracing measurement on the small region: the index built, extended and traced in its
child process, every figure there and sane. No figure is held to a speed (shared machines):
the benchmark's goals judge them."""

from __future__ import annotations

from pathlib import Path

import pytest

from fundwall.bench.goals import verdicts
from fundwall.bench.tracing import TRACE_HOPS, measure_tracing
from fundwall.sim.run import simulate
from fundwall.tracing.model import DEFAULT_RULE, AttributionRule


@pytest.fixture(scope="module")
def small(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("bench-trace") / "region"
    simulate("small", 7, out)
    return out


def _number(figures: dict[str, object], key: str) -> float:
    value = figures[key]
    assert isinstance(value, int | float) and not isinstance(value, bool), (key, value)
    return float(value)


def test_the_index_is_built_once_extended_and_traced(small: Path) -> None:
    figures = measure_tracing(small, reports=40, extend_rows=5_000, timeout=300)
    assert figures["trace_reports"] == 40
    assert (figures["trace_rule"], figures["trace_hops"]) == (DEFAULT_RULE.value, TRACE_HOPS)
    p50, p99, slowest = (_number(figures, f"trace_{q}_ms") for q in ("p50", "p99", "max"))
    assert 0 < p50 <= p99 <= slowest
    # CPU time is at most the wall time, within the two clocks' resolution and the rounding
    # of both figures to 0.01 ms.
    assert 0 < _number(figures, "trace_cpu_p99_ms") <= slowest + 0.05
    by_rule = figures["trace_p99_ms_by_rule"]
    assert isinstance(by_rule, dict) and set(by_rule) == {rule.value for rule in AttributionRule}
    assert by_rule[DEFAULT_RULE.value] == p99
    assert figures["trace_extended"] == 5_000
    assert _number(figures, "trace_index_movements") > 400_000
    assert _number(figures, "trace_extend_seconds_per_10k") > 0
    assert _number(figures, "trace_index_build_seconds") > 0
    # The columns take tens of bytes a movement, far from a Python object each.
    index_mb = _number(figures, "trace_index_mb")
    assert 10 < index_mb < 300
    assert index_mb < _number(figures, "trace_peak_mb") < 2_000
    assert verdicts(figures, "small")["trace_p99_ms"]["met"] is (p99 <= 50)
